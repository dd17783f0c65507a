package board_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/state"
)

const scriptTicks = 300

// playScript runs a fixed session on a new board: members join one by one,
// send a mix of valid and invalid ops drawn from the script's own random
// source (the same on every run), and one leaves halfway. Each tick's delta
// goes to onDelta; tick 0's publishes what Init made. It returns the room
// and how many inputs were accepted per op.
func playScript(t *testing.T, onDelta func(r *room, tick uint64, delta []byte)) (*room, map[string]int) {
	t.Helper()
	r := newRoom(t, map[string]any{"maxShapes": 40})
	onDelta(r, 0, r.ctx.World.AppendDelta(nil, 0))
	script := rand.New(rand.NewPCG(7, 7))
	accepted := make(map[string]int)
	var members []*rooms.Member
	for tick := uint64(1); tick <= scriptTicks; tick++ {
		r.ctx.Tick = tick
		if tick%25 == 1 && len(members) < 6 {
			m, _ := r.join(uint32(len(members) + 1))
			members = append(members, m)
		}
		if tick == scriptTicks/2 {
			r.h.Leave(r.ctx, members[0])
			members = members[1:]
		}
		for _, m := range members {
			if script.IntN(3) != 0 {
				continue
			}
			in := randomOp(script, r.ctx.World)
			if err := r.h.Input(r.ctx, m, roomtest.Encode(t, in)); err == nil {
				accepted[in["op"].(string)]++
			}
		}
		r.h.Tick(r.ctx)
		onDelta(r, tick, r.ctx.World.AppendDelta(nil, tick))
	}
	return r, accepted
}

// randomOp draws an op, sometimes aimed at ids that are not shapes.
func randomOp(r *rand.Rand, w *state.World) map[string]any {
	id := r.IntN(w.Len() + 10)
	if ents := w.Entities(); r.IntN(4) != 0 && len(ents) > 0 {
		id = int(ents[r.IntN(len(ents))].ID())
	}
	x, y := r.Float64()*1800-100, r.Float64()*1200-100
	switch r.IntN(8) {
	case 0, 1, 2:
		return map[string]any{"op": "cursor", "x": x, "y": y}
	case 3:
		return map[string]any{"op": "create", "shape": r.IntN(2), "x": int(x), "y": y,
			"w": r.Float64() * 300, "h": r.IntN(300), "color": r.Uint32()}
	case 4, 5:
		return map[string]any{"op": "move", "id": id, "x": x, "y": y}
	case 6:
		return map[string]any{"op": "color", "id": id, "color": r.Uint32()}
	}
	return map[string]any{"op": "delete", "id": id}
}

// TestSameInputsSameBoard guards "replay equals live" for the board: the
// same inputs give the same board and the same delta bytes on every tick.
func TestSameInputsSameBoard(t *testing.T) {
	var first, second [][]byte
	a, accepted := playScript(t, func(_ *room, _ uint64, d []byte) { first = append(first, d) })
	b, _ := playScript(t, func(_ *room, _ uint64, d []byte) { second = append(second, d) })
	roomtest.SameWorld(t, a.ctx.World, b.ctx.World)
	for tick := range first {
		if !bytes.Equal(first[tick], second[tick]) {
			t.Fatalf("tick %d delta: got % x, want % x", tick, second[tick], first[tick])
		}
	}
	for _, op := range []string{"cursor", "create", "move", "color", "delete"} {
		if accepted[op] == 0 {
			t.Errorf("the script had no accepted %q op, so it checks none", op)
		}
	}
}

// TestMirrorFollowsBoard guards "a client mirror equals server state" for
// the board's kinds: a mirror fed every delta from the start, and one that
// joins halfway from a snapshot, match the board after every tick.
func TestMirrorFollowsBoard(t *testing.T) {
	var mirrors []*state.Mirror
	playScript(t, func(r *room, tick uint64, d []byte) {
		w := r.ctx.World
		for _, m := range mirrors {
			roomtest.MustApply(t, m, d, tick)
		}
		if tick == 0 || tick == scriptTicks/2 {
			// A client starts from the snapshot taken right after a publish.
			m := state.NewMirror(board.Schema)
			snap, err := w.AppendSnapshot(nil)
			if err != nil {
				t.Fatalf("tick %d: snapshot: %v", tick, err)
			}
			roomtest.MustApply(t, m, snap, tick)
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
