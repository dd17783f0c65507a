package arenabench

import (
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/payload"
	"github.com/tickroom/tickroom/state"
)

// Type is the arena-bench room type. It takes no options.
var Type = &rooms.Type{
	Name:          "arena-bench",
	TickRate:      TickRate,
	Schema:        Schema,
	Deterministic: true,
	MaxPlayers:    64,
	// Benchmark rooms are throwaway.
	DormantMaxAge: time.Hour,
	New: func(opts map[string]any) (rooms.Handler, map[string]any, error) {
		if _, err := optionsDecl.Parse(opts); err != nil {
			return nil, nil, err
		}
		return &handler{}, map[string]any{"width": Width, "height": Height, "speed": Speed}, nil
	},
	Input:   InputDecl,
	Options: optionsDecl,
	Events:  payload.NewEvents(), // none
}

// InputDecl declares the input, exactly {"dx": number, "dy": number}, each
// clamped to [-1, 1]: its decoding, errors and generated client type.
var InputDecl = payload.NewStruct[Input]("arena-bench: input")

// optionsDecl says that arena-bench takes no options.
var optionsDecl = payload.NewOptions("arena-bench", func() struct{} { return struct{}{} })

// handler runs the scene inside a room.
type handler struct{ scene *Scene }

func (h *handler) Init(ctx *rooms.Context) error {
	h.scene = NewSceneIn(ctx.World)
	return nil
}

func (h *handler) Join(ctx *rooms.Context, m *rooms.Member) (*state.Entity, error) {
	p := h.scene.AddPlayer(m.Name)
	m.Data = p
	return p.Entity, nil
}

func (h *handler) Leave(ctx *rooms.Context, m *rooms.Member) {
	if p, ok := m.Data.(*Player); ok {
		h.scene.RemovePlayer(p)
	}
}

func (h *handler) Input(ctx *rooms.Context, m *rooms.Member, payload msgpack.RawMessage) error {
	in, err := InputDecl.Decode(payload)
	if err != nil {
		return err
	}
	m.Data.(*Player).Input = in
	return nil
}

func (h *handler) Tick(ctx *rooms.Context) { h.scene.Step(ctx.Tick) }
