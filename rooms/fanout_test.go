package rooms_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/state"
)

// countingFanout keeps what a room broadcast through it.
type countingFanout struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (f *countingFanout) Broadcast(msg []byte) {
	f.mu.Lock()
	f.msgs = append(f.msgs, msg)
	f.mu.Unlock()
}

func (f *countingFanout) deltas() map[uint64]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[uint64]int{}
	for _, m := range f.msgs {
		if typ, tick, _, ok := state.Peek(m); ok && typ == state.MsgDelta {
			out[tick]++
		}
	}
	return out
}

// fanConn is a connection that shares a fan-out (a relayed member).
type fanConn struct {
	*closeConn
	fan *countingFanout
}

func (c *fanConn) Fanout() rooms.Fanout { return c.fan }

// TestFanoutGetsEachTickOnce: members that share a fan-out cost the room
// one hand-over a tick, not one each; their own messages (welcome,
// snapshot, a resync's snapshot) still come one by one; a member on its
// own socket gets every delta as before.
func TestFanoutGetsEachTickOnce(t *testing.T) {
	reg := rooms.NewRegistry()
	if err := reg.Register(board.Type); err != nil {
		t.Fatal(err)
	}
	mgr := rooms.NewManager(reg, rooms.Config{})
	t.Cleanup(func() { _ = mgr.Shutdown(t.Context(), rooms.CloseGoingAway, "test over") })
	r, err := mgr.Create(rooms.CreateRequest{Type: "board"})
	if err != nil {
		t.Fatal(err)
	}
	fan := &countingFanout{}
	a, b := &fanConn{newCloseConn(), fan}, &fanConn{newCloseConn(), fan}
	ca, err := r.Join(a, "ann", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Join(b, "bob", ""); err != nil {
		t.Fatal(err)
	}
	local := newCloseConn()
	if _, err := r.Join(local, "cy", ""); err != nil {
		t.Fatal(err)
	}
	from := r.CurrentTick()
	waitUntil(t, 5*time.Second, "ten ticks", func() bool { return r.CurrentTick() >= from+10 })
	for tick, n := range fan.deltas() {
		if n != 1 {
			t.Fatalf("tick %d went to the fan-out %d times, want once", tick, n)
		}
	}
	if got := len(fan.deltas()); got < 9 {
		t.Fatalf("the fan-out got %d deltas in ten ticks", got)
	}
	kinds := func(c *closeConn) map[int]int {
		out := map[int]int{}
		for {
			select {
			case m := <-c.msgs:
				typ, _, _, _ := state.Peek(m)
				out[typ]++
			default:
				return out
			}
		}
	}
	if k := kinds(a.closeConn); k[state.MsgWelcome] != 1 || k[state.MsgSnapshot] != 1 || k[state.MsgDelta] != 0 {
		t.Fatalf("a relayed member's own messages: %v; want its welcome and snapshot, no delta", k)
	}
	if k := kinds(local); k[state.MsgDelta] < 9 {
		t.Fatalf("the member on its own socket got %d deltas", k[state.MsgDelta])
	}
	if err := ca.Resync(); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "the resync's snapshot", func() bool { return len(a.msgs) > 0 })
	if typ, _, _, _ := state.Peek(<-a.msgs); typ != state.MsgSnapshot {
		t.Fatalf("after a resync a relayed member got %d, want a snapshot", typ)
	}
}
