package rooms_test

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/rooms/fieldbench"
	"github.com/tickroom/tickroom/state"
)

// memRecorder keeps a recording in memory.
type memRecorder struct {
	mu        sync.Mutex
	header    rooms.RecordingHeader
	ticks     []recordedTick
	keyframes map[uint64][]byte
	events    int
	closed    bool
	views     []recordedViews
}

type recordedViews struct {
	tick  uint64
	full  bool
	views []rooms.MemberView
}

// Views makes memRecorder a ViewRecorder: a room calls it only when its
// type has views.
func (m *memRecorder) Views(tick uint64, full bool, vs []rooms.MemberView) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp := make([]rooms.MemberView, len(vs))
	for i, v := range vs {
		cp[i] = v
		cp[i].Groups = append([]state.GroupID(nil), v.Groups...)
	}
	m.views = append(m.views, recordedViews{tick, full, cp})
	return nil
}

type recordedTick struct {
	tick  uint64
	ops   []rooms.Op
	delta []byte
}

func (m *memRecorder) Keyframe(tick uint64, snap []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keyframes[tick] = bytes.Clone(snap)
	return nil
}

func (m *memRecorder) Tick(tick uint64, ops []rooms.Op, delta []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ticks = append(m.ticks, recordedTick{tick, append([]rooms.Op(nil), ops...), bytes.Clone(delta)})
	return nil
}

func (m *memRecorder) Event(uint64, []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events++
	return nil
}

func (m *memRecorder) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

func (m *memRecorder) ID() string   { return "mem-" + m.header.RoomID }
func (m *memRecorder) Pause() error { return m.Close() }
func (m *memRecorder) Sync() error  { return nil }

func (m *memRecorder) Position() (rooms.LogPosition, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.ticks) == 0 {
		return rooms.LogPosition{}, nil
	}
	return rooms.LogPosition{Tick: m.ticks[len(m.ticks)-1].tick}, nil
}

// oneLog is a LogStore that records one room into a memRecorder.
type oneLog struct{ rec *memRecorder }

func (o oneLog) Create(h rooms.RecordingHeader) (rooms.LogWriter, error) {
	o.rec.header = h
	return o.rec, nil
}

func (o oneLog) Continue(string) (rooms.LogWriter, rooms.LogEnd, error) {
	return nil, rooms.LogEnd{}, rooms.ErrNotFound
}

func (o oneLog) Read(string, rooms.LogPosition, func(rooms.LogRecord) error) error {
	return rooms.ErrNotFound
}

