package tape_test

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/tickroom/tickroom/rooms/tape"
)

// crashTape is a small recorded session, its bytes and its records.
type crashTape struct {
	data      []byte
	records   []tape.Record // every record, the end record included
	dataStart int64         // offset of the first frame
}

func newCrashTape(t *testing.T) crashTape {
	t.Helper()
	s := recordSession(t, t.TempDir(), "c.tape", scenario{Ticks: 60, Players: 2, KeyEvery: 20, HoldInput: 1, Leave: true, Chat: true})
	data, err := os.ReadFile(s.path)
	must(t, err)
	r, err := tape.Open(s.path)
	must(t, err)
	defer r.Close()
	recs, err := readAll(r)
	if err != io.EOF {
		t.Fatalf("reading the intact tape: %v", err)
	}
	return crashTape{data: data, records: recs, dataStart: recs[0].Offset}
}

// check opens a damaged copy and checks that it yields exactly the records
// before the first frame that overlaps damageAt (or that ends past cut)
// and then reports that frame's offset.
func (ct crashTape) check(t *testing.T, path string, damageAt, cut int64) {
	t.Helper()
	r, err := tape.Open(path)
	if damageAt < ct.dataStart {
		if err == nil {
			r.Close()
			t.Fatalf("damage at %d in the header: Open succeeded", damageAt)
		}
		return
	}
	if err != nil {
		t.Fatalf("damage at %d: Open: %v", damageAt, err)
	}
	defer r.Close()
	good := 0
	for good < len(ct.records) && ct.records[good].Offset+int64(ct.records[good].Size) <= damageAt &&
		ct.records[good].Offset+int64(ct.records[good].Size) <= cut {
		good++
	}
	got, err := readAll(r)
	if len(got) != good {
		t.Fatalf("damage at %d: got %d records, want %d", damageAt, len(got), good)
	}
	for i := range got {
		if d := sameRecord(got[i], ct.records[i]); d != "" {
			t.Fatalf("damage at %d: record %d: %s", damageAt, i, d)
		}
	}
	atBoundary := good == len(ct.records) || ct.records[good].Offset == cut
	var d *tape.DamageError
	switch {
	case atBoundary && err != io.EOF:
		t.Fatalf("cut at frame boundary %d: got %v, want io.EOF", cut, err)
	case atBoundary:
		if in := r.Info(); in.Damage != nil || in.ValidSize != cut {
			t.Fatalf("cut at frame boundary %d: Info damage %v, valid size %d; want none, %d", cut, in.Damage, in.ValidSize, cut)
		}
	case !errors.As(err, &d):
		t.Fatalf("damage at %d: got %v, want a *DamageError", damageAt, err)
	case damageAt == cut && !d.Truncated:
		t.Fatalf("cut at %d: got %v, want a truncated frame", cut, d)
	case d.Offset != ct.records[good].Offset || d.Records != good:
		t.Fatalf("damage at %d: reported offset %d after %d records, want %d after %d",
			damageAt, d.Offset, d.Records, ct.records[good].Offset, good)
	default:
		in := r.Info()
		if in.Damage == nil || in.Damage.Offset != d.Offset || in.ValidSize != d.Offset {
			t.Fatalf("damage at %d: Info damage %v, valid size %d; want offset %d", damageAt, in.Damage, in.ValidSize, d.Offset)
		}
		if _, again := r.Next(); again == nil || again == io.EOF {
			t.Fatalf("damage at %d: Next after the damage: got %v, want the damage again", damageAt, again)
		}
	}
}

// TestTruncated cuts a tape at every offset in its first 2 KB, around
// every frame boundary and at seeded random offsets: Open and Next never
// panic and return exactly the frames before the cut.
func TestTruncated(t *testing.T) {
	ct := newCrashTape(t)
	cuts := make([]int64, 0, 3000)
	for c := range int64(2048) {
		cuts = append(cuts, c)
	}
	for _, rec := range ct.records {
		cuts = append(cuts, rec.Offset-1, rec.Offset, rec.Offset+1, rec.Offset+int64(rec.Size)-1)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		cuts = append(cuts, 2048+rng.Int64N(int64(len(ct.data))-2048))
	}
	cuts = append(cuts, int64(len(ct.data)))
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)

	path := filepath.Join(t.TempDir(), "cut.tape")
	for _, cut := range cuts {
		if cut < 0 || cut > int64(len(ct.data)) {
			continue
		}
		must(t, os.WriteFile(path, ct.data[:cut], 0o644))
		ct.check(t, path, cut, cut)
	}
}

// TestCorrupted flips seeded random bytes: the reader stops at the frame
// holding the flipped byte and reports its offset.
func TestCorrupted(t *testing.T) {
	ct := newCrashTape(t)
	rng := rand.New(rand.NewPCG(3, 4))
	path := filepath.Join(t.TempDir(), "flip.tape")
	buf := make([]byte, len(ct.data))
	offsets := []int64{0, 8, 10, 14, ct.dataStart - 1, ct.dataStart, int64(len(ct.data) - 1)}
	for range 500 {
		offsets = append(offsets, rng.Int64N(int64(len(ct.data))))
	}
	for _, off := range offsets {
		copy(buf, ct.data)
		buf[off] ^= byte(1 + rng.IntN(255))
		must(t, os.WriteFile(path, buf, 0o644))
		ct.check(t, path, off, int64(len(buf)))
	}
}

// TestCrashLeavesTornFrame writes a tape as a killed process leaves it:
// flushed frames, then half a frame, no end record and no index.
func TestCrashLeavesTornFrame(t *testing.T) {
	ct := newCrashTape(t)
	last := ct.records[len(ct.records)-3] // the end record and one more go missing
	cut := last.Offset + int64(last.Size)/2
	path := filepath.Join(t.TempDir(), "killed.tape")
	must(t, os.WriteFile(path, ct.data[:cut], 0o644))
	r, err := tape.Open(path)
	must(t, err)
	defer r.Close()
	in := r.Info()
	if in.Clean || in.Damage == nil || !in.Damage.Truncated || in.Damage.Offset != last.Offset {
		t.Fatalf("Info: clean %v, damage %+v; want not clean, truncated at %d", in.Clean, in.Damage, last.Offset)
	}
	if in.Records != len(ct.records)-3 {
		t.Errorf("Info records: got %d, want %d", in.Records, len(ct.records)-3)
	}
	if _, err := os.Stat(path + ".idx"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a damaged tape got an index file (%v): it must be rescanned next time", err)
	}
	if _, err := r.Seek(ct.records[len(ct.records)-4].Tick); err != nil {
		t.Errorf("Seek to the last whole tick: %v", err)
	}
}
