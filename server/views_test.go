package server_test

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/fieldbench"
	"github.com/tickroom/tickroom/rooms/tape"
	"github.com/tickroom/tickroom/server"
	"github.com/tickroom/tickroom/state"
)

// TestFieldBenchStreamStaysInTheViewMargin: over a real socket, after every
// frame a field-bench member applies, its mirror holds nothing farther
// from its own player than the view's half-side plus one cell; and at the
// end, everything inside its view square is there and equal to the server.
func TestFieldBenchStreamStaysInTheViewMargin(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{}, fieldbench.Type)
	id := env.createRoom("field-bench", nil)
	const margin = fieldbench.HalfView + fieldbench.Cell
	var members []*wsClient
	for i, name := range []string{"a", "b", "c"} {
		c := env.join(id, name)
		members = append(members, c)
		frames := 0
		c.onState = func(b []byte) {
			frames++
			own := c.mirror.Entities[*c.welcome.Entity]
			if own == nil {
				t.Fatalf("member %d: its own player %d is not in its mirror", i, *c.welcome.Entity)
			}
			px, py := own.Float(fieldbench.FieldX), own.Float(fieldbench.FieldY)
			for eid, e := range c.mirror.Entities {
				dx, dy := math.Abs(e.Float(fieldbench.FieldX)-px), math.Abs(e.Float(fieldbench.FieldY)-py)
				if dx > margin || dy > margin {
					t.Fatalf("member %d frame %d: entity %d at (%.1f, %.1f) is %.0f, %.0f from its player: beyond the margin %v",
						i, frames, eid, e.Float(fieldbench.FieldX), e.Float(fieldbench.FieldY), dx, dy, margin)
				}
			}
			if n := len(c.mirror.Entities); n > 200 {
				t.Fatalf("member %d: %d entities in its mirror, want a view's worth (about 100)", i, n)
			}
		}
	}
	// Wander for a while, crossing cells: 10 units a tick, 250-unit cells.
	for seq := uint64(1); seq <= 60; seq++ {
		for i, c := range members {
			in := fieldbench.ClientInput(i, seq)
			c.input(map[string]any{"dx": in.DX, "dy": in.DY})
		}
		members[0].waitTick(members[0].mirror.Tick + 1)
	}
	for i, c := range members {
		tick := env.checkView(id, c)
		if c.mirror.LeftView == 0 {
			t.Errorf("member %d: no entity left its view by tick %d: the players did not cross cells", i, tick)
		}
	}
}

// checkView is checkMirror for a field-bench member: everything inside its
// view square equal to the server, nothing beyond the margin.
func (e *testEnv) checkView(roomID string, c *wsClient) uint64 {
	e.t.Helper()
	var tick uint64
	var div *state.Divergence
	err := e.room(roomID).Inspect(func(w *state.World) {
		tick = w.Tick()
		c.waitTick(tick)
		own := w.Get(*c.welcome.Entity)
		px, py := own.Float(fieldbench.FieldX), own.Float(fieldbench.FieldY)
		within := func(d float64) func(*state.Entity) bool {
			return func(x *state.Entity) bool {
				return math.Abs(x.Float(fieldbench.FieldX)-px) <= d && math.Abs(x.Float(fieldbench.FieldY)-py) <= d
			}
		}
		div = state.CompareSeen(w, c.mirror, within(fieldbench.HalfView), within(fieldbench.HalfView+fieldbench.Cell))
	}, 5*time.Second)
	if err != nil {
		e.t.Fatalf("inspect: %v", err)
	}
	if div != nil {
		e.t.Fatalf("view mirror diverged at tick %d: %v", tick, div)
	}
	return tick
}

// secretsType is the private-state example of docs/ROOM_TYPES.md: every
// member has a public avatar and a secret only it may see, kept in an
// interest group of its own.
var (
	avatarKind  = state.MustKind(0, "avatar", nil, state.Pos("x"))
	secretKind  = state.MustKind(1, "secret", nil, state.Text("value"))
	secretsType = &rooms.Type{
		Name: "secrets", TickRate: 20, Schema: state.MustSchema(avatarKind, secretKind), Views: true,
		New:     func(map[string]any) (rooms.Handler, map[string]any, error) { return &secrets{}, nil, nil },
		Private: func(g state.GroupID) bool { return g >= 1_000_000 }, // every member's own group
	}
)

type secrets struct{ of map[uint32]*state.Entity }

// privateGroup is member n's own group; 0 is everyone's.
func privateGroup(n uint32) state.GroupID { return state.GroupID(1_000_000 + n) }

