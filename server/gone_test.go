package server

import (
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestVanishedMembersAreNotSlowConsumers: when many clients drop their TCP
// connections at once (a load generator stopping, a network cut), the
// events about them that the room sends the others hit dead sockets. Those
// members are gone, not slow: none of them is counted or logged as a slow
// consumer, and all of them leave.
func TestVanishedMembersAreNotSlowConsumers(t *testing.T) {
	const n = 40
	_, room, url := quietServer(t, n)
	conns := make([]*websocket.Conn, n)
	for i := range conns {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
		go func() { // read and discard until the connection goes
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); room.Players() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d seated", room.Players(), n)
		}
	}
	for _, c := range conns {
		c.UnderlyingConn().Close() // no close frame: the connection just ends
	}
	// Every member goes offline (its seat is held for the grace).
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		members, err := room.Members(time.Second)
		if err != nil {
			t.Fatal(err)
		}
		online := 0
		for _, m := range members {
			if m.Online {
				online++
			}
		}
		if online == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d members still online 10 s after their connections ended", online)
		}
	}
	if got := room.Stats().SlowClosed.Load(); got != 0 {
		t.Fatalf("%d vanished members were closed as slow consumers", got)
	}
}
