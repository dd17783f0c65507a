package cluster_test

import (
	"math"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/fieldbench"
	"github.com/tickroom/tickroom/state"
)

// TestRelayedMembersGetTheirOwnViews: in a views room, each member's
// frame is its own, so a node relaying members forwards each one's frames
// (not one broadcast): a member joined through another node than the
// owner mirrors exactly its view, with no gap, like one on the owner.
func TestRelayedMembersGetTheirOwnViews(t *testing.T) {
	tc := newTestCluster(t, 1)
	types := []*rooms.Type{fieldbench.Type}
	a, b := tc.start("a", nodeOpts{types: types}), tc.start("b", nodeOpts{types: types})
	room := a.create("field-bench")
	waitUntil(t, 5*time.Second, "the room to be known on b", func() bool {
		var info rooms.RoomInfo
		return b.api("GET", "/api/rooms/"+room, nil, &info) == 200 && info.State == rooms.StateLive
	})
	own := a.join(room, "own", "")
	relayed := b.join(room, "relayed", "")
	for seq := uint64(1); seq <= 40; seq++ {
		for i, c := range []*client{own, relayed} {
			in := fieldbench.ClientInput(i, seq)
			c.input(map[string]any{"dx": in.DX, "dy": in.DY})
		}
		own.waitTick(own.mirror.Tick + 1)
	}
	worldOf(t, a, room, func(w *state.World) {
		for i, c := range []*client{own, relayed} {
			c.waitTick(w.Tick())
			p := w.Get(*c.welcome.Entity)
			px, py := p.Float(fieldbench.FieldX), p.Float(fieldbench.FieldY)
			within := func(d float64) func(*state.Entity) bool {
				return func(e *state.Entity) bool {
					return math.Abs(e.Float(fieldbench.FieldX)-px) <= d && math.Abs(e.Float(fieldbench.FieldY)-py) <= d
				}
			}
			if d := state.CompareSeen(w, c.mirror, within(fieldbench.HalfView), within(fieldbench.HalfView+fieldbench.Cell)); d != nil {
				t.Fatalf("member %d's view diverged at tick %d: %v", i, w.Tick(), d)
			}
			if n := len(c.mirror.Entities); n < 50 || n > 200 {
				t.Fatalf("member %d holds %d entities, want a view's worth", i, n)
			}
		}
	})
	if relayed.snaps != 1 {
		t.Fatalf("the relayed member took %d view snapshots; want only the first (no gap)", relayed.snaps)
	}
}
