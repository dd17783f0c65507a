package board

import (
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// palette colours cursors by member number, so a member keeps a colour
// across reconnects.
var palette = [...]int64{
	0xE6194B, 0x3CB44B, 0x4363D8, 0xF58231, 0x911EB4, 0x42D4F4, 0xF032E6, 0x9A6324,
}

// board is the board's rooms.Handler. Shapes live only in the World; the
// handler keeps just the counts it must enforce. A member's cursor entity is
// its rooms.Member.Data.
type board struct {
	opts   Options
	shapes int   // live shapes, against opts.MaxShapes
	topZ   int64 // the highest z given out; the next one goes above it
}

func newBoard(o Options) *board { return &board{opts: o} }

// seed is the board a new room starts with, as fractions of its size, so
// that the first visitor sees something to drag.
var seed = []struct {
	x, y, w, h float64
	shape      int64
	color      int64
}{
	{0.25, 0.30, 220, 140, Rect, 0x4363D8},
	{0.50, 0.55, 160, 160, Circle, 0xF58231},
	{0.75, 0.35, 140, 220, Rect, 0x3CB44B},
	{0.35, 0.75, 110, 110, Circle, 0xE6194B},
}

// Init lays out the seed shapes, as many as MaxShapes allows, each at most
// a quarter of the board so that a small board is not buried.
func (b *board) Init(ctx *rooms.Context) error {
	w, h := b.opts.Width, b.opts.Height
	for _, s := range seed[:min(len(seed), b.opts.MaxShapes)] {
		b.spawnShape(ctx, 0, s.shape, s.x*w, s.y*h, min(s.w, w/4), min(s.h, h/4), s.color)
	}
	return nil
}

// Join gives the member a cursor in the middle of the board.
func (b *board) Join(ctx *rooms.Context, m *rooms.Member) (*state.Entity, error) {
	c := ctx.World.Spawn(CursorKind)
	c.SetFloat(CursorX, b.opts.Width/2)
	c.SetFloat(CursorY, b.opts.Height/2)
	c.SetInt(CursorMember, int64(m.Number))
	c.SetInt(CursorColor, palette[m.Number%uint32(len(palette))])
	c.SetString(CursorName, m.Name)
	m.Data = c
	return c, nil
}

// Leave removes the member's cursor; the shapes it made stay on the board.
func (b *board) Leave(ctx *rooms.Context, m *rooms.Member) {
	if c, ok := m.Data.(*state.Entity); ok {
		ctx.World.Despawn(c.ID())
		m.Data = nil
	}
}

// Input applies one op. Every field is checked before anything changes, so
// a refused input leaves the board as it was.
func (b *board) Input(ctx *rooms.Context, m *rooms.Member, raw msgpack.RawMessage) error {
	op, err := InputDecl.Decode(raw)
	if err != nil {
		return err
	}
	switch op := op.(type) {
	case *CursorOp:
		return b.moveCursor(m, op)
	case *CreateOp:
		return b.create(ctx, m, op)
	case *MoveOp:
		return b.move(ctx, op)
	case *ColorOp:
		return b.recolor(ctx, op)
	case *DeleteOp:
		return b.delete(ctx, op)
	}
	return fmt.Errorf("board: op %T not handled", op) // a declared op with no case: a bug
}

// Tick does nothing: the board changes only through inputs.
func (b *board) Tick(ctx *rooms.Context) {}
