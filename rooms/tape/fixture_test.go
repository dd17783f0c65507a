package tape_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms/tape"
)

var updateFixture = flag.Bool("update", false, "rewrite testdata/sample.tape and sample.json")

// TestSampleFixture keeps testdata/sample.tape, a tape written by this
// package's Writer with a fixed clock, and sample.json, its records, in step
// with the writer. The browser's tape reader (packages/client/src/replay) is tested
// against the same two files, so both sides agree on the format.
func TestSampleFixture(t *testing.T) {
	dir := t.TempDir()
	sc := scenario{Ticks: 60, Players: 2, KeyEvery: 20, HoldInput: 3, Leave: true, Chat: true}
	mem := &memory{}
	sc.run(t, mem)
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	path := filepath.Join(dir, "sample.tape")
	w, err := tape.Create(path, sc.header(), tape.WriterOptions{Now: func() time.Time { return clock }})
	must(t, err)
	mem.replay(t, w)
	must(t, w.Close())
	got, err := os.ReadFile(path)
	must(t, err)

	r, err := tape.Open(path)
	must(t, err)
	defer r.Close()
	type rec struct {
		Kind   string `json:"kind"`
		Tick   uint64 `json:"tick"`
		Offset int64  `json:"offset"`
	}
	var recs []rec
	for {
		x, err := r.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		recs = append(recs, rec{x.Kind.String(), x.Tick, x.Offset})
	}
	checkFixture(t, "sample", "Records of sample.tape, in order (go test ./rooms/tape -run TestSampleFixture -update).", got, recs,
		"docs/TAPE.md and packages/client/src/replay")
}

// TestFirstKeyframeIsOnDiskAtOnce: a tape in progress is replayable from
// the moment its room opened, not a flush interval later.
func TestFirstKeyframeIsOnDiskAtOnce(t *testing.T) {
	sc := scenario{Ticks: 1, Players: 1, KeyEvery: 100}
	mem := &memory{}
	sc.run(t, mem)
	path := filepath.Join(t.TempDir(), "fresh.tape")
	frozen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // the flush interval never passes
	w, err := tape.Create(path, sc.header(), tape.WriterOptions{FlushInterval: time.Hour, Now: func() time.Time { return frozen }})
	must(t, err)
	defer w.Close()
	mem.replay(t, w) // keyframe at tick 0, then tick 1
	r, err := tape.Open(path)
	must(t, err)
	defer r.Close()
	if r.Info().Keyframes != 1 {
		t.Fatalf("a fresh tape in progress shows %d keyframes on disk, want 1", r.Info().Keyframes)
	}
	if _, err := r.Seek(0); err != nil {
		t.Fatalf("seek 0 on a fresh tape: %v", err)
	}
}

// checkFixture compares a writer's tape and its records (as JSON, with a
// comment) with the committed testdata/NAME.tape and NAME.json, or writes
// them with -update. update names what else must follow a format change.
func checkFixture(t *testing.T, name, comment string, tape []byte, recs any, update string) {
	t.Helper()
	js, err := json.MarshalIndent(map[string]any{"comment": comment, "records": recs}, "", " ")
	must(t, err)
	js = append(js, '\n')
	tapeFile, jsonFile := filepath.Join("testdata", name+".tape"), filepath.Join("testdata", name+".json")
	if *updateFixture {
		must(t, os.MkdirAll("testdata", 0o755))
		must(t, os.WriteFile(tapeFile, tape, 0o644))
		must(t, os.WriteFile(jsonFile, js, 0o644))
	}
	wantTape, err := os.ReadFile(tapeFile)
	if err != nil {
		t.Fatalf("%v (run with -update to create the fixture)", err)
	}
	wantJSON, err := os.ReadFile(jsonFile)
	must(t, err)
	if !bytes.Equal(tape, wantTape) || !bytes.Equal(js, wantJSON) {
		t.Fatalf("the writer's output changed: if the format changed on purpose, run with -update and update %s", update)
	}
}
