package rooms_test

import (
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/payload"
	"github.com/tickroom/tickroom/state"
)

// The room type of docs/ROOM_TYPES.md, kept here so that it compiles and runs.

var dot = state.MustKind(0, "dot", &state.Draw{Shape: "circle", W: 20, H: 20},
	state.Pos("x"), state.Pos("y"), state.Int("color", state.U32), state.Text("name"))

const (
	x, y, color, name = 0, 1, 2, 3
)

// move is the input payload, [1, seq, {"dx": .., "dy": ..}], declared
// once: the same struct decodes it, words its errors (bad_input) and is
// the client's type (tickroom gen ts).
type move struct {
	DX float64 `payload:"dx,clamp=-1..1" doc:"steering along x"`
	DY float64 `payload:"dy,clamp=-1..1" doc:"steering along y"`
}

var moveDecl = payload.NewStruct[move]("tag: input")

// tagOptions are what a creator may set; every one is optional.
type tagOptions struct {
	Speed float64 `payload:"speed,range=1..20" doc:"units a tick at full input"`
}

var optionsDecl = payload.NewOptions("tag", func() tagOptions { return tagOptions{Speed: 4} })

var tagType = &rooms.Type{
	Name: "tag", TickRate: 30, Schema: state.MustSchema(dot), MaxPlayers: 16,
	Input: moveDecl, Options: optionsDecl, Events: payload.NewEvents(), // no custom events
	New: func(opts map[string]any) (rooms.Handler, map[string]any, error) {
		o, err := optionsDecl.Parse(opts) // an error wraps rooms.ErrBadOptions
		if err != nil {
			return nil, nil, err
		}
		return &tagHandler{opts: o}, optionsDecl.Map(o), nil
	},
}

type tagHandler struct{ opts tagOptions }

func (h *tagHandler) Init(ctx *rooms.Context) error { return nil }

func (h *tagHandler) Join(ctx *rooms.Context, m *rooms.Member) (*state.Entity, error) {
	e := ctx.World.Spawn(dot)
	e.SetFloat(x, ctx.Rand.Float64()*800)
	e.SetFloat(y, ctx.Rand.Float64()*600)
	e.SetInt(color, 0x33AAFF)
	e.SetString(name, m.Name)
	m.Data = &move{}
	return e, nil
}

func (h *tagHandler) Leave(ctx *rooms.Context, m *rooms.Member) { ctx.World.Despawn(m.Entity.ID()) }

func (h *tagHandler) Input(ctx *rooms.Context, m *rooms.Member, p msgpack.RawMessage) error {
	in, err := moveDecl.Decode(p) // an error goes back as bad_input
	if err != nil {
		return err
	}
	*m.Data.(*move) = in
	return nil
}

func (h *tagHandler) Tick(ctx *rooms.Context) {
	for _, m := range ctx.Members() {
		mv := m.Data.(*move)
		m.Entity.SetFloat(x, m.Entity.Float(x)+h.opts.Speed*mv.DX)
		m.Entity.SetFloat(y, m.Entity.Float(y)+h.opts.Speed*mv.DY)
	}
}

// fakeConn collects what the room sends, for tests that need no socket.
type fakeConn struct {
	msgs chan []byte
}

func (c *fakeConn) Send(msg []byte) bool {
	select {
	case c.msgs <- msg:
		return true
	default:
		return false
	}
}
func (c *fakeConn) Close(int, string) { close(c.msgs) }

// TestExampleRoomType runs the documented room type in a real manager: a
// member joins, moves right, and its mirror follows.
func TestExampleRoomType(t *testing.T) {
	reg := rooms.NewRegistry()
	if err := reg.Register(tagType); err != nil {
		t.Fatal(err)
	}
	mgr := rooms.NewManager(reg, rooms.Config{})
	t.Cleanup(func() { _ = mgr.Shutdown(t.Context(), rooms.CloseGoingAway, "test over") })
	r, err := mgr.Create(rooms.CreateRequest{Type: "tag"})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	conn := &fakeConn{msgs: make(chan []byte, 1024)}
	client, err := r.Join(conn, "ann", "")
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	var m *state.Mirror
	var entity state.EntityID
	startX := -1.0
	deadline := time.After(10 * time.Second)
	sent := false
	for {
		var msg []byte
		select {
		case msg = <-conn.msgs:
		case <-deadline:
			t.Fatal("the dot never moved right by 40 units")
		}
		var head []msgpack.RawMessage
		if err := msgpack.Unmarshal(msg, &head); err != nil {
			t.Fatalf("message: %v", err)
		}
		var tag int
		_ = msgpack.Unmarshal(head[0], &tag) // checked by the switch
		switch tag {
		case state.MsgWelcome:
			var w state.Welcome
			if err := msgpack.Unmarshal(head[1], &w); err != nil {
				t.Fatalf("welcome: %v", err)
			}
			s, err := state.SchemaFromWire(w.Kinds)
			if err != nil {
				t.Fatal(err)
			}
			m, entity = state.NewMirror(s), *w.Entity
			continue
		case state.MsgSnapshot, state.MsgDelta:
			if _, err := m.Apply(msg); err != nil {
				t.Fatalf("apply: %v", err)
			}
		default:
			continue
		}
		e := m.Entities[entity]
		if e == nil {
			continue
		}
		if startX < 0 {
			startX = e.Float(x)
		}
		if !sent {
			payload, _ := msgpack.Marshal(map[string]float64{"dx": 1, "dy": 0})
			if err := r.Input(client, 1, payload); err != nil {
				t.Fatalf("input: %v", err)
			}
			sent = true
		}
		if e.Float(x)-startX >= 40 {
			return
		}
	}
}
