package tape_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"testing"

	"github.com/tickroom/tickroom/rooms/tape"
)

// FuzzReader feeds arbitrary bytes, seeded with a real tape and pieces of
// it, to NewReader, Next, Seek and Frames: none may panic, and Next never
// returns a record that is not wholly inside the file or out of order. It
// reads from memory (Open reads the same way, through ReadAt, plus an
// index file), so that it runs thousands of inputs a second, not a few.
func FuzzReader(f *testing.F) {
	s := recordSession(f, f.TempDir(), "seed.tape", scenario{Ticks: 12, Players: 1, KeyEvery: 5, HoldInput: 1, Chat: true})
	seed, err := os.ReadFile(s.path)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	f.Add(seed[:len(seed)/2])
	f.Add(seed[:100])
	f.Add([]byte("TICKTAPE"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := tape.NewReader(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		in := r.Info()
		end := int64(0)
		for range 100000 {
			rec, err := r.Next()
			var d *tape.DamageError
			if err == io.EOF || errors.As(err, &d) {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			if rec.Offset < end || rec.Offset+int64(rec.Size) > int64(len(data)) {
				t.Fatalf("record at %d+%d outside the file (%d bytes) or before %d", rec.Offset, rec.Size, len(data), end)
			}
			end = rec.Offset + int64(rec.Size)
		}
		for _, tick := range []uint64{0, in.FirstTick, in.LastTick, in.LastTick + 1} {
			_, _ = r.Seek(tick) // any error is fine; a panic is not
		}
		for _, err := range r.Frames(in.FirstTick, in.LastTick) {
			if err != nil {
				break
			}
		}
	})
}
