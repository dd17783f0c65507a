package arena_test

import (
	"errors"
	"maps"
	"math"
	"strings"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
)

func TestNewReturnsEffectiveOptions(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want map[string]any
	}{
		{"nil is the defaults", nil,
			map[string]any{"width": 3000.0, "height": 1800.0, "speed": 6.0, "coins": 80, "round": 180, "break": 6}},
		{"empty is the defaults", map[string]any{},
			map[string]any{"width": 3000.0, "height": 1800.0, "speed": 6.0, "coins": 80, "round": 180, "break": 6}},
		{"given values override", map[string]any{"width": 2000.0, "speed": 0.5, "coins": 0.0, "round": 0},
			map[string]any{"width": 2000.0, "height": 1800.0, "speed": 0.5, "coins": 0, "round": 0, "break": 6}},
		{"Go ints are numbers too", map[string]any{"height": 100, "coins": int64(200), "break": 60},
			map[string]any{"width": 3000.0, "height": 100.0, "speed": 6.0, "coins": 200, "round": 180, "break": 60}},
		// A room stored before rounds existed has no round or break key:
		// it gets the defaults and its field keeps its stored size.
		{"options stored before rounds", map[string]any{"width": 1000.0, "height": 600.0, "speed": 6.0, "coins": 12},
			map[string]any{"width": 1000.0, "height": 600.0, "speed": 6.0, "coins": 12, "round": 180, "break": 6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, got, err := arena.Type.New(tt.in)
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
		{"unknown key", map[string]any{"gravity": 1.0}, `no option "gravity"`},
		{"width too small", map[string]any{"width": 99.0}, `"width" is 99`},
		{"width too big", map[string]any{"width": 10001.0}, `"width" is 10001`},
		{"height too small", map[string]any{"height": 0.0}, `"height" is 0`},
		{"speed too small", map[string]any{"speed": 0.25}, `"speed" is 0.25`},
		{"speed too big", map[string]any{"speed": 51.0}, `"speed" is 51`},
		{"coins negative", map[string]any{"coins": -1.0}, `"coins" is -1`},
		{"coins too many", map[string]any{"coins": 201.0}, `"coins" is 201`},
		{"coins fractional", map[string]any{"coins": 2.5}, "whole number"},
		{"string", map[string]any{"width": "wide"}, `"width" is string`},
		{"null", map[string]any{"speed": nil}, `"speed" is null`},
		{"bool", map[string]any{"coins": true}, `"coins" is bool`},
		{"NaN", map[string]any{"speed": math.NaN()}, `"speed" is NaN`},
		{"infinity", map[string]any{"width": math.Inf(1)}, `"width" is +Inf`},
		{"round negative", map[string]any{"round": -1}, `"round" is -1`},
		{"round too long", map[string]any{"round": 3601}, `"round" is 3601`},
		{"round fractional", map[string]any{"round": 1.5}, "whole number"},
		{"break zero", map[string]any{"break": 0}, `"break" is 0`},
		{"break too long", map[string]any{"break": 61}, `"break" is 61`},
		{"first bad key by name", map[string]any{"zz": 1.0, "aa": 1.0}, `no option "aa"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, opts, err := arena.Type.New(tt.in)
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
