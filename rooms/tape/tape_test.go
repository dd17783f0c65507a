package tape_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/rooms/tape"
	"github.com/tickroom/tickroom/state"
)

var roundTrip = scenario{Ticks: 300, Players: 5, KeyEvery: 40, HoldInput: 1, Leave: true, Chat: true}

// TestRoundTrip guards the invariant "replay equals live": every record
// comes back byte for byte, and Seek(T) for every T equals the mirror of a
// member who applied the broadcast live up to T.
func TestRoundTrip(t *testing.T) {
	s := recordSession(t, t.TempDir(), "rt.tape", roundTrip)
	r, err := tape.Open(s.path)
	must(t, err)
	defer r.Close()

	got, err := readAll(r)
	if err != io.EOF {
		t.Fatalf("reading to the end: got %v, want io.EOF", err)
	}
	want := s.mem.records
	if len(got) != len(want)+1 {
		t.Fatalf("got %d records, want %d and the end record", len(got), len(want))
	}
	for i, w := range want {
		if d := sameRecord(got[i], w); d != "" {
			t.Fatalf("record %d: %s", i, d)
		}
		ops, err := got[i].DecodeOps()
		must(t, err)
		if !reflect.DeepEqual(ops, s.mem.ops[i]) {
			t.Fatalf("record %d ops: got %+v, want %+v", i, ops, s.mem.ops[i])
		}
	}
	if end := got[len(got)-1]; end.Kind != tape.KindEnd || end.Tick != uint64(roundTrip.Ticks) {
		t.Errorf("last record: got %v at %d, want end at %d", end.Kind, end.Tick, roundTrip.Ticks)
	}

	live := liveStates(t, s.mem)
	for tick := uint64(0); tick <= uint64(roundTrip.Ticks); tick++ {
		m, err := r.Seek(tick)
		if err != nil {
			t.Fatalf("Seek(%d): %v", tick, err)
		}
		if m.Tick != tick {
			t.Fatalf("Seek(%d): mirror at tick %d", tick, m.Tick)
		}
		if d := diffState(mirrorState(m), live[tick]); d != "" {
			t.Fatalf("Seek(%d) differs from the live mirror: %s", tick, d)
		}
	}
	last, err := r.Seek(uint64(roundTrip.Ticks))
	must(t, err)
	if d := state.Compare(s.world, last); d != nil {
		t.Errorf("Seek(last) differs from the room's world: %v", d)
	}
}

