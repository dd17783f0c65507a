package server_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/rooms/idlebench"
	"github.com/tickroom/tickroom/rooms/store/sqlite"
	"github.com/tickroom/tickroom/rooms/tape"
	"github.com/tickroom/tickroom/server"
)

// stores is a node's data directory: the room directory and checkpoints
// in SQLite, the logs in tapes.
type stores struct {
	db    *sqlite.Store
	tapes *tape.Store
}

func openStores(t *testing.T, dir string) stores {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(dir, "rooms.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	tapes, err := tape.NewStore(filepath.Join(dir, "recordings"), tape.StoreOptions{Writer: tape.WriterOptions{FlushInterval: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	return stores{db, tapes}
}

// newDurableEnv is a server whose rooms sleep after 300 ms empty.
func newDurableEnv(t *testing.T, st stores, sc server.Config, extra ...*rooms.Type) *testEnv {
	t.Helper()
	sc.Recordings = st.tapes
	return newEnv(t, rooms.Config{Directory: st.db, Checkpoints: st.db, Logs: st.tapes, IdleTimeout: 300 * time.Millisecond,
		SeatGrace: 200 * time.Millisecond, KeyframeInterval: 500 * time.Millisecond}, sc, extra...)
}

// stateOf is GET /api/rooms/{id}: the status and the room's state.
func (e *testEnv) stateOf(id string) (int, string) {
	e.t.Helper()
	var info struct{ State string }
	code := e.api("GET", "/api/rooms/"+id, nil, &info)
	return code, info.State
}

func (e *testEnv) waitState(id, want string) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, st := e.stateOf(id); st == want {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("room %s never became %s", id, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSleepingRoomIsListedAndWokenByAJoin: over the wire, a board that
// empties answers GET /api/rooms/{id} as dormant, the lobby lists it after
// the live rooms, and a member's join wakes it with its shapes.
func TestSleepingRoomIsListedAndWokenByAJoin(t *testing.T) {
	e := newDurableEnv(t, openStores(t, t.TempDir()), server.Config{})
	asleep := e.createRoom("board", nil)
	a := e.join(asleep, "ann")
	a.input(map[string]any{"op": "create", "shape": 0, "x": 10, "y": 10, "w": 40, "h": 40, "color": 0xabcdef})
	a.waitFor("the new shape", func() bool { return len(a.mirror.Entities) == 6 }) // 4 seeded, a cursor, the new one
	closeNormally(t, a)
	e.waitState(asleep, "dormant")
	live := e.createRoom("arena", nil)

	var list []rooms.RoomInfo
	if code := e.api("GET", "/api/rooms", nil, &list); code != http.StatusOK || len(list) != 2 {
		t.Fatalf("lobby: %d %+v, want both rooms", code, list)
	}
	if list[0].ID != live || list[0].State != rooms.StateLive || list[1].ID != asleep || list[1].State != rooms.StateDormant {
		t.Fatalf("lobby order: %+v, want the live arena then the sleeping board", list)
	}
	if code := e.api("GET", "/api/rooms?limit=0", nil, nil); code != http.StatusBadRequest {
		t.Fatalf("limit=0: %d, want 400", code)
	}

	b := e.join(asleep, "bo")
	shapes := 0
	for _, ent := range b.mirror.Entities {
		if ent.Kind.Name == "shape" {
			shapes++
		}
	}
	if shapes != 5 || b.welcome.Member != 2 {
		t.Fatalf("after the wake: %d shapes, member %d; want 5 shapes (4 seeded and ann's), member 2", shapes, b.welcome.Member)
	}
	if _, st := e.stateOf(asleep); st != "live" {
		t.Fatalf("after the join the room is %q, want live", st)
	}
}

// TestStoredRoomOfAMissingTypeIs410: a stored room whose type the server
// no longer has answers 410 naming the type; a join is closed with 4014;
// nothing is deleted.
func TestStoredRoomOfAMissingTypeIs410(t *testing.T) {
	dir := t.TempDir()
	old := *board.Type
	old.Name = "old-board"
	first := newDurableEnv(t, openStores(t, dir), server.Config{}, &old)
	id := first.createRoom("old-board", nil)
	if err := first.mgr.Shutdown(context.Background(), rooms.CloseRestart, "upgrade"); err != nil {
		t.Fatal(err)
	}
	st := openStores(t, dir)
	e := newDurableEnv(t, st, server.Config{})
	var body struct{ Code, Message string }
	if code := e.api("GET", "/api/rooms/"+id, nil, &body); code != http.StatusGone || body.Code != "type_gone" || !strings.Contains(body.Message, `"old-board"`) {
		t.Fatalf("GET: %d %+v, want 410 naming old-board", code, body)
	}
	c, err := e.dial(id, "name=x")
	if err != nil {
		t.Fatal(err)
	}
	if ce := c.waitClose(); ce == nil || ce.Code != rooms.CloseTypeGone || !strings.Contains(ce.Text, "old-board") {
		t.Fatalf("join: closed with %v, want 4014 naming the type", ce)
	}
	if _, err := st.db.Get(id); err != nil {
		t.Fatalf("the room's row was deleted: %v", err)
	}
}

// TestRandomIDsCostNothing: a flood of lookups and joins of ids that name
// no room answers 404 and 4004 from one directory lookup each: nothing is
// woken, created or read from the logs.
func TestRandomIDsCostNothing(t *testing.T) {
	st := openStores(t, t.TempDir())
	dir := &countingDir{Store: st.db}
	sc := server.Config{SessionsPerIP: -1, Recordings: st.tapes}
	e := newEnv(t, rooms.Config{Directory: dir, Checkpoints: st.db, Logs: st.tapes, IdleTimeout: 300 * time.Millisecond}, sc)
	e.createRoom("board", nil)
	before, _ := st.db.Count("")
	for i := range 300 {
		id := randomID()
		if code := e.api("GET", "/api/rooms/"+id, nil, nil); code != http.StatusNotFound {
			t.Fatalf("GET %d: %d, want 404", i, code)
		}
		if i%10 == 0 {
			c, err := e.dial(id, "")
			if err != nil {
				t.Fatal(err)
			}
			if ce := c.waitClose(); ce == nil || ce.Code != rooms.CloseNotFound {
				t.Fatalf("join of a random id: %v, want 4004", ce)
			}
		}
	}
	if got := dir.gets.Load(); got != 300+30 {
		t.Fatalf("%d directory lookups for 300 GETs and 30 joins, want one each", got)
	}
	k := e.mgr.Counters()
	if after, _ := st.db.Count(""); after != before || k.Wakes.Load() != 0 || k.WakeFailures.Load() != 0 {
		t.Fatalf("rows %d -> %d, wakes %d, failures %d: want nothing changed", before, after, k.Wakes.Load(), k.WakeFailures.Load())
	}
}

// countingDir counts the directory's lookups by id.
type countingDir struct {
	*sqlite.Store
	gets atomic.Int64
}

func (d *countingDir) Get(id string) (rooms.RoomRecord, error) {
	d.gets.Add(1)
	return d.Store.Get(id)
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestFloodOfJoinsWakesOnce: 40 members joining a sleeping room at once
// wake it once and all land in it.
func TestFloodOfJoinsWakesOnce(t *testing.T) {
	e := newDurableEnv(t, openStores(t, t.TempDir()), server.Config{})
	id := e.createRoom("board", nil)
	e.waitState(id, "dormant")
	var wg sync.WaitGroup
	members := make([]uint32, 40)
	for i := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := e.dial(id, "name=m")
			if err != nil {
				t.Error(err)
				return
			}
			for c.welcome == nil {
				if _, ok := c.next(5 * time.Second); !ok {
					t.Errorf("joiner %d closed: %v", i, c.closeErr)
					return
				}
			}
			members[i] = c.welcome.Member
		}()
	}
	wg.Wait()
	seen := map[uint32]bool{}
	for _, m := range members {
		seen[m] = true
	}
	if len(seen) != len(members) || seen[0] {
		t.Fatalf("members %v: want 40 different members", members)
	}
	if n := e.mgr.Counters().Wakes.Load(); n != 1 {
		t.Fatalf("woken %d times, want once", n)
	}
}

// TestCreateSaysWhetherTheRoomIsDurable: a board not recorded still keeps
// checkpoints, so it is durable; a type with neither checkpoints nor a log
// to re-run is not, and closes when idle.
func TestCreateSaysWhetherTheRoomIsDurable(t *testing.T) {
	e := newDurableEnv(t, openStores(t, t.TempDir()), server.Config{}, idlebench.Type)
	for _, c := range []struct {
		body    map[string]any
		durable bool
	}{
		{map[string]any{"type": "board"}, true},
		{map[string]any{"type": "board", "record": false}, true},
		{map[string]any{"type": idlebench.Type.Name}, false},
	} {
		var got struct {
			ID      string
			Durable bool
		}
		if code := e.api("POST", "/api/rooms", c.body, &got); code != http.StatusCreated || got.Durable != c.durable {
			t.Errorf("create %v: %d durable=%v, want durable=%v", c.body, code, got.Durable, c.durable)
		}
	}
}

// TestAdminListsAndDeletesSleepingRooms: the admin API lists sleeping rooms
// (unlisted ones too) and deletes them; the recording stays.
func TestAdminListsAndDeletesSleepingRooms(t *testing.T) {
	e := newDurableEnv(t, openStores(t, t.TempDir()), server.Config{AdminToken: "secret"})
	var c struct{ ID string }
	e.api("POST", "/api/rooms", map[string]any{"type": "board", "visibility": "unlisted"}, &c)
	e.waitState(c.ID, "dormant")
	admin := func(method, path string, out any) int {
		req, _ := http.NewRequest(method, e.ts.URL+path, nil)
		req.Header.Set("Authorization", "Bearer secret")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if out != nil {
			_ = json.NewDecoder(res.Body).Decode(out)
		}
		return res.StatusCode
	}
	var list []rooms.RoomInfo
	if code := admin("GET", "/api/admin/rooms?state=dormant", &list); code != http.StatusOK || len(list) != 1 || list[0].ID != c.ID {
		t.Fatalf("admin list: %d %+v", code, list)
	}
	rec := list[0].RecordingID
	if code := admin("DELETE", "/api/admin/rooms/"+c.ID, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	if code, _ := e.stateOf(c.ID); code != http.StatusNotFound {
		t.Fatalf("after delete: %d, want 404", code)
	}
	if code := e.api("GET", "/api/recordings/"+rec, nil, nil); code != http.StatusOK {
		t.Fatalf("the deleted room's recording: %d, want 200 (it stays)", code)
	}
	if code := admin("DELETE", "/api/admin/rooms/"+c.ID, nil); code != http.StatusNotFound {
		t.Fatalf("delete again: %d, want 404", code)
	}
}
