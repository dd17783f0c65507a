package board_test

import (
	"math"
	"testing"

	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/state"
)

func TestInitSeedsShapes(t *testing.T) {
	tests := []struct {
		name string
		opts map[string]any
		want int
	}{
		{"defaults", nil, 4},
		{"small board", map[string]any{"width": 100, "height": 100}, 4},
		{"fewer allowed than seeded", map[string]any{"maxShapes": 2}, 2},
		{"none allowed", map[string]any{"maxShapes": 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRoom(t, tt.opts)
			shapes := r.shapes()
			if len(shapes) != tt.want {
				t.Fatalf("shapes: got %d, want %d", len(shapes), tt.want)
			}
			opts, _ := board.ParseOptions(tt.opts)
			for i, s := range shapes {
				if x, y := s.Float(board.ShapeX), s.Float(board.ShapeY); x < 0 || x > opts.Width || y < 0 || y > opts.Height {
					t.Errorf("shape %d at (%v, %v), want on the %v x %v board", s.ID(), x, y, opts.Width, opts.Height)
				}
				if w, h := s.Float(board.ShapeW), s.Float(board.ShapeH); w > opts.Width/4 || h > opts.Height/4 {
					t.Errorf("shape %d is %v x %v, want at most a quarter of the %v x %v board", s.ID(), w, h, opts.Width, opts.Height)
				}
				if got, want := s.Int(board.ShapeZ), int64(i+1); got != want {
					t.Errorf("shape %d z: got %d, want %d", s.ID(), got, want)
				}
				if got := s.Int(board.ShapeOwner); got != 0 {
					t.Errorf("shape %d owner: got %d, want 0 (the room)", s.ID(), got)
				}
			}
		})
	}
}

func TestJoinGivesCursorAndLeaveTakesIt(t *testing.T) {
	r := newRoom(t, nil)
	m1, c1 := r.join(1)
	_, c2 := r.join(2)
	if c1.Kind() != board.CursorKind {
		t.Fatalf("kind: got %s, want cursor", c1.Kind().Name)
	}
	if x, y := c1.Float(board.CursorX), c1.Float(board.CursorY); x != 800 || y != 500 {
		t.Errorf("cursor at (%v, %v), want the middle (800, 500)", x, y)
	}
	if got := c1.Int(board.CursorMember); got != 1 {
		t.Errorf("member: got %d, want 1", got)
	}
	if got := c1.String(board.CursorName); got != m1.Name {
		t.Errorf("name: got %q, want %q", got, m1.Name)
	}
	if c1.Int(board.CursorColor) == c2.Int(board.CursorColor) {
		t.Errorf("members 1 and 2 share colour %#x, want different colours", c1.Int(board.CursorColor))
	}
	r.do(m1, map[string]any{"op": "create", "shape": 0, "x": 1, "y": 1, "w": 10, "h": 10, "color": 1})
	made := r.last()
	r.h.Leave(r.ctx, m1)
	if r.ctx.World.Get(c1.ID()) != nil {
		t.Errorf("cursor %d still in the world after Leave", c1.ID())
	}
	if r.ctx.World.Get(c2.ID()) == nil {
		t.Errorf("Leave of member 1 removed member 2's cursor")
	}
	if r.ctx.World.Get(made.ID()) == nil {
		t.Errorf("Leave removed the shape the member made, want shapes to stay")
	}
	if err := r.h.Input(r.ctx, m1, roomtest.Encode(t, map[string]any{"op": "cursor", "x": 1, "y": 1})); err == nil {
		t.Error("cursor input from a member who left: got nil error")
	}
}

