package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arenabench"
)

// A TLS member served through Server.Listener gets its ticks written by
// the room through crypto/tls over the connection's nbTCP: the
// WebSocket's sock never starts a flusher goroutine for them, and the
// member plays and closes as over plain TCP.
func TestTLSMemberTicksWithoutAFlusher(t *testing.T) {
	l := listenedServer(t, true)
	ts, srv := l.ts, l.srv

	res, err := ts.Client().Post(ts.URL+"/api/rooms", "application/json", strings.NewReader(`{"type":"arena-bench","visibility":"public"}`))
	if err != nil {
		t.Fatal(err)
	}
	var room struct{ ID string }
	err = json.NewDecoder(res.Body).Decode(&room)
	res.Body.Close()
	if err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("create: status %d, %v", res.StatusCode, err)
	}

	d := websocket.Dialer{TLSClientConfig: ts.Client().Transport.(*http.Transport).TLSClientConfig}
	ws, _, err := d.Dial("wss"+strings.TrimPrefix(ts.URL, "https")+"/ws/"+room.ID+"?name=tls", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	for i := 0; i < 40; i++ { // the welcome, a snapshot and two seconds of ticks
		if typ, _, err := ws.ReadMessage(); err != nil || typ != websocket.BinaryMessage {
			t.Fatalf("message %d: type %d, %v", i, typ, err)
		}
	}

	var conns []*wsConn
	srv.conns.Range(func(k, _ any) bool { conns = append(conns, k.(*wsConn)); return true })
	if len(conns) != 1 {
		t.Fatalf("%d sessions, want 1", len(conns))
	}
	s := conns[0].sock
	s.mu.Lock()
	under, flushes := s.under, s.flushes
	s.mu.Unlock()
	if under == nil {
		t.Fatal("the TLS session's frames do not go through its nbTCP")
	}
	if flushes != 0 {
		t.Fatalf("%d flusher goroutines for a TLS member that reads, want 0", flushes)
	}

	if err := ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")); err != nil {
		t.Fatal(err)
	}
	for {
		_, _, err := ws.ReadMessage()
		if ce, ok := err.(*websocket.CloseError); ok {
			if ce.Code != websocket.CloseNormalClosure {
				t.Fatalf("closed with %d, want %d", ce.Code, websocket.CloseNormalClosure)
			}
			break
		}
		if err != nil {
			t.Fatalf("waiting for the close reply: %v", err)
		}
	}
}

// listenedServer serves arena-bench rooms through Server.Listener (its
// per-address limits and, over TLS, its nbTCP connections) from an
// httptest server, over TLS or plain TCP, stopped when the test ends.
func listenedServer(t *testing.T, tlsOn bool) listened {
	t.Helper()
	reg := rooms.NewRegistry()
	if err := reg.Register(arenabench.Type); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := rooms.NewManager(reg, rooms.Config{Logger: log})
	srv := New(mgr, Config{Logger: log})
	ts := httptest.NewUnstartedServer(srv)
	lim := srv.Listener(ts.Listener).(*connLimiter)
	ts.Listener = lim
	if tlsOn {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = mgr.Shutdown(ctx, rooms.CloseGoingAway, "test over")
		_ = srv.CloseSessions(ctx, rooms.CloseGoingAway, "test over")
		ts.Close()
	})
	return listened{ts, srv, mgr, lim}
}

type listened struct {
	ts  *httptest.Server
	srv *Server
	mgr *rooms.Manager
	lim *connLimiter
}
