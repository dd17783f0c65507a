package arena_test

import (
	"math"
	"testing"

	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
)

func TestMovementAndClamping(t *testing.T) {
	tests := []struct {
		name         string
		opts         map[string]any
		x, y         float64
		dx, dy       float64
		ticks        int
		wantX, wantY float64
		wantAngle    float64
	}{
		{"right at full speed", nil, 500, 300, 1, 0, 10, 560, 300, 0},
		{"down-left at part speed", nil, 500, 300, -0.5, 0.25, 4, 488, 306, math.Atan2(0.25, -0.5)},
		{"input clamps to one", nil, 500, 300, 0, -7, 2, 500, 288, -math.Pi / 2},
		{"speed option", map[string]any{"coins": 0, "speed": 10}, 100, 100, 1, 1, 3, 130, 130, math.Pi / 4},
		{"left wall", nil, 10, 300, -1, 0, 5, 0, 300, math.Pi},
		{"bottom-right corner", nil, 995, 597, 1, 1, 5, 1000, 600, math.Pi / 4},
		{"top edge of a small field", map[string]any{"coins": 0, "width": 100, "height": 100}, 50, 3, 0, -1, 1, 50, 0, -math.Pi / 2},
		{"no input keeps still and keeps angle", nil, 500, 300, 0, 0, 5, 500, 300, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			if opts == nil {
				opts = noCoins
			}
			r := newRoom(t, opts, 1)
			m, e := r.join(1)
			place(e, tt.x, tt.y)
			r.input(m, 1, map[string]any{"dx": tt.dx, "dy": tt.dy})
			r.step(tt.ticks)
			if x, y := e.Float(arena.FieldX), e.Float(arena.FieldY); math.Abs(x-tt.wantX) > 1e-9 || math.Abs(y-tt.wantY) > 1e-9 {
				t.Errorf("position: got (%v, %v), want (%v, %v)", x, y, tt.wantX, tt.wantY)
			}
			if got := e.Float(arena.FieldAngle); math.Abs(got-tt.wantAngle) > 1e-9 {
				t.Errorf("angle: got %v, want %v", got, tt.wantAngle)
			}
		})
	}
}

func TestLatestInputWins(t *testing.T) {
	r := newRoom(t, noCoins, 1)
	m, e := r.join(1)
	place(e, 500, 300)
	r.input(m, 1, map[string]any{"dx": 1, "dy": 0})
	r.input(m, 2, map[string]any{"dx": 0, "dy": 1})
	r.step(1)
	if x, y := e.Float(arena.FieldX), e.Float(arena.FieldY); x != 500 || y != 306 {
		t.Errorf("position: got (%v, %v), want (500, 306)", x, y)
	}
}

func TestSeqFollowsLastAppliedInput(t *testing.T) {
	tests := []struct {
		name string
		seq  uint64
		want int64
	}{
		{"first", 1, 1},
		{"later", 4711, 4711},
		{"largest that fits", math.MaxUint32, math.MaxUint32},
		{"beyond u32 saturates", 1 << 40, math.MaxUint32},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRoom(t, noCoins, 1)
			m, e := r.join(1)
			r.input(m, tt.seq, map[string]any{"dx": 0, "dy": 0})
			if got := e.Int(arena.FieldSeq); got != 0 {
				t.Errorf("seq before the tick: got %d, want 0", got)
			}
			r.step(1)
			if got := e.Int(arena.FieldSeq); got != tt.want {
				t.Errorf("seq: got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestBadInputKeepsLastGoodOne(t *testing.T) {
	r := newRoom(t, noCoins, 1)
	m, e := r.join(1)
	place(e, 500, 300)
	r.input(m, 1, map[string]any{"dx": 1, "dy": 0})
	m.LastSeq = 2
	if err := r.h.Input(r.ctx, m, roomtest.Encode(t, map[string]any{"dx": "left", "dy": 0})); err == nil {
		t.Fatal("Input with a string dx: got nil error")
	}
	r.step(1)
	if got := e.Float(arena.FieldX); got != 506 {
		t.Errorf("x: got %v, want 506 (the last good input still applies)", got)
	}
}
