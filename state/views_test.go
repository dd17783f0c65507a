package state_test

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/tickroom/tickroom/state"
)

// viewer is one member in these tests: its View on the server side and the
// Mirror its client keeps.
type viewer struct {
	view   *state.View
	mirror *state.Mirror
	lost   bool // its last frame was dropped: the next one is a view snapshot
}

func newViewer() *viewer {
	return &viewer{view: state.NewView(), mirror: state.NewMirror(testSchema)}
}

// send builds the member's frame for the last publish and applies it.
func (v *viewer) send(t *testing.T, w *state.World) []byte {
	t.Helper()
	var msg []byte
	var err error
	if v.lost || !v.mirror.Synced {
		msg, err = w.AppendViewSnapshot(nil, v.view)
		v.lost = false
	} else {
		msg, err = w.AppendViewDelta(nil, v.view)
	}
	if err != nil {
		t.Fatalf("frame: %v", err)
	}
	if _, err := v.mirror.Apply(msg); err != nil {
		t.Fatalf("apply %x: %v", msg, err)
	}
	return msg
}

func (v *viewer) check(t *testing.T, w *state.World, when string) {
	t.Helper()
	if d := state.CompareView(w, v.mirror, v.view.Groups()); d != nil {
		t.Fatalf("%s: view %v: %v", when, v.view.Groups(), d)
	}
}

func rock(w *state.World, g state.GroupID, x float64) *state.Entity {
	e := w.Spawn(testRock)
	e.SetFloat(0, x)
	e.SetFloat(1, x/2)
	if g != state.Everyone {
		w.SetGroup(e, g)
	}
	return e
}

func viewsWorld() *state.World {
	w := state.NewWorld(testSchema)
	w.EnableViews()
	return w
}

func TestViewMembershipChanges(t *testing.T) {
	w := viewsWorld()
	shared := rock(w, state.Everyone, 1)
	a := rock(w, 1, 10)
	b := rock(w, 2, 20)
	c := rock(w, 3, 30)
	tick := uint64(1)
	publish := func(vs ...*viewer) {
		w.PublishGroups(tick)
		tick++
		for _, v := range vs {
			v.send(t, w)
		}
	}
	has := func(v *viewer, want ...*state.Entity) {
		t.Helper()
		if len(v.mirror.Entities) != len(want) {
			t.Fatalf("tick %d: mirror holds %d entities, want %d", w.Tick(), len(v.mirror.Entities), len(want))
		}
		for _, e := range want {
			if v.mirror.Entities[e.ID()] == nil {
				t.Fatalf("tick %d: entity %d missing", w.Tick(), e.ID())
			}
		}
		v.check(t, w, "has")
	}

	t.Run("enter", func(t *testing.T) {
		v := newViewer()
		publish(v)
		has(v, shared)
		v.view.Set([]state.GroupID{1, 2})
		publish(v)
		has(v, shared, a, b)
	})
	t.Run("leave is not a removal", func(t *testing.T) {
		v := newViewer()
		v.view.Set([]state.GroupID{1, 2})
		publish(v)
		v.view.Set([]state.GroupID{2})
		publish(v)
		has(v, shared, b)
		if v.mirror.LeftView != 1 || v.mirror.Removed != 0 {
			t.Fatalf("left view %d, removed %d: want 1 and 0", v.mirror.LeftView, v.mirror.Removed)
		}
		w.Despawn(b.ID())
		publish(v)
		has(v, shared)
		if v.mirror.Removed != 1 {
			t.Fatalf("removed %d, want 1", v.mirror.Removed)
		}
		b = rock(w, 2, 21)
		publish(v)
		has(v, shared, b)
	})
	t.Run("re-enter in one tick", func(t *testing.T) {
		v := newViewer()
		v.view.Set([]state.GroupID{3})
		publish(v)
		v.view.Set(nil)
		v.view.Set([]state.GroupID{3})
		c.SetFloat(0, 31)
		publish()
		msg := v.send(t, w)
		// [7, tick, base, left=[], then only group 3's change: no snapshot of it again]
		if msg[4] != 0x90 || !bytes.HasSuffix(msg, w.GroupSegment(3)) || msg[0] != 0x95 {
			t.Fatalf("re-entered in one tick: frame %x, want no left group and group 3's segment only", msg)
		}
		has(v, shared, c)
	})
	t.Run("entity moves between groups", func(t *testing.T) {
		one, two, both := newViewer(), newViewer(), newViewer()
		one.view.Set([]state.GroupID{1})
		two.view.Set([]state.GroupID{2})
		both.view.Set([]state.GroupID{1, 2})
		publish(one, two, both)
		w.SetGroup(a, 2)
		a.SetFloat(0, 12)
		publish(one, two, both)
		has(one, shared)
		has(two, shared, a, b)
		has(both, shared, a, b)
		if one.mirror.LeftView != 1 || both.mirror.LeftView != 0 {
			t.Fatalf("left view: one %d, both %d; want 1 and 0", one.mirror.LeftView, both.mirror.LeftView)
		}
		a.SetFloat(0, 13)
		publish(one, two, both)
		has(both, shared, a, b)
		w.SetGroup(a, 1) // and back, for the next subtests
		publish(one, two, both)
		has(one, shared, a)
	})
	t.Run("member in many groups", func(t *testing.T) {
		many := make([]state.GroupID, 0, 200)
		var ents []*state.Entity
		for g := state.GroupID(10); g < 210; g++ {
			many = append(many, g)
			ents = append(ents, rock(w, g, float64(g)))
		}
		v := newViewer()
		v.view.Set(many)
		publish(v)
		for i, e := range ents {
			e.SetFloat(1, float64(i)*3)
		}
		publish(v)
		has(v, append(ents, shared)...)
	})
}

