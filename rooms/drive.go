package rooms

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/state"
)

// The functions in this file are the only way a handler is driven, by a
// live Room and by a Sim re-running a recording alike: one code path, so
// that a re-run makes exactly the calls the live room made.

// A handler that panics in Join, Leave or Input is stopped there, the
// same way live and in a re-run: the join is refused, the leave done, the
// input refused (whatever the handler changed before it panicked stays, in
// both). So a logged op that made the handler panic re-runs to the same
// state instead of failing the re-run. A panic in Tick stops the room.

// PanicError is a handler's panic, recovered.
type PanicError struct {
	Step  string
	Value any
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("handler panicked in %s: %v", e.Step, e.Value)
}

// recovered turns a panic into a *PanicError in *err; it must be deferred.
func recovered(step string, err *error) {
	if p := recover(); p != nil {
		*err = &PanicError{Step: step, Value: p}
	}
}

// driveJoin seats m with the handler.
func driveJoin(ctx *Context, h Handler, m *Member) (err error) {
	defer recovered("join", &err)
	e, err := h.Join(ctx, m)
	m.Entity = e
	return err
}

// driveLeave removes m from the handler.
func driveLeave(ctx *Context, h Handler, m *Member) (err error) {
	defer recovered("leave", &err)
	h.Leave(ctx, m)
	return nil
}

// driveInput applies one input. A seq not above the last applied one is
// refused before the handler sees it; a refused input does not advance the
// member's acknowledged seq. It reports whether the handler was called.
func driveInput(ctx *Context, h Handler, m *Member, seq uint64, payload msgpack.RawMessage) (called bool, err error) {
	if seq <= m.LastSeq {
		return false, fmt.Errorf("input seq %d is not above the last applied seq %d", seq, m.LastSeq)
	}
	prev := m.LastSeq
	m.LastSeq = seq
	defer func() {
		if err != nil {
			m.LastSeq = prev
		}
	}()
	defer recovered("input", &err)
	return true, h.Input(ctx, m, payload)
}

// Sim runs a room type's handler from recorded ops, with no goroutines and
// no connections: the heart of `tickroom verify`.
type Sim struct {
	World      *state.World
	typ        *Type
	ctx        Context
	handler    Handler
	members    map[uint32]*Member
	order      []*Member
	nextMember uint32      // the highest member number a join op used
	all        *state.View // views: every group, as the room's recording sees it
}

// NewSim makes a handler of type t with the recorded options and seed, runs
// its Init and publishes tick 0, as a new Room does.
func NewSim(t *Type, options map[string]any, seed uint64) (*Sim, error) {
	h, _, err := t.New(options)
	if err != nil {
		return nil, fmt.Errorf("rooms: sim: new %s: %w", t.Name, err)
	}
	s := &Sim{World: state.NewWorld(t.Schema), typ: t, handler: h, members: make(map[uint32]*Member)}
	if t.Views {
		s.World.EnableViews()
		s.all = seeAll(t)
	}
	s.ctx = *newContext(s.World, seed)
	s.ctx.sim = s
	if err := safeCall(func() error { return h.Init(&s.ctx) }); err != nil {
		return nil, fmt.Errorf("rooms: sim: init: %w", err)
	}
	_ = publish(s.World, 0, nil, 0)
	if s.all != nil {
		// A room's recording starts with a keyframe of tick 0: its frames
		// go on from the groups that keyframe holds, and so do the Sim's.
		if _, err := s.Snapshot(); err != nil {
			return nil, fmt.Errorf("rooms: sim: %w", err)
		}
	}
	return s, nil
}

// NewSimFromCheckpoint makes a handler of type t with the creator's
// options and loads a checkpoint into it: the Sim stands at cp.Tick, and
// applying the log's ops after cp.Log re-runs the room from there.
func NewSimFromCheckpoint(t *Type, options map[string]any, cp *Checkpoint) (*Sim, error) {
	return newSimFromCheckpoint(t, options, cp, false)
}

