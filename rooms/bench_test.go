package rooms_test

import (
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arenabench"
)

// countingConn takes every message and only counts it: the room's cost of a
// broadcast without any socket behind it. With sent set, it also signals
// each message (without blocking) so that the benchmark need not poll.
type countingConn struct {
	msgs, bytes atomic.Int64
	sent        chan struct{}
}

func (c *countingConn) Send(msg []byte) bool {
	c.msgs.Add(1)
	c.bytes.Add(int64(len(msg)))
	if c.sent != nil {
		select {
		case c.sent <- struct{}{}:
		default:
		}
	}
	return true
}
func (c *countingConn) Close(int, string) {}

// BenchmarkRoomTick runs a live arena-bench room (its own goroutine, the
// real room loop: input queue, handler, delta encode once, send to every
// member) with N members, each sending the scene's input every tick
// (payloads encoded beforehand, so allocs/op are the room's own). The
// room type is arena-bench at 120 Hz so that the benchmark takes seconds,
// not minutes; a tick does the same work at any rate. One op is one tick;
// ns/op is therefore the tick period, and the figures that matter are the
// room's own tick time (tick-ns, from its histogram: inputs, step, encode
// and the N sends) and the process's CPU per tick (cpu-ns/tick, including
// the benchmark feeding the inputs).
func BenchmarkRoomTick(b *testing.B) {
	for _, n := range []int{8, 32, 64} {
		b.Run(fmt.Sprintf("members=%d", n), func(b *testing.B) { benchRoomTick(b, n) })
	}
}

func benchRoomTick(b *testing.B, members int) {
	fast := *arenabench.Type
	fast.Name, fast.TickRate = "arena-bench-120hz", 120
	reg := rooms.NewRegistry()
	if err := reg.Register(&fast); err != nil {
		b.Fatal(err)
	}
	mgr := rooms.NewManager(reg, rooms.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	b.Cleanup(func() { _ = mgr.Shutdown(b.Context(), rooms.CloseGoingAway, "bench over") })
	r, err := mgr.Create(rooms.CreateRequest{Type: fast.Name, MaxPlayers: 64})
	if err != nil {
		b.Fatal(err)
	}
	const cycle = 1000 // inputs repeat the formula's first 1000 values
	payloads := make([][]msgpack.RawMessage, members)
	clients := make([]*rooms.Client, members)
	sent := make(chan struct{}, 1)
	for i := range members {
		conn := &countingConn{}
		if i == 0 {
			conn.sent = sent
		}
		if clients[i], err = r.Join(conn, "", ""); err != nil {
			b.Fatal(err)
		}
		payloads[i] = make([]msgpack.RawMessage, cycle)
		for k := range cycle {
			in := arenabench.ClientInput(i, uint64(k+1))
			payloads[i][k], _ = msgpack.Marshal(map[string]float64{"dx": in.DX, "dy": in.DY}) // plain map: cannot fail
		}
	}
	seq := uint64(0)
	feed := func() {
		seq++
		for c, cl := range clients {
			if err := r.Input(cl, seq, payloads[c][seq%cycle]); err != nil {
				b.Fatalf("input: %v", err)
			}
		}
	}
	// waitTick waits for member 0's next message after tick after.
	waitTick := func(after uint64) uint64 {
		for {
			select {
			case <-sent:
			case <-time.After(5 * time.Second):
				b.Fatal("no tick within 5 s")
			}
			if t := r.CurrentTick(); t > after {
				return t
			}
		}
	}
	// Warm up until every member's entity is in the world and moving.
	tick := waitTick(r.CurrentTick() + 1)
	for range 10 {
		feed()
		tick = waitTick(tick)
	}
	st := r.Stats()
	_, count0, sum0 := st.TickTime.Snapshot()
	bytes0, cpu0 := st.BytesOut.Load(), processCPU()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		feed()
		tick = waitTick(tick)
	}
	b.StopTimer()
	_, count1, sum1 := st.TickTime.Snapshot()
	if ticks := count1 - count0; ticks > 0 {
		b.ReportMetric(float64(sum1-sum0)/float64(ticks), "tick-ns")
		b.ReportMetric(float64(processCPU()-cpu0)/float64(ticks), "cpu-ns/tick")
		b.ReportMetric(float64(st.BytesOut.Load()-bytes0)/float64(ticks), "delta-bytes/tick")
	}
	if late := st.SkippedSlots.Load(); late > 0 {
		b.Logf("%d tick slots skipped: the machine could not keep 120 Hz", late)
	}
}

// processCPU is this process's user+sys CPU time in nanoseconds.
func processCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru) // cannot fail for RUSAGE_SELF
	return ru.Utime.Nano() + ru.Stime.Nano()
}
