package sqlite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/store/sqlite"
	"github.com/tickroom/tickroom/rooms/store/storetest"
)

func open(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "rooms.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Directory(t, func(t *testing.T) rooms.Directory { return open(t) })
	storetest.Checkpoints(t, func(t *testing.T) rooms.CheckpointStore { return open(t) })
}

// TestSurvivesReopen: what one process committed, the next one reads.
func TestSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rooms.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(rooms.RoomRecord{ID: "r1", Type: "board", State: rooms.StateDormant, Secret: []byte("s"), Options: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveCheckpoint("r1", 7, []byte("cp")); err != nil {
		t.Fatal(err)
	}
	secret, _ := s.Meta("link-secret", func() []byte { return []byte("first") })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if r, err := s.Get("r1"); err != nil || r.Type != "board" {
		t.Fatalf("after reopening: got %+v, %v", r, err)
	}
	var got []byte
	_ = s.LoadCheckpoints("r1", func(_ uint64, b []byte) bool { got = b; return true })
	if string(got) != "cp" {
		t.Fatalf("checkpoint after reopening: %q", got)
	}
	again, _ := s.Meta("link-secret", func() []byte { return []byte("second") })
	if string(again) != string(secret) || string(secret) != "first" {
		t.Fatalf("meta: %q then %q, want the first value kept", secret, again)
	}
}

// TestRefusesAFileThatIsNotADatabase: a damaged or foreign file is an
// error that names it, never a silently empty directory.
func TestRefusesAFileThatIsNotADatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rooms.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not a database ", 500)), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := sqlite.Open(path)
	if err == nil {
		s.Close()
		t.Fatal("Open accepted a file that is not a database")
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("the error does not name the file: %v", err)
	}
}

// BenchmarkSaveCheckpoint is the persister's cost of storing one
// checkpoint (a transaction with its pruning) of 1 KiB and of 100 KiB.
func BenchmarkSaveCheckpoint(b *testing.B) {
	for _, size := range []int{1 << 10, 100 << 10} {
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			s, err := sqlite.Open(filepath.Join(b.TempDir(), "rooms.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			data := make([]byte, size)
			tick := uint64(0)
			for b.Loop() {
				tick++
				if err := s.SaveCheckpoint("room", tick, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
