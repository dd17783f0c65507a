package board_test

import (
	"fmt"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/board"
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
	h, _, err := board.Type.New(opts)
	if err != nil {
		t.Fatalf("New(%v): %v", opts, err)
	}
	ctx := rooms.NewContext(state.NewWorld(board.Type.Schema), 1)
	if err := h.Init(ctx); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return &room{t: t, h: h, ctx: ctx}
}

func (r *room) join(n uint32) (*rooms.Member, *state.Entity) {
	r.t.Helper()
	m := &rooms.Member{Number: n, Name: fmt.Sprintf("m%d", n)}
	e, err := r.h.Join(r.ctx, m)
	if err != nil {
		r.t.Fatalf("Join(%d): %v", n, err)
	}
	if e == nil {
		r.t.Fatalf("Join(%d): got no entity, want a cursor", n)
	}
	m.Entity = e
	return m, e
}

// do applies one input and fails the test if it is refused.
func (r *room) do(m *rooms.Member, in map[string]any) {
	r.t.Helper()
	if err := r.h.Input(r.ctx, m, encode(r.t, in)); err != nil {
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

func encode(t *testing.T, v any) msgpack.RawMessage {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatalf("msgpack.Marshal(%v): %v", v, err)
	}
	return b
}

// sameWorld fails unless a and b hold the same entities with every field equal.
func sameWorld(t *testing.T, a, b *state.World) {
	t.Helper()
	ea, eb := a.Entities(), b.Entities()
	if len(ea) != len(eb) {
		t.Fatalf("entity count: got %d, want %d", len(eb), len(ea))
	}
	for i, x := range ea {
		y := eb[i]
		if x.ID() != y.ID() || x.Kind() != y.Kind() {
			t.Fatalf("entity %d: got id %d kind %s, want id %d kind %s", i, y.ID(), y.Kind().Name, x.ID(), x.Kind().Name)
		}
		for f, field := range x.Kind().Fields {
			if got, want := fieldValue(y, f), fieldValue(x, f); got != want {
				t.Fatalf("entity %d field %q: got %v, want %v", x.ID(), field.Name, got, want)
			}
		}
	}
}

func fieldValue(e *state.Entity, i int) any {
	switch e.Kind().Fields[i].Type {
	case state.Q, state.F32:
		return e.Float(i)
	case state.Bool:
		return e.Bool(i)
	case state.String:
		return e.String(i)
	}
	return e.Int(i)
}
