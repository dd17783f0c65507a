package payload_test

import (
	"math"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/tickroom/tickroom/rooms/payload"
)

var spec = payload.Spec{Name: "kind: input", Want: "a map {a, b}", MaxKeys: 3}

func encode(t *testing.T, v any) []byte {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatalf("msgpack.Marshal(%v): %v", v, err)
	}
	return b
}

// decode decodes a payload that must be accepted.
func decode(t *testing.T, v any) *payload.Map {
	t.Helper()
	m, err := payload.Decode(encode(t, v), spec)
	if err != nil {
		t.Fatalf("Decode(%v): %v", v, err)
	}
	return m
}

func TestDecodeAcceptsFlatMaps(t *testing.T) {
	tests := []struct {
		name string
		in   any
		want int // keys
	}{
		{"empty map", map[string]any{}, 0},
		{"numbers and strings", map[string]any{"a": 1, "b": 0.5, "c": "x"}, 3},
		{"other values are kept to be refused later", map[string]any{"a": true, "b": nil, "c": []int{1}}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := decode(t, tt.in).Len(); got != tt.want {
				t.Errorf("Len: got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDecodeRefusesBadMaps(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string // part of the error message
	}{
		{"empty", nil, "kind: input is empty, want a map {a, b}"},
		{"nil", encode(t, nil), "kind: input is nil, want a map {a, b}"},
		{"array", encode(t, []int{1}), "kind: input is an array, want a map {a, b}"},
		{"string", encode(t, "a"), "kind: input is a string, want"},
		{"too many keys", encode(t, map[string]any{"a": 1, "b": 1, "c": 1, "d": 1}), "has 4 keys, want at most 3"},
		{"huge map header", []byte{0xdf, 0xff, 0xff, 0xff, 0xff}, "has 4294967295 keys"},
		{"integer key", encode(t, map[int]any{1: 1}), "has an integer key"},
		{"nil key", []byte{0x81, 0xc0, 0x01}, "has nil key"},
		{"duplicate key", []byte{0x82, 0xa1, 'a', 0x01, 0xa1, 'a', 0x02}, `has "a" twice`},
		{"long duplicate key is clipped", append(append([]byte{0x82, 0xd9, 100}, strings.Repeat("k", 100)...), append(append([]byte{0x01, 0xd9, 100}, strings.Repeat("k", 100)...), 0x01)...),
			`has "` + strings.Repeat("k", 32) + `" twice`},
		{"cut short in a key", []byte{0x81}, "kind: input is cut short"},
		{"cut short in a value", []byte{0x81, 0xa1, 'a', 0xcb, 0x3f}, `kind: input "a"`},
		{"value missing", []byte{0x81, 0xa1, 'a'}, `cut short at "a"`},
		{"stray bytes", append(encode(t, map[string]any{"a": 1}), 0xc0, 0xc0), "has 2 stray bytes after the map"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := payload.Decode(tt.in, spec)
			if err == nil {
				t.Fatalf("Decode(% x): got %v, want an error", tt.in, m)
			}
			if got := err.Error(); !strings.Contains(got, tt.want) {
				t.Errorf("error: got %q, want it to contain %q", got, tt.want)
			}
		})
	}
}

func TestGetters(t *testing.T) {
	m := decodeWide(t, map[string]any{
		"int": 3, "neg": -7, "float": 0.5, "f32": float32(0.25), "whole": 2.0, "half": 2.5, "big": 1e10,
		"u64": uint64(math.MaxUint64), "i64": int64(math.MinInt64),
		"str": "3", "empty": "", "bool": true, "nil": nil, "arr": []int{1}, "bin": []byte{1},
		"nan": math.NaN(), "inf": math.Inf(1), "-inf": math.Inf(-1),
	})
	number := func(key string) func() (any, error) {
		return func() (any, error) { return m.Number(key) }
	}
	integer := func(key string, lo, hi int64) func() (any, error) {
		return func() (any, error) { return m.Integer(key, lo, hi) }
	}
	str := func(key string) func() (any, error) {
		return func() (any, error) { return m.String(key) }
	}
	tests := []struct {
		name    string
		get     func() (any, error)
		want    any    // the value, or the zero value with an error
		wantErr string // part of the error message; empty when accepted
	}{
		{"Number of an integer", number("int"), 3.0, ""},
		{"Number of a negative integer", number("neg"), -7.0, ""},
		{"Number of a float", number("float"), 0.5, ""},
		{"Number of a float32", number("f32"), 0.25, ""},
		{"Number of the largest uint64", number("u64"), float64(math.MaxUint64), ""},
		{"Number of the smallest int64", number("i64"), float64(math.MinInt64), ""},
		{"Number missing", number("missing"), 0.0, `kind: input needs "missing"`},
		{"Number of a string", number("str"), 0.0, `kind: input "str" is a string, want a number`},
		{"Number of a bool", number("bool"), 0.0, `"bool" is a bool, want a number`},
		{"Number of nil", number("nil"), 0.0, `"nil" is nil, want a number`},
		{"Number of an array", number("arr"), 0.0, `"arr" is an array, want a number`},
		{"Number of binary", number("bin"), 0.0, `"bin" is binary, want a number`},
		{"Number of NaN", number("nan"), 0.0, `"nan" is NaN, want a finite number`},
		{"Number of +Inf", number("inf"), 0.0, `"inf" is +Inf, want a finite number`},
		{"Number of -Inf", number("-inf"), 0.0, `"-inf" is -Inf, want a finite number`},

		{"Integer in range", integer("int", 0, 3), int64(3), ""},
		{"Integer of a whole float", integer("whole", 0, 9), int64(2), ""},
		{"Integer negative", integer("neg", -7, 1), int64(-7), ""},
		{"Integer fractional", integer("half", 0, 9), int64(0), `kind: input "half" is 2.5, want a whole number in 0..9`},
		{"Integer too big", integer("big", 0, math.MaxUint32), int64(0), `"big" is 1e+10, want a whole number in 0..4294967295`},
		{"Integer too small", integer("neg", 0, 1), int64(0), `"neg" is -7, want a whole number in 0..1`},
		{"Integer of a string", integer("str", 0, 9), int64(0), `"str" is a string, want a number`},
		{"Integer of NaN", integer("nan", 0, 9), int64(0), `"nan" is NaN, want a finite number`},
		{"Integer missing", integer("missing", 0, 1), int64(0), `needs "missing"`},

		{"String", str("str"), "3", ""},
		{"String empty", str("empty"), "", ""},
		{"String of an integer", str("int"), "", `kind: input "int" is an integer, want a string`},
		{"String of binary", str("bin"), "", `"bin" is binary, want a string`},
		{"String missing", str("missing"), "", `kind: input needs "missing"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.get()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("got error %q, want none", err)
			case tt.wantErr != "" && err == nil:
				t.Fatalf("got no error, want one containing %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("error: got %q, want it to contain %q", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v (%T), want %v (%T)", got, got, tt.want, tt.want)
			}
		})
	}
}

func TestNameBeginsGetterErrors(t *testing.T) {
	m := decode(t, map[string]any{"op": "move"})
	m.Name = "kind: move"
	_, err := m.Number("x")
	if got, want := err.Error(), `kind: move needs "x"`; got != want {
		t.Errorf("error: got %q, want %q", got, want)
	}
}

func TestHasAndUnknown(t *testing.T) {
	// Keys in a fixed order, which a Go map would not give.
	b := []byte{0x83, 0xa1, 'a', 0x01, 0xa1, 'z', 0x01, 0xa1, 'y', 0x01}
	m, err := payload.Decode(b, spec)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	tests := []struct {
		known  []string
		want   string
		wantOK bool
	}{
		{[]string{"a", "y", "z"}, "", false},
		{[]string{"a", "y", "z", "extra"}, "", false},
		{[]string{"a"}, "z", true}, // the first in arrival order
		{[]string{"a", "z"}, "y", true},
		{nil, "a", true},
	}
	for _, tt := range tests {
		got, ok := m.Unknown(tt.known...)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("Unknown(%q): got %q, %v, want %q, %v", tt.known, got, ok, tt.want, tt.wantOK)
		}
	}
	for key, want := range map[string]bool{"a": true, "y": true, "z": true, "b": false, "": false} {
		if got := m.Has(key); got != want {
			t.Errorf("Has(%q): got %v, want %v", key, got, want)
		}
	}
}

func TestTypeName(t *testing.T) {
	tests := []struct {
		code byte
		want string
	}{
		{msgpcode.Nil, "nil"},
		{msgpcode.True, "a bool"},
		{msgpcode.False, "a bool"},
		{0x05, "an integer"},
		{0xff, "an integer"},
		{msgpcode.Uint64, "an integer"},
		{msgpcode.Int8, "an integer"},
		{msgpcode.Float, "a float"},
		{msgpcode.Double, "a float"},
		{0xa3, "a string"},
		{msgpcode.Str32, "a string"},
		{msgpcode.Bin8, "binary"},
		{0x91, "an array"},
		{msgpcode.Array32, "an array"},
		{0x81, "a map"},
		{msgpcode.Map16, "a map"},
		{msgpcode.FixExt1, "an extension"},
		{msgpcode.Ext32, "an extension"},
		{0xc1, "invalid MessagePack (code 0xc1)"},
	}
	for _, tt := range tests {
		if got := payload.TypeName(tt.code); got != tt.want {
			t.Errorf("TypeName(0x%02x): got %q, want %q", tt.code, got, tt.want)
		}
	}
}

// decodeWide decodes a map with more keys than spec allows.
func decodeWide(t *testing.T, v map[string]any) *payload.Map {
	t.Helper()
	s := spec
	s.MaxKeys = len(v)
	m, err := payload.Decode(encode(t, v), s)
	if err != nil {
		t.Fatalf("Decode(%v): %v", v, err)
	}
	return m
}