func TestInfo(t *testing.T) {
	s := recordSession(t, t.TempDir(), "info.tape", roundTrip)
	r, err := tape.Open(s.path)
	must(t, err)
	defer r.Close()
	in := r.Info()
	h := roundTrip.header()
	wantKeyframes := 1 + roundTrip.Ticks/roundTrip.KeyEvery
	checks := []struct {
		name      string
		got, want any
	}{
		{"room id", in.RoomID, h.RoomID},
		{"type", in.Type, h.Type},
		{"tick rate", in.TickRate, h.TickRate},
		{"seed", in.Seed, h.Seed},
		{"schema", in.Schema, arenabench.Schema.Wire()},
		{"first tick", in.FirstTick, uint64(0)},
		{"last tick", in.LastTick, uint64(roundTrip.Ticks)},
		{"duration", in.Duration, 15 * time.Second},
		{"records", in.Records, len(s.mem.records)},
		{"keyframes", in.Keyframes, wantKeyframes},
		{"keyframe index", len(r.Keyframes()), wantKeyframes},
		{"members", in.Members, []string{"player-1", "player-2", "player-3", "player-4", "player-5"}},
		{"clean", in.Clean, true},
		{"damage", in.Damage, (*tape.DamageError)(nil)},
		{"size", in.Size, fileSize(t, s.path)},
		{"valid size", in.ValidSize, fileSize(t, s.path)},
		{"width option", in.Options["width"] != nil, true},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestSeekOutsideTheTape(t *testing.T) {
	dir := t.TempDir()
	h := roundTrip.header()
	h.StartTick = 100
	mem := &memory{}
	sc := scenario{Ticks: 130, Players: 1, KeyEvery: 10, HoldInput: 1}
	sc.run(t, mem)
	w, err := tape.Create(filepath.Join(dir, "late.tape"), h, tape.WriterOptions{})
	must(t, err)
	for i, rec := range mem.records { // a recorder that joined the room at tick 100
		if rec.Tick >= 100 && (rec.Tick > 100 || rec.Kind == tape.KindKeyframe) {
			mem.records, mem.ops = mem.records[i:], mem.ops[i:]
			break
		}
	}
	mem.replay(t, w)
	must(t, w.Close())
	r, err := tape.Open(w.Path())
	must(t, err)
	defer r.Close()

	for _, tc := range []struct {
		name string
		tick uint64
		ok   bool
	}{
		{"before the first keyframe", 99, false},
		{"the first keyframe", 100, true},
		{"between keyframes", 115, true},
		{"the last tick", 130, true},
		{"after the last tick", 131, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := r.Seek(tc.tick)
			if tc.ok && (err != nil || m.Tick != tc.tick) {
				t.Fatalf("Seek(%d): got %v, want the state at %d", tc.tick, err, tc.tick)
			}
			if !tc.ok && !errors.Is(err, tape.ErrTickNotFound) {
				t.Fatalf("Seek(%d): got %v, want ErrTickNotFound", tc.tick, err)
			}
		})
	}
}

// TestSeekInProgress reads a tape while its Writer is still writing: what
// was flushed reads and seeks; what is buffered is not there yet; more
// appears after the next flush.
func TestSeekInProgress(t *testing.T) {
	mem := &memory{}
	sc := scenario{Ticks: 120, Players: 3, KeyEvery: 20, HoldInput: 1, Chat: true}
	sc.run(t, mem)
	half := len(mem.records) / 2
	first := &memory{records: mem.records[:half], ops: mem.ops[:half]}
	second := &memory{records: mem.records[half:], ops: mem.ops[half:]}

	clock := newClock() // never moves: only Flush writes
	path := filepath.Join(t.TempDir(), "live.tape")
	w, err := tape.Create(path, sc.header(), tape.WriterOptions{Now: clock.now, BufferSize: 1 << 20})
	must(t, err)
	defer w.Close()
	first.replay(t, w)
	must(t, w.Flush())

	r, err := tape.Open(path)
	must(t, err)
	defer r.Close()
	if in := r.Info(); in.Clean || in.Damage != nil || in.Records != half {
		t.Fatalf("Info of the tape in progress: clean %v, damage %v, %d records; want not clean, no damage, %d records",
			in.Clean, in.Damage, in.Records, half)
	}
	got, err := readAll(r)
	if err != io.EOF || len(got) != half {
		t.Fatalf("read %d records then %v, want %d then io.EOF", len(got), err, half)
	}
	for i := range got {
		if d := sameRecord(got[i], first.records[i]); d != "" {
			t.Fatalf("record %d: %s", i, d)
		}
	}
	lastFlushed := first.records[half-1].Tick
	live := liveStates(t, mem)
	m, err := r.Seek(lastFlushed)
	must(t, err)
	if d := diffState(mirrorState(m), live[lastFlushed]); d != "" {
		t.Fatalf("Seek(%d) in progress: %s", lastFlushed, d)
	}

	second.replay(t, w) // buffered only
	if rec, err := r.Next(); err != io.EOF {
		t.Fatalf("Next before the flush: got %v %v, want io.EOF", rec.Kind, err)
	}
	must(t, w.Flush())
	more, err := readAll(r)
	if err != io.EOF || len(more) != len(second.records) {
		t.Fatalf("after the flush read %d records then %v, want %d then io.EOF", len(more), err, len(second.records))
	}
	for i := range more {
		if d := sameRecord(more[i], second.records[i]); d != "" {
			t.Fatalf("record %d after the flush: %s", half+i, d)
		}
	}
	m, err = r.Seek(uint64(sc.Ticks))
	must(t, err)
	if d := diffState(mirrorState(m), live[uint64(sc.Ticks)]); d != "" {
		t.Fatalf("Seek(%d) after the flush: %s", sc.Ticks, d)
	}
	if p := w.Progress(); p.LastTick != uint64(sc.Ticks) || p.Records != len(mem.records) || p.Written != fileSize(t, path) {
		t.Errorf("Progress: got %+v, want last tick %d, %d records, %d bytes written",
			p, sc.Ticks, len(mem.records), fileSize(t, path))
	}
}

func TestFlushTiming(t *testing.T) {
	delta := make([]byte, 300)
	for _, tc := range []struct {
		name      string
		opts      tape.WriterOptions
		advance   []time.Duration // before each of three ticks
		wantWrite []bool          // whether the file grew after each tick
	}{
		{"default interval", tape.WriterOptions{}, []time.Duration{0, 999 * time.Millisecond, time.Millisecond},
			[]bool{false, false, true}},
		{"custom interval", tape.WriterOptions{FlushInterval: 100 * time.Millisecond},
			[]time.Duration{50 * time.Millisecond, 50 * time.Millisecond, 10 * time.Millisecond}, []bool{false, true, false}},
		{"buffer size", tape.WriterOptions{BufferSize: 500}, []time.Duration{0, 0, 0}, []bool{false, true, false}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newClock()
			tc.opts.Now = clock.now
			path := filepath.Join(t.TempDir(), "f.tape")
			w, err := tape.Create(path, roundTrip.header(), tc.opts)
			must(t, err)
			defer w.Close()
			size := fileSize(t, path)
			for i, d := range tc.advance {
				clock.add(d)
				must(t, w.Tick(uint64(i+1), nil, delta))
				now := fileSize(t, path)
				if grew := now > size; grew != tc.wantWrite[i] {
					t.Errorf("tick %d: file grew %v, want %v", i+1, grew, tc.wantWrite[i])
				}
				size = now
			}
		})
	}
}