// newSimFromCheckpoint is NewSimFromCheckpoint; with ungrouped, a
// checkpoint taken before t had views loads with every entity in Everyone
// (for a room with no log to re-run) instead of being refused.
func newSimFromCheckpoint(t *Type, options map[string]any, cp *Checkpoint, ungrouped bool) (*Sim, error) {
	s := &Sim{typ: t, members: make(map[uint32]*Member), nextMember: cp.NextMember}
	h, ctx, members, err := restoreCheckpoint(t, options, cp, s, ungrouped)
	if err != nil {
		return nil, err
	}
	s.World, s.handler, s.ctx, s.order = ctx.World, h, ctx, members
	for _, m := range members {
		s.members[m.Number] = m
	}
	if t.Views {
		// The recording's view of every group holds what it held when the
		// checkpoint was taken (a keyframe or a frame of that tick left it
		// holding every group the world had then): its frames go on from
		// there, byte for byte as the uninterrupted room's.
		s.all = seeAll(t)
		if _, err := s.World.AppendViewSnapshot(nil, s.all); err != nil {
			return nil, fmt.Errorf("rooms: sim: %w", err)
		}
	}
	return s, nil
}

// Members returns the seated members in member-number order, as a room
// re-run from ops has them (a views room's m.View() included). The slice
// is the Sim's own.
func (s *Sim) Members() []*Member { return s.order }

// Checkpoint takes a checkpoint of the Sim at its last published tick, as
// a room would take one (its Chat and Log left empty).
func (s *Sim) Checkpoint() (*Checkpoint, error) {
	return takeCheckpoint(s.typ, s.handler, &s.ctx, s.order, s.nextMember)
}

// Tick returns the Sim's last published tick.
func (s *Sim) Tick() uint64 { return s.World.Tick() }

// Apply runs one recorded op as part of tick.
func (s *Sim) Apply(tick uint64, op Op) error {
	s.ctx.Tick = tick
	switch op.Kind {
	case OpJoin:
		s.nextMember = max(s.nextMember, op.Member)
		if s.members[op.Member] != nil {
			return fmt.Errorf("rooms: sim: tick %d: member %d joined twice", tick, op.Member)
		}
		m := &Member{Number: op.Member, Name: op.Name}
		if err := driveJoin(&s.ctx, s.handler, m); err != nil {
			return nil // refused live too: the member was never seated
		}
		s.members[m.Number] = m
		s.order = append(s.order, m)
	case OpLeave:
		m := s.members[op.Member]
		if m == nil {
			return fmt.Errorf("rooms: sim: tick %d: leave of unknown member %d", tick, op.Member)
		}
		_ = driveLeave(&s.ctx, s.handler, m) // a panic is part of the replay, as live
		delete(s.members, op.Member)
		for i, x := range s.order {
			if x == m {
				s.order = append(s.order[:i], s.order[i+1:]...)
				break
			}
		}
	case OpInput:
		m := s.members[op.Member]
		if m == nil {
			return fmt.Errorf("rooms: sim: tick %d: input from unknown member %d", tick, op.Member)
		}
		_, _ = driveInput(&s.ctx, s.handler, m, op.Seq, op.Payload) // a refusal is part of the replay
	default:
		return fmt.Errorf("rooms: sim: tick %d: unknown op kind %d", tick, op.Kind)
	}
	return nil
}

// Step runs the handler's Tick and publishes, returning the delta message
// (a views room's: the frame of every group, as its recording keeps it).
func (s *Sim) Step(tick uint64) []byte {
	s.ctx.Tick = tick
	s.handler.Tick(&s.ctx)
	return publish(s.World, tick, s.all, 0)
}

// Views returns every member's view as a views room's recording keeps it
// (ascending by member), so that a re-run can check a tape's views
// records (tickroom verify).
func (s *Sim) Views() []MemberView {
	out := make([]MemberView, 0, len(s.order))
	for _, m := range s.order {
		v := viewRecord(m)
		v.Groups = slices.Clone(v.Groups)
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b MemberView) int { return cmp.Compare(a.Member, b.Member) })
	return out
}

// Snapshot returns the snapshot of the Sim's last published tick as the
// room's recording keeps it (a views room's: the view snapshot of every
// group).
func (s *Sim) Snapshot() ([]byte, error) {
	if s.World.Views() {
		return s.World.AppendViewSnapshot(nil, s.all)
	}
	return s.World.AppendSnapshot(nil)
}
