package arena_test

import (
	"math"
	"testing"

	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/state"
)

func TestCollisionsSeparateAvatars(t *testing.T) {
	type pos struct{ x, y float64 }
	tests := []struct {
		name  string
		start []pos
	}{
		{"same spot", []pos{{500, 300}, {500, 300}}},
		{"overlapping", []pos{{500, 300}, {510, 305}}},
		{"touching is fine", []pos{{500, 300}, {536, 300}}},
		{"same spot in a corner", []pos{{0, 0}, {0, 0}}},
		{"same spot at the right wall", []pos{{1000, 300}, {1000, 300}}},
		{"pile of four", []pos{{300, 300}, {301, 300}, {300, 301}, {302, 302}}},
		{"pile in a corner", []pos{{1000, 600}, {999, 600}, {1000, 599}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRoom(t, noCoins, 1)
			var avatars []*state.Entity
			for i, p := range tt.start {
				_, e := r.join(uint32(i + 1))
				place(e, p.x, p.y)
				avatars = append(avatars, e)
			}
			r.step(1)
			for i, a := range avatars {
				ax, ay := a.Float(arena.FieldX), a.Float(arena.FieldY)
				if ax < 0 || ax > 1000 || ay < 0 || ay > 600 {
					t.Errorf("avatar %d pushed out of the field to (%v, %v)", i, ax, ay)
				}
				for j, b := range avatars[i+1:] {
					if d := math.Hypot(b.Float(arena.FieldX)-ax, b.Float(arena.FieldY)-ay); d < arena.AvatarSize-1e-3 {
						t.Errorf("avatars %d and %d: got distance %v, want at least %d", i, i+1+j, d, arena.AvatarSize)
					}
				}
			}
		})
	}
}

// TestCollisionOrderIsByID pins the tie-break that makes pile-ups
// deterministic: avatars on the same spot part along x, lower id left.
func TestCollisionOrderIsByID(t *testing.T) {
	r := newRoom(t, noCoins, 1)
	_, a := r.join(1)
	_, b := r.join(2)
	place(a, 500, 300)
	place(b, 500, 300)
	r.step(1)
	if ax, bx := a.Float(arena.FieldX), b.Float(arena.FieldX); ax != 482 || bx != 518 {
		t.Errorf("x: got %v and %v, want 482 and 518", ax, bx)
	}
}

func TestWalkingIntoAnotherAvatarStopsAtContact(t *testing.T) {
	r := newRoom(t, noCoins, 1)
	m, a := r.join(1)
	_, b := r.join(2)
	place(a, 400, 300)
	place(b, 500, 300)
	r.input(m, 1, map[string]any{"dx": 1, "dy": 0})
	r.step(40)
	if ax, bx := a.Float(arena.FieldX), b.Float(arena.FieldX); math.Abs(ax-464) > 1e-9 || bx != 500 {
		t.Errorf("x: got walker %v and other %v, want 464 (touching) and 500 (unmoved)", ax, bx)
	}
}

func TestWalkingIntoAnotherAvatarSlidesAround(t *testing.T) {
	r := newRoom(t, noCoins, 1)
	m, a := r.join(1)
	_, b := r.join(2)
	place(a, 400, 301) // a hair off-centre, so the walker slides past below
	place(b, 500, 300)
	r.input(m, 1, map[string]any{"dx": 1, "dy": 0})
	r.step(60)
	if ax := a.Float(arena.FieldX); ax <= 500 {
		t.Errorf("walker x: got %v, want past the other avatar at 500", ax)
	}
}

// TestCrowdDoesNotCompress drives a crowd into one corner: movement treats
// avatars as solid, so pushing never squeezes them into each other.
func TestCrowdDoesNotCompress(t *testing.T) {
	r := newRoom(t, noCoins, 5)
	var avatars []*state.Entity
	for i := range arena.MaxPlayers {
		m, e := r.join(uint32(i + 1))
		r.input(m, 1, map[string]any{"dx": 1, "dy": 1})
		avatars = append(avatars, e)
	}
	for tick := 1; tick <= 300; tick++ {
		r.step(1)
		for i, a := range avatars {
			for _, b := range avatars[i+1:] {
				if d := math.Hypot(b.Float(arena.FieldX)-a.Float(arena.FieldX), b.Float(arena.FieldY)-a.Float(arena.FieldY)); d < arena.AvatarSize-1e-3 {
					t.Fatalf("tick %d: avatars %d and %d got distance %v, want at least %d", tick, a.ID(), b.ID(), d, arena.AvatarSize)
				}
			}
		}
	}
	// They spawned around the middle (500, 300), 583 from the corner; packed
	// into it, 32 avatars fill a quarter disc of radius about 300.
	var cx, cy float64
	for _, a := range avatars {
		cx += a.Float(arena.FieldX) / float64(len(avatars))
		cy += a.Float(arena.FieldY) / float64(len(avatars))
	}
	if d := math.Hypot(1000-cx, 600-cy); d > 250 {
		t.Errorf("the crowd's centre (%v, %v) is %v from the bottom-right corner after 300 ticks, want at most 250", cx, cy, d)
	}
}
