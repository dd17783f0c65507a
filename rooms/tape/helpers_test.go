package tape_test

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/rooms/tape"
	"github.com/tickroom/tickroom/state"
)

// scenario is an arena-bench session: players join one every 3 ticks and
// send inputs, the first one leaves two thirds in, someone chats now and
// then. Every byte handed to the recorder is what a room would broadcast.
type scenario struct {
	Ticks     int
	Players   int
	KeyEvery  int // keyframe every this many ticks (and at tick 0)
	HoldInput int // a player sends a new input every this many ticks; 1 = every tick (the load generator)
	Leave     bool
	Chat      bool
}

func (sc scenario) header() rooms.RecordingHeader {
	return rooms.RecordingHeader{RoomID: "room-1", Type: arenabench.Type.Name, TickRate: arenabench.TickRate,
		Seed: 42, Options: map[string]any{"width": 1000, "height": 600}, Schema: arenabench.Schema.Wire()}
}

// run plays the scenario into rec and returns the final world.
func (sc scenario) run(tb testing.TB, rec rooms.Recorder) *state.World {
	tb.Helper()
	scene := arenabench.NewScene()
	w := scene.World
	_ = w.AppendDelta(nil, 0) // publish the start state as tick 0, as a room does
	snap, err := w.AppendSnapshot(nil)
	must(tb, err)
	must(tb, rec.Keyframe(0, snap))

	players := make([]*arenabench.Player, sc.Players)
	seqs := make([]uint64, sc.Players)
	var ops []rooms.Op
	var events [][]byte
	var delta []byte
	for t := uint64(1); t <= uint64(sc.Ticks); t++ {
		ops, events = ops[:0], events[:0]
		for c := range players {
			member := uint32(c + 1)
			switch {
			case players[c] == nil && t == uint64(1+3*c):
				name := fmt.Sprintf("player-%d", c+1)
				players[c] = scene.AddPlayer(name)
				ops = append(ops, rooms.Op{Kind: rooms.OpJoin, Member: member, Name: name})
				id := players[c].Entity.ID()
				events = append(events, event(tb, &state.Event{Type: "join", Member: member, Name: name, Entity: &id}))
			case players[c] == nil:
			case sc.Leave && c == 0 && t == uint64(sc.Ticks*2/3):
				scene.RemovePlayer(players[c])
				players[c] = nil
				ops = append(ops, rooms.Op{Kind: rooms.OpLeave, Member: member})
				events = append(events, event(tb, &state.Event{Type: "leave", Member: member, Name: "player-1", Reason: "left"}))
			case sc.HoldInput > 0 && t%uint64(sc.HoldInput) == 0:
				seqs[c]++
				in := arenabench.ClientInput(c, seqs[c])
				payload, err := msgpack.Marshal(in)
				must(tb, err)
				players[c].Input, err = in.Clamp()
				must(tb, err)
				ops = append(ops, rooms.Op{Kind: rooms.OpInput, Member: member, Seq: seqs[c], Payload: payload})
			}
		}
		if sc.Chat && t%50 == 25 {
			events = append(events, event(tb, &state.Event{Type: "chat", From: 2, Name: "player-2", Text: "gg", Tick: t}))
		}
		scene.Step(t)
		delta = w.AppendDelta(delta[:0], t)
		must(tb, rec.Tick(t, ops, delta))
		if t%uint64(sc.KeyEvery) == 0 {
			snap, err := w.AppendSnapshot(snap[:0])
			must(tb, err)
			must(tb, rec.Keyframe(t, snap))
		}
		for _, ev := range events {
			must(tb, rec.Event(t, ev))
		}
	}
	return w
}

func event(tb testing.TB, ev *state.Event) []byte {
	b, err := state.EncodeEvent(ev)
	must(tb, err)
	return b
}

func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}

// memory is a rooms.Recorder that keeps copies of what it was given, as the
// records a tape should hand back.
type memory struct {
	records []tape.Record
	ops     [][]rooms.Op // per record; nil but for ops records
	closed  bool
}

func (m *memory) Keyframe(tick uint64, snapshot []byte) error {
	m.add(tape.KindKeyframe, tick, nil, snapshot)
	return nil
}

func (m *memory) Tick(tick uint64, ops []rooms.Op, delta []byte) error {
	k := tape.KindDelta
	if len(ops) > 0 {
		k = tape.KindOps
	}
	m.add(k, tick, ops, delta)
	return nil
}

