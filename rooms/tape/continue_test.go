package tape_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/tape"
)

// feed writes records[from:to] of mem to rec.
func (m *memory) feed(tb testing.TB, rec rooms.Recorder, from, to int) {
	tb.Helper()
	sub := &memory{records: m.records[from:to], ops: m.ops[from:to]}
	sub.replay(tb, rec)
}

// tickBoundary returns the index of the first record after the tick record
// of tick (events of that tick stay before it).
func (m *memory) tickBoundary(tick uint64) int {
	for i, r := range m.records {
		if r.Tick > tick {
			return i
		}
	}
	return len(m.records)
}

// TestContinueIsOneTape: a room's log written in three segments (paused,
// continued, ended, continued again, ended) reads back as the one tape of
// the whole session: the same records in order, every tick seekable, with
// the seek index, member names and keyframes of the whole.
func TestContinueIsOneTape(t *testing.T) {
	dir := t.TempDir()
	sc := scenario{Ticks: 90, Players: 3, KeyEvery: 20, HoldInput: 2, Leave: true, Chat: true}
	whole := recordSession(t, dir, "whole.tape", sc)
	mem := whole.mem
	path := filepath.Join(dir, "parts.tape")
	w, err := tape.Create(path, sc.header(), tape.WriterOptions{})
	must(t, err)
	a, b := mem.tickBoundary(30), mem.tickBoundary(61)
	mem.feed(t, w, 0, a)
	must(t, w.Pause())

	w, end, err := tape.Continue(path, tape.WriterOptions{})
	must(t, err)
	if end.Tick != 30 || end.Damage != nil || end.Header.RoomID != "room-1" {
		t.Fatalf("after a pause: end %+v, want tick 30 and no damage", end)
	}
	mem.feed(t, w, a, b)
	must(t, w.Close())

	w, end, err = tape.Continue(path, tape.WriterOptions{})
	must(t, err)
	if end.Tick != 61 || end.Damage != nil {
		t.Fatalf("after a close: end %+v, want tick 61 (the end record cut off) and no damage", end)
	}
	mem.feed(t, w, b, len(mem.records))
	must(t, w.Close())

	got, want := openAll(t, path), openAll(t, whole.path)
	if len(got) != len(want) {
		t.Fatalf("records: got %d, want %d", len(got), len(want))
	}
	for i := range want {
		if d := sameRecord(got[i], want[i]); d != "" && want[i].Kind != tape.KindEnd {
			t.Fatalf("record %d: %s", i, d)
		}
	}
	r, err := tape.Open(path)
	must(t, err)
	defer r.Close()
	ref, err := tape.Open(whole.path)
	must(t, err)
	defer ref.Close()
	gi, wi := r.Info(), ref.Info()
	if !gi.Clean || gi.Records != wi.Records || gi.Keyframes != wi.Keyframes || !slices.Equal(gi.Members, wi.Members) ||
		gi.FirstTick != wi.FirstTick || gi.LastTick != wi.LastTick {
		t.Fatalf("info: got %+v\nwant %+v", gi, wi)
	}
	for tick := uint64(0); tick <= uint64(sc.Ticks); tick++ {
		m, err := r.Seek(tick)
		if err != nil {
			t.Fatalf("seek %d: %v", tick, err)
		}
		if m.Tick != tick {
			t.Fatalf("seek %d landed on %d", tick, m.Tick)
		}
	}
}

func openAll(t *testing.T, path string) []tape.Record {
	t.Helper()
	r, err := tape.Open(path)
	must(t, err)
	defer r.Close()
	recs, err := readAll(r)
	if err != io.EOF {
		t.Fatalf("read %s: %v", path, err)
	}
	return recs
}

