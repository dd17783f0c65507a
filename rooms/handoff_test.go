package rooms_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/state"
)

func (m *memRecorder) RecordingID() string { return "mem-" + m.header.RoomID }

// closeConn records the close code a room sent.
type closeConn struct {
	msgs chan []byte
	code chan int
}

func (c *closeConn) Send(msg []byte) bool {
	select {
	case c.msgs <- msg:
		return true
	default:
		return false
	}
}
func (c *closeConn) Close(code int, _ string) {
	select {
	case c.code <- code:
	default:
	}
}

func newCloseConn() *closeConn {
	return &closeConn{msgs: make(chan []byte, 4096), code: make(chan int, 1)}
}

// TestHandoffRestoresTheRoom: a room handed off at the end of a tick and
// restored from its recording in another manager continues from the very
// same state, under the same id, and its members resume their seats.
func TestHandoffRestoresTheRoom(t *testing.T) {
	reg := rooms.NewRegistry()
	if err := reg.Register(arenabench.Type); err != nil {
		t.Fatal(err)
	}
	recA := &memRecorder{keyframes: map[uint64][]byte{}}
	mgrA := rooms.NewManager(reg, rooms.Config{Recorder: func(h rooms.RecordingHeader) (rooms.Recorder, error) {
		recA.header = h
		return recA, nil
	}})
	r, err := mgrA.Create(rooms.CreateRequest{Type: arenabench.Type.Name})
	if err != nil {
		t.Fatal(err)
	}
	conns := []*closeConn{newCloseConn(), newCloseConn()}
	var clients []*rooms.Client
	for i, c := range conns {
		cl, err := r.Join(c, fmt.Sprintf("p%d", i), "")
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, cl)
	}
	for seq := uint64(1); seq <= 15; seq++ {
		for i, cl := range clients {
			in := arenabench.ClientInput(i, seq)
			p, _ := msgpack.Marshal(map[string]float64{"dx": in.DX, "dy": in.DY})
			if err := r.Input(cl, seq, p); err != nil {
				t.Fatal(err)
			}
		}
		waitTicks(t, r, 1)
	}
	// The tokens the members hold, from their welcomes.
	var tokens []string
	for _, c := range conns {
		for tok := ""; tok == ""; {
			msg := <-c.msgs
			var head []msgpack.RawMessage
			_ = msgpack.Unmarshal(msg, &head)
			var tag int
			_ = msgpack.Unmarshal(head[0], &tag)
			if tag == state.MsgWelcome {
				var w state.Welcome
				_ = msgpack.Unmarshal(head[1], &w)
				tok = w.Token
				tokens = append(tokens, tok)
			}
		}
	}

	out, err := mgrA.Handoff(t.Context(), rooms.CloseRestart, "server restarting")
	if err != nil {
		t.Fatalf("handoff: %v", err)
	}
	if len(out) != 1 || len(out[0].Seats) != 2 || out[0].ID != r.ID {
		t.Fatalf("handoff: %+v", out)
	}
	for i, c := range conns {
		select {
		case code := <-c.code:
			if code != rooms.CloseRestart {
				t.Fatalf("member %d closed with %d, want 1012", i, code)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("member %d was not closed", i)
		}
	}
	h := out[0]

	// The state the live room published at the handoff tick.
	live := state.NewMirror(arenabench.Schema)
	recA.mu.Lock()
	if _, err := live.Apply(recA.keyframes[0]); err != nil {
		t.Fatal(err)
	}
	recorded := append([]recordedTick(nil), recA.ticks...)
	recA.mu.Unlock()
	for _, rt := range recorded {
		if _, err := live.Apply(rt.delta); err != nil {
			t.Fatal(err)
		}
	}
	if live.Tick != h.Tick {
		t.Fatalf("recording ends at tick %d, handoff at %d", live.Tick, h.Tick)
	}

	recB := &memRecorder{keyframes: map[uint64][]byte{}}
	mgrB := rooms.NewManager(reg, rooms.Config{Recorder: func(hh rooms.RecordingHeader) (rooms.Recorder, error) {
		recB.header = hh
		return recB, nil
	}})
	t.Cleanup(func() { _ = mgrB.Shutdown(t.Context(), rooms.CloseGoingAway, "test over") })
	walk := func(fn func(uint64, []rooms.Op) error) error {
		for _, rt := range recorded {
			if err := fn(rt.tick, rt.ops); err != nil {
				return err
			}
		}
		return nil
	}
	r2, err := mgrB.Restore(h, walk)
	if err != nil {
		t.Fatalf("restore: %v", err)
	}
	if r2.ID != r.ID || r2.Players() != 2 {
		t.Fatalf("restored room: id %s players %d", r2.ID, r2.Players())
	}
	recB.mu.Lock()
	first, ok := recB.keyframes[h.Tick]
	recB.mu.Unlock()
	if !ok {
		t.Fatalf("the restored room's recording has no keyframe at tick %d", h.Tick)
	}
	restored := state.NewMirror(arenabench.Schema)
	if _, err := restored.Apply(first); err != nil {
		t.Fatal(err)
	}
	if len(restored.Entities) != len(live.Entities) {
		t.Fatalf("restored %d entities, live had %d", len(restored.Entities), len(live.Entities))
	}
	for id, le := range live.Entities {
		re := restored.Entities[id]
		for i := range le.Kind.Fields {
			if re == nil || fmt.Sprint(re.Value(i)) != fmt.Sprint(le.Value(i)) {
				t.Fatalf("entity %d field %d: restored %v, live %v", id, i, re, le.Value(i))
			}
		}
	}

	back := newCloseConn()
	if _, err := r2.Join(back, "p0", tokens[0]); err != nil {
		t.Fatal(err)
	}
	msg := <-back.msgs
	var head []msgpack.RawMessage
	_ = msgpack.Unmarshal(msg, &head)
	var w state.Welcome
	if err := msgpack.Unmarshal(head[1], &w); err != nil {
		t.Fatal(err)
	}
	if !w.Resumed || w.Member != 1 || w.Entity == nil || *w.Entity != arenabench.FirstPlayer {
		t.Fatalf("resume after handoff: resumed %v member %d entity %v", w.Resumed, w.Member, w.Entity)
	}
	snap := <-back.msgs
	if !bytes.HasPrefix(snap, []byte{0x93, 0x02}) {
		t.Fatalf("the resumed member's second message is not a snapshot: % x", snap[:4])
	}
}
