package fieldbench_test

import (
	"math"
	"testing"

	"github.com/tickroom/tickroom/rooms/fieldbench"
)

// TestPropAtFollowsTheSpec checks the scene's prop formula against the
// spec's, written out with math.Mod, over a long game.
func TestPropAtFollowsTheSpec(t *testing.T) {
	for _, tick := range []uint64{0, 1, 125, 20 * 3600, 20 * 86400} {
		for i := 0; i < fieldbench.Props; i += 37 {
			x, y, a := fieldbench.PropAt(i, tick)
			phase := float64(tick)*0.05 + float64(i)
			cx, cy := float64(i%64)*125+62.5, float64(i/64)*125+62.5
			wx, wy, wa := cx+40*math.Cos(phase), cy+40*math.Sin(phase), math.Mod(phase, 2*math.Pi)
			if math.Abs(x-wx) > 1e-9 || math.Abs(y-wy) > 1e-9 || math.Abs(a-wa) > 1e-9 || a < 0 || a >= 2*math.Pi {
				t.Fatalf("prop %d tick %d: got (%v, %v, %v), want (%v, %v, %v)", i, tick, x, y, a, wx, wy, wa)
			}
		}
	}
}
