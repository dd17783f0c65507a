package payload_test

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/payload"
)

type steer struct {
	DX    float64 `payload:"dx,clamp=-1..1"`
	Gear  int     `payload:"gear,range=0..3,optional"`
	Label string  `payload:"label,optional" doc:"shown above"`
	Extra bool    // no tag: not part of the payload
}

var steerDecl = payload.NewStruct[steer]("kind: input")

func TestStructDecodes(t *testing.T) {
	tests := []struct {
		name string
		in   map[string]any
		want steer
	}{
		{"required only", map[string]any{"dx": 0.5}, steer{DX: 0.5}},
		{"clamped", map[string]any{"dx": -7}, steer{DX: -1}},
		{"optional given", map[string]any{"dx": 1, "gear": 3.0, "label": "go"}, steer{DX: 1, Gear: 3, Label: "go"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := steerDecl.Decode(encode(t, tt.in))
			if err != nil {
				t.Fatalf("Decode(%v): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStructRefuses(t *testing.T) {
	exact := payload.NewStruct[struct {
		A int64   `payload:"a"`
		B float64 `payload:"b,range=0..1"`
	}]("kind: input")
	tests := []struct {
		name string
		in   []byte
		want string // the whole error
	}{
		{"missing required", encode(t, map[string]any{"gear": 1}), `kind: input needs "dx"`},
		{"unknown key", encode(t, map[string]any{"dx": 1, "speed": 1}), `kind: input has key "speed", want dx, gear, label`},
		{"integer out of range", encode(t, map[string]any{"dx": 1, "gear": 4}), `kind: input "gear" is 4, want a whole number in 0..3`},
		{"not a map", encode(t, 1), `kind: input is an integer, want a map {dx, gear, label}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := steerDecl.Decode(tt.in)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Decode: got %+v, %v, want error %q", got, err, tt.want)
			}
		})
	}
	exactTests := []struct {
		name string
		in   map[string]any
		want string
	}{
		{"count", map[string]any{"a": 1}, `kind: input has 1 keys, want exactly a and b`},
		{"wrong key", map[string]any{"a": 1, "c": 1}, `kind: input has key "c", want a and b`},
		{"float out of range", map[string]any{"a": 1, "b": 2}, `kind: input "b" is 2, want a number in 0..1`},
		{"fractional integer", map[string]any{"a": 1.5, "b": 0}, `kind: input "a" is 1.5, want a whole number in -9223372036854775808..9223372036854775807`},
	}
	for _, tt := range exactTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := exact.Decode(encode(t, tt.in))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Decode(%v): got %v, want %q", tt.in, err, tt.want)
			}
		})
	}
}

type (
	pointOp struct {
		X float64 `payload:"x"`
	}
	dropOp struct {
		ID uint32 `payload:"id,range=1..9"`
	}
)

var ops = payload.NewUnion("kind", "op", payload.Case[pointOp]("point"), payload.Case[dropOp]("drop"))

func TestUnion(t *testing.T) {
	got, err := ops.Decode(encode(t, map[string]any{"op": "drop", "id": 4}))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if d, ok := got.(*dropOp); !ok || d.ID != 4 {
		t.Fatalf("got %#v, want &dropOp{ID: 4}", got)
	}
	tests := []struct {
		name string
		in   map[string]any
		want string
	}{
		{"no op", map[string]any{"x": 1}, `kind: input has no "op" (point or drop)`},
		{"unknown op", map[string]any{"op": "spin"}, `kind: unknown op "spin" (want point or drop)`},
		{"op not a string", map[string]any{"op": 2}, `kind: input "op" is an integer, want a string`},
		{"key of another op", map[string]any{"op": "point", "x": 1, "id": 1}, `kind: point takes no "id" (it takes x)`},
		{"missing key", map[string]any{"op": "point"}, `kind: point needs "x"`},
		{"out of range", map[string]any{"op": "drop", "id": 10}, `kind: drop "id" is 10, want a whole number in 1..9`},
		{"too many keys", map[string]any{"op": "point", "a": 1, "b": 2, "c": 3}, `kind: input has 4 keys, want at most 3`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ops.Decode(encode(t, tt.in))
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Decode(%v): got %v, %v, want error %q", tt.in, got, err, tt.want)
			}
		})
	}
}

type sizes struct {
	Size  float64 `payload:"size,range=0.5..100"`
	Count int     `payload:"count,range=0..20"`
}

var sizesDecl = payload.NewOptions("kind", func() sizes { return sizes{Size: 10, Count: 3} })

func TestDeclaredOptions(t *testing.T) {
	got, err := sizesDecl.Parse(map[string]any{"count": 7.0})
	if err != nil || got != (sizes{Size: 10, Count: 7}) {
		t.Fatalf("Parse: got %+v, %v, want {10 7}", got, err)
	}
	if m, want := sizesDecl.Map(got), map[string]any{"size": 10.0, "count": 7}; !maps.Equal(m, want) {
		t.Errorf("Map: got %#v, want %#v", m, want)
	}
	_, err = sizesDecl.Parse(map[string]any{"colour": 1.0})
	if !errors.Is(err, rooms.ErrBadOptions) || !strings.HasSuffix(err.Error(), `kind has no option "colour" (it has size, count)`) {
		t.Errorf("unknown option: got %v", err)
	}
	none := payload.NewOptions("plain", func() struct{} { return struct{}{} })
	if _, err := none.Parse(map[string]any{"a": 1.0}); !errors.Is(err, rooms.ErrBadOptions) || !strings.Contains(err.Error(), "plain takes no options") {
		t.Errorf("options of a type with none: got %v", err)
	}
	if _, err := none.Parse(nil); err != nil {
		t.Errorf("no options of a type with none: %v", err)
	}
}

type scored struct {
	Kind  string `payload:"kind,const=score"`
	Who   uint32 `payload:"who"`
	Total int64  `payload:"total"`
}

func TestEventsMapKeepsGoTypes(t *testing.T) {
	ev := payload.NewEvents(payload.Event[scored]())
	got := ev.Map(scored{Who: 3, Total: 9})
	want := map[string]any{"kind": "score", "who": uint32(3), "total": int64(9)}
	if !maps.Equal(got, want) {
		t.Errorf("Map: got %#v, want %#v", got, want)
	}
}

func TestTypeScript(t *testing.T) {
	tests := []struct {
		name string
		decl rooms.Declaration
		want string
	}{
		{"struct", steerDecl, "{\n  /** clamped to -1..1 */\n  dx: number;\n  gear?: 0 | 1 | 2 | 3;\n  /** shown above */\n  label?: string;\n}"},
		{"union", ops, "\n  | {\n      op: 'point';\n      x: number;\n    }\n  | {\n      op: 'drop';\n      /** a whole number in 1..9 */\n      id: number;\n    }"},
		{"options", sizesDecl, "{\n  /** 0.5..100; default 10 */\n  size?: number;\n  /** a whole number in 0..20; default 3 */\n  count?: number;\n}"},
		{"event", payload.NewEvents(payload.Event[scored]()), "{\n  kind: 'score';\n  /** a whole number */\n  who: number;\n  /** a whole number */\n  total: number;\n}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.decl.TypeScript(""); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestMalformedTagsPanic(t *testing.T) {
	for name, f := range map[string]func(){
		"no key": func() {
			payload.NewStruct[struct {
				A int `payload:""`
			}]("x")
		},
		"bad bounds": func() {
			payload.NewStruct[struct {
				A int `payload:"a,range=3..1"`
			}]("x")
		},
		"bad attribute": func() {
			payload.NewStruct[struct {
				A int `payload:"a,big"`
			}]("x")
		},
		"bad type": func() {
			payload.NewStruct[struct {
				A bool `payload:"a"`
			}]("x")
		},
		"option unbound": func() {
			payload.NewOptions("x", func() struct {
				A int `payload:"a"`
			} {
				return struct {
					A int `payload:"a"`
				}{}
			})
		},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}
