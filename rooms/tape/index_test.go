package tape_test

import (
	"bytes"
	"os"
	"reflect"
	"testing"

	"github.com/tickroom/tickroom/rooms/tape"
)

// TestIndexRebuilt damages the seek index in every way it can be damaged:
// the reader rebuilds it by scanning, seeks as before, and writes back an
// index identical to the one Close wrote.
func TestIndexRebuilt(t *testing.T) {
	dir := t.TempDir()
	sc := scenario{Ticks: 200, Players: 3, KeyEvery: 25, HoldInput: 1, Chat: true}
	s := recordSession(t, dir, "a.tape", sc)
	other := recordSession(t, dir, "b.tape", scenario{Ticks: 30, Players: 1, KeyEvery: 10, HoldInput: 2})
	idxPath := s.path + ".idx"
	orig, err := os.ReadFile(idxPath)
	must(t, err)
	otherIdx, err := os.ReadFile(other.path + ".idx")
	must(t, err)
	r, err := tape.Open(s.path)
	must(t, err)
	wantInfo, wantKeys := r.Info(), r.Keyframes()
	must(t, r.Close())
	live := liveStates(t, s.mem)

	flipped := bytes.Clone(orig)
	flipped[len(flipped)/2] ^= 0x40
	for _, tc := range []struct {
		name  string
		index []byte // nil: no index file
	}{
		{"missing", nil},
		{"empty", []byte{}},
		{"corrupt", flipped},
		{"truncated", orig[:len(orig)/2]},
		{"another tape's", otherIdx},
		{"garbage", bytes.Repeat([]byte("TICKTIDX\x01\x00"), 20)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			must(t, os.Remove(idxPath))
			if tc.index != nil {
				must(t, os.WriteFile(idxPath, tc.index, 0o644))
			}
			r, err := tape.Open(s.path)
			must(t, err)
			defer r.Close()
			if got := r.Info(); !reflect.DeepEqual(got, wantInfo) {
				t.Errorf("Info: got %+v, want %+v", got, wantInfo)
			}
			if got := r.Keyframes(); !reflect.DeepEqual(got, wantKeys) {
				t.Errorf("Keyframes: got %v, want %v", got, wantKeys)
			}
			for _, tick := range []uint64{0, 1, 24, 25, 26, 99, 137, 199, 200} {
				m, err := r.Seek(tick)
				if err != nil {
					t.Fatalf("Seek(%d): %v", tick, err)
				}
				if d := diffState(mirrorState(m), live[tick]); d != "" {
					t.Fatalf("Seek(%d): %s", tick, d)
				}
			}
			got, err := os.ReadFile(idxPath)
			must(t, err)
			if !bytes.Equal(got, orig) {
				t.Errorf("rewritten index (%d bytes) differs from the one Close wrote (%d bytes)", len(got), len(orig))
			}
		})
	}
}

// TestIndexStaleAfterAppend: an index that describes a shorter file is not
// trusted, so keyframes appended after it are found.
func TestIndexStaleAfterAppend(t *testing.T) {
	dir := t.TempDir()
	s := recordSession(t, dir, "a.tape", scenario{Ticks: 40, Players: 1, KeyEvery: 10, HoldInput: 1})
	f, err := os.OpenFile(s.path, os.O_WRONLY|os.O_APPEND, 0)
	must(t, err)
	_, err = f.Write([]byte{0xff}) // a byte after the end record
	must(t, err)
	must(t, f.Close())
	r, err := tape.Open(s.path)
	must(t, err)
	defer r.Close()
	in := r.Info()
	if in.Damage == nil || in.Damage.Offset != fileSize(t, s.path)-1 {
		t.Errorf("Info damage: got %v, want data after the end record at %d", in.Damage, fileSize(t, s.path)-1)
	}
	if !in.Clean || in.Keyframes != 5 {
		t.Errorf("Info: clean %v, %d keyframes; want clean, 5", in.Clean, in.Keyframes)
	}
}
