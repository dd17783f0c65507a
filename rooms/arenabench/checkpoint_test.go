package arenabench_test

import (
	"math/rand/v2"
	"testing"

	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/state"
)

// TestCheckpointThenTailEqualsFullRun: the benchmark scene woken from a
// checkpoint at any tick steps on exactly as the full run.
func TestCheckpointThenTailEqualsFullRun(t *testing.T) {
	roomtest.CheckpointProperty(t, arenabench.Type, nil, 20,
		func(r *rand.Rand, _ *state.World) any {
			if r.IntN(8) == 0 {
				return map[string]any{"dx": "fast"} // refused
			}
			return map[string]any{"dx": r.Float64()*2 - 1, "dy": r.Float64()*2 - 1}
		})
}
