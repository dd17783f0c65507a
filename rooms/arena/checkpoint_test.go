package arena_test

import (
	"math/rand/v2"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/state"
)

// TestCheckpointThenTailEqualsFullRun: an arena woken from a checkpoint at
// any tick plays on exactly as if it had never slept, rounds included (2 s
// rounds with 1 s breaks: the runs of up to 200 ticks cross a few).
func TestCheckpointThenTailEqualsFullRun(t *testing.T) {
	roomtest.CheckpointProperty(t, arena.Type, map[string]any{"coins": 6, "width": 400, "height": 300, "round": 2, "break": 1}, 30,
		func(r *rand.Rand, _ *state.World) any {
			if r.IntN(10) == 0 {
				return msgpack.RawMessage{0xc1} // refused: not MessagePack
			}
			return map[string]any{"dx": r.Float64()*2.4 - 1.2, "dy": r.Float64()*2 - 1}
		})
}

// TestViewsCheckpointThenTailEqualsFullRun: on a field many views wide,
// where members run across cells at full speed, an arena woken from a
// checkpoint at any tick also gives every member exactly the view it
// would have had (roomtest.CheckpointProperty's views check): the same
// groups and the same mirror after every tick.
func TestViewsCheckpointThenTailEqualsFullRun(t *testing.T) {
	if !arena.Type.Views {
		t.Fatal("the arena's views are off")
	}
	roomtest.CheckpointProperty(t, arena.Type, map[string]any{"coins": 40, "width": 5000, "height": 3500, "speed": 50, "round": 3, "break": 1}, 20,
		func(r *rand.Rand, _ *state.World) any {
			return map[string]any{"dx": r.Float64()*2 - 1, "dy": r.Float64()*2 - 1}
		})
}
