package server_test

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/server"
)

// TestPingsKeepAnswererAndDropSilent: the server pings every PingPeriod. A
// client that answers (gorilla's default handler sends the pong) stays
// connected well past PongWait; one that never answers is dropped once
// PongWait passes without a pong, and its seat goes offline.
func TestPingsKeepAnswererAndDropSilent(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{PingPeriod: 100 * time.Millisecond, PongWait: 400 * time.Millisecond})
	id := env.createRoom("arena", nil)
	u := "ws" + strings.TrimPrefix(env.ts.URL, "http") + "/ws/" + id

	dial := func(name string, answer bool) (*websocket.Conn, *atomic.Int32, chan error) {
		conn, _, err := websocket.DefaultDialer.Dial(u+"?name="+name, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		var pings atomic.Int32
		conn.SetPingHandler(func(data string) error {
			pings.Add(1)
			if !answer {
				return nil
			}
			return conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		ended := make(chan error, 1)
		go func() {
			for {
				if _, _, err := conn.ReadMessage(); err != nil {
					ended <- err
					return
				}
			}
		}()
		return conn, &pings, ended
	}
	_, answered, answererEnded := dial("answerer", true)
	_, ignored, silentEnded := dial("silent", false)

	select {
	case err := <-silentEnded:
		if n := ignored.Load(); n < 2 {
			t.Fatalf("the silent client was dropped (%v) after only %d pings", err, n)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("a client that never answers pings is still connected after 5 s (PongWait 400 ms); it got %d pings", ignored.Load())
	}
	// The answerer outlives several PongWaits.
	select {
	case err := <-answererEnded:
		t.Fatalf("a client answering pings was dropped: %v", err)
	case <-time.After(1500 * time.Millisecond):
	}
	if n := answered.Load(); n < 8 {
		t.Fatalf("the answerer got %d pings in about 2 s, want one every 100 ms", n)
	}
}
