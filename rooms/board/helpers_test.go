package board_test

import (
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/state"
)

// room is a handler driven directly, the way the room loop drives it.
type room struct {
	t   *testing.T
	h   rooms.Handler
	ctx *rooms.Context
}

func newRoom(t *testing.T, opts map[string]any) *room {
	t.Helper()
	h, ctx := roomtest.Start(t, board.Type, opts, 1)
	return &room{t: t, h: h, ctx: ctx}
}

func (r *room) join(n uint32) (*rooms.Member, *state.Entity) {
	r.t.Helper()
	return roomtest.Join(r.t, r.h, r.ctx, n)
}

// do applies one input and fails the test if it is refused.
func (r *room) do(m *rooms.Member, in map[string]any) {
	r.t.Helper()
	if err := r.h.Input(r.ctx, m, roomtest.Encode(r.t, in)); err != nil {
		r.t.Fatalf("Input(%v): %v", in, err)
	}
}

// publish ends the tick as the room loop does, so later changes are visible
// through World.Pending.
func (r *room) publish() []byte {
	r.ctx.Tick++
	r.h.Tick(r.ctx)
	return r.ctx.World.AppendDelta(nil, r.ctx.Tick)
}

func (r *room) shapes() []*state.Entity {
	var out []*state.Entity
	for _, e := range r.ctx.World.Entities() {
		if e.Kind() == board.ShapeKind {
			out = append(out, e)
		}
	}
	return out
}

// last returns the newest shape.
func (r *room) last() *state.Entity {
	r.t.Helper()
	s := r.shapes()
	if len(s) == 0 {
		r.t.Fatal("no shapes on the board")
	}
	return s[len(s)-1]
}
