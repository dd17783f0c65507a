package roomtest

import (
	"bytes"
	"math/rand/v2"
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
// every tick after it, and ends with the same checkpoint.
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
			if restored != nil {
				if got := step(t, restored, tick, ops); !bytes.Equal(got, want) {
					t.Fatalf("run %d tick %d (checkpoint at %d): the restored room's delta differs:\n got %x\nwant %x", run, tick, cut, got, want)
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