func (m *memory) Event(tick uint64, ev []byte) error {
	m.add(tape.KindEvent, tick, nil, ev)
	return nil
}

func (m *memory) Close() error { m.closed = true; return nil }

func (m *memory) add(k tape.Kind, tick uint64, ops []rooms.Op, data []byte) {
	m.records = append(m.records, tape.Record{Kind: k, Tick: tick, Data: slices.Clone(data)})
	var cp []rooms.Op
	for _, op := range ops {
		op.Payload = slices.Clone(op.Payload)
		cp = append(cp, op)
	}
	m.ops = append(m.ops, cp)
}

// replay feeds the remembered records to rec, in order.
func (m *memory) replay(tb testing.TB, rec rooms.Recorder) {
	tb.Helper()
	for i, r := range m.records {
		switch r.Kind {
		case tape.KindKeyframe:
			must(tb, rec.Keyframe(r.Tick, r.Data))
		case tape.KindDelta, tape.KindOps:
			must(tb, rec.Tick(r.Tick, m.ops[i], r.Data))
		case tape.KindEvent:
			must(tb, rec.Event(r.Tick, r.Data))
		}
	}
}

// session is a recorded scenario: what the recorder was given, the tape
// written from it, and the final world.
type session struct {
	mem   *memory
	path  string
	world *state.World
}

// recordSession runs sc and writes it to dir/name, closed cleanly.
func recordSession(tb testing.TB, dir, name string, sc scenario) session {
	tb.Helper()
	mem := &memory{}
	world := sc.run(tb, mem)
	path := filepath.Join(dir, name)
	w, err := tape.Create(path, sc.header(), tape.WriterOptions{})
	must(tb, err)
	mem.replay(tb, w)
	must(tb, w.Close())
	return session{mem: mem, path: path, world: world}
}

// readAll reads records until Next fails and returns them with that error.
func readAll(r *tape.Reader) ([]tape.Record, error) {
	var out []tape.Record
	for {
		rec, err := r.Next()
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

// sameRecord says how got differs from want (kind, tick and bytes), or "".
func sameRecord(got, want tape.Record) string {
	switch {
	case got.Kind != want.Kind:
		return fmt.Sprintf("kind %v, want %v", got.Kind, want.Kind)
	case got.Tick != want.Tick:
		return fmt.Sprintf("tick %d, want %d", got.Tick, want.Tick)
	case !bytes.Equal(got.Data, want.Data):
		return fmt.Sprintf("data % x, want % x", head(got.Data), head(want.Data))
	}
	return ""
}

func head(b []byte) []byte { return b[:min(len(b), 16)] }

// mirrorState is a mirror's entities by id: kind name, then every field's
// value, for comparing two mirrors exactly.
func mirrorState(m *state.Mirror) map[state.EntityID][]any {
	out := make(map[state.EntityID][]any, len(m.Entities))
	for id, e := range m.Entities {
		vals := []any{e.Kind.Name}
		for i := range e.Kind.Fields {
			vals = append(vals, e.Value(i))
		}
		out[id] = vals
	}
	return out
}

// diffState returns the first difference between two mirror states, or "".
func diffState(got, want map[state.EntityID][]any) string {
	for id, w := range want {
		g, ok := got[id]
		if !ok {
			return fmt.Sprintf("entity %d missing", id)
		}
		if !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("entity %d: got %v, want %v", id, g, w)
		}
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			return fmt.Sprintf("entity %d should not exist", id)
		}
	}
	return ""
}

// liveStates applies the remembered broadcast to a mirror, as a member who
// was there all along would, and returns its state after every tick.
func liveStates(tb testing.TB, mem *memory) map[uint64]map[state.EntityID][]any {
	tb.Helper()
	m := state.NewMirror(arenabench.Schema)
	out := make(map[uint64]map[state.EntityID][]any)
	for _, r := range mem.records {
		if r.Kind == tape.KindEvent {
			continue
		}
		if _, err := m.Apply(r.Data); err != nil {
			tb.Fatalf("live mirror: tick %d: %v", r.Tick, err)
		}
		out[m.Tick] = mirrorState(m)
	}
	return out
}

// fakeClock is a clock a test moves by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock               { return &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }
func fileSize(tb testing.TB, p string) int64 {
	tb.Helper()
	st, err := os.Stat(p)
	must(tb, err)
	return st.Size()
}

var _ = io.EOF
