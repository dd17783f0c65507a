package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/server"
	"github.com/tickroom/tickroom/state"
)

// floodKind carries a large string that changes every tick, so that a
// member who stops reading fills the socket buffers within seconds.
var floodKind = state.MustKind(0, "blob", nil, state.Counter("n", state.U32), state.Text("data"))

var floodType = &rooms.Type{
	Name: "flood", TickRate: 60, Schema: state.MustSchema(floodKind),
	New: func(map[string]any) (rooms.Handler, map[string]any, error) { return &floodHandler{}, nil, nil },
}

type floodHandler struct{ blob *state.Entity }

func (h *floodHandler) Init(ctx *rooms.Context) error {
	h.blob = ctx.World.Spawn(floodKind)
	return nil
}
func (h *floodHandler) Join(*rooms.Context, *rooms.Member) (*state.Entity, error) { return nil, nil }
func (h *floodHandler) Leave(*rooms.Context, *rooms.Member)                       {}
func (h *floodHandler) Input(*rooms.Context, *rooms.Member, msgpack.RawMessage) error {
	return nil
}
func (h *floodHandler) Tick(ctx *rooms.Context) {
	h.blob.SetInt(0, int64(ctx.Tick))
	h.blob.SetString(1, strings.Repeat(string(rune('a'+ctx.Tick%26)), 64<<10))
}

// TestStalledReaderGetsSnapshotNext: a member that stops reading overflows
// its queue and misses deltas; when it reads again its next state message is
// a snapshot (its mirror refuses any delta that does not chain), while the
// other member sees every delta.
func TestStalledReaderGetsSnapshotNext(t *testing.T) {
	env := newEnv(t, rooms.Config{SlowConsumerGrace: time.Minute}, server.Config{SendQueue: 8, WriteWait: time.Minute}, floodType)
	id := env.createRoom("flood", nil)
	steady := env.join(id, "steady")
	stalled := env.join(id, "stalled")
	r := env.room(id)

	// The stalled member reads nothing; the steady one keeps up.
	stalled.pause()
	deadline := time.Now().Add(20 * time.Second)
	for r.Stats().Overflows.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stalled member's queue never overflowed")
		}
		steady.next(5 * time.Second)
	}
	overflowTick := r.CurrentTick()
	before := stalled.snapshots
	stalled.resume()

	// Read again: the mirror applies everything in order, and fails the
	// test on the first delta whose base is not its tick.
	stalled.waitTick(overflowTick + 5)
	if stalled.snapshots <= before {
		t.Fatalf("stalled member caught up without a snapshot (snapshots %d -> %d)", before, stalled.snapshots)
	}
	steady.waitTick(overflowTick + 5)
	if steady.snapshots != 1 {
		t.Fatalf("steady member got %d snapshots, want only its first: it must not miss deltas", steady.snapshots)
	}
	env.checkMirror(id, stalled)
	env.checkMirror(id, steady)
}

// TestStuckReaderIsClosedAsSlow: a member that stays stuck past the grace
// is closed with 4008, keeps its seat, and the other member sees no gap.
func TestStuckReaderIsClosedAsSlow(t *testing.T) {
	env := newEnv(t, rooms.Config{SlowConsumerGrace: 300 * time.Millisecond, SeatGrace: time.Minute},
		server.Config{SendQueue: 8, WriteWait: 2 * time.Second}, floodType)
	id := env.createRoom("flood", nil)
	steady := env.join(id, "steady")
	stuck, err := env.dial(id, "name=stuck")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	stuck.pause() // never reads again
	t.Cleanup(stuck.resume)
	r := env.room(id)
	deadline := time.Now().Add(30 * time.Second)
	for r.Stats().SlowClosed.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("stuck member was never closed as a slow consumer")
		}
		steady.next(5 * time.Second)
	}
	steady.waitFor("offline event", func() bool { return len(steady.eventsOf("offline")) == 1 })
	steady.waitTick(r.CurrentTick() + 3)
	if steady.snapshots != 1 {
		t.Fatalf("steady member got %d snapshots, want 1: it must not have missed a delta", steady.snapshots)
	}
	if got := r.Players(); got != 2 {
		t.Fatalf("players after slow close: got %d, want 2 (the seat is held)", got)
	}
}