func (h *secrets) Init(*rooms.Context) error { h.of = map[uint32]*state.Entity{}; return nil }
func (h *secrets) Join(ctx *rooms.Context, m *rooms.Member) (*state.Entity, error) {
	s := ctx.World.Spawn(secretKind)
	s.SetString(0, fmt.Sprintf("secret-of-%s-%d", m.Name, ctx.Rand.Uint32()))
	ctx.World.SetGroup(s, privateGroup(m.Number))
	m.View().Set([]state.GroupID{privateGroup(m.Number)})
	h.of[m.Number] = s
	return ctx.World.Spawn(avatarKind), nil // public: in group 0
}
func (h *secrets) Leave(ctx *rooms.Context, m *rooms.Member) {
	ctx.World.Despawn(h.of[m.Number].ID())
	ctx.World.Despawn(m.Entity.ID())
}
func (h *secrets) Input(*rooms.Context, *rooms.Member, msgpack.RawMessage) error { return nil }
func (h *secrets) Tick(ctx *rooms.Context) {
	if ctx.Tick%5 == 0 { // secrets change: deltas carry them too, not just snapshots
		for _, m := range ctx.Members() {
			h.of[m.Number].SetString(0, fmt.Sprintf("secret-of-%s-%d", m.Name, ctx.Rand.Uint32()))
		}
	}
}

// TestPrivateStateReachesOnlyItsMember: no byte of another member's secret
// ever reaches a member's stream, while its own secret is in its mirror.
func TestPrivateStateReachesOnlyItsMember(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{}, secretsType)
	id := env.createRoom("secrets", nil)
	var streams [2][]byte
	var members [2]*wsClient
	for i, name := range []string{"alice", "bob"} {
		c, err := env.dial(id, "name="+name)
		if err != nil {
			t.Fatal(err)
		}
		c.onState = func(b []byte) { streams[i] = append(streams[i], b...) }
		c.waitSynced()
		members[i] = c
	}
	secretsOf := map[state.GroupID]map[string]bool{} // every value each member's secret took
	start := members[0].mirror.Tick
	for tick := start + 1; tick <= start+30; tick++ {
		var errs []error
		err := env.room(id).Inspect(func(w *state.World) {
			for i, c := range members {
				c.waitTick(w.Tick())
				if i == 0 {
					for _, e := range w.Entities() {
						if e.Kind() == secretKind {
							if secretsOf[e.Group()] == nil {
								secretsOf[e.Group()] = map[string]bool{}
							}
							secretsOf[e.Group()][e.String(0)] = true
						}
					}
				}
				own := 0
				for _, e := range c.mirror.Entities {
					if e.Kind.Name == "secret" {
						own++
						if w.Get(e.ID).Group() != privateGroup(c.welcome.Member) {
							errs = append(errs, fmt.Errorf("member %d holds secret %d of another member", c.welcome.Member, e.ID))
						}
					}
				}
				if own != 1 {
					errs = append(errs, fmt.Errorf("member %d holds %d secrets, want its own one", c.welcome.Member, own))
				}
				if d := state.CompareView(w, c.mirror, []state.GroupID{privateGroup(c.welcome.Member)}); d != nil {
					errs = append(errs, fmt.Errorf("member %d: %v", c.welcome.Member, d))
				}
			}
		}, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range errs {
			t.Fatal(err)
		}
		members[0].waitTick(tick)
	}
	for i, c := range members {
		mine, theirs := privateGroup(c.welcome.Member), privateGroup(members[1-i].welcome.Member)
		if len(secretsOf[mine]) < 5 || len(secretsOf[theirs]) < 5 {
			t.Fatalf("secrets took %d and %d values, want several each", len(secretsOf[mine]), len(secretsOf[theirs]))
		}
		for v := range secretsOf[theirs] {
			if bytes.Contains(streams[i], []byte(v)) {
				t.Fatalf("member %d's stream carried %q, another member's secret", c.welcome.Member, v)
			}
		}
		for v := range secretsOf[mine] {
			if !bytes.Contains(streams[i], []byte(v)) {
				t.Fatalf("member %d's stream lacks its own secret %q", c.welcome.Member, v)
			}
		}
	}
}

