package rooms_test

import (
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/rooms/store/mem"
	"github.com/tickroom/tickroom/state"
)

// Tests of the room's life: sleep, wake, stop and wake in the next
// process, expiry; with the in-memory stores (the disk ones have their own
// tests, and cmd/tickroom kills real processes).

// durableManager is a manager over st with the built-in types (and extra
// ones), rooms that sleep after 150 ms empty and checkpoint every 100 ms.
func durableManager(t *testing.T, st *mem.Store, tweak func(*rooms.Config), extra ...*rooms.Type) *rooms.Manager {
	t.Helper()
	reg := rooms.NewRegistry()
	for _, ty := range append([]*rooms.Type{arena.Type, board.Type}, extra...) {
		if err := reg.Register(ty); err != nil {
			t.Fatal(err)
		}
	}
	cfg := rooms.Config{Directory: st, Checkpoints: st, Logs: st, IdleTimeout: 150 * time.Millisecond,
		CheckpointInterval: 100 * time.Millisecond, KeyframeInterval: 250 * time.Millisecond}
	if tweak != nil {
		tweak(&cfg)
	}
	mgr := rooms.NewManager(reg, cfg)
	t.Cleanup(func() { _ = mgr.Shutdown(t.Context(), rooms.CloseGoingAway, "test over") })
	return mgr
}

// member is a connection that keeps the messages it is sent.
type member struct {
	client *rooms.Client
	conn   *fakeConn
}

func join(t *testing.T, r *rooms.Room, name, token string) (*member, state.Welcome) {
	t.Helper()
	conn := &fakeConn{msgs: make(chan []byte, 1<<14)}
	c, err := r.Join(conn, name, token)
	if err != nil {
		t.Fatalf("join %s: %v", name, err)
	}
	return &member{c, conn}, welcomeOf(t, conn)
}

// welcomeOf reads messages until the welcome.
func welcomeOf(t *testing.T, conn *fakeConn) state.Welcome {
	t.Helper()
	for {
		select {
		case msg, ok := <-conn.msgs:
			if !ok {
				t.Fatal("connection closed before the welcome")
			}
			var head []msgpack.RawMessage
			var tag int
			if msgpack.Unmarshal(msg, &head) != nil || msgpack.Unmarshal(head[0], &tag) != nil || tag != state.MsgWelcome {
				continue
			}
			var w state.Welcome
			if err := msgpack.Unmarshal(head[1], &w); err != nil {
				t.Fatal(err)
			}
			return w
		case <-time.After(5 * time.Second):
			t.Fatal("no welcome")
		}
	}
}

// input queues an input from m and waits until a tick applied it.
func input(t *testing.T, r *rooms.Room, m *member, seq uint64, v any) {
	t.Helper()
	payload, _ := msgpack.Marshal(v)
	if err := r.Input(m.client, seq, payload); err != nil {
		t.Fatalf("input: %v", err)
	}
	waitTicks(t, r, 2)
}

