package arenabench

import (
	"fmt"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
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
		if len(opts) > 0 {
			return nil, nil, fmt.Errorf("%w: arena-bench takes no options", rooms.ErrBadOptions)
		}
		return &handler{}, map[string]any{"width": Width, "height": Height, "speed": Speed}, nil
	},
}

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
	var in Input
	if err := msgpack.Unmarshal(payload, &in); err != nil {
		return fmt.Errorf("arena-bench: input must be {dx: number, dy: number}: %v", err)
	}
	in, err := in.Clamp()
	if err != nil {
		return err
	}
	m.Data.(*Player).Input = in
	return nil
}

func (h *handler) Tick(ctx *rooms.Context) { h.scene.Step(ctx.Tick) }
