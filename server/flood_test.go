package server_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/server"
	"github.com/tickroom/tickroom/state"
)

// gapsP99 takes deltas for d and returns the p99 of how far the time
// between two deltas strays from the tick period, and the count.
func gapsP99(t *testing.T, c *wsClient, d, period time.Duration) (time.Duration, int) {
	t.Helper()
	var off []time.Duration
	last := time.Time{}
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		before := c.deltas
		c.next(5 * time.Second)
		if c.deltas == before {
			continue
		}
		now := time.Now()
		if !last.IsZero() {
			off = append(off, (now.Sub(last) - period).Abs())
		}
		last = now
	}
	slices.Sort(off)
	return off[len(off)*99/100], len(off)
}

// TestFloodersDoNotHurtABystander: a bystander's delivery timing with five
// clients flooding the same room, about 5,000 messages a second in all,
// half of them malformed (reconnecting whenever they are closed), next to
// an unloaded run. The figures are logged for the issue note; the
// test asserts only what a noisy machine cannot break: the flooders are
// throttled and closed, the bystander's stream stays gap-free (its mirror
// would fail), and it is never stalled for a whole second.
func TestFloodersDoNotHurtABystander(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	id := env.createRoom("arena-bench", nil)
	by := env.join(id, "bystander")
	period := 50 * time.Millisecond
	calm, n1 := gapsP99(t, by, 3*time.Second, period)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	closes := map[int]int{}
	u := "ws" + strings.TrimPrefix(env.ts.URL, "http") + "/ws/" + id + "?name=flood"
	junk, _ := msgpack.Marshal([]any{1, "not a seq", nil})
	for range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				conn, _, err := websocket.DefaultDialer.Dial(u, nil)
				if err != nil {
					continue
				}
				go func() { // read so that the close frame arrives
					for {
						if _, _, err := conn.ReadMessage(); err != nil {
							if ce, ok := err.(*websocket.CloseError); ok {
								mu.Lock()
								closes[ce.Code]++
								mu.Unlock()
							}
							return
						}
					}
				}()
				for i := 0; ; i++ {
					var err error
					if i%2 == 0 {
						in, _ := msgpack.Marshal([]any{1, i + 1, map[string]float64{"dx": 1, "dy": 1}})
						err = conn.WriteMessage(websocket.BinaryMessage, in)
					} else {
						err = conn.WriteMessage(websocket.BinaryMessage, junk)
					}
					if err != nil {
						break
					}
					select {
					case <-stop:
						conn.Close()
						return
					case <-time.After(time.Millisecond):
						// About 1,000 messages a second each. Unpaced, these
						// writers run in this process and take the CPU the
						// server needs on a 2-core machine, which measures the
						// test, not the server (p99 81 ms in that setup).
					}
				}
				conn.Close()
			}
		}()
	}
	flooded, n2 := gapsP99(t, by, 3*time.Second, period)
	close(stop)
	wg.Wait()

	mu.Lock()
	policy := closes[rooms.ClosePolicy]
	mu.Unlock()
	t.Logf("bystander delivery, p99 of |gap - 50 ms|: unloaded %v over %d gaps; with 5 flooders %v over %d gaps (%.1fx); flooders closed with 1008: %d times",
		calm, n1, flooded, n2, float64(flooded)/float64(max(calm, time.Millisecond)), policy)
	if policy == 0 {
		t.Fatal("no flooder was closed with 1008")
	}
	if flooded > time.Second {
		t.Fatalf("the bystander stalled: p99 gap offset %v", flooded)
	}
	env.checkMirror(id, by)
}

// TestHeldUpInputsAreNotAFlood: a good client whose network held its inputs
// back for three seconds delivers them in one burst. The inputs over the
// rate are refused (rate_limited, said once), but the burst counts as one
// violation, not forty: the client stays connected and keeps ticking, with
// a violation budget of two.
func TestHeldUpInputsAreNotAFlood(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{InputRate: 20, InputBurst: 20, ViolationRate: 0.01, ViolationBurst: 2})
	id := env.createRoom("arena", nil)
	c := env.join(id, "held-up")
	for range 60 { // 3 s of inputs at 20 a second, back to back
		c.input(map[string]any{"dx": 1, "dy": 0})
	}
	from := env.room(id).CurrentTick()
	c.waitTick(from + 20) // fails the test if the connection closes
	if got := c.errorCodes(); len(got) != 1 || got[0] != state.ErrCodeRateLimited {
		t.Fatalf("errors %q, want one rate_limited", got)
	}
	// Two more bursts, each more than 100 ms apart, use up the budget of
	// two: the limit still holds against a client that keeps it up.
	for range 2 {
		time.Sleep(150 * time.Millisecond)
		for range 60 {
			c.seq++
			if c.conn.WriteMessage(websocket.BinaryMessage, mustPack(t, []any{state.ClientInput, c.seq, map[string]any{"dx": 1}})) != nil {
				break
			}
		}
	}
	if ce := c.waitClose(); ce.Code != rooms.ClosePolicy {
		t.Fatalf("closed with %d %q, want %d", ce.Code, ce.Text, rooms.ClosePolicy)
	}
}
