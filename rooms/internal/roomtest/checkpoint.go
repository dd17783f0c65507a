package roomtest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// InputFunc draws an input payload for a member of a world: the value is
// encoded with MessagePack unless it already is a msgpack.RawMessage.
type InputFunc func(r *rand.Rand, w *state.World) any

// CheckpointProperty holds a room type to the invariant "checkpoint + tail
// equals the full run": for random op sequences (joins, leaves, inputs
// good and bad, drawn by input), a Sim loaded from a checkpoint taken at a
// random tick (stored and decoded as a CheckpointStore would hand it back)
// and driven by the same ops publishes exactly the full run's bytes at
// every tick after it, and ends with the same checkpoint. For a views type
// also every member's own view: its mirror, fed its view's frames by the
// restored Sim from a view snapshot on (as a member resuming after a wake
// is), equals its mirror in the full run after every tick, and holds the
// world restricted to its view.
func CheckpointProperty(t *testing.T, typ *rooms.Type, opts map[string]any, runs int, input InputFunc) {
	t.Helper()
	for run := range runs {
		script := rand.New(rand.NewPCG(uint64(run), 17))
		full, err := rooms.NewSim(typ, opts, script.Uint64())
		if err != nil {
			t.Fatalf("run %d: NewSim: %v", run, err)
		}
		ticks := 40 + script.IntN(160)
		cut := uint64(script.IntN(ticks))
		var restored *rooms.Sim
		fullViews, restoredViews := viewMirrors{}, viewMirrors{}
		var members []uint32
		next := uint32(0)
		for tick := uint64(1); tick <= uint64(ticks); tick++ {
			if tick-1 == cut {
				restored = reload(t, typ, opts, full, run)
			}
			var ops []rooms.Op
			if len(members) < typ.PlayerLimit() && script.IntN(12) == 0 {
				next++
				members = append(members, next)
				ops = append(ops, rooms.Op{Kind: rooms.OpJoin, Member: next, Name: "m"})
			}
			var kept []uint32
			for _, m := range members {
				switch x := script.IntN(40); {
				case x == 0:
					ops = append(ops, rooms.Op{Kind: rooms.OpLeave, Member: m})
					continue
				case x < 20:
					ops = append(ops, rooms.Op{Kind: rooms.OpInput, Member: m, Seq: tick, Payload: encodeInput(t, input(script, full.World))})
				}
				kept = append(kept, m)
			}
			members = kept
			want := step(t, full, tick, ops)
			if typ.Views {
				fullViews.follow(t, full)
			}
			if restored != nil {
				if got := step(t, restored, tick, ops); !bytes.Equal(got, want) {
					t.Fatalf("run %d tick %d (checkpoint at %d): the restored room's delta differs:\n got %x\nwant %x", run, tick, cut, got, want)
				}
				if typ.Views {
					restoredViews.follow(t, restored)
					if err := sameViews(full, fullViews, restored, restoredViews); err != nil {
						t.Fatalf("run %d tick %d (checkpoint at %d): %v", run, tick, cut, err)
					}
				}
			}
		}
		a, _ := full.Checkpoint()
		b, _ := restored.Checkpoint()
		if !bytes.Equal(a.World, b.World) || !bytes.Equal(a.Handler, b.Handler) || !bytes.Equal(a.Rand, b.Rand) {
			t.Fatalf("run %d: final checkpoints differ (checkpoint at %d of %d ticks)", run, cut, ticks)
		}
	}
}

// reload takes a checkpoint of s, passes it through its stored form and
// loads it into a new Sim.
func reload(t *testing.T, typ *rooms.Type, opts map[string]any, s *rooms.Sim, run int) *rooms.Sim {
	t.Helper()
	cp, err := s.Checkpoint()
	if err != nil {
		t.Fatalf("run %d tick %d: checkpoint: %v", run, s.Tick(), err)
	}
	b, err := rooms.EncodeCheckpoint(cp)
	if err != nil {
		t.Fatalf("run %d: encode: %v", run, err)
	}
	back, err := rooms.DecodeCheckpoint(b)
	if err != nil {
		t.Fatalf("run %d: decode: %v", run, err)
	}
	r, err := rooms.NewSimFromCheckpoint(typ, opts, back)
	if err != nil {
		t.Fatalf("run %d tick %d: load: %v", run, s.Tick(), err)
	}
	return r
}

