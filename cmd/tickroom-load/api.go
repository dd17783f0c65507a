package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// api talks to the server's JSON API.
type api struct {
	base string
	http *http.Client
}

func newAPI(base string) *api {
	tr := &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	return &api{base: base, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// errTryAgain marks a 503: the server asks to be tried again later.
var errTryAgain = errors.New("try again later")

// createRoom is POST /api/rooms; it returns the room id.
func (a *api) createRoom(ctx context.Context, typ string, maxPlayers int) (string, error) {
	body, _ := json.Marshal(map[string]any{"type": typ, "visibility": "unlisted", "maxPlayers": maxPlayers}) // plain map: cannot fail
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+"/api/rooms", bytes.NewReader(body))
	if err != nil {
		return "", fmt.Errorf("create room: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := a.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("create room: %w", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10)) // a short body fails the decode below
	if res.StatusCode == http.StatusServiceUnavailable {
		return "", fmt.Errorf("create room: status %d: %s: %w", res.StatusCode, bytes.TrimSpace(b), errTryAgain)
	}
	if res.StatusCode != http.StatusCreated {
		return "", fmt.Errorf("create room: status %d: %s", res.StatusCode, bytes.TrimSpace(b))
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.ID == "" {
		return "", fmt.Errorf("create room: answer %q: %v", b, err)
	}
	return out.ID, nil
}