// TestViewSegmentsAreShared: two members seeing the same groups get the
// same bytes, and a group's change is encoded once however many see it.
func TestViewSegmentsAreShared(t *testing.T) {
	w := viewsWorld()
	for g := state.GroupID(1); g <= 4; g++ {
		for range 4 {
			rock(w, g, float64(g))
		}
	}
	x, y := newViewer(), newViewer()
	x.view.Set([]state.GroupID{1, 2})
	y.view.Set([]state.GroupID{2, 1})
	w.PublishGroups(1)
	x.send(t, w)
	y.send(t, w)
	for _, e := range w.Entities() {
		e.SetFloat(0, e.Float(0)+1)
	}
	w.PublishGroups(2)
	if got := len(w.ChangedGroups()); got != 4 {
		t.Fatalf("changed groups: %d, want 4", got)
	}
	fx, fy := x.send(t, w), y.send(t, w)
	if !bytes.Equal(fx, fy) {
		t.Fatalf("same view, different frames:\n%x\n%x", fx, fy)
	}
	seg := w.GroupSegment(2)
	if !bytes.Contains(fx, seg) {
		t.Fatalf("frame %x does not carry group 2's segment %x", fx, seg)
	}
	// Every rock of a group moved the same way: the short form, no ids.
	if seg[2] != 1 { // [g=2, mask=1 (x), 4 residuals]
		t.Fatalf("group 2 segment %x is not the short form", seg)
	}
	// Again at the same speed: every residual is 0, which packs two to a
	// byte: bin [head 2<<4|1 (group 2, mask 1), 0x00, 0x00].
	for _, e := range w.Entities() {
		e.SetFloat(0, e.Float(0)+1)
	}
	w.PublishGroups(3)
	f := x.send(t, w)
	if seg, want := w.GroupSegment(2), []byte{0xc4, 3, 0x21, 0, 0}; !bytes.Equal(seg, want) {
		t.Fatalf("group 2 segment %x, want the packed form %x", seg, want)
	}
	// The frame carries both packed segments in one bin, the packed run:
	// [7, 3, 2, [], bin of 6 bytes: group 1's body, group 2's body].
	if want := []byte{0x95, 7, 3, 2, 0x90, 0xc4, 6, 0x11, 0, 0, 0x21, 0, 0}; !bytes.Equal(f, want) {
		t.Fatalf("frame %x, want one packed run %x", f, want)
	}
	x.check(t, w, "after a packed run")
}