func step(t *testing.T, s *rooms.Sim, tick uint64, ops []rooms.Op) []byte {
	t.Helper()
	for _, op := range ops {
		if err := s.Apply(tick, op); err != nil {
			t.Fatalf("tick %d: apply %+v: %v", tick, op, err)
		}
	}
	return s.Step(tick)
}

func encodeInput(t *testing.T, v any) []byte {
	if raw, ok := v.(msgpack.RawMessage); ok {
		return raw
	}
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatalf("encode input %v: %v", v, err)
	}
	return b
}

// viewMirrors are the members' own mirrors of a views Sim, by member number.
type viewMirrors map[uint32]*state.Mirror

// follow feeds every member of s its view's frame of the tick just
// published (a view snapshot to one it has no mirror for yet) and forgets
// the members that left.
func (vm viewMirrors) follow(t *testing.T, s *rooms.Sim) {
	t.Helper()
	seated := make(map[uint32]bool)
	for _, m := range s.Members() {
		seated[m.Number] = true
		mirror := vm[m.Number]
		var msg []byte
		var err error
		if mirror == nil {
			mirror = state.NewMirror(s.World.Schema())
			vm[m.Number] = mirror
			msg, err = s.World.AppendViewSnapshot(nil, m.View())
		} else {
			msg, err = s.World.AppendViewDelta(nil, m.View())
		}
		if err != nil {
			t.Fatalf("tick %d member %d: view frame: %v", s.Tick(), m.Number, err)
		}
		if _, err := mirror.Apply(msg); err != nil {
			t.Fatalf("tick %d member %d: apply its view frame: %v", s.Tick(), m.Number, err)
		}
	}
	for n := range vm {
		if !seated[n] {
			delete(vm, n)
		}
	}
}

// sameViews checks that the restored Sim's members see what the full
// run's do: the same groups, the same mirror, and that mirror the restored
// world restricted to the view.
func sameViews(full *rooms.Sim, fv viewMirrors, restored *rooms.Sim, rv viewMirrors) error {
	fm, rm := full.Members(), restored.Members()
	if len(fm) != len(rm) {
		return fmt.Errorf("%d members, the full run has %d", len(rm), len(fm))
	}
	for i, m := range rm {
		if m.Number != fm[i].Number || !slices.Equal(m.View().Groups(), fm[i].View().Groups()) {
			return fmt.Errorf("member %d sees groups %v, the full run's member %d %v", m.Number, m.View().Groups(), fm[i].Number, fm[i].View().Groups())
		}
		if d := state.CompareView(restored.World, rv[m.Number], m.View().Groups()); d != nil {
			return fmt.Errorf("member %d's mirror (view %v): %v", m.Number, m.View().Groups(), d)
		}
		if err := sameMirror(fv[m.Number], rv[m.Number]); err != nil {
			return fmt.Errorf("member %d's mirror differs from the full run's: %v", m.Number, err)
		}
	}
	return nil
}

// sameMirror reports the first difference between two mirrors: tick,
// entities, kinds, groups and every field's value exactly.
func sameMirror(want, got *state.Mirror) error {
	if got.Tick != want.Tick || len(got.Entities) != len(want.Entities) {
		return fmt.Errorf("tick %d with %d entities, want tick %d with %d", got.Tick, len(got.Entities), want.Tick, len(want.Entities))
	}
	for id, we := range want.Entities {
		ge := got.Entities[id]
		switch {
		case ge == nil:
			return fmt.Errorf("entity %d missing", id)
		case ge.Kind.Name != we.Kind.Name || ge.Group != we.Group:
			return fmt.Errorf("entity %d is a %s in group %d, want a %s in group %d", id, ge.Kind.Name, ge.Group, we.Kind.Name, we.Group)
		}
		for i, f := range we.Kind.Fields {
			if ge.Value(i) != we.Value(i) {
				return fmt.Errorf("entity %d field %q: %v, want %v", id, f.Name, ge.Value(i), we.Value(i))
			}
		}
	}
	return nil
}
