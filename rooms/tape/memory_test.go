package tape_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/tickroom/tickroom/rooms/tape"
)

// TestNewReaderReadsFromMemory: a tape read from memory gives the same
// info, records and seek results as the file it came from, and writes no
// index beside anything.
func TestNewReaderReadsFromMemory(t *testing.T) {
	dir := t.TempDir()
	s := recordSession(t, dir, "mem.tape", scenario{Ticks: 30, Players: 2, KeyEvery: 10, HoldInput: 2, Chat: true})
	data, err := os.ReadFile(s.path)
	must(t, err)
	fromFile, err := tape.Open(s.path)
	must(t, err)
	defer fromFile.Close()
	must(t, os.Remove(s.path+".idx")) // written by Open: NewReader must not need or write one

	r, err := tape.NewReader(bytes.NewReader(data), int64(len(data)))
	must(t, err)
	if got, want := r.Info(), fromFile.Info(); !reflect.DeepEqual(got, want) {
		t.Fatalf("info: got %+v, want %+v", got, want)
	}
	got, gerr := readAll(r)
	want, werr := readAll(fromFile)
	if gerr != io.EOF || werr != io.EOF {
		t.Fatalf("read to the end: got %v (memory) and %v (file), want io.EOF", gerr, werr)
	}
	if len(got) != len(want) {
		t.Fatalf("records: got %d, want %d", len(got), len(want))
	}
	for i := range got {
		if d := sameRecord(got[i], want[i]); d != "" {
			t.Fatalf("record %d: %s", i, d)
		}
	}
	for _, tick := range []uint64{0, 15, 30} {
		gm, err := r.Seek(tick)
		must(t, err)
		wm, err := fromFile.Seek(tick)
		must(t, err)
		if d := diffState(mirrorState(gm), mirrorState(wm)); d != "" {
			t.Fatalf("seek %d: %s", tick, d)
		}
	}
	must(t, r.Close())
	if _, err := os.Stat(filepath.Join(dir, "mem.tape.idx")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("an index appeared beside the tape: %v", err)
	}
}

// TestNewReaderRefusesWhatOpenRefuses: bytes that are no tape fail the same way.
func TestNewReaderRefusesWhatOpenRefuses(t *testing.T) {
	for _, b := range [][]byte{nil, []byte("not a tape at all"), []byte(tape.Magic)} {
		if _, err := tape.NewReader(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Errorf("NewReader(%q): no error", b)
		}
	}
}