func TestCreate(t *testing.T) {
	type want struct {
		x, y, w, h   float64
		shape, color int64
	}
	tests := []struct {
		name string
		in   map[string]any
		want want
	}{
		{"rect from integers",
			map[string]any{"op": "create", "shape": 0, "x": 100, "y": 200, "w": 80, "h": 60, "color": 0xFF0000},
			want{100, 200, 80, 60, board.Rect, 0xFF0000}},
		{"circle from floats",
			map[string]any{"op": "create", "shape": 1.0, "x": 10.5, "y": 20.25, "w": 33.5, "h": 44.75, "color": 255.0},
			want{10.5, 20.25, 33.5, 44.75, board.Circle, 255}},
		{"float32 and small ints",
			map[string]any{"op": "create", "shape": int8(1), "x": float32(1.5), "y": uint16(7), "w": float32(9), "h": int64(9), "color": uint32(math.MaxUint32)},
			want{1.5, 7, 9, 9, board.Circle, math.MaxUint32}},
		{"position clamps to the board",
			map[string]any{"op": "create", "shape": 0, "x": -50, "y": 1e9, "w": 80, "h": 60, "color": 0},
			want{0, 1000, 80, 60, board.Rect, 0}},
		{"sizes clamp",
			map[string]any{"op": "create", "shape": 0, "x": 5, "y": 5, "w": 1, "h": 5000.5, "color": 0},
			want{5, 5, board.MinSize, board.MaxSize, board.Rect, 0}},
		{"negative size clamps",
			map[string]any{"op": "create", "shape": 1, "x": 5, "y": 5, "w": -30, "h": 0, "color": 0},
			want{5, 5, board.MinSize, board.MinSize, board.Circle, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRoom(t, nil)
			m, _ := r.join(7)
			before := len(r.shapes())
			r.do(m, tt.in)
			if got := len(r.shapes()); got != before+1 {
				t.Fatalf("shapes: got %d, want %d", got, before+1)
			}
			s := r.last()
			got := want{s.Float(board.ShapeX), s.Float(board.ShapeY), s.Float(board.ShapeW), s.Float(board.ShapeH),
				s.Int(board.ShapeShape), s.Int(board.ShapeColor)}
			if got != tt.want {
				t.Errorf("shape: got %+v, want %+v", got, tt.want)
			}
			if got := s.Int(board.ShapeOwner); got != 7 {
				t.Errorf("owner: got %d, want 7", got)
			}
			if got, want := s.Int(board.ShapeZ), int64(before+1); got != want {
				t.Errorf("z: got %d, want %d (on top)", got, want)
			}
		})
	}
}

