package arena_test

import (
	"math"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
)

func TestDecodeInputAcceptsNumbers(t *testing.T) {
	tests := []struct {
		name    string
		payload any
		want    arena.Input
	}{
		{"floats", map[string]any{"dx": 0.5, "dy": -0.25}, arena.Input{DX: 0.5, DY: -0.25}},
		{"integers as JavaScript sends them", map[string]any{"dx": 1, "dy": -1}, arena.Input{DX: 1, DY: -1}},
		{"zero", map[string]any{"dx": 0, "dy": 0.0}, arena.Input{}},
		{"float32", map[string]any{"dx": float32(0.5), "dy": float32(1)}, arena.Input{DX: 0.5, DY: 1}},
		{"big values clamp", map[string]any{"dx": 5, "dy": -3.5}, arena.Input{DX: 1, DY: -1}},
		{"huge integers clamp", map[string]any{"dx": uint64(math.MaxUint64), "dy": int64(math.MinInt64)}, arena.Input{DX: 1, DY: -1}},
		{"key order does not matter", map[string]any{"dy": 0.75, "dx": -0.75}, arena.Input{DX: -0.75, DY: 0.75}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := arena.DecodeInput(roomtest.Encode(t, tt.payload))
			if err != nil {
				t.Fatalf("DecodeInput: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeInputRefusesBadPayloads(t *testing.T) {
	mustEncode := func(v any) []byte {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatalf("msgpack.Marshal(%v): %v", v, err)
		}
		return b
	}
	tests := []struct {
		name    string
		payload []byte
		want    string // part of the error message
	}{
		{"empty", nil, "empty"},
		{"nil", mustEncode(nil), "is nil"},
		{"array", mustEncode([]float64{1, 0}), "is an array"},
		{"string", mustEncode("left"), "is a string"},
		{"number", mustEncode(1), "is an integer"},
		{"no keys", mustEncode(map[string]any{}), "has 0 keys"},
		{"missing dy", mustEncode(map[string]any{"dx": 1}), "has 1 keys"},
		{"extra key", mustEncode(map[string]any{"dx": 1, "dy": 0, "run": true}), "has 3 keys"},
		{"wrong key", mustEncode(map[string]any{"dx": 1, "y": 0}), `key "y"`},
		{"duplicate key", []byte{0x82, 0xa2, 'd', 'x', 0x01, 0xa2, 'd', 'x', 0x01}, `"dx" twice`},
		{"integer key", mustEncode(map[int]any{1: 1, 2: 2}), "an integer key"},
		{"string value", mustEncode(map[string]any{"dx": "1", "dy": 0}), `"dx" is a string`},
		{"bool value", mustEncode(map[string]any{"dx": 0, "dy": true}), `"dy" is a bool`},
		{"nil value", mustEncode(map[string]any{"dx": nil, "dy": 0}), `"dx" is nil`},
		{"array value", mustEncode(map[string]any{"dx": []int{1}, "dy": 0}), `"dx" is an array`},
		{"NaN", mustEncode(map[string]any{"dx": math.NaN(), "dy": 0}), `"dx" is NaN`},
		{"+Inf", mustEncode(map[string]any{"dx": 0, "dy": math.Inf(1)}), `"dy" is +Inf`},
		{"-Inf", mustEncode(map[string]any{"dx": math.Inf(-1), "dy": 0}), `"dx" is -Inf`},
		{"cut short", []byte{0x82, 0xa2, 'd', 'x', 0x01, 0xa2, 'd', 'y', 0xcb, 0x3f, 0xe0}, `"dy"`},
		{"stray bytes", append(mustEncode(map[string]any{"dx": 1, "dy": 0}), 0xc0), "stray bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := arena.DecodeInput(tt.payload)
			if err == nil {
				t.Fatalf("DecodeInput(% x): got %+v, want an error", tt.payload, got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error: got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}
