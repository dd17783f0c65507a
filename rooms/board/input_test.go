package board_test

import (
	"math"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms/internal/roomtest"
)

// TestBadInputsAreRefused checks that every malformed op is an error naming
// what was wrong, and leaves the board untouched. The board has seeded shapes
// 1..3, a deleted shape 4 and member 1's cursor 5.
func TestBadInputsAreRefused(t *testing.T) {
	raw := func(v any) []byte {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatalf("msgpack.Marshal(%v): %v", v, err)
		}
		return b
	}
	create := func(key string, v any) []byte {
		in := map[string]any{"op": "create", "shape": 0, "x": 1, "y": 1, "w": 10, "h": 10, "color": 1}
		if v == nil {
			delete(in, key)
		} else {
			in[key] = v
		}
		return raw(in)
	}
	tests := []struct {
		name    string
		payload []byte
		want    string // part of the error message
	}{
		{"empty", nil, "empty"},
		{"not a map", raw([]any{"create"}), "is an array"},
		{"a string", raw("cursor"), "is a string"},
		{"nil", raw(nil), "is nil"},
		{"no op", raw(map[string]any{"x": 1, "y": 1}), `no "op"`},
		{"op not a string", raw(map[string]any{"op": 1}), `"op" is an integer`},
		{"op as binary", raw(map[string]any{"op": []byte("cursor")}), `"op" is binary`},
		{"unknown op", raw(map[string]any{"op": "rotate", "id": 1}), `unknown op "rotate"`},
		{"too many keys", raw(map[string]any{"op": "cursor", "a": 1, "b": 1, "c": 1, "d": 1, "e": 1, "f": 1, "g": 1, "h": 1}), "9 keys"},
		{"duplicate key", []byte{0x83, 0xa2, 'o', 'p', 0xa6, 'c', 'u', 'r', 's', 'o', 'r', 0xa1, 'x', 0x01, 0xa1, 'x', 0x02}, `"x" twice`},
		{"integer key", raw(map[any]any{"op": "cursor", 1: 2}), "an integer as a key"},
		{"stray bytes", append(raw(map[string]any{"op": "cursor", "x": 1, "y": 1}), 0xc0), "stray bytes"},
		{"cut short", []byte{0x83, 0xa2, 'o', 'p', 0xa6, 'c', 'u', 'r', 's', 'o', 'r', 0xa1, 'x', 0xcb, 0x3f}, `"x"`},

		{"cursor without y", raw(map[string]any{"op": "cursor", "x": 1}), `cursor needs "y"`},
		{"cursor x a string", raw(map[string]any{"op": "cursor", "x": "1", "y": 1}), `cursor "x" is a string`},
		{"cursor x NaN", raw(map[string]any{"op": "cursor", "x": math.NaN(), "y": 1}), `"x" is NaN`},
		{"cursor with extra key", raw(map[string]any{"op": "cursor", "x": 1, "y": 1, "id": 1}), `cursor takes no "id"`},

		{"create without shape", create("shape", nil), `create needs "shape"`},
		{"create without color", create("color", nil), `create needs "color"`},
		{"create shape 2", create("shape", 2), `"shape" is 2`},
		{"create shape -1", create("shape", -1), `"shape" is -1`},
		{"create shape fractional", create("shape", 0.5), `"shape" is 0.5`},
		{"create shape a string", create("shape", "rect"), `"shape" is a string`},
		{"create w a bool", create("w", true), `"w" is a bool`},
		{"create h nil", create("h", msgpackNil{}), `"h" is nil`},
		{"create w infinite", create("w", math.Inf(1)), `"w" is +Inf`},
		{"create y -Inf", create("y", math.Inf(-1)), `"y" is -Inf`},
		{"create x an array", create("x", []int{1}), `"x" is an array`},
		{"create x a map", create("x", map[string]int{"v": 1}), `"x" is a map`},
		{"create color negative", create("color", -1), `"color" is -1`},
		{"create color too big", create("color", uint64(math.MaxUint32)+1), `"color" is 4.294967296e+09`},
		{"create color fractional", create("color", 1.5), `"color" is 1.5`},
		{"create misspelt key", create("colour", 5), `create takes no "colour"`},

		{"move unknown id", raw(map[string]any{"op": "move", "id": 999, "x": 1, "y": 1}), "no shape with id 999"},
		{"move deleted shape", raw(map[string]any{"op": "move", "id": 4, "x": 1, "y": 1}), "no shape with id 4"},
		{"move a cursor", raw(map[string]any{"op": "move", "id": 5, "x": 1, "y": 1}), "no shape with id 5"},
		{"move id zero", raw(map[string]any{"op": "move", "id": 0, "x": 1, "y": 1}), `"id" is 0`},
		{"move id fractional", raw(map[string]any{"op": "move", "id": 1.5, "x": 1, "y": 1}), `"id" is 1.5`},
		{"move id a string", raw(map[string]any{"op": "move", "id": "1", "x": 1, "y": 1}), `"id" is a string`},
		{"move id huge", raw(map[string]any{"op": "move", "id": uint64(math.MaxUint64), "x": 1, "y": 1}), `"id" is`},
		{"move without x", raw(map[string]any{"op": "move", "id": 1, "y": 1}), `move needs "x"`},
		{"move without id", raw(map[string]any{"op": "move", "x": 1, "y": 1}), `move needs "id"`},
		{"color without color", raw(map[string]any{"op": "color", "id": 1}), `color needs "color"`},
		{"color of a cursor", raw(map[string]any{"op": "color", "id": 5, "color": 1}), "no shape with id 5"},
		{"color a string", raw(map[string]any{"op": "color", "id": 1, "color": "#fff"}), `"color" is a string`},
		{"delete unknown id", raw(map[string]any{"op": "delete", "id": 77}), "no shape with id 77"},
		{"delete a cursor", raw(map[string]any{"op": "delete", "id": 5}), "no shape with id 5"},
		{"delete with extra key", raw(map[string]any{"op": "delete", "id": 1, "all": true}), `delete takes no "all"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRoom(t, map[string]any{"maxShapes": 100})
			m, cursor := r.join(1)
			if cursor.ID() != 5 {
				t.Fatalf("cursor id: got %d, want 5", cursor.ID())
			}
			r.do(m, map[string]any{"op": "delete", "id": 4})
			r.publish()
			err := r.h.Input(r.ctx, m, tt.payload)
			if err == nil {
				t.Fatalf("Input(% x): got nil error", tt.payload)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error: got %q, want it to contain %q", err, tt.want)
			}
			if r.ctx.World.Pending() {
				t.Errorf("a refused input changed the board: %x", r.publish())
			}
		})
	}
}

// msgpackNil encodes as MessagePack nil, which a plain Go nil in the test
// table cannot say (nil there means "leave the key out").
type msgpackNil struct{}

func (msgpackNil) EncodeMsgpack(enc *msgpack.Encoder) error { return enc.EncodeNil() }

func TestLongUnknownOpIsClipped(t *testing.T) {
	r := newRoom(t, nil)
	m, _ := r.join(1)
	err := r.h.Input(r.ctx, m, roomtest.Encode(t, map[string]any{"op": strings.Repeat("x", 5000)}))
	if err == nil {
		t.Fatal("Input with a 5000-byte op: got nil error")
	}
	if got := len(err.Error()); got > 200 {
		t.Errorf("error length: got %d bytes, want it clipped under 200", got)
	}
}
