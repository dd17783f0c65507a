package server

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tickroom/tickroom/rooms"
)

// TestClosedWebSocketReleasesItsAddressSlot: a WebSocket that closes
// normally gives its per-address slot back, over TLS too. Found in review
// (broken since 5bcddb2): over TLS, sock.Close runs closeTLS, whose
// records' sock closes the raw *net.TCPConn itself, so trackedConn.Close,
// which releases the slot, was never called, and after ConnsPerIP such
// sessions the address was refused until a restart. Over plain TCP the
// sock's Conn is the trackedConn.
func TestClosedWebSocketReleasesItsAddressSlot(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		name := "plain"
		if tlsOn {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) {
			l := listenedServer(t, tlsOn)
			ts, mgr, lim := l.ts, l.mgr, l.lim

			// The room is made directly: the WebSocket is the only
			// connection this test opens.
			room, err := mgr.Create(rooms.CreateRequest{Type: "arena-bench", Public: true})
			if err != nil {
				t.Fatal(err)
			}
			hc := ts.Client()

			d := websocket.Dialer{}
			u := "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws/" + room.ID + "?name=m"
			if tlsOn {
				d.TLSClientConfig = hc.Transport.(*http.Transport).TLSClientConfig
			}
			ws, _, err := d.Dial(u, nil)
			if err != nil {
				t.Fatal(err)
			}
			_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
			for i := 0; i < 5; i++ {
				if _, _, err := ws.ReadMessage(); err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
			}
			if err := ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")); err != nil {
				t.Fatal(err)
			}
			for {
				if _, _, err := ws.ReadMessage(); err != nil {
					break // the close reply, then end of stream
				}
			}
			_ = ws.Close()

			// The server closes the socket lingerTime after its close
			// frame; every slot should be free well before this deadline
			// (a liveness bound, not a speed assertion).
			deadline := time.Now().Add(15 * time.Second)
			for {
				lim.mu.Lock()
				open := len(lim.open)
				var held []string
				for k, n := range lim.open {
					held = append(held, k.String()+":"+strings.Repeat("|", n))
				}
				lim.mu.Unlock()
				if open == 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("15 s after the WebSocket closed, its address still holds slots %v: the per-IP count leaks (a client is refused after ConnsPerIP such sessions)", held)
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}
