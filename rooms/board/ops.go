package board

import (
	"fmt"
	"math"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// moveCursor: {"op": "cursor", "x", "y"}.
func (b *board) moveCursor(m *rooms.Member, p *input) error {
	c, ok := m.Data.(*state.Entity)
	if !ok {
		return fmt.Errorf("board: member %d has no cursor", m.Number)
	}
	if err := p.only("x", "y"); err != nil {
		return err
	}
	x, y, err := b.position(p)
	if err != nil {
		return err
	}
	c.SetFloat(CursorX, x)
	c.SetFloat(CursorY, y)
	return nil
}

// create: {"op": "create", "shape": 0|1, "x", "y", "w", "h", "color"}.
func (b *board) create(ctx *rooms.Context, m *rooms.Member, p *input) error {
	if err := p.only("shape", "x", "y", "w", "h", "color"); err != nil {
		return err
	}
	if b.shapes >= b.opts.MaxShapes {
		return fmt.Errorf("board: create: the board is full (%d shapes)", b.opts.MaxShapes)
	}
	kind, err := p.Integer("shape", Rect, Circle)
	if err != nil {
		return err
	}
	x, y, err := b.position(p)
	if err != nil {
		return err
	}
	w, err := size(p, "w")
	if err != nil {
		return err
	}
	h, err := size(p, "h")
	if err != nil {
		return err
	}
	color, err := p.Integer("color", 0, math.MaxUint32)
	if err != nil {
		return err
	}
	b.spawnShape(ctx, int64(m.Number), kind, x, y, w, h, color)
	return nil
}

// move: {"op": "move", "id", "x", "y"}. The moved shape comes to the top.
func (b *board) move(ctx *rooms.Context, p *input) error {
	if err := p.only("id", "x", "y"); err != nil {
		return err
	}
	s, err := shape(ctx, p)
	if err != nil {
		return err
	}
	x, y, err := b.position(p)
	if err != nil {
		return err
	}
	s.SetFloat(ShapeX, x)
	s.SetFloat(ShapeY, y)
	b.raise(s)
	return nil
}

// recolor: {"op": "color", "id", "color"}.
func (b *board) recolor(ctx *rooms.Context, p *input) error {
	if err := p.only("id", "color"); err != nil {
		return err
	}
	s, err := shape(ctx, p)
	if err != nil {
		return err
	}
	color, err := p.Integer("color", 0, math.MaxUint32)
	if err != nil {
		return err
	}
	s.SetInt(ShapeColor, color)
	return nil
}

// delete: {"op": "delete", "id"}.
func (b *board) delete(ctx *rooms.Context, p *input) error {
	if err := p.only("id"); err != nil {
		return err
	}
	s, err := shape(ctx, p)
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

// position reads the op's x and y and keeps them on the board.
func (b *board) position(p *input) (x, y float64, err error) {
	if x, err = p.Number("x"); err != nil {
		return 0, 0, err
	}
	if y, err = p.Number("y"); err != nil {
		return 0, 0, err
	}
	return clamp(x, 0, b.opts.Width), clamp(y, 0, b.opts.Height), nil
}

// size reads a width or height, clamped to MinSize..MaxSize.
func size(p *input, key string) (float64, error) {
	v, err := p.Number(key)
	if err != nil {
		return 0, err
	}
	return clamp(v, MinSize, MaxSize), nil
}

// shape returns the live shape named by the op's id.
func shape(ctx *rooms.Context, p *input) (*state.Entity, error) {
	id, err := p.Integer("id", 1, math.MaxUint32)
	if err != nil {
		return nil, err
	}
	s := ctx.World.Get(state.EntityID(id))
	if s == nil || s.Kind() != ShapeKind {
		return nil, fmt.Errorf("board: %s: no shape with id %d", p.op, id)
	}
	return s, nil
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