func TestMoveRecolorDeleteCursor(t *testing.T) {
	tests := []struct {
		name  string
		in    func(id state.EntityID) map[string]any
		check func(t *testing.T, r *room, s, cursor *state.Entity)
	}{
		{"move",
			func(id state.EntityID) map[string]any {
				return map[string]any{"op": "move", "id": id, "x": 321.5, "y": 12}
			},
			func(t *testing.T, r *room, s, _ *state.Entity) {
				if x, y := s.Float(board.ShapeX), s.Float(board.ShapeY); x != 321.5 || y != 12 {
					t.Errorf("position: got (%v, %v), want (321.5, 12)", x, y)
				}
			}},
		{"move clamps",
			func(id state.EntityID) map[string]any {
				return map[string]any{"op": "move", "id": id, "x": 1e6, "y": -1}
			},
			func(t *testing.T, r *room, s, _ *state.Entity) {
				if x, y := s.Float(board.ShapeX), s.Float(board.ShapeY); x != 1600 || y != 0 {
					t.Errorf("position: got (%v, %v), want (1600, 0)", x, y)
				}
			}},
		{"move by a float id",
			func(id state.EntityID) map[string]any {
				return map[string]any{"op": "move", "id": float64(id), "x": 3, "y": 4}
			},
			func(t *testing.T, r *room, s, _ *state.Entity) {
				if x, y := s.Float(board.ShapeX), s.Float(board.ShapeY); x != 3 || y != 4 {
					t.Errorf("position: got (%v, %v), want (3, 4)", x, y)
				}
			}},
		{"recolor",
			func(id state.EntityID) map[string]any {
				return map[string]any{"op": "color", "id": id, "color": 0x123456}
			},
			func(t *testing.T, r *room, s, _ *state.Entity) {
				if got := s.Int(board.ShapeColor); got != 0x123456 {
					t.Errorf("color: got %#x, want 0x123456", got)
				}
			}},
		{"delete",
			func(id state.EntityID) map[string]any { return map[string]any{"op": "delete", "id": id} },
			func(t *testing.T, r *room, s, _ *state.Entity) {
				if r.ctx.World.Get(s.ID()) != nil || !s.Removed() {
					t.Errorf("shape %d still on the board", s.ID())
				}
				if got := len(r.shapes()); got != 3 {
					t.Errorf("shapes: got %d, want 3", got)
				}
			}},
		{"cursor",
			func(state.EntityID) map[string]any { return map[string]any{"op": "cursor", "x": 10.25, "y": 999} },
			func(t *testing.T, r *room, _, c *state.Entity) {
				if x, y := c.Float(board.CursorX), c.Float(board.CursorY); x != 10.25 || y != 999 {
					t.Errorf("cursor: got (%v, %v), want (10.25, 999)", x, y)
				}
			}},
		{"cursor clamps",
			func(state.EntityID) map[string]any { return map[string]any{"op": "cursor", "x": -3, "y": 1e300} },
			func(t *testing.T, r *room, _, c *state.Entity) {
				if x, y := c.Float(board.CursorX), c.Float(board.CursorY); x != 0 || y != 1000 {
					t.Errorf("cursor: got (%v, %v), want (0, 1000)", x, y)
				}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRoom(t, nil)
			m, cursor := r.join(2)
			s := r.shapes()[0] // a seeded shape: any member may change any shape
			r.do(m, tt.in(s.ID()))
			tt.check(t, r, s, cursor)
		})
	}
}

func TestMovedShapeComesToTop(t *testing.T) {
	r := newRoom(t, nil)
	m, _ := r.join(1)
	bottom := r.shapes()[0]
	top := r.last()
	r.do(m, map[string]any{"op": "move", "id": bottom.ID(), "x": 1, "y": 1})
	if b, tp := bottom.Int(board.ShapeZ), top.Int(board.ShapeZ); b <= tp {
		t.Fatalf("z after move: got moved %d, other %d, want moved on top", b, tp)
	}
	z := bottom.Int(board.ShapeZ)
	r.publish()
	r.do(m, map[string]any{"op": "move", "id": bottom.ID(), "x": 2, "y": 2})
	r.do(m, map[string]any{"op": "color", "id": top.ID(), "color": 7})
	if got := bottom.Int(board.ShapeZ); got != z {
		t.Errorf("z after moving the top shape again: got %d, want %d (unchanged)", got, z)
	}
	if got := top.Int(board.ShapeZ); got != 4 {
		t.Errorf("z after recolour: got %d, want 4 (recolouring does not raise)", got)
	}
}

func TestMaxShapes(t *testing.T) {
	r := newRoom(t, map[string]any{"maxShapes": 5})
	m, _ := r.join(1)
	create := map[string]any{"op": "create", "shape": 0, "x": 1, "y": 1, "w": 10, "h": 10, "color": 1}
	r.do(m, create) // 4 seeded + 1
	err := r.h.Input(r.ctx, m, roomtest.Encode(t, create))
	if err == nil {
		t.Fatalf("sixth shape on a board of 5: got nil error")
	}
	if got := len(r.shapes()); got != 5 {
		t.Fatalf("shapes after a refused create: got %d, want 5", got)
	}
	r.do(m, map[string]any{"op": "delete", "id": r.last().ID()})
	r.do(m, create) // room again after a delete
	if got := len(r.shapes()); got != 5 {
		t.Errorf("shapes: got %d, want 5", got)
	}
}
