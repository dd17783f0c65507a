package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/server"
)

func TestFlagsTakeEnvDefaults(t *testing.T) {
	env := map[string]string{"TICKROOM_ADDR": ":9999", "TICKROOM_SEAT_GRACE": "7s", "TICKROOM_MAX_ROOMS": "12",
		"TICKROOM_ALLOWED_ORIGINS": "http://a.example, http://b.example", "TICKROOM_PPROF": "true"}
	c, err := parseFlags([]string{"-max-rooms", "13"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags: %v", err)
	}
	if c.addr != ":9999" || c.rooms.SeatGrace != 7*time.Second || c.rooms.MaxRooms != 13 || !c.server.Pprof {
		t.Fatalf("got addr %q grace %v maxRooms %d pprof %v; want :9999, 7s, 13 (flag beats env), true",
			c.addr, c.rooms.SeatGrace, c.rooms.MaxRooms, c.server.Pprof)
	}
	if got := c.server.AllowedOrigins; len(got) != 2 || got[1] != "http://b.example" {
		t.Fatalf("origins: got %q", got)
	}
	for name, bad := range map[string]map[string]string{
		"bad duration": {"TICKROOM_SEAT_GRACE": "soon"},
		"bad number":   {"TICKROOM_MAX_ROOMS": "many"},
		"bad bool":     {"TICKROOM_PPROF": "perhaps"},
	} {
		if _, err := parseFlags(nil, func(k string) string { return bad[k] }, io.Discard); err == nil {
			t.Errorf("%s: parseFlags accepted it", name)
		}
	}
}

// TestRunServesAndStopsWithRestartCode starts the real binary's run(),
// plays a little, then stops it as SIGTERM does: the member is closed with
// 1012 and run returns promptly.
func TestRunServesAndStopsWithRestartCode(t *testing.T) {
	pr, pw := io.Pipe()
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-log-format", "json", "-data-dir", t.TempDir()}, func(string) string { return "" }, pw)
		pw.Close()
	}()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		re := regexp.MustCompile(`"open":"(http://[^"]+)/"`)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var base string
	select {
	case base = <-addr:
	case err := <-done:
		t.Fatalf("run ended early: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not say where it listens")
	}

	res, err := http.Post(base+"/api/rooms", "application/json", strings.NewReader(`{"type":"arena"}`))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	var room struct{ WSURL string }
	if err := json.NewDecoder(res.Body).Decode(&room); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("create: status %d, err %v", res.StatusCode, err)
	}
	res.Body.Close()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+room.WSURL+"?name=t", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer conn.Close()
	if _, _, err := conn.ReadMessage(); err != nil { // the welcome: we are seated
		t.Fatalf("welcome: %v", err)
	}

	cancel(&server.Stopping{Code: rooms.CloseRestart, Reason: "server restarting"})
	var closeErr *websocket.CloseError
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			if !errors.As(err, &closeErr) {
				t.Fatalf("connection ended without a close frame: %v", err)
			}
			break
		}
	}
	if closeErr.Code != rooms.CloseRestart {
		t.Fatalf("close code: got %d %q, want 1012", closeErr.Code, closeErr.Text)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after the stop")
	}
}
