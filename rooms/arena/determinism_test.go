package arena_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/state"
)

const scriptTicks = 400

// playScript runs a fixed game on a new room seeded with seed: members join
// one by one, steer at random (from the script's own source, the same on
// every run), one leaves halfway; rounds of 5 s with 1 s breaks end three
// times on the way. Each tick's delta goes to onDelta; tick 0's publishes
// what Init made.
func playScript(t *testing.T, seed uint64, onDelta func(r *room, tick uint64, delta []byte)) *room {
	t.Helper()
	r := newRoom(t, map[string]any{"coins": 30, "round": 5, "break": 1}, seed)
	onDelta(r, 0, r.ctx.World.AppendDelta(nil, 0))
	script := rand.New(rand.NewPCG(42, 42))
	var members []*rooms.Member
	for tick := uint64(1); tick <= scriptTicks; tick++ {
		r.ctx.Tick = tick
		if tick%20 == 1 && len(members) < 8 {
			m, _ := r.join(uint32(len(members) + 1))
			members = append(members, m)
		}
		if tick == scriptTicks/2 {
			r.h.Leave(r.ctx, members[1])
		}
		for i, m := range members {
			if i == 1 && tick >= scriptTicks/2 || script.IntN(4) != 0 {
				continue
			}
			in := map[string]any{"dx": script.Float64()*2.4 - 1.2, "dy": script.Float64()*2.4 - 1.2}
			if script.IntN(3) == 0 {
				in = map[string]any{"dx": script.IntN(3) - 1, "dy": script.IntN(3) - 1} // JavaScript's integers
			}
			r.input(m, m.LastSeq+1, in)
		}
		r.h.Tick(r.ctx)
		onDelta(r, tick, r.ctx.World.AppendDelta(nil, tick))
	}
	return r
}

// TestSameSeedSameWorld guards the invariant "replay equals live" for the
// arena: the same seed and inputs give the same world and the same delta
// bytes on every tick.
func TestSameSeedSameWorld(t *testing.T) {
	var first [][]byte
	a := playScript(t, 9, func(_ *room, _ uint64, d []byte) { first = append(first, d) })
	var second [][]byte
	b := playScript(t, 9, func(_ *room, _ uint64, d []byte) { second = append(second, d) })
	roomtest.SameWorld(t, a.ctx.World, b.ctx.World)
	for tick := range first {
		if !bytes.Equal(first[tick], second[tick]) {
			t.Fatalf("tick %d delta: got % x, want % x", tick, second[tick], first[tick])
		}
	}
	kinds := map[any]int{}
	for _, ev := range a.ctx.Emitted {
		kinds[ev.Data["kind"]]++
	}
	if kinds["pickup"] == 0 || kinds["round_over"] != 3 {
		t.Errorf("the script emitted %v, want pickups and 3 round_over events to check", kinds)
	}
	for i, ev := range b.ctx.Emitted {
		if i < len(a.ctx.Emitted) && !sameData(ev.Data, a.ctx.Emitted[i].Data) {
			t.Fatalf("event %d: got %v, want %v", i, ev.Data, a.ctx.Emitted[i].Data)
		}
	}
	if got, want := len(b.ctx.Emitted), len(a.ctx.Emitted); got != want {
		t.Errorf("events: got %d, want %d", got, want)
	}
}

// TestOtherSeedOtherWorld shows that TestSameSeedSameWorld can fail: the
// seed does reach the state.
func TestOtherSeedOtherWorld(t *testing.T) {
	var a, b []byte
	playScript(t, 9, func(_ *room, tick uint64, d []byte) {
		if tick == 0 {
			a = d
		}
	})
	playScript(t, 10, func(_ *room, tick uint64, d []byte) {
		if tick == 0 {
			b = d
		}
	})
	if bytes.Equal(a, b) {
		t.Fatal("seeds 9 and 10 placed the coins the same way")
	}
}

// TestMirrorFollowsArena guards "a client mirror equals server state" for
// the arena's kinds: a mirror fed every delta from the start, and one that
// joins halfway from a snapshot, match the world after every tick.
func TestMirrorFollowsArena(t *testing.T) {
	var mirrors []*state.Mirror
	playScript(t, 3, func(r *room, tick uint64, d []byte) {
		w := r.ctx.World
		for _, m := range mirrors {
			roomtest.MustApply(t, m, d, tick)
		}
		if tick == 0 || tick == scriptTicks/2 {
			// A client starts from the snapshot taken right after a publish.
			m := state.NewMirror(arena.Schema)
			roomtest.MustApply(t, m, mustSnapshot(t, w), tick)
			mirrors = append(mirrors, m)
		}
		for i, m := range mirrors {
			if div := state.Compare(w, m); div != nil {
				t.Fatalf("tick %d mirror %d: %v", tick, i, div)
			}
		}
	})
	if got := len(mirrors); got != 2 {
		t.Fatalf("mirrors: got %d, want 2", got)
	}
}

func mustSnapshot(t *testing.T, w *state.World) []byte {
	t.Helper()
	snap, err := w.AppendSnapshot(nil)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	return snap
}