// TestViewsRecordingHoldsTheWholeWorld: a views room's recording is the
// stream of a view of every group, so a replay shows the whole world: at
// each checked tick the tape's mirror equals the server's entire world,
// while the members' own streams held only their views.
func TestViewsRecordingHoldsTheWholeWorld(t *testing.T) {
	env, store := newRecordingEnv(t, server.Config{AdminToken: "tok"})
	if err := env.mgr.Types().Register(fieldbench.Type); err != nil {
		t.Fatal(err)
	}
	id := env.createRoom("field-bench", nil)
	var info struct {
		RecordingID string `json:"recordingId"`
	}
	if code := env.api("GET", "/api/rooms/"+id, nil, &info); code != 200 || info.RecordingID == "" {
		t.Fatalf("room info: %d, recordingId %q", code, info.RecordingID)
	}
	a, b := env.join(id, "a"), env.join(id, "b")
	whole := map[uint64]map[state.EntityID]string{}
	for seq := uint64(1); seq <= 30; seq++ {
		for i, c := range []*wsClient{a, b} {
			in := fieldbench.ClientInput(i, seq)
			c.input(map[string]any{"dx": in.DX, "dy": in.DY})
		}
		if seq%10 != 0 {
			a.waitTick(a.mirror.Tick + 1)
			continue
		}
		if err := env.room(id).Inspect(func(w *state.World) {
			snap, err := w.AppendSnapshot(nil)
			if err != nil {
				t.Error(err)
				return
			}
			m := state.NewMirror(w.Schema())
			if _, err := m.Apply(snap); err != nil {
				t.Error(err)
				return
			}
			whole[w.Tick()] = mirrorState(m)
		}, 5*time.Second); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(a.mirror.Entities); n > 200 {
		t.Fatalf("member a holds %d entities: its view, not the world, was expected", n)
	}
	r := env.room(id)
	r.Close(rooms.CloseRoomClosed, "test over")
	<-r.Done()
	tr, err := store.Open(info.RecordingID)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for tick, want := range whole {
		m, err := tr.Seek(tick)
		if err != nil {
			t.Fatalf("seek %d: %v", tick, err)
		}
		got := mirrorState(m)
		if len(got) != len(want) || len(want) < fieldbench.Props+2 {
			t.Fatalf("tick %d: tape has %d entities, the world %d", tick, len(got), len(want))
		}
		for eid, w := range want {
			if got[eid] != w {
				t.Fatalf("tick %d entity %d: tape %s, world %s", tick, eid, got[eid], w)
			}
		}
	}
	if len(whole) != 3 {
		t.Fatalf("checked %d ticks, want 3", len(whole))
	}
}

// TestPrivateGroupsStayOutOfSpectatorsAndRecordings: a private group
// (Type.Private) reaches neither a spectator's stream nor the room's
// recording, which anyone may download; the same type without Private
// shows the test would see them.
func TestPrivateGroupsStayOutOfSpectatorsAndRecordings(t *testing.T) {
	open := *secretsType
	open.Name, open.Private = "secrets-open", nil
	for _, tc := range []struct {
		typ     *rooms.Type
		private bool
	}{{secretsType, true}, {&open, false}} {
		t.Run(tc.typ.Name, func(t *testing.T) {
			store, err := tape.NewStore(filepath.Join(t.TempDir(), "recordings"), tape.StoreOptions{Writer: tape.WriterOptions{FlushInterval: 20 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			env := newEnv(t, rooms.Config{Logs: store, KeyframeInterval: 200 * time.Millisecond}, server.Config{Recordings: store}, tc.typ)
			id, spectate := createWithLinks(t, env, tc.typ.Name)
			alice, err := env.dial(id, "name=alice")
			if err != nil {
				t.Fatal(err)
			}
			alice.waitSynced()
			spec, err := env.dial(id, spectate)
			if err != nil {
				t.Fatal(err)
			}
			var watched []byte
			spec.onState = func(b []byte) { watched = append(watched, b...) }
			spec.waitSynced()
			secrets := map[string]bool{}
			start := alice.mirror.Tick
			for tick := start + 1; tick <= start+24; tick++ {
				alice.waitTick(tick)
				spec.waitTick(tick)
				for _, e := range alice.mirror.Entities {
					if e.Kind.Name == "secret" {
						secrets[e.Value(0).(string)] = true
					}
				}
			}
			if len(secrets) < 3 {
				t.Fatalf("alice's secret took %d values, want several", len(secrets))
			}
			var info struct {
				RecordingID string `json:"recordingId"`
			}
			if code := env.api("GET", "/api/rooms/"+id, nil, &info); code != 200 || info.RecordingID == "" {
				t.Fatalf("room info: %d, recordingId %q", code, info.RecordingID)
			}
			// The tape as anyone may fetch it, once it holds the ticks watched.
			var tapeBytes []byte
			for deadline := time.Now().Add(5 * time.Second); ; {
				res, err := http.Get(env.ts.URL + "/api/recordings/" + info.RecordingID + "/tape") // no credentials
				if err != nil {
					t.Fatal(err)
				}
				tapeBytes, _ = io.ReadAll(res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusOK && len(tapeBytes) > 1024 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("GET the tape: %d, %d bytes after 5 s", res.StatusCode, len(tapeBytes))
				}
				time.Sleep(20 * time.Millisecond) // the tape flushes every 20 ms
			}
			leaks := 0
			for v := range secrets {
				if bytes.Contains(watched, []byte(v)) {
					leaks++
				}
				if bytes.Contains(tapeBytes, []byte(v)) {
					leaks++
				}
			}
			if tc.private && leaks > 0 {
				t.Fatalf("alice's private secret reached the spectator or the recording %d times", leaks)
			}
			if !tc.private && leaks == 0 {
				t.Fatal("without Private the spectator and the recording never carried the secret: the test cannot see a leak")
			}
			if tc.private {
				for _, e := range spec.mirror.Entities {
					if e.Kind.Name == "secret" {
						t.Fatalf("the spectator's mirror holds secret %d", e.ID)
					}
				}
				if spec.mirror.Entities[*alice.welcome.Entity] == nil {
					t.Fatal("the spectator's mirror lacks alice's public avatar")
				}
			}
		})
	}
}
