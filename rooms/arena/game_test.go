package arena_test

import (
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/state"
)

// noCoins keeps pickups out of tests about something else.
var noCoins = map[string]any{"coins": 0}

func TestJoinSpawnsAvatar(t *testing.T) {
	r := newRoom(t, nil, 1)
	m1, a := r.join(1)
	_, b := r.join(2)
	if a.Kind() != arena.AvatarKind {
		t.Fatalf("kind: got %s, want avatar", a.Kind().Name)
	}
	if got := a.String(arena.FieldName); got != m1.Name {
		t.Errorf("name: got %q, want %q", got, m1.Name)
	}
	if a.Int(arena.FieldColor) == b.Int(arena.FieldColor) {
		t.Errorf("members 1 and 2 share colour %#x, want different colours", a.Int(arena.FieldColor))
	}
	for _, e := range []*state.Entity{a, b} {
		if x, y := e.Float(arena.FieldX), e.Float(arena.FieldY); x < 0 || x > 1000 || y < 0 || y > 600 {
			t.Errorf("avatar %d spawned at (%v, %v), want inside the field", e.ID(), x, y)
		}
	}
}

func TestLeaveDespawnsAvatar(t *testing.T) {
	r := newRoom(t, noCoins, 1)
	m, e := r.join(1)
	_, other := r.join(2)
	r.h.Leave(r.ctx, m)
	if r.ctx.World.Get(e.ID()) != nil {
		t.Fatalf("avatar %d still in the world after Leave", e.ID())
	}
	if r.ctx.World.Get(other.ID()) == nil {
		t.Fatalf("Leave of member 1 removed member 2's avatar")
	}
	err := r.h.Input(r.ctx, m, roomtest.Encode(t, map[string]any{"dx": 1, "dy": 0}))
	if err == nil {
		t.Error("Input from a member who left: got nil error")
	}
	r.step(1) // must not touch the despawned avatar
}

func TestTypeDescribesArena(t *testing.T) {
	reg := rooms.NewRegistry()
	if err := reg.Register(arena.Type); err != nil {
		t.Fatalf("Register: %v", err)
	}
	if got := arena.Type.Name; got != "arena" {
		t.Errorf("name: got %q, want arena", got)
	}
	if got := arena.Type.TickRate; got != 20 {
		t.Errorf("tick rate: got %d, want 20", got)
	}
	// x, y and angle lead the avatar kind so moving avatars share a delta group.
	for i, name := range []string{"x", "y", "angle"} {
		if got := arena.AvatarKind.Fields[i].Name; got != name {
			t.Errorf("avatar field %d: got %q, want %q", i, got, name)
		}
	}
}

// TestJoinSpawnsInTheMiddle: on the default field, several screens wide,
// everyone starts in a 500 x 240 area around the centre, so friends who
// join together see each other.
func TestJoinSpawnsInTheMiddle(t *testing.T) {
	h, ctx := roomtest.Start(t, arena.Type, nil, 5)
	for n := range uint32(8) {
		_, e := roomtest.Join(t, h, ctx, n+1)
		if x, y := e.Float(arena.FieldX), e.Float(arena.FieldY); x < 1250 || x > 1750 || y < 780 || y > 1020 {
			t.Errorf("member %d spawned at (%v, %v), want inside 1250..1750 x 780..1020", n+1, x, y)
		}
	}
}