func TestWriterLifecycle(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "w.tape")
	w, err := tape.Create(path, roundTrip.header(), tape.WriterOptions{})
	must(t, err)
	if _, err := tape.Create(path, roundTrip.header(), tape.WriterOptions{}); err == nil {
		t.Error("Create over an existing tape: got nil, want an error")
	}
	bad := roundTrip.header()
	bad.Schema = "not a schema"
	if _, err := tape.Create(filepath.Join(dir, "bad.tape"), bad, tape.WriterOptions{}); err == nil {
		t.Error("Create with a string schema: got nil, want an error")
	}
	must(t, w.Close())
	if err := w.Close(); err != nil {
		t.Errorf("second Close: got %v, want nil", err)
	}
	if err := w.Tick(1, nil, []byte{0x90}); !errors.Is(err, tape.ErrClosed) {
		t.Errorf("Tick after Close: got %v, want ErrClosed", err)
	}
	if _, err := os.Stat(path + ".idx"); err != nil {
		t.Errorf("index after Close: %v", err)
	}
	r, err := tape.Open(path)
	must(t, err)
	defer r.Close()
	if in := r.Info(); !in.Clean || in.Records != 0 {
		t.Errorf("empty closed tape: clean %v, %d records; want clean, 0", in.Clean, in.Records)
	}
	// A *state.Schema works as well as its wire form.
	h := roundTrip.header()
	h.Schema = arenabench.Schema
	w2, err := tape.Create(filepath.Join(dir, "schema.tape"), h, tape.WriterOptions{})
	must(t, err)
	must(t, w2.Close())
	r2, err := tape.Open(w2.Path())
	must(t, err)
	defer r2.Close()
	if got := r2.Info().Schema; !reflect.DeepEqual(got, arenabench.Schema.Wire()) {
		t.Errorf("schema from *state.Schema: got %v, want %v", got, arenabench.Schema.Wire())
	}
}

func TestOpenRejects(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		data string
		want error
	}{
		{"empty", "", nil},
		{"other file", "PK\x03\x04 a zip file, not a tape", tape.ErrNotTape},
		{"future version", "TICKTAPE\x09\x00\x00\x00\x00\x00", tape.ErrVersion},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(dir, tc.name)
			must(t, os.WriteFile(p, []byte(tc.data), 0o644))
			_, err := tape.Open(p)
			var d *tape.DamageError
			switch {
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Errorf("got %v, want %v", err, tc.want)
			case tc.want == nil && !errors.As(err, &d):
				t.Errorf("got %v, want a *DamageError", err)
			}
		})
	}
}

var _ rooms.Recorder = (*memory)(nil)
