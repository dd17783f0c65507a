package tape_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/tape"
	"github.com/tickroom/tickroom/state"
)

// viewsSession is a small views room's recording: members join, change
// views, one leaves, keyframes carry every view. Its messages are the
// smallest view snapshot and deltas: only the records around them matter.
type viewsStep struct {
	tick     uint64
	ops      []rooms.Op
	keyframe bool
	full     bool
	views    []rooms.MemberView
}

var viewsSession = []viewsStep{
	{tick: 0, keyframe: true, full: true},
	{tick: 1, ops: []rooms.Op{{Kind: rooms.OpJoin, Member: 1, Name: "a"}}, views: []rooms.MemberView{{Member: 1, Entity: 5, Groups: []state.GroupID{3, 4, 300}}}},
	{tick: 2, ops: []rooms.Op{{Kind: rooms.OpJoin, Member: 2, Name: "b"}}, views: []rooms.MemberView{{Member: 2, Entity: 6, Groups: []state.GroupID{}}}},
	{tick: 3, views: []rooms.MemberView{{Member: 1, Entity: 5, Groups: []state.GroupID{4, 300, 70000}}}},
	{tick: 4, ops: []rooms.Op{{Kind: rooms.OpLeave, Member: 2}}, views: []rooms.MemberView{{Member: 2, Gone: true}}},
	{tick: 5, keyframe: true, full: true, views: []rooms.MemberView{{Member: 1, Entity: 5, Groups: []state.GroupID{4, 300, 70000}}}},
	{tick: 6},
}

// record writes the session to w as a room would.
func (s viewsStep) record(tb testing.TB, w *tape.Writer) {
	tb.Helper()
	if s.tick > 0 {
		must(tb, w.Tick(s.tick, s.ops, []byte{0x94, 0x07, byte(s.tick), byte(s.tick - 1), 0x90}))
	}
	if s.keyframe {
		must(tb, w.Keyframe(s.tick, []byte{0x92, 0x08, byte(s.tick)}))
	}
	if s.full || len(s.views) > 0 {
		must(tb, w.Views(s.tick, s.full, s.views))
	}
}

func viewsHeader(views bool) rooms.RecordingHeader {
	return rooms.RecordingHeader{RoomID: "views-1", Type: "field-bench", TickRate: 20, Seed: 7, Views: views}
}

// TestViewsRecordsRoundTrip: a views room's tape is version 2 and hands
// back every views record as written, in its place among the others; the
// fixture testdata/views.tape (+ views.json, its records with the views
// decoded) keeps the browser's reader (client/pages/replay-follow.ts) in
// step with this writer.
func TestViewsRecordsRoundTrip(t *testing.T) {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	path := filepath.Join(t.TempDir(), "views.tape")
	w, err := tape.Create(path, viewsHeader(true), tape.WriterOptions{Now: func() time.Time { return clock }})
	must(t, err)
	for _, s := range viewsSession {
		s.record(t, w)
	}
	must(t, w.Close())
	got, err := os.ReadFile(path)
	must(t, err)
	if v := binary.LittleEndian.Uint16(got[len(tape.Magic):]); v != 2 {
		t.Fatalf("a views room's tape says version %d, want 2", v)
	}

	r, err := tape.Open(path)
	must(t, err)
	defer r.Close()
	if v := r.Info().Version; v != 2 {
		t.Fatalf("Info().Version %d, want 2", v)
	}
	type viewJSON struct {
		Member uint32   `json:"member"`
		Entity uint32   `json:"entity"`
		Groups []uint32 `json:"groups"` // null: the member left
	}
	type rec struct {
		Kind   string     `json:"kind"`
		Tick   uint64     `json:"tick"`
		Offset int64      `json:"offset"`
		Full   *bool      `json:"full,omitempty"`
		Views  []viewJSON `json:"views,omitempty"`
	}
	var recs []rec
	var views []viewsStep
	for {
		x, err := r.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		out := rec{Kind: x.Kind.String(), Tick: x.Tick, Offset: x.Offset}
		if x.Kind == tape.KindViews {
			full, vs, err := x.DecodeViews()
			must(t, err)
			out.Full = &full
			out.Views = []viewJSON{}
			views = append(views, viewsStep{tick: x.Tick, full: full, views: vs})
			for _, v := range vs {
				j := viewJSON{Member: v.Member, Entity: uint32(v.Entity)}
				if !v.Gone {
					j.Groups = []uint32{}
					for _, g := range v.Groups {
						j.Groups = append(j.Groups, uint32(g))
					}
				}
				out.Views = append(out.Views, j)
			}
		}
		recs = append(recs, out)
	}
	var want []viewsStep
	for _, s := range viewsSession {
		if s.full || len(s.views) > 0 {
			want = append(want, viewsStep{tick: s.tick, full: s.full, views: s.views})
		}
	}
	for i := range want {
		if want[i].views == nil {
			want[i].views = []rooms.MemberView{}
		}
	}
	if !reflect.DeepEqual(views, want) {
		t.Fatalf("views read back:\n%+v\nwant\n%+v", views, want)
	}
	// Each tick's order: its delta or ops, then a keyframe, then the views.
	order := ""
	for _, x := range recs {
		order += x.Kind[:1]
	}
	if want := "kvovovdvovdkvde"; order != want {
		t.Fatalf("record kinds in order %q, want %q", order, want)
	}

	checkFixture(t, "views", "Records of views.tape, in order, views decoded (go test ./rooms/tape -run TestViewsRecordsRoundTrip -update).", got, recs,
		"docs/TAPE.md and client/pages/replay-follow.ts")
}

