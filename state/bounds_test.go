package state

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"
)

func TestWellSized(t *testing.T) {
	good := []any{
		nil, true, false, 0, 1, -1, 127, -32, 200, -200, 70000, -70000, 1 << 40, -(1 << 40), 1.5, float32(2.5),
		"", "abc", strings.Repeat("s", 40), strings.Repeat("s", 300), strings.Repeat("s", 70000),
		[]byte{1, 2}, bytes.Repeat([]byte{7}, 300), bytes.Repeat([]byte{7}, 70000),
		[]any{}, []any{1, "a", []any{nil}}, make([]any, 20), make([]any, 70000),
		map[string]any{}, map[string]any{"a": 1, "b": []any{map[string]any{"c": nil}}},
		[]any{MsgWelcome, map[string]any{"kinds": []any{}}},
	}
	for _, v := range good {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := WellSized(b); err != nil {
			t.Errorf("%.40v (% x...): %v, want nil", v, b[:min(len(b), 8)], err)
		}
	}
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"array32 claiming 4G elements", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}},
		{"map16 claiming more than is left", []byte{0xde, 0x00, 0x03, 0xa1, 'a', 0x01, 0xa1, 'b', 0x02}},
		{"fixarray short", []byte{0x93, 0x01, 0x02}},
		{"str8 longer than the rest", []byte{0xd9, 0x05, 'a', 'b'}},
		{"bin32 huge", []byte{0xc6, 0x7f, 0xff, 0xff, 0xff}},
		{"ext8 without its type", []byte{0xc7, 0x00}},
		{"fixext16 short", []byte{0xd8, 0x01, 0x02}},
		{"uint64 short", []byte{0xcf, 0x00}},
		{"never-used code", []byte{0xc1}},
		{"trailing bytes", []byte{0x01, 0x02}},
		{"too deep", bytes.Repeat([]byte{0x91}, maxNesting+1)},
	} {
		if err := WellSized(tt.b); err == nil {
			t.Errorf("%s (% x): nil, want an error", tt.name, tt.b)
		}
	}
	if err := WellSized([]byte{0xdd, 0xff, 0xff, 0xff, 0xff}); !errors.Is(err, errOversized) {
		t.Errorf("a lying array header: got %v, want errOversized", err)
	}
}

// FuzzWellSized: whatever WellSized accepts, the msgpack decoder reads as
// exactly one value, so the check never lets through a message that the
// decoder would read differently.
func FuzzWellSized(f *testing.F) {
	for _, v := range []any{nil, 1, "abc", []any{1, []any{"x"}}, map[string]any{"k": 1.5}, []byte{1}} {
		b, _ := msgpack.Marshal(v)
		f.Add(b)
	}
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0xc7, 0x01, 0x05, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		if WellSized(b) != nil {
			return
		}
		rd := bytes.NewReader(b)
		dec := msgpack.NewDecoder(rd)
		if err := dec.Skip(); err != nil {
			t.Fatalf("WellSized accepted % x, the decoder cannot skip it: %v", b, err)
		}
		if rd.Len() != 0 {
			t.Fatalf("WellSized accepted % x as one value, the decoder left %d bytes", b, rd.Len())
		}
	})
}

// TestDecodeWelcomeRefusesLyingLengths: a few bytes whose outer array
// claims four billion elements are refused before the decoder allocates
// for them (it asked for 96 GiB and the test binary died out of memory),
// and so is a lie further in.
func TestDecodeWelcomeRefusesLyingLengths(t *testing.T) {
	for _, tt := range []struct {
		name string
		b    []byte
	}{
		{"outer array", []byte{0xdd, 0xff, 0xff, 0xff, 0xff, MsgWelcome, 0x80}},
		{"chat", append([]byte{0x92, MsgWelcome, 0x81, 0xa4, 'c', 'h', 'a', 't'}, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x80)},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := DecodeWelcome(tt.b)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, errOversized) {
			t.Errorf("%s: got %v, want errOversized", tt.name, err)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
			t.Errorf("%s: allocated %d bytes for a %d-byte message", tt.name, got, len(tt.b))
		}
	}
}

// allocatedBy returns the bytes f allocates.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestDecodeClientIgnoresLyingLengths: the pooled decoder grew its buffer
// toward each frame's claimed payload length and kept it: a hundred of
// these 8-byte frames left 4.5 GiB in the pool (12.5 GiB allocated, over a
// minute of CPU). Now fifty cost almost nothing.
func TestDecodeClientIgnoresLyingLengths(t *testing.T) {
	frame := []byte{0x93, ClientInput, 0x01, 0xc6, 0x7f, 0xff, 0xff, 0xff} // [1, 1, bin32 claiming 2 GiB]
	got := allocatedBy(func() {
		for range 50 {
			if _, err := DecodeClient(frame); !errors.Is(err, ErrBadMessage) {
				t.Fatalf("got %v, want ErrBadMessage", err)
			}
		}
	})
	if got > 1<<20 {
		t.Fatalf("50 lying 8-byte frames allocated %d bytes", got)
	}
}

// TestMirrorIgnoresLyingStringLengths: the same for a mirror's decoder,
// which lives as long as the mirror: a string field claiming 2 GiB.
func TestMirrorIgnoresLyingStringLengths(t *testing.T) {
	s := MustSchema(MustKind(0, "label", nil, Text("s")))
	m := NewMirror(s)
	snap := []byte{0x93, MsgSnapshot, 0x01, 0x91, 0x93, 0x00, 0x01, 0xdb, 0x7f, 0xff, 0xff, 0xff} // [2, 1, [[0, 1, str32 claiming 2 GiB]]]
	got := allocatedBy(func() {
		for range 50 {
			if _, err := m.Apply(snap); err == nil {
				t.Fatal("a lying snapshot applied")
			}
		}
	})
	if got > 1<<20 {
		t.Fatalf("50 lying snapshots allocated %d bytes", got)
	}
}

// TestMirrorIgnoresLyingBinLengths: a view delta whose packed run (a bin)
// claims 2 GiB is refused without allocating it.
func TestMirrorIgnoresLyingBinLengths(t *testing.T) {
	s := MustSchema(MustKind(0, "dot", nil, Pos("x")))
	w := NewWorld(s)
	w.EnableViews()
	w.Spawn(s.Kinds[0])
	w.PublishGroups(1)
	m := NewMirror(s)
	snap, err := w.AppendViewSnapshot(nil, NewView())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(snap); err != nil {
		t.Fatal(err)
	}
	delta := []byte{0x95, MsgViewDelta, 0x02, 0x01, 0x90, 0xc6, 0x7f, 0xff, 0xff, 0xff} // [7, 2, 1, [], bin32 claiming 2 GiB]
	got := allocatedBy(func() {
		for range 50 {
			if _, err := m.Apply(delta); !errors.Is(err, errOversized) {
				t.Fatalf("got %v, want errOversized", err)
			}
		}
	})
	if got > 1<<20 {
		t.Fatalf("50 lying view deltas allocated %d bytes", got)
	}
}