// TestReplayEqualsLive guards the invariant "replay equals live": a room
// records its ops and deltas while members join, send inputs and leave; a
// Sim re-running the recorded ops from the recorded seed must publish the
// very same delta bytes at every tick.
func TestReplayEqualsLive(t *testing.T) {
	for _, tc := range []struct {
		typ   *rooms.Type
		input func(i int) any
	}{
		{arenabench.Type, func(i int) any {
			in := arenabench.ClientInput(i, uint64(i))
			return map[string]any{"dx": in.DX, "dy": in.DY}
		}},
		{arena.Type, func(i int) any { // views: the recording's frames of every group
			in := arenabench.ClientInput(i, uint64(i))
			return map[string]any{"dx": in.DX, "dy": in.DY}
		}},
		{fieldbench.Type, func(i int) any {
			in := fieldbench.ClientInput(i, uint64(i))
			return map[string]any{"dx": in.DX, "dy": in.DY}
		}},
		{board.Type, func(i int) any {
			if i%3 == 0 {
				return map[string]any{"op": "create", "shape": i % 2, "x": 100 + i, "y": 50 + i, "w": 40, "h": 30, "color": 0x112233 + i}
			}
			return map[string]any{"op": "cursor", "x": float64(i) * 7.5, "y": float64(i) * 3.25}
		}},
	} {
		t.Run(tc.typ.Name, func(t *testing.T) {
			rec := &memRecorder{keyframes: map[uint64][]byte{}}
			reg := rooms.NewRegistry()
			if err := reg.Register(tc.typ); err != nil {
				t.Fatal(err)
			}
			mgr := rooms.NewManager(reg, rooms.Config{
				KeyframeInterval: 200 * time.Millisecond,
				Logs:             oneLog{rec},
			})
			r, err := mgr.Create(rooms.CreateRequest{Type: tc.typ.Name})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			var clients []*rooms.Client
			for _, name := range []string{"ann", "bo", "cy"} {
				c, err := r.Join(&fakeConn{msgs: make(chan []byte, 4096)}, name, "")
				if err != nil {
					t.Fatalf("join: %v", err)
				}
				clients = append(clients, c)
			}
			for i := 1; i <= 40; i++ {
				if i == 20 {
					r.Leave(clients[2], true) // an explicit leave mid-run
					clients = clients[:2]
				}
				c := clients[i%len(clients)]
				payload, _ := msgpack.Marshal(tc.input(i))
				if err := r.Input(c, uint64(i), payload); err != nil {
					t.Fatalf("input: %v", err)
				}
				waitTicks(t, r, 1)
			}
			waitTicks(t, r, 3)
			if err := mgr.Shutdown(t.Context(), rooms.CloseGoingAway, "test over"); err != nil {
				t.Fatal(err)
			}

			rec.mu.Lock()
			defer rec.mu.Unlock()
			if !rec.closed || len(rec.ticks) < 40 || len(rec.keyframes) < 2 {
				t.Fatalf("recording: closed=%v ticks=%d keyframes=%d; want closed, >= 40 ticks, >= 2 keyframes",
					rec.closed, len(rec.ticks), len(rec.keyframes))
			}
			var inputs, joins, leaves int
			sim, err := rooms.NewSim(tc.typ, rec.header.Options, rec.header.Seed)
			if err != nil {
				t.Fatalf("sim: %v", err)
			}
			for _, rt := range rec.ticks {
				for _, op := range rt.ops {
					switch op.Kind {
					case rooms.OpInput:
						inputs++
					case rooms.OpJoin:
						joins++
					case rooms.OpLeave:
						leaves++
					}
					if err := sim.Apply(rt.tick, op); err != nil {
						t.Fatalf("tick %d: %v", rt.tick, err)
					}
				}
				if got := sim.Step(rt.tick); !bytes.Equal(got, rt.delta) {
					at := 0
					for at < len(got) && at < len(rt.delta) && got[at] == rt.delta[at] {
						at++
					}
					t.Fatalf("tick %d: re-run delta (%d bytes) differs from live (%d bytes) at byte %d\n got % x\nwant % x", rt.tick, len(got), len(rt.delta), at,
						got[max(0, at-16):min(len(got), at+32)], rt.delta[max(0, at-16):min(len(rt.delta), at+32)])
				}
				if kf, ok := rec.keyframes[rt.tick]; ok {
					snap, err := sim.Snapshot()
					if err != nil || !bytes.Equal(snap, kf) {
						t.Fatalf("tick %d: re-run snapshot differs from the keyframe (err %v)", rt.tick, err)
					}
				}
			}
			if inputs != 40 || joins != 3 || leaves != 1 {
				t.Fatalf("recorded ops: %d inputs, %d joins, %d leaves; want 40, 3, 1", inputs, joins, leaves)
			}
			checkRecordedViews(t, tc.typ, rec)
		})
	}
}

// waitTicks waits until the room has published n more ticks.
func waitTicks(t *testing.T, r *rooms.Room, n uint64) {
	t.Helper()
	target := r.CurrentTick() + n
	deadline := time.Now().Add(5 * time.Second)
	for r.CurrentTick() < target {
		if time.Now().After(deadline) {
			t.Fatalf("room stuck at tick %d, want %d", r.CurrentTick(), target)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// checkRecordedViews: a room without views records exactly what it did
// before views existed (no views record, a header without Views: a
// version 1 tape); a views room records every member's view with each
// keyframe, and a member's leaving.
func checkRecordedViews(t *testing.T, typ *rooms.Type, rec *memRecorder) {
	t.Helper()
	if rec.header.Views != typ.Views {
		t.Fatalf("header Views %v for a type with Views %v", rec.header.Views, typ.Views)
	}
	if !typ.Views {
		if len(rec.views) > 0 {
			t.Fatalf("a room without views recorded %d views records", len(rec.views))
		}
		return
	}
	fulls, joined, present := 0, map[uint32]bool{}, map[uint32]bool{}
	for _, v := range rec.views {
		if v.full {
			fulls++
			if _, ok := rec.keyframes[v.tick]; !ok {
				t.Fatalf("a full views record at tick %d without a keyframe there", v.tick)
			}
			clear(present) // it lists every member seated
		}
		for _, mv := range v.views {
			if mv.Gone {
				delete(present, mv.Member)
				continue
			}
			if mv.Entity == 0 {
				t.Fatalf("tick %d: member %d's view has no entity (its Join returned one)", v.tick, mv.Member)
			}
			joined[mv.Member], present[mv.Member] = true, true
		}
	}
	if fulls != len(rec.keyframes) || len(present) != 2 || len(joined) != 3 {
		t.Fatalf("views records: %d full (want one per keyframe: %d), %d members with a view at the end (want 2: one left), %d members seen (want 3)",
			fulls, len(rec.keyframes), len(present), len(joined))
	}
}
