package arena_test

import (
	"maps"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/state"
)

// room is a handler driven directly, the way the room loop drives it.
type room struct {
	t   *testing.T
	h   rooms.Handler
	ctx *rooms.Context
}

// newRoom starts a room on the 1000 x 600 field these tests were written
// for (the default field is larger), unless opts gives a size.
func newRoom(t *testing.T, opts map[string]any, seed uint64) *room {
	t.Helper()
	sized := map[string]any{"width": 1000, "height": 600}
	maps.Copy(sized, opts)
	h, ctx := roomtest.Start(t, arena.Type, sized, seed)
	return &room{t: t, h: h, ctx: ctx}
}

func (r *room) join(n uint32) (*rooms.Member, *state.Entity) {
	r.t.Helper()
	return roomtest.Join(r.t, r.h, r.ctx, n)
}

// input applies a payload as the room loop does: LastSeq first, then Input.
func (r *room) input(m *rooms.Member, seq uint64, payload map[string]any) {
	r.t.Helper()
	m.LastSeq = seq
	if err := r.h.Input(r.ctx, m, roomtest.Encode(r.t, payload)); err != nil {
		r.t.Fatalf("Input(%v): %v", payload, err)
	}
}

func (r *room) step(n int) {
	for range n {
		r.ctx.Tick++
		r.h.Tick(r.ctx)
	}
}

func (r *room) coins() []*state.Entity {
	var out []*state.Entity
	for _, e := range r.ctx.World.Entities() {
		if e.Kind() == arena.CoinKind {
			out = append(out, e)
		}
	}
	return out
}

func place(e *state.Entity, x, y float64) {
	e.SetFloat(arena.FieldX, x)
	e.SetFloat(arena.FieldY, y)
}
