package state_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
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
	if w.Views() {
		exerciseViews(t, w)
		return
	}
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

// exerciseViews is exercise for a views world: a view of every group
// mirrors it through a snapshot and a delta that moves every entity to
// another group.
func exerciseViews(t *testing.T, w *state.World) {
	t.Helper()
	all := state.NewView()
	all.SeeAll()
	m := state.NewMirror(testSchema)
	snap, err := w.AppendViewSnapshot(nil, all)
	if err != nil {
		t.Fatalf("view snapshot of a loaded world: %v", err)
	}
	if _, err := m.Apply(snap); err != nil {
		t.Fatalf("mirror of a loaded world: %v", err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for _, e := range w.Entities() {
		randomize(r, e, 1)
		w.SetGroup(e, e.Group()+1)
	}
	w.PublishGroups(w.Tick() + 1)
	delta, err := w.AppendViewDelta(nil, all)
	if err != nil {
		t.Fatalf("view delta of a loaded world: %v", err)
	}
	if _, err := m.Apply(delta); err != nil {
		t.Fatalf("mirror of a loaded world's delta: %v", err)
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

// stepViews applies one tick of random changes to a views world: moves,
// group changes, spawns into groups and despawns (which leave groups
// empty, to be freed at the next publish), then publishes.
func stepViews(r *rand.Rand, w *state.World, tick uint64, groups int) {
	randGroup := func() state.GroupID { return state.GroupID(r.IntN(groups + 1)) }
	for _, e := range w.Entities() {
		switch x := r.IntN(10); {
		case x < 4:
			nudge(r, e)
		case x == 4:
			w.SetGroup(e, randGroup())
		case x == 5:
			randomize(r, e, 0.5)
			w.SetGroup(e, randGroup())
		}
	}
	for range r.IntN(3) {
		if r.IntN(2) == 0 {
			rock(w, randGroup(), r.Float64()*100)
		} else if n := w.Len(); n > 0 {
			w.Despawn(w.Entities()[r.IntN(n)].ID())
		}
	}
	w.PublishGroups(tick)
}

// TestCheckpointedViewsWorldPublishesTheSameBytes: a views world loaded
// from its checkpoint keeps every entity's group and every group the
// original holds (one emptied by the last publish included), so that,
// driven by the same changes, it publishes exactly the original's bytes:
// the frame of a view of every group and of members' views, tick after
// tick. The loaded world's views start with a view snapshot, as every
// client does after a wake.
func TestCheckpointedViewsWorldPublishesTheSameBytes(t *testing.T) {
	emptied := 0
	for seed := uint64(1); seed <= 30; seed++ {
		ra := rand.New(rand.NewPCG(seed, 13))
		groups := 1 + ra.IntN(6)
		orig := viewsWorld()
		all := state.NewView()
		all.SeeAll()
		views := make([]*state.View, 3)
		for i := range views {
			views[i] = state.NewView()
			views[i].Set([]state.GroupID{state.GroupID(i), state.GroupID(i + 1)})
		}
		cut := 1 + ra.IntN(40)
		for tick := uint64(1); tick <= uint64(cut); tick++ {
			stepViews(ra, orig, tick, groups)
			for _, v := range append(views, all) {
				if _, err := orig.AppendViewDelta(nil, v); err != nil {
					t.Fatal(err)
				}
			}
		}
		cp, err := orig.AppendCheckpoint(nil)
		if err != nil {
			t.Fatalf("seed %d: checkpoint: %v", seed, err)
		}
		loaded, err := state.LoadWorld(testSchema, cp)
		if err != nil {
			t.Fatalf("seed %d: load: %v", seed, err)
		}
		if !loaded.Views() {
			t.Fatalf("seed %d: a views world's checkpoint loads a world without views", seed)
		}
		if again, _ := loaded.AppendCheckpoint(nil); !bytes.Equal(again, cp) {
			t.Fatalf("seed %d: a loaded world's checkpoint differs from the one it was loaded from", seed)
		}
		if got, want := loaded.GroupIDs(), orig.GroupIDs(); !slices.Equal(got, want) {
			t.Fatalf("seed %d: loaded groups %v, want %v", seed, got, want)
		}
		for _, g := range orig.GroupIDs() {
			if g != state.Everyone && !slices.ContainsFunc(orig.Entities(), func(e *state.Entity) bool { return e.Group() == g }) {
				emptied++
			}
		}
		lall := state.NewView()
		lall.SeeAll()
		lviews := make([]*state.View, len(views))
		for i, v := range views {
			lviews[i] = state.NewView()
			lviews[i].Set(v.Groups())
		}
		for _, v := range append(lviews, lall) {
			if _, err := loaded.AppendViewSnapshot(nil, v); err != nil {
				t.Fatal(err)
			}
		}
		s := ra.Uint64()
		rb, rc := rand.New(rand.NewPCG(s, 3)), rand.New(rand.NewPCG(s, 3))
		for tick := uint64(cut + 1); tick <= uint64(cut+60); tick++ {
			stepViews(rb, orig, tick, groups)
			stepViews(rc, loaded, tick, groups)
			for i, v := range append(views, all) {
				want, _ := orig.AppendViewDelta(nil, v)
				got, _ := loaded.AppendViewDelta(nil, append(lviews, lall)[i])
				if !bytes.Equal(got, want) {
					t.Fatalf("seed %d tick %d (checkpoint at %d) view %d: the loaded world's frame differs:\n got %x\nwant %x", seed, tick, cut, i, got, want)
				}
			}
		}
	}
	if emptied == 0 {
		t.Error("no checkpoint held a group emptied by its last publish: the seeds prove less than they claim")
	}
}

// TestCheckpointVersion1IsUnchanged: a world without views writes the
// version 1 layout byte for byte as before views had checkpoints (so
// builds from before still read it), and a version 1 checkpoint written
// by such a build (testdata/checkpoint-v1.bin) loads.
func TestCheckpointVersion1IsUnchanged(t *testing.T) {
	w := state.NewWorld(testSchema)
	r := rand.New(rand.NewPCG(8, 8))
	for tick := uint64(1); tick <= 30; tick++ {
		stepRandom(r, w, tick)
	}
	cp, err := w.AppendCheckpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "checkpoint-v1.bin")
	if *update {
		if err := os.WriteFile(path, cp, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if !bytes.Equal(cp, old) {
		t.Fatalf("a world without views no longer writes %s's bytes (version 1)", path)
	}
	loaded, err := state.LoadWorld(testSchema, old)
	if err != nil {
		t.Fatalf("load a version 1 checkpoint: %v", err)
	}
	if loaded.Views() || loaded.Len() != w.Len() || loaded.Tick() != w.Tick() {
		t.Fatalf("loaded views %v, %d entities at tick %d; want no views, %d at %d", loaded.Views(), loaded.Len(), loaded.Tick(), w.Len(), w.Tick())
	}
}

// viewsCheckpoint is a views world's checkpoint after a few random ticks.
func viewsCheckpoint(seed uint64) []byte {
	w := viewsWorld()
	r := rand.New(rand.NewPCG(seed, 5))
	for tick := uint64(1); tick <= 20; tick++ {
		stepViews(r, w, tick, 4)
	}
	cp, _ := w.AppendCheckpoint(nil)
	return cp
}

// TestLoadViewsWorldRefusesDamage: a views checkpoint cut short, or whose
// groups lie (an entity in two groups or none, groups out of order), is
// refused; a flipped byte anywhere is refused or loads a usable world.
func TestLoadViewsWorldRefusesDamage(t *testing.T) {
	cp := viewsCheckpoint(3)
	for n := 0; n < len(cp); n++ {
		if _, err := state.LoadWorld(testSchema, cp[:n]); !errors.Is(err, state.ErrCheckpoint) {
			t.Fatalf("truncated to %d of %d bytes: got %v, want ErrCheckpoint", n, len(cp), err)
		}
	}
	for i := range cp {
		bad := bytes.Clone(cp)
		bad[i] ^= 0x5a
		if lw, err := state.LoadWorld(testSchema, bad); err == nil {
			exercise(t, lw)
		}
	}
	// Hand-made groups: two entities, 1 and 2.
	w := viewsWorld()
	rock(w, state.Everyone, 1)
	rock(w, 5, 2)
	w.PublishGroups(1)
	good, _ := w.AppendCheckpoint(nil)
	head := len(good) - len([]byte{0x92, 0x92, 0x00, 0x91, 0x01, 0x92, 0x05, 0x91, 0x02})
	if !bytes.Equal(good[head:], []byte{0x92, 0x92, 0x00, 0x91, 0x01, 0x92, 0x05, 0x91, 0x02}) {
		t.Fatalf("groups encode as %x, want [[0, [1]], [5, [2]]]", good[head:])
	}
	for name, groups := range map[string][]byte{
		"an entity in two groups":    {0x92, 0x92, 0x00, 0x92, 0x01, 0x02, 0x92, 0x05, 0x91, 0x02},
		"an entity in none":          {0x92, 0x92, 0x00, 0x91, 0x01, 0x92, 0x05, 0x90},
		"groups out of order":        {0x92, 0x92, 0x05, 0x91, 0x02, 0x92, 0x00, 0x91, 0x01},
		"ids out of order":           {0x91, 0x92, 0x00, 0x92, 0x02, 0x01},
		"an entity not in the world": {0x92, 0x92, 0x00, 0x92, 0x01, 0x02, 0x92, 0x05, 0x91, 0x09},
		"no groups":                  {0x90},
	} {
		bad := append(bytes.Clone(good[:head]), groups...)
		if _, err := state.LoadWorld(testSchema, bad); !errors.Is(err, state.ErrCheckpoint) {
			t.Errorf("%s: got %v, want ErrCheckpoint", name, err)
		}
	}
	// A version 2 layout claiming version 1, and the other way round.
	v1 := bytes.Clone(good)
	v1[1] = 0x01
	if _, err := state.LoadWorld(testSchema, v1); !errors.Is(err, state.ErrCheckpoint) {
		t.Errorf("6 elements as version 1: got %v", err)
	}
}

// TestGroupAllInEveryone: a world loaded from a checkpoint without groups
// and made a views world with every entity in Everyone gives a member the
// whole world in its first view snapshot, and goes on: an entity moved to
// a group the member does not see leaves its mirror.
func TestGroupAllInEveryone(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	w := state.NewWorld(testSchema)
	for tick := uint64(1); tick <= 20; tick++ {
		stepRandom(r, w, tick)
	}
	cp, err := w.AppendCheckpoint(nil)
	if err != nil {
		t.Fatal(err)
	}
	loaded, err := state.LoadWorld(testSchema, cp)
	if err != nil {
		t.Fatal(err)
	}
	loaded.GroupAllInEveryone()
	if !loaded.Views() || len(loaded.Entities()) == 0 {
		t.Fatalf("views %v, %d entities", loaded.Views(), len(loaded.Entities()))
	}
	v := state.NewView() // Everyone only
	snap, err := loaded.AppendViewSnapshot(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	m := state.NewMirror(testSchema)
	if _, err := m.Apply(snap); err != nil {
		t.Fatal(err)
	}
	if len(m.Entities) != len(loaded.Entities()) {
		t.Fatalf("the member mirrors %d entities, the world has %d", len(m.Entities), len(loaded.Entities()))
	}
	moved := loaded.Entities()[0]
	loaded.SetGroup(moved, 7)
	loaded.PublishGroups(loaded.Tick() + 1)
	delta, err := loaded.AppendViewDelta(nil, v)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Apply(delta); err != nil {
		t.Fatal(err)
	}
	if _, held := m.Entities[moved.ID()]; held || len(m.Entities) != len(loaded.Entities())-1 {
		t.Fatalf("after entity %d moved to an unseen group the member holds %d entities (it: %v)", moved.ID(), len(m.Entities), held)
	}
}
