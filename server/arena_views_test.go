package server_test

import (
	"math"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/server"
	"github.com/tickroom/tickroom/state"
)

// TestArenaStreamStaysInTheViewMargin: over a real socket, after every
// frame an arena member applies, its mirror holds every avatar and no
// coin farther from its own avatar than its view and a cell; at the end
// every coin within its view is there and equal to the server's. The
// field (8000 x 5000) is many views wide, and the members run apart
// across cells.
func TestArenaStreamStaysInTheViewMargin(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	id := env.createRoom("arena", map[string]any{"width": 8000, "height": 5000, "coins": 200, "speed": 50})
	var members []*wsClient
	for i, name := range []string{"a", "b", "c"} {
		c := env.join(id, name)
		members = append(members, c)
		frames := 0
		c.onState = func([]byte) {
			frames++
			own := c.mirror.Entities[*c.welcome.Entity]
			if own == nil {
				return // a joiner's own avatar comes with the frame after the one its view snapshot followed
			}
			ax, ay := own.Float(arena.FieldX), own.Float(arena.FieldY)
			for eid, e := range c.mirror.Entities {
				if e.Kind.Name != "coin" {
					continue
				}
				dx, dy := math.Abs(e.Float(arena.FieldX)-ax), math.Abs(e.Float(arena.FieldY)-ay)
				if dx > arena.ViewWidth/2+arena.CellSize || dy > arena.ViewHeight/2+arena.CellSize {
					t.Fatalf("member %d frame %d: coin %d is %.0f, %.0f from its avatar: beyond its view and a cell", i, frames, eid, dx, dy)
				}
			}
		}
	}
	dirs := [][2]float64{{1, 0.6}, {-1, -0.4}, {0.3, -1}}
	for seq := uint64(1); seq <= 40; seq++ {
		for i, c := range members {
			c.input(map[string]any{"dx": dirs[i][0], "dy": dirs[i][1]})
		}
		members[0].waitTick(members[0].mirror.Tick + 1)
	}
	for i, c := range members {
		var tick uint64
		var div *state.Divergence
		err := env.room(id).Inspect(func(w *state.World) {
			tick = w.Tick()
			c.waitTick(tick)
			own := w.Get(*c.welcome.Entity)
			ax, ay := own.Float(arena.FieldX), own.Float(arena.FieldY)
			within := func(mx, my float64) func(*state.Entity) bool {
				return func(e *state.Entity) bool {
					return e.Kind() == arena.AvatarKind ||
						math.Abs(e.Float(arena.FieldX)-ax) <= mx && math.Abs(e.Float(arena.FieldY)-ay) <= my
				}
			}
			div = state.CompareSeen(w, c.mirror, within(arena.ViewWidth/2, arena.ViewHeight/2),
				within(arena.ViewWidth/2+arena.CellSize, arena.ViewHeight/2+arena.CellSize))
		}, 5*time.Second)
		if err != nil {
			t.Fatalf("inspect: %v", err)
		}
		if div != nil {
			t.Fatalf("member %d: view mirror diverged at tick %d: %v", i, tick, div)
		}
		if c.mirror.LeftView == 0 {
			t.Errorf("member %d: no coin left its view by tick %d: the members did not cross cells", i, tick)
		}
	}
}
