// Package roomtest holds test helpers shared by the built-in room types'
// tests: starting a handler and joining members the way the room loop does,
// encoding an input payload, comparing two worlds field by field and feeding
// a delta or snapshot to a client mirror.
package roomtest

import (
	"fmt"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// Start makes a handler of type typ with opts and runs its Init on a new
// world whose random source is seeded with seed.
func Start(t testing.TB, typ *rooms.Type, opts map[string]any, seed uint64) (rooms.Handler, *rooms.Context) {
	t.Helper()
	h, _, err := typ.New(opts)
	if err != nil {
		t.Fatalf("New(%v): %v", opts, err)
	}
	ctx := rooms.NewContext(state.NewWorld(typ.Schema), seed)
	if err := h.Init(ctx); err != nil {
		t.Fatalf("Init: %v", err)
	}
	return h, ctx
}

// Join joins member number n, named "m<n>", and fails unless the handler
// gives it an entity, which becomes the member's Entity.
func Join(t testing.TB, h rooms.Handler, ctx *rooms.Context, n uint32) (*rooms.Member, *state.Entity) {
	t.Helper()
	m := &rooms.Member{Number: n, Name: fmt.Sprintf("m%d", n)}
	e, err := h.Join(ctx, m)
	if err != nil {
		t.Fatalf("Join(%d): %v", n, err)
	}
	if e == nil {
		t.Fatalf("Join(%d): got no entity, want the member's own", n)
	}
	m.Entity = e
	return m, e
}

// Encode returns v as a MessagePack input payload.
func Encode(t testing.TB, v any) msgpack.RawMessage {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatalf("msgpack.Marshal(%v): %v", v, err)
	}
	return b
}

// SameWorld fails unless a and b hold the same entities with every field equal.
func SameWorld(t testing.TB, a, b *state.World) {
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

// MustApply applies a delta or snapshot published at tick to m.
func MustApply(t testing.TB, m *state.Mirror, msg []byte, tick uint64) {
	t.Helper()
	if _, err := m.Apply(msg); err != nil {
		t.Fatalf("tick %d: Apply: %v", tick, err)
	}
}
