package state_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/tickroom/tickroom/state"
)

// stepRandom applies one tick of random changes to w, drawing from r, and
// publishes it.
func stepRandom(r *rand.Rand, w *state.World, tick uint64) []byte {
	for range r.IntN(3) {
		randomize(r, w.Spawn(testSchema.Kinds[r.IntN(2)]), 1)
	}
	ents := w.Entities()
	for _, e := range ents {
		switch x := r.IntN(20); {
		case x == 0:
			randomize(r, e, 0.3)
		case x < 12:
			nudge(r, e)
		}
	}
	if len(ents) > 0 && r.IntN(4) == 0 {
		w.Despawn(ents[r.IntN(len(ents))].ID())
	}
	return w.AppendDelta(nil, tick)
}

// TestCheckpointedWorldPublishesTheSameBytes: a world loaded from a
// checkpoint and driven by the same changes publishes exactly the bytes the
// original does (deltas and snapshots), tick after tick: exact values and
// prediction history both survive.
func TestCheckpointedWorldPublishesTheSameBytes(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		orig := state.NewWorld(testSchema)
		ra := rand.New(rand.NewPCG(seed, 7))
		for tick := uint64(1); tick <= 60; tick++ {
			stepRandom(ra, orig, tick)
		}
		cp, err := orig.AppendCheckpoint(nil)
		if err != nil {
			t.Fatalf("seed %d: checkpoint: %v", seed, err)
		}
		loaded, err := state.LoadWorld(testSchema, cp)
		if err != nil {
			t.Fatalf("seed %d: load: %v", seed, err)
		}
		if loaded.Tick() != orig.Tick() || loaded.Len() != orig.Len() {
			t.Fatalf("seed %d: loaded tick %d with %d entities, want %d with %d", seed, loaded.Tick(), loaded.Len(), orig.Tick(), orig.Len())
		}
		again, _ := loaded.AppendCheckpoint(nil)
		if !bytes.Equal(again, cp) {
			t.Fatalf("seed %d: a loaded world's checkpoint differs from the one it was loaded from", seed)
		}
		// Both worlds get the same random changes from here on.
		state := ra.Uint64()
		rb := rand.New(rand.NewPCG(state, 3))
		rc := rand.New(rand.NewPCG(state, 3))
		for tick := uint64(61); tick <= 160; tick++ {
			want := stepRandom(rb, orig, tick)
			got := stepRandom(rc, loaded, tick)
			if !bytes.Equal(got, want) {
				t.Fatalf("seed %d tick %d: loaded world's delta differs:\n got %x\nwant %x", seed, tick, got, want)
			}
		}
		ws, _ := orig.AppendSnapshot(nil)
		gs, _ := loaded.AppendSnapshot(nil)
		if !bytes.Equal(gs, ws) {
			t.Fatalf("seed %d: snapshots differ after 100 ticks", seed)
		}
		// Entity ids are never reused: the next spawn takes the same id in both.
		if a, b := orig.Spawn(testRock).ID(), loaded.Spawn(testRock).ID(); a != b {
			t.Fatalf("seed %d: next ids %d and %d", seed, a, b)
		}
	}
}

func TestCheckpointRefusedWithPendingChanges(t *testing.T) {
	w := state.NewWorld(testSchema)
	w.Spawn(testRock)
	if _, err := w.AppendCheckpoint(nil); !errors.Is(err, state.ErrPending) {
		t.Fatalf("got %v, want ErrPending", err)
	}
}

// TestLoadWorldRefusesDamage: every truncation and a flipped byte at every
// offset of a real checkpoint is refused or loads a world that is still
// usable: never a panic (FuzzLoadWorld goes further).
func TestLoadWorldRefusesDamage(t *testing.T) {
	w := state.NewWorld(testSchema)
	r := rand.New(rand.NewPCG(5, 5))
	for tick := uint64(1); tick <= 20; tick++ {
		stepRandom(r, w, tick)
	}
	cp, _ := w.AppendCheckpoint(nil)
	for n := 0; n < len(cp); n++ {
		if _, err := state.LoadWorld(testSchema, cp[:n]); !errors.Is(err, state.ErrCheckpoint) {
			t.Fatalf("truncated to %d of %d bytes: got %v, want ErrCheckpoint", n, len(cp), err)
		}
	}
	if _, err := state.LoadWorld(testSchema, append(cp[:len(cp):len(cp)], 0)); !errors.Is(err, state.ErrCheckpoint) {
		t.Fatalf("trailing byte: got %v", err)
	}
	other := state.MustSchema(state.MustKind(0, "ship", nil, state.Pos("x")))
	if _, err := state.LoadWorld(other, cp); !errors.Is(err, state.ErrCheckpoint) {
		t.Fatalf("another schema: got %v", err)
	}
	for i := range cp {
		bad := bytes.Clone(cp)
		bad[i] ^= 0x5a
		if lw, err := state.LoadWorld(testSchema, bad); err == nil {
			exercise(t, lw)
		}
	}
}

// exercise publishes from a loaded world and changes every entity: a loaded
// world must behave like any other.
func exercise(t *testing.T, w *state.World) {
	t.Helper()
	if _, err := w.AppendSnapshot(nil); err != nil {
		t.Fatalf("snapshot of a loaded world: %v", err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for _, e := range w.Entities() {
		randomize(r, e, 1)
	}
	delta := w.AppendDelta(nil, w.Tick()+1)
	m := state.NewMirror(testSchema)
	snap, _ := w.AppendSnapshot(nil)
	if _, err := m.Apply(snap); err != nil {
		t.Fatalf("mirror of a loaded world: %v (delta %d bytes)", err, len(delta))
	}
}

// TestLoadWorldRefusesLyingLengths: a checkpoint claiming a 4 GiB string
// is refused before anything is allocated for it.
func TestLoadWorldRefusesLyingLengths(t *testing.T) {
	w := state.NewWorld(testSchema)
	cp, _ := w.AppendCheckpoint(nil)
	bad := append(bytes.Clone(cp[:len(cp)-1]), 0x91, 0xdb, 0xff, 0xff, 0xff, 0xff)
	if _, err := state.LoadWorld(testSchema, bad); !errors.Is(err, state.ErrCheckpoint) {
		t.Fatalf("got %v, want ErrCheckpoint", err)
	}
}
