package board

import (
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// savedBoard is what the board keeps beside the world: the z the next
// raised shape takes. The shape count is the world's.
type savedBoard struct {
	TopZ int64 `msgpack:"topZ"`
}

var _ rooms.Checkpointer = (*board)(nil)

// SaveState implements rooms.Checkpointer.
func (b *board) SaveState(ctx *rooms.Context) ([]byte, error) {
	return msgpack.Marshal(&savedBoard{TopZ: b.topZ})
}

// LoadState implements rooms.Checkpointer.
func (b *board) LoadState(ctx *rooms.Context, raw []byte) error {
	var s savedBoard
	if err := state.WellSized(raw); err != nil {
		return fmt.Errorf("board: state: %w", err)
	}
	if err := msgpack.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("board: state: %w", err)
	}
	b.topZ = s.TopZ
	for _, e := range ctx.World.Entities() {
		if e.Kind() == ShapeKind {
			b.shapes++
			if z := e.Int(ShapeZ); z > b.topZ {
				return fmt.Errorf("board: state: shape %d has z %d above the top %d", e.ID(), z, b.topZ)
			}
		}
	}
	for _, m := range ctx.Members() {
		if m.Entity == nil || m.Entity.Kind() != CursorKind {
			return fmt.Errorf("board: state: member %d has no cursor", m.Number)
		}
		m.Data = m.Entity
	}
	return nil
}
