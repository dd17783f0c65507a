package board

import (
	"fmt"
	"math"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// moveCursor moves the member's cursor.
func (b *board) moveCursor(m *rooms.Member, op *CursorOp) error {
	c, ok := m.Data.(*state.Entity)
	if !ok {
		return fmt.Errorf("board: member %d has no cursor", m.Number)
	}
	x, y := b.position(op.X, op.Y)
	c.SetFloat(CursorX, x)
	c.SetFloat(CursorY, y)
	return nil
}

// create adds a shape on top, unless the board is full.
func (b *board) create(ctx *rooms.Context, m *rooms.Member, op *CreateOp) error {
	if b.shapes >= b.opts.MaxShapes {
		return fmt.Errorf("board: create: the board is full (%d shapes)", b.opts.MaxShapes)
	}
	x, y := b.position(op.X, op.Y)
	b.spawnShape(ctx, int64(m.Number), op.Shape, x, y, size(op.W), size(op.H), op.Color)
	return nil
}

// move moves a shape and brings it to the top.
func (b *board) move(ctx *rooms.Context, op *MoveOp) error {
	s, err := shape(ctx, "move", op.ID)
	if err != nil {
		return err
	}
	x, y := b.position(op.X, op.Y)
	s.SetFloat(ShapeX, x)
	s.SetFloat(ShapeY, y)
	b.raise(s)
	return nil
}

// recolor gives a shape a new colour.
func (b *board) recolor(ctx *rooms.Context, op *ColorOp) error {
	s, err := shape(ctx, "color", op.ID)
	if err != nil {
		return err
	}
	s.SetInt(ShapeColor, op.Color)
	return nil
}

// delete removes a shape.
func (b *board) delete(ctx *rooms.Context, op *DeleteOp) error {
	s, err := shape(ctx, "delete", op.ID)
	if err != nil {
		return err
	}
	ctx.World.Despawn(s.ID())
	b.shapes--
	return nil
}

func (b *board) spawnShape(ctx *rooms.Context, owner, kind int64, x, y, w, h float64, color int64) {
	s := ctx.World.Spawn(ShapeKind)
	s.SetFloat(ShapeX, x)
	s.SetFloat(ShapeY, y)
	s.SetFloat(ShapeW, w)
	s.SetFloat(ShapeH, h)
	s.SetInt(ShapeColor, color)
	s.SetInt(ShapeShape, kind)
	s.SetInt(ShapeOwner, owner)
	b.raise(s)
	b.shapes++
}

// raise puts s on top of every other shape. A shape already on top keeps its
// z, so dragging it sends no z changes. z stops at 2^32-1, which only an
// input rate far beyond any rate limit could reach within a room's life;
// past it shapes still move, they just no longer come to the top.
func (b *board) raise(s *state.Entity) {
	if b.topZ > 0 && s.Int(ShapeZ) == b.topZ {
		return
	}
	b.topZ = min(b.topZ+1, math.MaxUint32)
	s.SetInt(ShapeZ, b.topZ)
}

// position keeps a point on the board.
func (b *board) position(x, y float64) (float64, float64) {
	return clamp(x, 0, b.opts.Width), clamp(y, 0, b.opts.Height)
}

// size keeps a width or height in MinSize..MaxSize.
func size(v float64) float64 { return clamp(v, MinSize, MaxSize) }

// shape returns the live shape with the given id; op names the op in the error.
func shape(ctx *rooms.Context, op string, id int64) (*state.Entity, error) {
	s := ctx.World.Get(state.EntityID(id))
	if s == nil || s.Kind() != ShapeKind {
		return nil, fmt.Errorf("board: %s: no shape with id %d", op, id)
	}
	return s, nil
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
