package board_test

import (
	"errors"
	"maps"
	"math"
	"strings"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/board"
)

func TestNewReturnsEffectiveOptions(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want map[string]any
	}{
		{"nil is the defaults", nil, map[string]any{"width": 1600.0, "height": 1000.0, "maxShapes": 500}},
		{"given values override", map[string]any{"width": 800.0, "maxShapes": 0.0},
			map[string]any{"width": 800.0, "height": 1000.0, "maxShapes": 0}},
		{"Go ints are numbers too", map[string]any{"height": 10000, "maxShapes": int64(10000)},
			map[string]any{"width": 1600.0, "height": 10000.0, "maxShapes": 10000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, got, err := board.Type.New(tt.in)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if h == nil {
				t.Fatal("New: got nil handler")
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("options: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want string // part of the error message
	}{
		{"unknown key", map[string]any{"coins": 3.0}, `no option "coins"`},
		{"misspelt key", map[string]any{"maxshapes": 3.0}, `no option "maxshapes"`},
		{"width too small", map[string]any{"width": 50.0}, `"width" is 50`},
		{"height too big", map[string]any{"height": 20000.0}, `"height" is 20000`},
		{"maxShapes negative", map[string]any{"maxShapes": -1.0}, `"maxShapes" is -1`},
		{"maxShapes too many", map[string]any{"maxShapes": 10001.0}, `"maxShapes" is 10001`},
		{"maxShapes fractional", map[string]any{"maxShapes": 9.5}, "whole number"},
		{"string", map[string]any{"height": "tall"}, `"height" is string`},
		{"null", map[string]any{"width": nil}, `"width" is null`},
		{"NaN", map[string]any{"width": math.NaN()}, `"width" is NaN`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, opts, err := board.Type.New(tt.in)
			if !errors.Is(err, rooms.ErrBadOptions) {
				t.Fatalf("New(%v): got err %v, want one wrapping ErrBadOptions", tt.in, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error: got %q, want it to contain %q", err, tt.want)
			}
			if h != nil || opts != nil {
				t.Errorf("New: got handler %v and options %v with an error, want nil", h, opts)
			}
		})
	}
}
