package server_test

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/fieldbench"
	"github.com/tickroom/tickroom/rooms/tape"
	"github.com/tickroom/tickroom/server"
	"github.com/tickroom/tickroom/state"
)

// TestRecordingReplaysEveryMembersView: a views room's recording keeps
// what is needed to replay any member's view (docs/TAPE.md, "views").
// Members play over real sockets and keep their mirror after every frame;
// then the tape is read in order, and at every tick a member has a mirror
// for, the tape's world restricted to the groups the tape says the member
// saw at that tick equals the member's mirror (without private groups,
// which the recording leaves out).
func TestRecordingReplaysEveryMembersView(t *testing.T) {
	t.Run("field-bench", func(t *testing.T) {
		changes := checkRecordedViews(t, fieldbench.Type, 3, func(members []*wsClient, seq uint64) {
			for i, c := range members {
				in := fieldbench.ClientInput(i, seq)
				c.input(map[string]any{"dx": in.DX, "dy": in.DY})
			}
		})
		if changes < 3 {
			t.Fatalf("%d view changes recorded between keyframes: the players did not cross cells, the test saw no change", changes)
		}
	})
	t.Run("private groups", func(t *testing.T) {
		// Each member's view holds its own private group; the tape holds
		// none of those entities, so following a member shows its view
		// without its secret.
		checkRecordedViews(t, secretsType, 2, func([]*wsClient, uint64) {})
	})
}