// worldOf copies a room's world at its last published tick.
func worldOf(t *testing.T, r *rooms.Room) *state.World {
	t.Helper()
	var cp []byte
	if err := r.Inspect(func(w *state.World) { cp, _ = w.AppendCheckpoint(nil) }, time.Second); err != nil {
		t.Fatalf("inspect: %v", err)
	}
	w, err := state.LoadWorld(r.Type.Schema, cp)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// waitAsleep waits until the manager no longer runs the room and the
// directory says it sleeps.
func waitAsleep(t *testing.T, mgr *rooms.Manager, id string) {
	t.Helper()
	waitUntil(t, 5*time.Second, "the room to go to sleep", func() bool {
		info, err := mgr.Lookup(id)
		return err == nil && info.State == rooms.StateDormant
	})
}

func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBoardSleepsAndWakesExactly: a board that empties goes to sleep (no
// goroutine, listed asleep), and a join wakes it with every shape, id, z
// and the next entity id as they were; an entity id is never reused.
func TestBoardSleepsAndWakesExactly(t *testing.T) {
	st := mem.New()
	mgr := durableManager(t, st, nil)
	r, err := mgr.Create(rooms.CreateRequest{Type: "board", Public: true})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := join(t, r, "ann", "")
	for i := range 5 {
		input(t, r, m, uint64(i+1), map[string]any{"op": "create", "shape": i % 2, "x": 100 + 40*i, "y": 80, "w": 30, "h": 20, "color": 0x102030 + i})
	}
	input(t, r, m, 6, map[string]any{"op": "delete", "id": 2})
	r.Leave(m.client, true)
	waitTicks(t, r, 2)
	before := worldOf(t, r)

	waitAsleep(t, mgr, r.ID)
	<-r.Done()
	if mgr.Get(r.ID) != nil || mgr.Len() != 0 {
		t.Fatal("an asleep room is still running")
	}
	list, err := mgr.List(10)
	if err != nil || len(list) != 1 || list[0].ID != r.ID || list[0].State != rooms.StateDormant {
		t.Fatalf("lobby: got %+v, %v; want the room, asleep", list, err)
	}

	woken, err := mgr.Open(r.ID)
	if err != nil {
		t.Fatalf("wake: %v", err)
	}
	after := worldOf(t, woken)
	roomtest.SameWorld(t, before, after)
	if before.NextID() != after.NextID() {
		t.Fatalf("next entity id: got %d, want %d (ids are never reused)", after.NextID(), before.NextID())
	}
	m2, w := join(t, woken, "bo", "")
	if w.Member != 2 {
		t.Fatalf("the next member is %d, want 2 (numbers are never reused)", w.Member)
	}
	input(t, woken, m2, 1, map[string]any{"op": "create", "shape": 0, "x": 10, "y": 10, "w": 10, "h": 10, "color": 1})
	if err := woken.Inspect(func(w *state.World) {
		if w.Get(before.NextID()) == nil {
			t.Errorf("the shape drawn after the wake did not get id %d", before.NextID())
		}
	}, time.Second); err != nil {
		t.Fatal(err)
	}
	if got := mgr.Counters().Wakes.Load(); got != 1 {
		t.Fatalf("wakes: %d, want 1", got)
	}
}

// TestWakeIsSingleFlight: 50 joiners of a sleeping room at once wake it
// once and all land in the same room.
func TestWakeIsSingleFlight(t *testing.T) {
	st := mem.New()
	mgr := durableManager(t, st, nil)
	r, _ := mgr.Create(rooms.CreateRequest{Type: "board"})
	waitAsleep(t, mgr, r.ID)
	var wg sync.WaitGroup
	got := make([]*rooms.Room, 50)
	errs := make([]error, 50)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = mgr.Open(r.ID)
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i] != got[0] {
			t.Fatalf("opener %d: room %p, err %v; want %p", i, got[i], errs[i], got[0])
		}
	}
	if n := mgr.Counters().Wakes.Load(); n != 1 {
		t.Fatalf("woken %d times, want once", n)
	}
}

// TestJoinRacingSleepWakesTheRoom: joins that arrive while the room is
// going to sleep are never left waiting: each either joins the room or is
// told it closed, and a new Open wakes it (what the server does).
func TestJoinRacingSleepWakesTheRoom(t *testing.T) {
	st := mem.New()
	mgr := durableManager(t, st, func(c *rooms.Config) { c.IdleTimeout = 20 * time.Millisecond })
	r, _ := mgr.Create(rooms.CreateRequest{Type: "board"})
	id := r.ID
	closed := 0
	for i := range 30 {
		room, err := mgr.Open(id)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		conn := &fakeConn{msgs: make(chan []byte, 1024)}
		time.Sleep(time.Duration(rand.IntN(150)) * time.Millisecond) // land anywhere around the sleep (ticks are 50 ms apart)
		c, err := room.Join(conn, "x", "")
		if errors.Is(err, rooms.ErrRoomClosed) {
			closed++
			continue // the room went to sleep first: the next Open wakes it
		}
		if err != nil {
			t.Fatalf("join %d: %v", i, err)
		}
		welcomeOf(t, conn)
		room.Leave(c, true)
	}
	// The joins landed around sleeps: the room slept and woke again and again.
	if n := mgr.Counters().Wakes.Load(); n < 5 {
		t.Fatalf("woken %d times in 30 joins, want the sleeps to have raced the joins", n)
	}
	t.Logf("30 joins: %d wakes, %d joins met a room going to sleep and were told so", mgr.Counters().Wakes.Load(), closed)
}

