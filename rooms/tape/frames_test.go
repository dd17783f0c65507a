package tape_test

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/tape"
)

// TestFrames checks the records Frames yields for a tick range, and that
// their raw bytes, put after any tape header, read back on their own (what
// an HTTP range of a tape gives a client).
func TestFrames(t *testing.T) {
	dir := t.TempDir()
	s := recordSession(t, dir, "f.tape", scenario{Ticks: 100, Players: 2, KeyEvery: 20, HoldInput: 1, Chat: true})
	data, err := os.ReadFile(s.path)
	must(t, err)
	r, err := tape.Open(s.path)
	must(t, err)
	defer r.Close()
	all, _ := readAll(r)
	headerLen := all[0].Offset

	for _, tc := range []struct {
		name     string
		from, to uint64
	}{
		{"from a keyframe", 40, 45},
		{"between keyframes", 47, 52},
		{"whole tape", 0, 1000},
		{"one tick", 60, 60},
		{"last ticks", 95, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Expected: from the last keyframe at or before from, through
			// the last record of tick to.
			first := -1
			for i, rec := range all {
				if rec.Kind == tape.KindKeyframe && rec.Tick <= tc.from {
					first = i
				}
			}
			last := first
			for last+1 < len(all) && all[last+1].Tick <= tc.to {
				last++
			}
			want := all[first : last+1]

			var got []tape.Record
			for rec, err := range r.Frames(tc.from, tc.to) {
				must(t, err)
				got = append(got, rec)
			}
			if len(got) != len(want) {
				t.Fatalf("got %d records, want %d", len(got), len(want))
			}
			for i := range got {
				if d := sameRecord(got[i], want[i]); d != "" {
					t.Fatalf("record %d: %s", i, d)
				}
			}

			raw := append([]byte{}, data[:headerLen]...)
			raw = append(raw, data[got[0].Offset:got[len(got)-1].Offset+int64(got[len(got)-1].Size)]...)
			p := filepath.Join(t.TempDir(), "range.tape")
			must(t, os.WriteFile(p, raw, 0o644))
			rr, err := tape.Open(p)
			must(t, err)
			defer rr.Close()
			again, err := readAll(rr)
			if err != io.EOF || len(again) != len(want) {
				t.Fatalf("raw range: read %d records then %v, want %d then io.EOF", len(again), err, len(want))
			}
			for i := range again {
				if d := sameRecord(again[i], want[i]); d != "" {
					t.Fatalf("raw range record %d: %s", i, d)
				}
			}
		})
	}
}

// TestTickCoding writes ticks that step by 0, by 1, by the most a tag can
// hold, by more, backwards and far: each comes back as written.
func TestTickCoding(t *testing.T) {
	ticks := []uint64{0, 0, 1, 31, 61, 62, 1000, 999, 1 << 40, 1<<64 - 1, 5}
	path := filepath.Join(t.TempDir(), "ticks.tape")
	w, err := tape.Create(path, scenario{}.header(), tape.WriterOptions{})
	must(t, err)
	kinds := []tape.Kind{tape.KindDelta, tape.KindOps, tape.KindEvent, tape.KindKeyframe}
	for i, tick := range ticks {
		msg := []byte{0x93, 0x04, byte(i)}
		switch kinds[i%len(kinds)] {
		case tape.KindDelta:
			must(t, w.Tick(tick, nil, msg))
		case tape.KindOps:
			must(t, w.Tick(tick, []rooms.Op{{Kind: rooms.OpLeave, Member: uint32(i)}}, msg))
		case tape.KindEvent:
			must(t, w.Event(tick, msg))
		case tape.KindKeyframe:
			must(t, w.Keyframe(tick, msg))
		}
	}
	must(t, w.Close())
	r, err := tape.Open(path)
	must(t, err)
	defer r.Close()
	got, err := readAll(r)
	if err != io.EOF || len(got) != len(ticks)+1 {
		t.Fatalf("read %d records then %v, want %d and the end record", len(got), err, len(ticks))
	}
	for i, tick := range ticks {
		if got[i].Tick != tick || got[i].Kind != kinds[i%len(kinds)] || got[i].Data[2] != byte(i) {
			t.Errorf("record %d: got %v at tick %d, want %v at %d", i, got[i].Kind, got[i].Tick, kinds[i%len(kinds)], tick)
		}
	}
}
