package arena_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/state"
)

// viewer is one member's end of a views arena: its own view's frames
// applied to its own mirror.
type viewer struct {
	m      *rooms.Member
	avatar *state.Entity
	mirror *state.Mirror
}

// TestViewsMirrorTheNearWorld runs the arena with its views (views.go):
// eight members steer at random across an
// 8000 x 5000 field of 200 coins for 600 ticks, every member's mirror is fed only its own
// view's frames, and after every tick each mirror equals the world
// restricted to that member's view; it holds every avatar and every coin
// within the view rectangle around its own avatar (which covers any
// screen), and no coin farther than that rectangle and a cell.
func TestViewsMirrorTheNearWorld(t *testing.T) {
	if !arena.Type.Views {
		t.Fatal("the arena's views are off")
	}
	h, _, err := arena.Type.New(map[string]any{"width": 8000, "height": 5000, "coins": 200})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	w := state.NewWorld(arena.Schema)
	w.EnableViews()
	ctx := rooms.NewContext(w, 11)
	if err := h.Init(ctx); err != nil {
		t.Fatalf("Init: %v", err)
	}
	script := rand.New(rand.NewPCG(5, 5))
	var viewers []*viewer
	coinsSeen, coinsHidden := 0, 0
	for tick := uint64(1); tick <= 600; tick++ {
		ctx.Tick = tick
		if tick%25 == 1 && len(viewers) < 8 {
			m, e := roomtest.Join(t, h, ctx, uint32(len(viewers)+1))
			viewers = append(viewers, &viewer{m: m, avatar: e})
		}
		for _, v := range viewers {
			if script.IntN(10) == 0 {
				v.m.LastSeq++
				in := roomtest.Encode(t, map[string]any{"dx": script.Float64()*2 - 1, "dy": script.Float64()*2 - 1})
				if err := h.Input(ctx, v.m, in); err != nil {
					t.Fatalf("Input: %v", err)
				}
			}
		}
		h.Tick(ctx)
		w.PublishGroups(tick)
		for i, v := range viewers {
			var msg []byte
			if v.mirror == nil {
				v.mirror = state.NewMirror(arena.Schema)
				msg, err = w.AppendViewSnapshot(nil, v.m.View())
			} else {
				msg, err = w.AppendViewDelta(nil, v.m.View())
			}
			if err != nil {
				t.Fatalf("tick %d member %d: frame: %v", tick, i+1, err)
			}
			if _, err := v.mirror.Apply(msg); err != nil {
				t.Fatalf("tick %d member %d: apply: %v", tick, i+1, err)
			}
			if d := state.CompareView(w, v.mirror, v.m.View().Groups()); d != nil {
				t.Fatalf("tick %d member %d (view %v): %v", tick, i+1, v.m.View().Groups(), d)
			}
			ax, ay := v.avatar.Float(arena.FieldX), v.avatar.Float(arena.FieldY)
			for _, e := range w.Entities() {
				_, held := v.mirror.Entities[e.ID()]
				if e.Kind() == arena.AvatarKind {
					if !held {
						t.Fatalf("tick %d member %d: avatar %d missing (every page lists every player)", tick, i+1, e.ID())
					}
					continue
				}
				dx, dy := math.Abs(e.Float(arena.FieldX)-ax), math.Abs(e.Float(arena.FieldY)-ay)
				switch {
				case dx <= arena.ViewWidth/2 && dy <= arena.ViewHeight/2 && !held:
					t.Fatalf("tick %d member %d: coin %d at (%v, %v) from its avatar is inside its view but not in its mirror", tick, i+1, e.ID(), dx, dy)
				case (dx > arena.ViewWidth/2+arena.CellSize || dy > arena.ViewHeight/2+arena.CellSize) && held:
					t.Fatalf("tick %d member %d: coin %d at (%v, %v) from its avatar is beyond its view but in its mirror", tick, i+1, e.ID(), dx, dy)
				case held:
					coinsSeen++
				default:
					coinsHidden++
				}
			}
		}
	}
	pickups := 0
	for _, ev := range ctx.Emitted {
		if ev.Data["kind"] == "pickup" {
			pickups++
		}
	}
	if pickups == 0 {
		t.Error("no coin was picked up, so no coin moved to another cell")
	}
	// The views must leave most of the field out, or this proves little.
	if coinsHidden < 2*coinsSeen {
		t.Errorf("coins held %d times, left out %d: want the views to leave most coins out", coinsSeen, coinsHidden)
	}
}