// TestStopThenWakeKeepsSeats: a process that stops stores its rooms; the
// next process (a new manager on the same stores) wakes them at start with
// every seat held, and a member coming back with its token gets its own
// avatar, score and member number back.
func TestStopThenWakeKeepsSeats(t *testing.T) {
	st := mem.New()
	first := durableManager(t, st, nil)
	r, _ := first.Create(rooms.CreateRequest{Type: "arena", Options: map[string]any{"coins": 40, "width": 200, "height": 150}})
	ann, wa := join(t, r, "ann", "")
	bo, _ := join(t, r, "bo", "")
	for i := range 30 {
		input(t, r, ann, uint64(i+1), map[string]any{"dx": rand.Float64()*2 - 1, "dy": rand.Float64()*2 - 1})
	}
	_ = bo
	input(t, r, ann, 31, map[string]any{"dx": 0, "dy": 0}) // everyone stands still: the world stays as it is now
	before := worldOf(t, r)
	if err := first.Shutdown(t.Context(), rooms.CloseRestart, "restarting"); err != nil {
		t.Fatal(err)
	}
	if rec, err := st.Get(r.ID); err != nil || rec.State != rooms.StateLive || rec.Players != 2 {
		t.Fatalf("row after the stop: %+v, %v; want live with 2 players", rec, err)
	}

	second := durableManager(t, st, nil)
	if n, err := second.Recover(); err != nil || n != 1 {
		t.Fatalf("recover: woke %d, %v; want 1", n, err)
	}
	woken := second.Get(r.ID)
	if woken == nil || woken.Players() != 2 {
		t.Fatalf("after recover: %v", woken)
	}
	roomtest.SameWorld(t, before, worldOf(t, woken))
	_, w := join(t, woken, "ann again", wa.Token)
	if !w.Resumed || w.Member != wa.Member || *w.Entity != *wa.Entity {
		t.Fatalf("resume: member %d entity %v resumed %v; want member %d entity %v resumed", w.Member, w.Entity, w.Resumed, wa.Member, *wa.Entity)
	}
}

// storedWorld is the world of a room's newest checkpoint.
func storedWorld(t *testing.T, st *mem.Store, id string, typ *rooms.Type) *state.World {
	t.Helper()
	var w *state.World
	_ = st.LoadCheckpoints(id, func(_ uint64, b []byte) bool {
		cp, err := rooms.DecodeCheckpoint(b)
		if err != nil {
			t.Fatal(err)
		}
		if w, err = state.LoadWorld(typ.Schema, cp.World); err != nil {
			t.Fatal(err)
		}
		return true
	})
	if w == nil {
		t.Fatal("no checkpoint stored")
	}
	return w
}