// TestViewMirrorsFollowRandomWorlds is the property: for random worlds,
// changes, group moves, view changes and dropped frames, every member's
// mirror equals the world restricted to its view after every tick.
func TestViewMirrorsFollowRandomWorlds(t *testing.T) {
	for seed := uint64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewPCG(seed, 7))
		w := viewsWorld()
		groups := 1 + rng.IntN(8)
		randGroup := func() state.GroupID { return state.GroupID(rng.IntN(groups + 1)) }
		members := make([]*viewer, 1+rng.IntN(5))
		for i := range members {
			members[i] = newViewer()
		}
		spectator := newViewer()
		spectator.view.SeeAll()
		for range rng.IntN(30) {
			rock(w, randGroup(), rng.Float64()*100)
		}
		for tick := uint64(1); tick <= 60; tick++ {
			for _, e := range w.Entities() {
				switch r := rng.IntN(10); {
				case r < 4:
					e.SetFloat(0, e.Float(0)+rng.Float64()*5-2.5)
				case r == 4:
					w.SetGroup(e, randGroup())
				case r == 5:
					e.SetFloat(1, rng.Float64()*100)
					w.SetGroup(e, randGroup())
				default: // steady drift: small residuals, packed segments
					e.SetFloat(0, e.Float(0)+0.05)
					e.SetFloat(1, e.Float(1)-0.03)
				}
			}
			for range rng.IntN(3) {
				if rng.IntN(2) == 0 {
					rock(w, randGroup(), rng.Float64()*50)
				} else if n := w.Len(); n > 0 {
					w.Despawn(w.Entities()[rng.IntN(n)].ID())
				}
			}
			for _, m := range members {
				if rng.IntN(4) == 0 {
					var vs []state.GroupID
					for range rng.IntN(groups + 1) {
						vs = append(vs, randGroup())
					}
					m.view.Set(vs)
				}
			}
			w.PublishGroups(tick)
			for i, m := range append(members, spectator) {
				if rng.IntN(15) == 0 && m.mirror.Synced {
					m.lost = true // its frame went nowhere: the next is a view snapshot
					if _, err := w.AppendViewDelta(nil, m.view); err != nil {
						t.Fatal(err)
					}
					continue
				}
				m.send(t, w)
				if m == spectator {
					if d := state.Compare(w, m.mirror); d != nil {
						t.Fatalf("seed %d tick %d: spectator: %v", seed, tick, d)
					}
					continue
				}
				if d := state.CompareView(w, m.mirror, m.view.Groups()); d != nil {
					t.Fatalf("seed %d tick %d member %d view %v: %v", seed, tick, i, m.view.Groups(), d)
				}
			}
		}
	}
}

// Groups used once (a member's private group, say) are freed once empty:
// after a thousand of them came and went, a view of every group walks and
// snapshots only what exists, and its mirror followed every step.
func TestEmptyGroupsAreFreed(t *testing.T) {
	w := viewsWorld()
	rock(w, state.Everyone, 1)
	all := newViewer()
	all.view.SeeAll()
	tick := uint64(1)
	publish := func() {
		w.PublishGroups(tick)
		tick++
		all.send(t, w)
		if d := state.CompareSeen(w, all.mirror, func(*state.Entity) bool { return true }, func(*state.Entity) bool { return true }); d != nil {
			t.Fatalf("tick %d: the every-group mirror: %v", tick, d)
		}
	}
	publish()
	first, err := w.AppendViewSnapshot(nil, all.view)
	if err != nil {
		t.Fatal(err)
	}
	for n := range 1000 {
		e := rock(w, state.GroupID(1_000_000+n), 2)
		publish()
		w.Despawn(e.ID())
		publish()
	}
	publish() // the last emptied group goes at the next publish
	if got := w.GroupIDs(); len(got) != 1 || got[0] != state.Everyone {
		t.Fatalf("groups after 1000 members came and went: %d kept (%v...), want only Everyone", len(got), got[:min(len(got), 3)])
	}
	snap, err := w.AppendViewSnapshot(nil, all.view)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap) > len(first)+8 { // the tick's encoding may grow by a few bytes
		t.Errorf("every-group snapshot: %d bytes, want about %d as before the groups came and went", len(snap), len(first))
	}
	if got := len(all.view.Holds()); got != 1 {
		t.Errorf("the every-group view holds %d groups, want 1", got)
	}
	// A group emptied and used again comes back whole.
	again := rock(w, 1_000_000, 3)
	publish()
	if all.mirror.Entities[again.ID()] == nil {
		t.Fatalf("entity %d in a group used again is not in the every-group mirror", again.ID())
	}
}
