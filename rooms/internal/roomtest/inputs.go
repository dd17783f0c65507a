package roomtest

import (
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// DriveInputs is the body of the room types' input fuzz targets: typ runs
// through rooms.Sim (the code path live rooms and replays share) with two
// members, who send payloads in turn, one a tick, and then a few quiet
// ticks. Whatever the payloads, the handler may refuse them but must not
// panic, and after every tick a mirror fed the published deltas must equal
// the world: bad input never breaks the broadcast for anyone.
func DriveInputs(t testing.TB, typ *rooms.Type, opts map[string]any, payloads ...[]byte) {
	t.Helper()
	sim, err := rooms.NewSim(typ, opts, 1)
	if err != nil {
		t.Fatalf("NewSim: %v", err)
	}
	snap, err := sim.World.AppendSnapshot(nil)
	if err != nil {
		t.Fatalf("snapshot: %v", err)
	}
	m := state.NewMirror(typ.Schema)
	if _, err := m.Apply(snap); err != nil {
		t.Fatalf("mirror: snapshot: %v", err)
	}
	step := func(tick uint64, ops ...rooms.Op) {
		t.Helper()
		for _, op := range ops {
			if err := sim.Apply(tick, op); err != nil {
				t.Fatalf("tick %d: %v", tick, err)
			}
		}
		if _, err := m.Apply(sim.Step(tick)); err != nil {
			t.Fatalf("tick %d: mirror: %v", tick, err)
		}
		if d := state.Compare(sim.World, m); d != nil {
			t.Fatalf("tick %d: the mirror diverged: %v", tick, d)
		}
	}
	step(1, rooms.Op{Kind: rooms.OpJoin, Member: 1, Name: "a"}, rooms.Op{Kind: rooms.OpJoin, Member: 2, Name: "b"})
	tick := uint64(1)
	for i, p := range payloads {
		tick++
		step(tick, rooms.Op{Kind: rooms.OpInput, Member: uint32(1 + i%2), Seq: tick, Payload: p})
	}
	for range 3 {
		tick++
		step(tick)
	}
}
