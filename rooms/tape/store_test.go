package tape_test

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/tape"
)

// startRecording records sc through the store's factory; the recording
// stays open unless closeIt. It returns the recording's id.
func startRecording(t *testing.T, s *tape.Store, sc scenario, roomID string, closeIt bool) (string, *tape.Writer) {
	t.Helper()
	h := sc.header()
	h.RoomID = roomID
	var logs rooms.LogStore = s
	rec, err := logs.Create(h)
	must(t, err)
	sc.run(t, rec)
	w := rec.(*tape.Writer)
	if closeIt {
		must(t, w.Close())
	} else {
		must(t, w.Flush())
	}
	if id := strings.TrimSuffix(filepath.Base(w.Path()), tape.Ext); id != w.ID() {
		t.Fatalf("ID %q, want the file's name %q", w.ID(), id)
	}
	return w.ID(), w
}

func TestStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "recordings")
	s, err := tape.NewStore(dir, tape.StoreOptions{})
	must(t, err)
	sc := scenario{Ticks: 60, Players: 2, KeyEvery: 20, HoldInput: 1}
	done, _ := startRecording(t, s, sc, "room-done", true)
	live, w := startRecording(t, s, sc, "room-live", false)
	defer w.Close()

	list, err := s.List()
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("List: got %d entries, want 2", len(list))
	}
	for _, want := range []struct {
		id, room   string
		inProgress bool
	}{{done, "room-done", false}, {live, "room-live", true}} {
		i := slices.IndexFunc(list, func(e tape.Entry) bool { return e.ID == want.id })
		if i < 0 {
			t.Fatalf("List: %s missing", want.id)
		}
		e := list[i]
		if e.RoomID != want.room || e.InProgress != want.inProgress || e.Clean == want.inProgress ||
			e.Type != "arena-bench" || e.LastTick != 60 || e.Duration != 3*time.Second ||
			!slices.Equal(e.Members, []string{"player-1", "player-2"}) || e.Size != fileSize(t, filepath.Join(dir, e.ID+tape.Ext)) ||
			e.ValidSize != e.Size {
			t.Errorf("List entry %s: got %+v", want.id, e)
		}
		got, err := s.Get(want.id)
		if err != nil || got.ID != want.id || got.InProgress != want.inProgress {
			t.Errorf("Get(%s): got %+v, %v", want.id, got, err)
		}
	}

	// A download of a recording in progress (its first ValidSize bytes)
	// reads to the end without damage.
	e, err := s.Get(live)
	must(t, err)
	data, err := os.ReadFile(filepath.Join(dir, live+tape.Ext))
	must(t, err)
	cp := filepath.Join(t.TempDir(), "download.tape")
	must(t, os.WriteFile(cp, data[:e.ValidSize], 0o644))
	dl, err := tape.Open(cp)
	must(t, err)
	if recs, err := readAll(dl); err != io.EOF || len(recs) != w.Progress().Records {
		t.Errorf("download of the live recording: %d records then %v, want %d then io.EOF", len(recs), err, w.Progress().Records)
	}
	must(t, dl.Close())

	if _, err := s.Path(done); err != nil {
		t.Errorf("Path(%s): %v", done, err)
	}
	for _, tc := range []struct {
		name string
		id   string
		want error
	}{
		{"in progress", live, tape.ErrInProgress},
		{"not a uuid", "../../etc/passwd", tape.ErrNotFound},
		{"unknown", "6f1c3f5e-8b7d-4d7e-9a53-2c1f0e9b8a77", tape.ErrNotFound},
		{"uppercase", strings.ToUpper(done), tape.ErrNotFound},
		{"finished", done, nil},
		{"finished again", done, tape.ErrNotFound},
	} {
		t.Run("delete "+tc.name, func(t *testing.T) {
			if err := s.Delete(tc.id); !errors.Is(err, tc.want) {
				t.Errorf("Delete: got %v, want %v", err, tc.want)
			}
		})
	}
	for _, f := range []string{done + tape.Ext, done + tape.Ext + ".idx"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s after Delete: %v, want it gone", f, err)
		}
	}

	must(t, w.Close())
	e, err = s.Get(live)
	if err != nil || e.InProgress || !e.Clean {
		t.Errorf("Get after Close: got %+v, %v; want finished and clean", e, err)
	}
}

