package rooms_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/state"
)

// patrol is a views room type for the checkpoint tests: dots wander over
// groups 1..patrolGroups, each member has a private group of its own
// (patrolPrivate+number) holding its marker, and a member's view is the
// groups its Join drew and its inputs ask for, never derived from the
// world: a wake that lost members' views, or a group, would show.
const (
	patrolGroups  = 6
	patrolPrivate = 100
)

var (
	patrolDot  = state.MustKind(0, "dot", nil, state.Pos("x"), state.Pos("y"))
	patrolType = &rooms.Type{
		Name: "patrol", TickRate: 20, Schema: state.MustSchema(patrolDot), Deterministic: true, Views: true,
		Private: func(g state.GroupID) bool { return g >= patrolPrivate },
		New: func(map[string]any) (rooms.Handler, map[string]any, error) {
			return &patrol{}, map[string]any{}, nil
		},
	}
)

type patrol struct{}

func (p *patrol) Init(ctx *rooms.Context) error {
	for range 12 {
		p.spawn(ctx, state.GroupID(1+ctx.Rand.IntN(patrolGroups)))
	}
	return nil
}

func (p *patrol) spawn(ctx *rooms.Context, g state.GroupID) *state.Entity {
	e := ctx.World.Spawn(patrolDot)
	e.SetFloat(0, ctx.Rand.Float64()*100)
	e.SetFloat(1, ctx.Rand.Float64()*100)
	if g != state.Everyone && ctx.World.Views() {
		ctx.World.SetGroup(e, g)
	}
	return e
}

func (p *patrol) Join(ctx *rooms.Context, m *rooms.Member) (*state.Entity, error) {
	m.View().Set([]state.GroupID{state.GroupID(1 + ctx.Rand.IntN(patrolGroups)), patrolPrivate + state.GroupID(m.Number)})
	return p.spawn(ctx, patrolPrivate+state.GroupID(m.Number)), nil
}

func (p *patrol) Leave(ctx *rooms.Context, m *rooms.Member) {
	if m.Entity != nil {
		ctx.World.Despawn(m.Entity.ID())
	}
}

// Input {"see": [g...]} makes the member's view those groups and its own.
func (p *patrol) Input(ctx *rooms.Context, m *rooms.Member, payload msgpack.RawMessage) error {
	var in struct{ See []uint32 }
	if err := msgpack.Unmarshal(payload, &in); err != nil {
		return err
	}
	see := []state.GroupID{patrolPrivate + state.GroupID(m.Number)}
	for _, g := range in.See {
		if g > patrolGroups {
			return errors.New("no such group")
		}
		see = append(see, state.GroupID(g))
	}
	m.View().Set(see)
	return nil
}

// Tick moves some dots, moves some to other groups, and now and then
// spawns or despawns one (a group left empty is freed by the next publish).
func (p *patrol) Tick(ctx *rooms.Context) {
	for _, e := range ctx.World.Entities() {
		if e.Group() >= patrolPrivate {
			e.SetFloat(0, e.Float(0)+1)
			continue
		}
		switch ctx.Rand.IntN(8) {
		case 0:
			if ctx.World.Views() {
				ctx.World.SetGroup(e, state.GroupID(ctx.Rand.IntN(patrolGroups+1)))
			}
		case 1, 2, 3:
			e.SetFloat(0, e.Float(0)+ctx.Rand.Float64()-0.5)
		}
	}
	switch ctx.Rand.IntN(6) {
	case 0:
		p.spawn(ctx, state.GroupID(ctx.Rand.IntN(patrolGroups+1)))
	case 1:
		for _, e := range ctx.World.Entities() {
			if e.Group() < patrolPrivate {
				ctx.World.Despawn(e.ID())
				break
			}
		}
	}
}

func (p *patrol) SaveState(*rooms.Context) ([]byte, error) { return nil, nil }

func (p *patrol) LoadState(*rooms.Context, []byte) error { return nil }

// TestViewsCheckpointThenTailEqualsFullRun: a views room woken from a
// checkpoint at a random tick publishes the uninterrupted room's bytes
// (the recording's frame of every group but the private ones), and every
// member, resuming with a view snapshot, sees exactly what it would have
// seen: same groups, same mirror, after every tick.
func TestViewsCheckpointThenTailEqualsFullRun(t *testing.T) {
	roomtest.CheckpointProperty(t, patrolType, nil, 40, func(r *rand.Rand, _ *state.World) any {
		see := make([]uint32, r.IntN(4))
		for i := range see {
			see[i] = uint32(r.IntN(patrolGroups + 2)) // patrolGroups+1: refused
		}
		return map[string]any{"See": see}
	})
}

// TestViewsCheckpointRefusedAcrossTheSwitch: a checkpoint taken while a
// type had no views does not load once it has them (its entities are in
// no group: the room wakes from its log instead), nor one with groups into
// a type without views; the error says which.
func TestViewsCheckpointRefusedAcrossTheSwitch(t *testing.T) {
	off := *patrolType
	off.Views = false
	for _, c := range []struct {
		from, to *rooms.Type
		want     string
	}{
		{&off, patrolType, "taken without interest groups"},
		{patrolType, &off, "taken with interest groups"},
	} {
		sim, err := rooms.NewSim(c.from, nil, 1)
		if err != nil {
			t.Fatal(err)
		}
		if err := sim.Apply(1, rooms.Op{Kind: rooms.OpJoin, Member: 1, Name: "a"}); err != nil {
			t.Fatal(err)
		}
		sim.Step(1)
		cp, err := sim.Checkpoint()
		if err != nil {
			t.Fatalf("views %v: checkpoint: %v", c.from.Views, err)
		}
		_, err = rooms.NewSimFromCheckpoint(c.to, nil, cp)
		if !errors.Is(err, rooms.ErrBadCheckpoint) || !strings.Contains(fmt.Sprint(err), c.want) || !strings.Contains(fmt.Sprint(err), `"patrol"`) {
			t.Errorf("views %v -> %v: got %v, want ErrBadCheckpoint saying %q", c.from.Views, c.to.Views, err, c.want)
		}
	}
}