// TestDamagedCheckpointIsSkipped: a wake ignores a damaged newest
// checkpoint (counted) and wakes from the older one plus the log after
// it, to the same state.
func TestDamagedCheckpointIsSkipped(t *testing.T) {
	st := mem.New()
	mgr := durableManager(t, st, func(c *rooms.Config) { c.CheckpointInterval = time.Hour })
	r, _ := mgr.Create(rooms.CreateRequest{Type: "board"})
	draw := func(r *rooms.Room, n int) {
		m, _ := join(t, r, "ann", "")
		for i := range n {
			input(t, r, m, uint64(i+1), map[string]any{"op": "create", "shape": 1, "x": 50 * i, "y": 60, "w": 20, "h": 20, "color": 7})
		}
		r.Leave(m.client, true)
		waitAsleep(t, mgr, r.ID)
	}
	draw(r, 2) // the first sleep's checkpoint has 2 shapes more than the seed
	woken, err := mgr.Open(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	draw(woken, 3) // the second's has 3 more: only its log has them otherwise
	before := storedWorld(t, st, r.ID, r.Type)
	st.Damage(r.ID, []byte("TRCKPT\x01\x00garbage"))
	again, err := mgr.Open(r.ID)
	if err != nil {
		t.Fatalf("wake: %v", err)
	}
	roomtest.SameWorld(t, before, worldOf(t, again))
	if n := mgr.Counters().BadCheckpoints.Load(); n != 1 {
		t.Fatalf("bad checkpoints counted: %d, want 1", n)
	}
}

// TestCrashWakesFromCheckpointAndTail: the stores as a crash leaves them
// (a copy taken while the room runs: its newest checkpoint is behind its
// log) wake the room at the log's last tick, with the seats of that
// moment; the state equals a re-run of the whole log from the start.
func TestCrashWakesFromCheckpointAndTail(t *testing.T) {
	st := mem.New()
	mgr := durableManager(t, st, func(c *rooms.Config) { c.CheckpointInterval = 300 * time.Millisecond })
	r, _ := mgr.Create(rooms.CreateRequest{Type: "arena", Options: map[string]any{"coins": 30, "width": 200, "height": 150}})
	ann, wa := join(t, r, "ann", "")
	for i := range 25 {
		input(t, r, ann, uint64(i+1), map[string]any{"dx": rand.Float64()*2 - 1, "dy": rand.Float64()*2 - 1})
	}
	crashed := st.Clone() // the process dies here
	rec, _ := crashed.Get(r.ID)

	var cpTick uint64
	_ = crashed.LoadCheckpoints(r.ID, func(tick uint64, _ []byte) bool { cpTick = tick; return true })
	_, end, _ := crashed.Continue(rec.LogID)
	if cpTick == 0 || cpTick >= end.Tick {
		t.Fatalf("want a checkpoint behind the log: checkpoint at %d, log ends at %d", cpTick, end.Tick)
	}
	full, err := rooms.NewSim(arena.Type, rec.Options, rec.Seed)
	if err != nil {
		t.Fatal(err)
	}
	_ = crashed.Read(rec.LogID, rooms.LogPosition{}, func(lr rooms.LogRecord) error {
		if lr.IsTick {
			for _, op := range lr.Ops {
				_ = full.Apply(lr.Tick, op)
			}
			full.Step(lr.Tick)
		}
		return nil
	})
	crashed = st.Clone() // Continue above opened the log: take the crash image again

	next := durableManager(t, crashed, nil)
	if n, err := next.Recover(); err != nil || n != 1 {
		t.Fatalf("recover: %d, %v", n, err)
	}
	woken := next.Get(r.ID)
	w := worldOf(t, woken)
	if w.Tick() < full.Tick() {
		t.Fatalf("woke at tick %d, the log ends at %d", w.Tick(), full.Tick())
	}
	for full.Tick() < w.Tick() { // the woken room ticked on with no ops (nobody joined yet)
		full.Step(full.Tick() + 1)
	}
	roomtest.SameWorld(t, full.World, w)
	_, back := join(t, woken, "ann", wa.Token)
	if !back.Resumed || back.Member != wa.Member || *back.Entity != *wa.Entity {
		t.Fatalf("resume after the crash: %+v", back)
	}
}

// replayTag is the example type made deterministic: it keeps no
// checkpoints, so a wake re-runs its whole log.
var replayTag = func() *rooms.Type {
	t := *tagType
	t.Name, t.Deterministic = "replay-tag", true
	return &t
}()

// TestTypeWithoutCheckpointsWakesFromItsLog: a deterministic type with no
// Checkpointer sleeps and wakes by re-running its whole log.
func TestTypeWithoutCheckpointsWakesFromItsLog(t *testing.T) {
	st := mem.New()
	mgr := durableManager(t, st, nil, replayTag)
	r, _ := mgr.Create(rooms.CreateRequest{Type: "replay-tag"})
	m, _ := join(t, r, "ann", "")
	input(t, r, m, 1, map[string]any{"dx": 1, "dy": 0.5})
	waitTicks(t, r, 10)
	input(t, r, m, 2, map[string]any{"dx": 0, "dy": 0})
	r.Leave(m.client, false) // the seat is held; it expires after SeatGrace
	ticks := r.CurrentTick()
	waitUntil(t, 5*time.Second, "the room to run on", func() bool { return r.CurrentTick() > ticks+5 })
	r.Stop(rooms.CloseRestart, "test")
	<-r.Done()
	woken, err := mgr.Open(r.ID)
	if err != nil {
		t.Fatalf("wake: %v", err)
	}
	if woken.Players() != 1 {
		t.Fatalf("the held seat did not survive: %d players", woken.Players())
	}
	if err := woken.Inspect(func(w *state.World) {
		if w.Len() != 1 || w.Entities()[0].Float(x) <= 0 {
			t.Errorf("the dot did not come back where it moved to")
		}
	}, time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestTypeGoneIsReportedNotDeleted: a stored room whose type this build
// lacks is reported with the type's name, and nothing is deleted.
func TestTypeGoneIsReportedNotDeleted(t *testing.T) {
	st := mem.New()
	first := durableManager(t, st, nil, replayTag)
	r, _ := first.Create(rooms.CreateRequest{Type: "replay-tag"})
	_ = first.Shutdown(t.Context(), rooms.CloseRestart, "test")
	second := durableManager(t, st, nil) // without replay-tag
	var gone *rooms.TypeGoneError
	if _, err := second.Open(r.ID); !errors.As(err, &gone) || gone.Type != "replay-tag" {
		t.Fatalf("open: got %v, want a TypeGoneError naming replay-tag", err)
	}
	if _, err := second.Lookup(r.ID); !errors.Is(err, rooms.ErrTypeGone) {
		t.Fatalf("lookup: got %v, want ErrTypeGone", err)
	}
	if n, _ := second.Expire(time.Now().Add(1000 * time.Hour)); n != 0 {
		t.Fatalf("expiry deleted %d rooms of a missing type", n)
	}
	if _, err := st.Get(r.ID); err != nil {
		t.Fatalf("the room's row is gone: %v", err)
	}
}

// TestSleepingRoomsExpire: a room asleep longer than its type's max age is
// deleted: its row and checkpoints go, its log gets its end; a room of a
// type kept for ever (0) stays.
func TestSleepingRoomsExpire(t *testing.T) {
	st := mem.New()
	mgr := durableManager(t, st, func(c *rooms.Config) {
		c.DormantMaxAge = map[string]time.Duration{"board": time.Hour, "arena": 0}
	})
	b, _ := mgr.Create(rooms.CreateRequest{Type: "board"})
	a, _ := mgr.Create(rooms.CreateRequest{Type: "arena"})
	waitAsleep(t, mgr, b.ID)
	waitAsleep(t, mgr, a.ID)
	if n, err := mgr.Expire(time.Now()); err != nil || n != 0 {
		t.Fatalf("expire now: %d, %v; want nothing yet", n, err)
	}
	if n, err := mgr.Expire(time.Now().Add(2 * time.Hour)); err != nil || n != 1 {
		t.Fatalf("expire in 2 h: %d, %v; want the board", n, err)
	}
	if _, err := mgr.Open(b.ID); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("open the expired board: %v, want ErrNotFound", err)
	}
	if !st.Ended(b.RecordingID()) {
		t.Fatal("the expired room's log did not get its end")
	}
	if _, err := mgr.Open(a.ID); err != nil {
		t.Fatalf("the arena kept for ever: %v", err)
	}
}

// failingStore fails checkpoint and directory writes while fail is set, as
// a full disk would.
type failingStore struct {
	*mem.Store
	fail atomic.Bool
}

var errDiskFull = errors.New("no space left on device")

func (f *failingStore) SaveCheckpoint(room string, tick uint64, data []byte) error {
	if f.fail.Load() {
		return errDiskFull
	}
	return f.Store.SaveCheckpoint(room, tick, data)
}

func (f *failingStore) Put(rec rooms.RoomRecord) error {
	if f.fail.Load() {
		return errDiskFull
	}
	return f.Store.Put(rec)
}

// TestFailingStoreKeepsTheRoomLive: while checkpoints cannot be stored, a
// room without a log to re-run does not go to sleep (it would be lost): it
// runs on, the failures are counted, and it sleeps once the store works.
func TestFailingStoreKeepsTheRoomLive(t *testing.T) {
	fs := &failingStore{Store: mem.New()}
	reg := rooms.NewRegistry()
	_ = reg.Register(board.Type)
	mgr := rooms.NewManager(reg, rooms.Config{Directory: fs, Checkpoints: fs, IdleTimeout: 50 * time.Millisecond,
		CheckpointInterval: 50 * time.Millisecond})
	t.Cleanup(func() { _ = mgr.Shutdown(t.Context(), rooms.CloseGoingAway, "test over") })
	r, _ := mgr.Create(rooms.CreateRequest{Type: "board"})
	fs.fail.Store(true)
	waitUntil(t, 5*time.Second, "a refused sleep", func() bool { return mgr.Counters().SleepFailures.Load() > 0 })
	if r.Closed() || mgr.Get(r.ID) == nil {
		t.Fatal("the room stopped although nothing could be stored")
	}
	if mgr.Counters().CheckpointFailures.Load() == 0 {
		t.Fatal("checkpoint failures not counted")
	}
	fs.fail.Store(false)
	waitAsleep(t, mgr, r.ID)
}