// recordingSizes records sc once finished and once in progress in a
// scratch store and returns their sizes on disk (tape plus index).
func recordingSizes(t *testing.T, sc scenario) (finished, live int64) {
	t.Helper()
	dir := t.TempDir()
	s, err := tape.NewStore(dir, tape.StoreOptions{})
	must(t, err)
	id, _ := startRecording(t, s, sc, "room", true)
	lid, w := startRecording(t, s, sc, "room", false)
	defer w.Close()
	return storeBytes(t, dir, id), storeBytes(t, dir, lid)
}

// storeBytes is the size of a recording's files.
func storeBytes(t *testing.T, dir, id string) int64 {
	n := fileSize(t, filepath.Join(dir, id+tape.Ext))
	if st, err := os.Stat(filepath.Join(dir, id+tape.Ext+".idx")); err == nil {
		n += st.Size()
	}
	return n
}

func TestStoreRetention(t *testing.T) {
	now := time.Now()
	sc := scenario{Ticks: 30, Players: 1, KeyEvery: 10, HoldInput: 1}
	size, liveSize := recordingSizes(t, sc)
	ages := []time.Duration{10 * 24 * time.Hour, 5 * 24 * time.Hour, 24 * time.Hour, time.Hour}
	total := int64(len(ages))*size + liveSize
	for _, tc := range []struct {
		name     string
		maxAge   time.Duration
		maxBytes int64
		want     []int // indexes into ages of the recordings deleted
	}{
		{"no limits", 0, 0, nil},
		{"by age", 2 * 24 * time.Hour, 0, []int{0, 1}},
		{"by bytes", 0, total - 2*size, []int{0, 1}},
		{"by bytes, one byte short", 0, total - size - 1, []int{0, 1}},
		{"by age then bytes", 2 * 24 * time.Hour, total - 3*size, []int{0, 1, 2}},
		{"everything it may", 0, 1, []int{0, 1, 2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := tape.NewStore(dir, tape.StoreOptions{MaxAge: tc.maxAge, MaxBytes: tc.maxBytes})
			must(t, err)
			var ids []string
			for _, age := range ages {
				id, _ := startRecording(t, s, sc, "room", true)
				if got := storeBytes(t, dir, id); got != size {
					t.Fatalf("recording size %d, want %d as in the scratch store", got, size)
				}
				for _, f := range []string{id + tape.Ext, id + tape.Ext + ".idx"} {
					must(t, os.Chtimes(filepath.Join(dir, f), now.Add(-age), now.Add(-age)))
				}
				ids = append(ids, id)
			}
			// The oldest file of all is a recording still in progress.
			live, w := startRecording(t, s, sc, "room", false)
			defer w.Close()
			old := now.Add(-30 * 24 * time.Hour)
			must(t, os.Chtimes(filepath.Join(dir, live+tape.Ext), old, old))

			removed, err := s.Enforce()
			must(t, err)
			var want []string
			for _, i := range tc.want {
				want = append(want, ids[i])
			}
			if !slices.Equal(removed, want) {
				t.Errorf("Enforce removed %v, want %v", removed, want)
			}
			list, err := s.List()
			must(t, err)
			if len(list) != 1+len(ids)-len(want) {
				t.Errorf("List after Enforce: %d entries, want %d", len(list), 1+len(ids)-len(want))
			}
			for _, id := range want {
				if _, err := os.Stat(filepath.Join(dir, id+tape.Ext+".idx")); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("index of deleted %s: %v, want it gone", id, err)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, live+tape.Ext)); err != nil {
				t.Errorf("the recording in progress was touched: %v", err)
			}
		})
	}
}
