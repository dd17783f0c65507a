package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/server"
)

func TestRoomCreationIsRateLimitedPerAddress(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{RoomCreateRate: 1, RoomCreateBurst: 2})
	for i := range 2 {
		if code := env.api("POST", "/api/rooms", map[string]any{"type": "arena"}, nil); code != http.StatusCreated {
			t.Fatalf("create %d: %d, want 201", i+1, code)
		}
	}
	var e struct{ Code string }
	if code := env.api("POST", "/api/rooms", map[string]any{"type": "arena"}, &e); code != http.StatusTooManyRequests || e.Code != "too_many_requests" {
		t.Fatalf("third create: %d %q, want 429 too_many_requests", code, e.Code)
	}
	if got := scrape(t, env, `tickroom_http_errors_total{code="too_many_requests"}`); got != 1 {
		t.Fatalf("metric: got %v, want 1", got)
	}
}

func TestSessionsPerAddressAreCapped(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{SessionsPerIP: 2})
	id := env.createRoom("arena", nil)
	a := env.join(id, "a")
	env.join(id, "b")
	u := "ws" + strings.TrimPrefix(env.ts.URL, "http") + "/ws/" + id
	_, res, err := websocket.DefaultDialer.Dial(u, nil)
	if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third session: err %v, response %v; want a 429 handshake refusal", err, res)
	}
	closeNormally(t, a)
	a.waitClose()
	// The slot frees once the first session is gone.
	deadline := 50
	for {
		c, _, err := websocket.DefaultDialer.Dial(u, nil)
		if err == nil {
			c.Close()
			break
		}
		if deadline--; deadline == 0 {
			t.Fatalf("session slot never freed: %v", err)
		}
		a.conn.Close()                      // make sure our side is closed too
		<-time.After(20 * time.Millisecond) // then poll again
	}
}
