package fieldbench

import (
	"fmt"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/payload"
	"github.com/tickroom/tickroom/state"
)

// Type is the field-bench room type: per-member views on. Its one option,
// "views" (default true), turns them off for the comparison run: every
// member then receives the whole world.
var Type = &rooms.Type{
	Name:          "field-bench",
	TickRate:      TickRate,
	Schema:        Schema,
	Deterministic: true,
	MaxPlayers:    64,
	Views:         true,
	DormantMaxAge: time.Hour, // benchmark rooms are throwaway
	New:           newHandler(true),
	Input:         InputDecl,
	Options:       optionsDecl,
	Events:        payload.NewEvents(), // none
}

// TypeNoViews is the same scene with views off, registered as
// "field-bench-all": the comparison run of the spec.
var TypeNoViews = &rooms.Type{
	Name:          "field-bench-all",
	TickRate:      TickRate,
	Schema:        Schema,
	Deterministic: true,
	MaxPlayers:    64,
	DormantMaxAge: time.Hour,
	New:           newHandler(false),
	Input:         InputDecl,
	Options:       optionsDecl,
	Events:        payload.NewEvents(),
}

// InputDecl declares the input, exactly {"dx": number, "dy": number}, each
// clamped to [-1, 1].
var InputDecl = payload.NewStruct[Input]("field-bench: input")

// optionsDecl says that field-bench takes no options.
var optionsDecl = payload.NewOptions("field-bench", func() struct{} { return struct{}{} })

func newHandler(views bool) func(map[string]any) (rooms.Handler, map[string]any, error) {
	return func(opts map[string]any) (rooms.Handler, map[string]any, error) {
		if _, err := optionsDecl.Parse(opts); err != nil {
			return nil, nil, err
		}
		return &handler{}, map[string]any{"width": World, "height": World, "views": views,
			"viewHalf": HalfView, "cell": Cell}, nil
	}
}

// handler runs the scene inside a room.
type handler struct{ scene *Scene }

func (h *handler) Init(ctx *rooms.Context) error {
	h.scene = NewSceneIn(ctx.World)
	return nil
}

// Join places the member's player by its member number: client c of the
// spec is member c+1 (members are numbered in join order from 1).
func (h *handler) Join(ctx *rooms.Context, m *rooms.Member) (*state.Entity, error) {
	var view *state.View
	if ctx.World.Views() {
		view = m.View()
	}
	p := h.scene.AddPlayer(int(m.Number-1), m.Name, view)
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
	p, ok := m.Data.(*Player)
	if !ok {
		return fmt.Errorf("field-bench: member %d has no player", m.Number)
	}
	p.Input = in
	return nil
}

func (h *handler) Tick(ctx *rooms.Context) { h.scene.Step(ctx.Tick) }