// TestNoViewsNoChange: a room without views writes a version 1 tape, and
// a Views call on it (or on an old tape continued) writes nothing: the
// same session with and without the calls gives the same bytes, and the
// committed version 1 fixture (TestSampleFixture) still reads.
func TestNoViewsNoChange(t *testing.T) {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	write := func(callViews bool) []byte {
		path := filepath.Join(t.TempDir(), "plain.tape")
		w, err := tape.Create(path, viewsHeader(false), tape.WriterOptions{Now: func() time.Time { return clock }})
		must(t, err)
		for _, s := range viewsSession {
			if !callViews {
				s.full, s.views = false, nil
			}
			s.record(t, w)
		}
		must(t, w.Close())
		b, err := os.ReadFile(path)
		must(t, err)
		return b
	}
	with, without := write(true), write(false)
	if !bytes.Equal(with, without) {
		t.Fatal("views calls changed a version 1 tape")
	}
	if v := binary.LittleEndian.Uint16(with[len(tape.Magic):]); v != 1 {
		t.Fatalf("a room without views writes version %d, want 1", v)
	}
	old, err := os.ReadFile(filepath.Join("testdata", "sample.tape")) // written before version 2 existed
	must(t, err)
	oldPath := filepath.Join(t.TempDir(), "sample.tape") // a copy: Open writes an index beside it
	must(t, os.WriteFile(oldPath, old, 0o644))
	r, err := tape.Open(oldPath)
	must(t, err)
	defer r.Close()
	if v := r.Info().Version; v != 1 {
		t.Fatalf("the version 1 fixture reads as version %d", v)
	}
	if _, err := r.Seek(r.Info().LastTick); err != nil {
		t.Fatalf("seek in a version 1 tape: %v", err)
	}
}

// TestContinuedViewsTape: a views room's tape continued after a pause
// (a wake) stays version 2 and takes views records after the seam; its
// LogEnd says the room has views.
func TestContinuedViewsTape(t *testing.T) {
	path := filepath.Join(t.TempDir(), "views.tape")
	w, err := tape.Create(path, viewsHeader(true), tape.WriterOptions{})
	must(t, err)
	for _, s := range viewsSession[:3] {
		s.record(t, w)
	}
	must(t, w.Pause())
	w, end, err := tape.Continue(path, tape.WriterOptions{})
	must(t, err)
	if !end.Header.Views {
		t.Fatal("the continued tape's header does not say Views")
	}
	for _, s := range viewsSession[3:] {
		s.record(t, w)
	}
	must(t, w.Close())
	r, err := tape.Open(path)
	must(t, err)
	defer r.Close()
	if v := r.Info().Version; v != 2 {
		t.Fatalf("continued tape version %d, want 2", v)
	}
	var ticks []uint64
	for {
		x, err := r.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		if x.Kind == tape.KindViews {
			ticks = append(ticks, x.Tick)
		}
	}
	if want := []uint64{0, 1, 2, 3, 4, 5}; !reflect.DeepEqual(ticks, want) {
		t.Fatalf("views records at ticks %v, want %v", ticks, want)
	}
}
