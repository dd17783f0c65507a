package board_test

import (
	"math/rand/v2"
	"testing"

	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/state"
)

// TestCheckpointThenTailEqualsFullRun: a board woken from a checkpoint at
// any tick takes the same ops to the same shapes, ids and z order.
func TestCheckpointThenTailEqualsFullRun(t *testing.T) {
	roomtest.CheckpointProperty(t, board.Type, map[string]any{"maxShapes": 30}, 30,
		func(r *rand.Rand, w *state.World) any { return randomOp(r, w) })
}