// checkRecordedViews records a room of type typ with n members driven by
// drive for 60 ticks and checks the tape against every member's mirror at
// every tick. It returns how many view changes (not full records) the tape
// held.
func checkRecordedViews(t *testing.T, typ *rooms.Type, n int, drive func(members []*wsClient, seq uint64)) int {
	env, store := newRecordingEnv(t, server.Config{})
	if err := env.mgr.Types().Register(typ); err != nil {
		t.Fatal(err)
	}
	id := env.createRoom(typ.Name, nil)
	var info struct {
		RecordingID string `json:"recordingId"`
	}
	if code := env.api("GET", "/api/rooms/"+id, nil, &info); code != 200 || info.RecordingID == "" {
		t.Fatalf("room info: %d, recordingId %q", code, info.RecordingID)
	}
	private := typ.Private
	if private == nil {
		private = func(state.GroupID) bool { return false }
	}
	// live[member][tick]: the member's mirror after its frame of tick,
	// without private groups.
	live := map[uint32]map[uint64]map[state.EntityID]string{}
	privateSeen := 0
	var members []*wsClient
	for i := range n {
		c := env.join(id, fmt.Sprintf("m%d", i))
		num := c.welcome.Member
		live[num] = map[uint64]map[state.EntityID]string{}
		c.onState = func([]byte) {
			live[num][c.mirror.Tick] = entityState(c.mirror, func(e *state.MirrorEntity) bool {
				if private(e.Group) {
					privateSeen++
					return false
				}
				return true
			})
		}
		members = append(members, c)
	}
	for seq := uint64(1); seq <= 60; seq++ {
		drive(members, seq)
		members[0].waitTick(members[0].mirror.Tick + 1)
	}
	for _, c := range members {
		c.waitTick(members[0].mirror.Tick)
	}
	r := env.room(id)
	r.Close(rooms.CloseRoomClosed, "test over")
	<-r.Done()
	if typ.Private != nil && privateSeen == 0 {
		t.Fatal("no member's mirror held a private entity: the test cannot tell them apart")
	}

	tr, err := store.Open(info.RecordingID)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if v := tr.Info().Version; v != 2 {
		t.Fatalf("a views room's tape is version %d, want 2", v)
	}
	mirror := state.NewMirror(typ.Schema)
	views := map[uint32]map[state.GroupID]bool{} // each member's groups, Everyone included
	checked, changes, fulls, privateInView, viewBytes := 0, 0, 0, 0, 0
	check := func(tick uint64) {
		if !mirror.Synced || mirror.Tick != tick {
			return
		}
		for num, ticks := range live {
			want, ok := ticks[tick]
			if !ok {
				continue
			}
			seen := views[num]
			if seen == nil {
				t.Fatalf("tick %d: member %d has a mirror but the tape has no view of it", tick, num)
			}
			for g := range seen {
				if private(g) {
					privateInView++ // in the view, while its entities are not in the tape
				}
			}
			got := entityState(mirror, func(e *state.MirrorEntity) bool { return seen[e.Group] })
			if !maps.Equal(got, want) {
				t.Fatalf("tick %d member %d: the tape's world in its recorded view (%d entities, groups %v) differs from its mirror (%d entities)%s",
					tick, num, len(got), slices.Sorted(maps.Keys(views[num])), len(want), firstDiff(got, want))
			}
			checked++
		}
	}
	last := uint64(0)
	for {
		rec, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec.Tick != last {
			check(last)
			last = rec.Tick
		}
		switch rec.Kind {
		case tape.KindKeyframe:
			if _, err := mirror.Apply(rec.Data); err != nil {
				t.Fatalf("keyframe %d: %v", rec.Tick, err)
			}
		case tape.KindDelta, tape.KindOps:
			if mirror.Synced && rec.Tick <= mirror.Tick {
				continue
			}
			if _, err := mirror.Apply(rec.Data); err != nil {
				t.Fatalf("delta %d: %v", rec.Tick, err)
			}
		case tape.KindViews:
			viewBytes += rec.Size
			full, vs, err := rec.DecodeViews()
			if err != nil {
				t.Fatal(err)
			}
			if full {
				fulls++
				clear(views)
			} else {
				changes += len(vs)
			}
			for _, v := range vs {
				if v.Gone {
					delete(views, v.Member)
					continue
				}
				if !slices.IsSorted(v.Groups) || slices.Contains(v.Groups, state.Everyone) {
					t.Fatalf("tick %d member %d: recorded groups %v: want ascending, without Everyone", rec.Tick, v.Member, v.Groups)
				}
				set := map[state.GroupID]bool{state.Everyone: true}
				for _, g := range v.Groups {
					set[g] = true
				}
				views[v.Member] = set
			}
		}
	}
	check(last)
	t.Logf("%s: %d views records' bytes of a %d-byte tape (%.2f%%), %d members, %d ticks",
		typ.Name, viewBytes, tr.Info().Size, 100*float64(viewBytes)/float64(tr.Info().Size), n, last)
	if fulls < 2 {
		t.Fatalf("%d full views records, want one with every keyframe (at least the first two)", fulls)
	}
	if typ.Private != nil && privateInView == 0 {
		t.Fatal("no recorded view held its member's private group")
	}
	if want := n * 40; checked < want {
		t.Fatalf("compared %d member ticks, want at least %d", checked, want)
	}
	return changes
}

// entityState is mirrorState for the entities keep reports true for.
func entityState(m *state.Mirror, keep func(*state.MirrorEntity) bool) map[state.EntityID]string {
	out := map[state.EntityID]string{}
	for id, e := range m.Entities {
		if !keep(e) {
			continue
		}
		var vals []any
		for i := range e.Kind.Fields {
			vals = append(vals, e.Value(i))
		}
		out[id] = fmt.Sprint(e.Kind.Name, vals)
	}
	return out
}

// firstDiff describes the lowest entity id two states disagree on.
func firstDiff(got, want map[state.EntityID]string) string {
	ids := slices.Sorted(maps.Keys(got))
	ids = append(ids, slices.Sorted(maps.Keys(want))...)
	slices.Sort(ids)
	for _, id := range ids {
		if got[id] != want[id] {
			return fmt.Sprintf(": first at entity %d, tape %q, member %q", id, got[id], want[id])
		}
	}
	return ""
}
