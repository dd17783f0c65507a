package server

import (
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tickroom/tickroom/state"
)

// TestJoinBurstKeepsEveryone: 200 members join one room at once. Every
// early member is sent a join event per newcomer, far more than the send
// queue's 128 frames, within milliseconds. Written straight to the socket,
// they fit in the kernel's buffer while the client reads, so nobody is
// closed as a slow consumer and the first member sees every join.
func TestJoinBurstKeepsEveryone(t *testing.T) {
	const n = 200
	_, room, url := quietServer(t, n)
	type result struct {
		events int
		err    error
	}
	stop := make(chan struct{})
	results := make(chan result, n)
	var dialed sync.WaitGroup
	for range n {
		dialed.Add(1)
		go func() {
			conn, _, err := websocket.DefaultDialer.Dial(url, nil)
			dialed.Done()
			if err != nil {
				results <- result{err: err}
				return
			}
			defer conn.Close()
			go func() { <-stop; conn.Close() }()
			events := 0
			for {
				_, b, err := conn.ReadMessage()
				if err != nil {
					select {
					case <-stop:
						err = nil // closed by the test
					default:
					}
					results <- result{events, err}
					return
				}
				if len(b) > 1 && b[1] == state.MsgEvent {
					events++
				}
			}
		}()
	}
	dialed.Wait()
	deadline := time.Now().Add(20 * time.Second)
	for room.Players() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := room.Players(); got != n {
		t.Fatalf("%d of %d members seated", got, n)
	}
	time.Sleep(500 * time.Millisecond) // the last events on their way
	close(stop)
	most := 0
	for range n {
		r := <-results
		if r.err != nil {
			t.Fatalf("a member's connection ended: %v", r.err)
		}
		most = max(most, r.events)
	}
	if most < n-1 {
		t.Fatalf("the first member saw %d events, want at least %d joins", most, n-1)
	}
}
