package state_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/state"
)

// FuzzDecodeClient: any bytes a client sends either decode into a message
// of a known type whose fields are in range, or fail with ErrBadMessage or
// ErrUnknownType; never a panic.
func FuzzDecodeClient(f *testing.F) {
	for _, v := range []any{
		[]any{1, 1, map[string]any{"dx": 1, "dy": -0.5}},
		[]any{2, "hello"}, []any{2, "dm", 3}, []any{3, 123.5}, []any{4},
		[]any{99, "x"}, []any{1, "seq", nil}, map[string]any{"a": 1}, []any{},
	} {
		b, _ := msgpack.Marshal(v)
		f.Add(b)
	}
	f.Add([]byte{0xc1})
	f.Add([]byte{0x93, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		msg, err := state.DecodeClient(b)
		if err != nil {
			if !errors.Is(err, state.ErrBadMessage) && !errors.Is(err, state.ErrUnknownType) {
				t.Fatalf("error %v wraps neither ErrBadMessage nor ErrUnknownType", err)
			}
			return
		}
		switch msg.Type {
		case state.ClientInput:
			if msg.Seq < 1 || msg.Seq > 1<<32-1 {
				t.Fatalf("input seq %d out of range", msg.Seq)
			}
		case state.ClientChat, state.ClientPing, state.ClientResync:
		default:
			t.Fatalf("decoded unknown type %d without an error", msg.Type)
		}
	})
}

// seedVectors reads a committed vector file of testdata: its schema and
// its messages in order, each added to f's corpus.
func seedVectors(f *testing.F, name string) (*state.Schema, [][]byte) {
	f.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		f.Fatalf("%s: %v", name, err)
	}
	var vf struct {
		Schema []state.WireKind `json:"schema"`
		Steps  []struct {
			Hex string `json:"hex"`
		} `json:"steps"`
		// View vectors: packed runs, good and bad, for the mirror that
		// holds the first step (what FuzzMirrorApplyView starts from).
		AfterSnapshot []struct {
			Hex string `json:"hex"`
		} `json:"afterSnapshot"`
	}
	if err := json.Unmarshal(raw, &vf); err != nil {
		f.Fatalf("%s: %v", name, err)
	}
	schema, err := state.SchemaFromWire(vf.Schema)
	if err != nil {
		f.Fatalf("%s: %v", name, err)
	}
	var msgs [][]byte
	for _, s := range vf.Steps {
		b, err := hex.DecodeString(s.Hex)
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		msgs = append(msgs, b)
		f.Add(b)
	}
	for _, s := range vf.AfterSnapshot {
		b, err := hex.DecodeString(s.Hex)
		if err != nil {
			f.Fatalf("%s: %v", name, err)
		}
		f.Add(b)
	}
	return schema, msgs
}

// FuzzMirrorApply: a mirror fed arbitrary bytes after a real snapshot
// returns errors but never panics, and never leaves an entity of a kind
// outside its schema. Seeded with the wire vectors.
func FuzzMirrorApply(f *testing.F) {
	schema, msgs := seedVectors(f, "vectors.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		m := state.NewMirror(schema)
		if _, err := m.Apply(msgs[0]); err != nil {
			t.Fatalf("seed snapshot: %v", err)
		}
		_, _ = m.Apply(b) // errors are expected; panics are the bug
		for id, e := range m.Entities {
			if schema.Kind(int(e.Kind.ID)) != e.Kind {
				t.Fatalf("entity %d has a kind outside the schema", id)
			}
		}
	})
}

// FuzzLoadWorld: a world checkpoint read from disk may be anything; loading
// it returns an error or a world that publishes and mirrors like any other,
// never a panic. Seeded with real checkpoints, with and without views.
func FuzzLoadWorld(f *testing.F) {
	for seed := uint64(1); seed <= 3; seed++ {
		w := state.NewWorld(testSchema)
		r := rand.New(rand.NewPCG(seed, 11))
		for tick := uint64(1); tick <= 10; tick++ {
			stepRandom(r, w, tick)
		}
		cp, _ := w.AppendCheckpoint(nil)
		f.Add(cp)
		f.Add(viewsCheckpoint(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		w, err := state.LoadWorld(testSchema, b)
		if err != nil {
			return
		}
		exercise(t, w)
	})
}

// FuzzDecodeWelcome: a welcome from an untrusted server either fails to
// decode or yields a valid schema that survives its own wire form, and a
// mirror built on that schema takes any next message without panicking or
// holding an entity of a kind outside the schema. Seeded with the wire
// vectors' schema and messages.
func FuzzDecodeWelcome(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join("testdata", "vectors.json"))
	if err != nil {
		f.Fatalf("vectors: %v", err)
	}
	var vf struct {
		Schema []state.WireKind `json:"schema"`
		Steps  []struct {
			Hex string `json:"hex"`
		} `json:"steps"`
		// View vectors: packed runs, good and bad, for the mirror that
		// holds the first step (what FuzzMirrorApplyView starts from).
		AfterSnapshot []struct {
			Hex string `json:"hex"`
		} `json:"afterSnapshot"`
	}
	if err := json.Unmarshal(raw, &vf); err != nil {
		f.Fatal(err)
	}
	welcome, err := state.EncodeWelcome(&state.Welcome{V: state.ProtocolVersion, Room: "r", Type: "vectors", Member: 1,
		TickRate: 20, Kinds: vf.Schema, Members: []state.MemberInfo{{Member: 1, Name: "a", Online: true}}})
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range vf.Steps {
		b, _ := hex.DecodeString(s.Hex)
		f.Add(welcome, b)
	}
	f.Add([]byte{0x92, 0x01, 0x80}, []byte{0x91, 0x02})
	f.Add([]byte{0x92, 0x01, 0xc0}, []byte{})
	f.Fuzz(func(t *testing.T, welcome, next []byte) {
		w, schema, err := state.DecodeWelcome(welcome)
		if err != nil {
			if w != nil || schema != nil {
				t.Fatalf("error %v with a result", err)
			}
			return
		}
		again, err := state.SchemaFromWire(schema.Wire())
		if err != nil {
			t.Fatalf("the decoded schema's wire form does not decode: %v", err)
		}
		if !reflect.DeepEqual(again.Wire(), schema.Wire()) {
			t.Fatalf("wire round trip changed the schema: %+v, then %+v", schema.Wire(), again.Wire())
		}
		m := state.NewMirror(schema)
		_, _ = m.Apply(next) // errors are expected; panics are the bug
		for id, e := range m.Entities {
			if schema.Kind(int(e.Kind.ID)) != e.Kind {
				t.Fatalf("entity %d has a kind outside the schema", id)
			}
		}
	})
}

// FuzzMirrorApplyView: view messages from a server may be anything; a
// mirror that holds a view applies them or returns an error, never
// panics. Seeded with the shared view vectors, their packed runs (good and
// bad) among them.
func FuzzMirrorApplyView(f *testing.F) {
	schema, msgs := seedVectors(f, "view_vectors.json")
	f.Fuzz(func(t *testing.T, b []byte) {
		m := state.NewMirror(schema)
		if _, err := m.Apply(msgs[0]); err != nil {
			t.Fatalf("seed view snapshot: %v", err)
		}
		_, _ = m.Apply(b) // errors are expected; panics are the bug
		_, _ = m.Apply(b) // and once more on whatever state that left
	})
}