// TestContinueCutsADamagedTail: a log whose tail a crash tore, or whose
// bytes went bad, is cut at its last good frame: Continue reports where
// and why, the room wakes at the last good tick, and what is appended
// after reads on from there.
func TestContinueCutsADamagedTail(t *testing.T) {
	ct := newCrashTape(t)
	last := ct.records[len(ct.records)-2] // the record before the end record
	for _, c := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"torn", func(b []byte) []byte { return b[:last.Offset+int64(last.Size)/2] }},
		{"corrupt", func(b []byte) []byte { b = slices.Clone(b); b[last.Offset+int64(last.Size)-2] ^= 0xff; return b }},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "d.tape")
			must(t, os.WriteFile(path, c.damage(ct.data), 0o644))
			w, end, err := tape.Continue(path, tape.WriterOptions{})
			must(t, err)
			var d *tape.DamageError
			if !errors.As(end.Damage, &d) || d.Offset != last.Offset {
				t.Fatalf("damage: got %v, want a *DamageError at offset %d", end.Damage, last.Offset)
			}
			before := ct.records[len(ct.records)-3]
			if end.Tick != before.Tick || end.Cursor != last.Offset {
				t.Fatalf("end: got tick %d at %d, want tick %d at %d", end.Tick, end.Cursor, before.Tick, last.Offset)
			}
			must(t, w.Tick(end.Tick+1, nil, []byte{0x96, 3}))
			must(t, w.Pause())
			got := openAll(t, path)
			if n := len(ct.records) - 2; len(got) != n+1 {
				t.Fatalf("after the append: %d records, want %d good ones and the new one", len(got), n)
			}
			if nr := got[len(got)-1]; nr.Tick != end.Tick+1 || nr.Offset != last.Offset {
				t.Fatalf("the appended record: tick %d at %d, want %d at %d", nr.Tick, nr.Offset, end.Tick+1, last.Offset)
			}
		})
	}
}

// TestContinueAfterACrash: the index a pause wrote describes only the
// start of a tape that grew after it (a crash left no newer index):
// Continue and Open complete it from the rest of the file and agree with
// a scan of the whole.
func TestContinueAfterACrash(t *testing.T) {
	dir := t.TempDir()
	sc := scenario{Ticks: 80, Players: 3, KeyEvery: 10, HoldInput: 1, Leave: true}
	whole := recordSession(t, dir, "whole.tape", sc)
	mem := whole.mem
	path := filepath.Join(dir, "crashed.tape")
	w, err := tape.Create(path, sc.header(), tape.WriterOptions{})
	must(t, err)
	a := mem.tickBoundary(20)
	mem.feed(t, w, 0, a)
	must(t, w.Pause())
	w, _, err = tape.Continue(path, tape.WriterOptions{})
	must(t, err)
	b := mem.tickBoundary(70)
	mem.feed(t, w, a, b)
	must(t, w.Flush()) // and then the process dies: no pause, no close, no newer index
	copyPath := filepath.Join(dir, "copy.tape")
	for _, ext := range []string{"", ".idx"} {
		must(t, os.WriteFile(copyPath+ext, must1(t, os.ReadFile)(path+ext), 0o644))
	}
	w2, end, err := tape.Continue(copyPath, tape.WriterOptions{})
	must(t, err)
	if end.Tick != 70 || end.Damage != nil {
		t.Fatalf("end: %+v, want tick 70", end)
	}
	must(t, w2.Pause())
	r, err := tape.Open(copyPath)
	must(t, err)
	defer r.Close()
	in := r.Info()
	if in.LastTick != 70 || len(in.Members) != 3 || in.Keyframes != 8 {
		t.Fatalf("info: last tick %d, members %v, %d keyframes; want 70, 3 members, 8", in.LastTick, in.Members, in.Keyframes)
	}
}

// must1 turns a (value, error) call into a value, failing the test on error.
func must1[T any](t *testing.T, fn func(string) (T, error)) func(string) T {
	return func(s string) T {
		t.Helper()
		v, err := fn(s)
		must(t, err)
		return v
	}
}
