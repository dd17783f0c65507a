package payload_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/payload"
)

// settings are a room type's options, with their defaults set before parsing.
type settings struct {
	Size  float64
	Count int
}

func parse(in map[string]any) (settings, error) {
	s := settings{Size: 10, Count: 3}
	err := payload.ParseOptions("kind", in,
		payload.Float("size", 0.5, 100, &s.Size),
		payload.Int("count", 0, 20, &s.Count))
	return s, err
}

func TestParseOptionsStoresValues(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want settings
	}{
		{"nil keeps the defaults", nil, settings{Size: 10, Count: 3}},
		{"empty keeps the defaults", map[string]any{}, settings{Size: 10, Count: 3}},
		{"given values override", map[string]any{"size": 0.5, "count": 20.0}, settings{Size: 0.5, Count: 20}},
		{"one given, one default", map[string]any{"count": 0.0}, settings{Size: 10, Count: 0}},
		{"Go ints", map[string]any{"size": 7, "count": int64(4)}, settings{Size: 7, Count: 4}},
		{"float32", map[string]any{"size": float32(2.5)}, settings{Size: 2.5, Count: 3}},
		{"json.Number", map[string]any{"size": json.Number("99.5"), "count": json.Number("12")}, settings{Size: 99.5, Count: 12}},
		{"whole float for an integer", map[string]any{"count": 5.0}, settings{Size: 10, Count: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(tt.in)
			if err != nil {
				t.Fatalf("ParseOptions(%v): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseOptionsRefusesBadOptions(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want string // the whole message after "bad room options: "
	}{
		{"unknown key", map[string]any{"colour": 1.0}, `kind has no option "colour" (it has size, count)`},
		{"keys are case-sensitive", map[string]any{"Size": 1.0}, `kind has no option "Size" (it has size, count)`},
		{"first bad key by name", map[string]any{"zz": 1.0, "aa": 1.0}, `kind has no option "aa" (it has size, count)`},
		{"bad value before unknown key", map[string]any{"size": -1.0, "zz": 1.0}, `kind option "size" is -1, want 0.5..100`},
		{"too small", map[string]any{"size": 0.25}, `kind option "size" is 0.25, want 0.5..100`},
		{"too big", map[string]any{"count": 21}, `kind option "count" is 21, want 0..20`},
		{"NaN", map[string]any{"size": math.NaN()}, `kind option "size" is NaN, want 0.5..100`},
		{"+Inf", map[string]any{"size": math.Inf(1)}, `kind option "size" is +Inf, want 0.5..100`},
		{"-Inf", map[string]any{"size": math.Inf(-1)}, `kind option "size" is -Inf, want 0.5..100`},
		{"fractional integer", map[string]any{"count": 2.5}, `kind option "count" is 2.5, want a whole number`},
		{"null", map[string]any{"size": nil}, `kind option "size" is null, want a number`},
		{"string", map[string]any{"size": "big"}, `kind option "size" is string, want a number`},
		{"bool", map[string]any{"count": true}, `kind option "count" is bool, want a number`},
		{"object", map[string]any{"count": map[string]any{}}, `kind option "count" is map[string]interface {}, want a number`},
		{"json.Number not a number", map[string]any{"size": json.Number("x")}, `kind option "size" is "x", not a number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parse(tt.in)
			if !errors.Is(err, rooms.ErrBadOptions) {
				t.Fatalf("ParseOptions(%v): got err %v, want one wrapping ErrBadOptions", tt.in, err)
			}
			got, _ := strings.CutPrefix(err.Error(), rooms.ErrBadOptions.Error()+": ")
			if got != tt.want {
				t.Errorf("error: got %q, want %q", got, tt.want)
			}
		})
	}
}
