package rooms_test

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/rooms/store/mem"
)

// Faults in the room's life: stores that fail or stall at the wrong
// moment, races between wakes, sleeps, deletes, expiry and shutdown, and
// a handler that panics.

// flakyLogs fails Continue while fail is set, as a full disk or a
// descriptor limit would.
type flakyLogs struct {
	*mem.Store
	fail atomic.Bool
}

func (f *flakyLogs) Continue(id string) (rooms.LogWriter, rooms.LogEnd, error) {
	if f.fail.Load() {
		return nil, rooms.LogEnd{}, errors.New("too many open files")
	}
	return f.Store.Continue(id)
}

// TestWakeFailsRatherThanDropTheLogsTail: a log that cannot be continued
// (for a reason that may pass) fails the wake and leaves the room as it
// was; once the log can be continued the room wakes with the ops its
// checkpoint did not have.
func TestWakeFailsRatherThanDropTheLogsTail(t *testing.T) {
	st := mem.New()
	logs := &flakyLogs{Store: st}
	mgr := durableManager(t, st, func(c *rooms.Config) { c.Logs, c.CheckpointInterval = logs, time.Hour })
	r, _ := mgr.Create(rooms.CreateRequest{Type: "board"})
	m, _ := join(t, r, "ann", "")
	input(t, r, m, 1, map[string]any{"op": "create", "shape": 0, "x": 50, "y": 50, "w": 20, "h": 20, "color": 1})
	want := worldOf(t, r)
	crashed := st.Clone() // the only checkpoint is none: the shape is in the log alone
	logs2 := &flakyLogs{Store: crashed}
	logs2.fail.Store(true)
	next := durableManager(t, crashed, func(c *rooms.Config) { c.Logs = logs2 })
	if _, err := next.Open(r.ID); err == nil {
		t.Fatal("woke although its log could not be continued")
	}
	if rec, _ := crashed.Get(r.ID); rec.LogID != r.RecordingID() {
		t.Fatalf("the failed wake changed the room's log to %q", rec.LogID)
	}
	logs2.fail.Store(false)
	woken, err := next.Open(r.ID)
	if err != nil {
		t.Fatalf("wake once the log can be continued: %v", err)
	}
	got := worldOf(t, woken)
	if got.Len() != want.Len() {
		t.Fatalf("woke with %d entities, want %d (the log's tail)", got.Len(), want.Len())
	}
}

// TestExpiryNeverTakesARoomSomeoneWoke: a room old enough to expire that
// someone opened meanwhile is not deleted by the expiry pass.
func TestExpiryNeverTakesARoomSomeoneWoke(t *testing.T) {
	st := mem.New()
	mgr := durableManager(t, st, func(c *rooms.Config) { c.DormantMaxAge = map[string]time.Duration{"*": time.Hour} })
	r, _ := mgr.Create(rooms.CreateRequest{Type: "board"})
	waitAsleep(t, mgr, r.ID)
	woken, err := mgr.Open(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	join(t, woken, "ann", "")
	// The pass listed the room while it slept (its row is read again
	// under the hold: live now, it is left alone).
	if n, err := mgr.Expire(time.Now().Add(1000 * time.Hour)); err != nil || n != 0 {
		t.Fatalf("expire: %d deleted, %v; want none", n, err)
	}
	if woken.Closed() {
		t.Fatal("expiry closed a room with a member in it")
	}
	if _, err := st.Get(r.ID); err != nil {
		t.Fatalf("the row is gone: %v", err)
	}
}

// stallingCheckpoints blocks LoadCheckpoints until released: a wake that
// takes its time.
type stallingCheckpoints struct {
	*mem.Store
	entered chan struct{}
	release chan struct{}
}

func (s *stallingCheckpoints) LoadCheckpoints(room string, fn func(uint64, []byte) bool) error {
	close(s.entered)
	<-s.release
	return s.Store.LoadCheckpoints(room, fn)
}

// TestShutdownDuringAWake: a process that stops while a room is waking
// waits for the wake, and neither the wake nor the other openers of the
// room panic or hang.
func TestShutdownDuringAWake(t *testing.T) {
	st := mem.New()
	first := durableManager(t, st, nil)
	r, _ := first.Create(rooms.CreateRequest{Type: "board"})
	waitAsleep(t, first, r.ID)
	stall := &stallingCheckpoints{Store: st, entered: make(chan struct{}), release: make(chan struct{})}
	mgr := durableManager(t, st, func(c *rooms.Config) { c.Checkpoints = stall })
	errs := make(chan error, 3)
	for range 3 {
		go func() { _, err := mgr.Open(r.ID); errs <- err }()
	}
	<-stall.entered
	stopped := make(chan error, 1)
	go func() { stopped <- mgr.Shutdown(t.Context(), rooms.CloseRestart, "test") }()
	time.Sleep(20 * time.Millisecond) // let Shutdown reach its wait (it must not finish before the wake)
	select {
	case err := <-stopped:
		t.Fatalf("Shutdown returned (%v) while a wake was under way", err)
	default:
	}
	close(stall.release)
	for range 3 {
		select {
		case <-errs: // woken then stopped, or ErrStopped: either way no hang
		case <-time.After(5 * time.Second):
			t.Fatal("an opener of the room hangs")
		}
	}
	if err := <-stopped; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if rec, err := st.Get(r.ID); err != nil || rec.State == rooms.StateFailed {
		t.Fatalf("row after a shutdown during its wake: %+v, %v", rec, err)
	}
}

// TestNumbersLostInACrashAreNotGivenAgain: a join a crash lost (its member
// number and token gone with the log's tail) does not let a later joiner,
// given the same number, be taken over by the first one's token.
func TestNumbersLostInACrashAreNotGivenAgain(t *testing.T) {
	st := mem.New()
	mgr := durableManager(t, st, nil)
	r, _ := mgr.Create(rooms.CreateRequest{Type: "board"})
	join(t, r, "first", "")
	crashed := st.Clone() // the crash image: the next join is lost with it
	_, lost := join(t, r, "ann", "")

	next := durableManager(t, crashed, nil)
	woken, err := next.Open(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, bob := join(t, woken, "bob", "")
	if bob.Member == lost.Member || bob.Token == lost.Token {
		t.Fatalf("bob got member %d (token %q), as ann did before the crash", bob.Member, bob.Token)
	}
	_, back := join(t, woken, "ann", lost.Token)
	if back.Resumed || back.Member == bob.Member {
		t.Fatalf("ann's lost token resumed member %d", back.Member)
	}
}

// slowSleepDir stalls the row write of a sleep, so that a delete lands in
// the middle of it.
type slowSleepDir struct {
	*mem.Store
	sleeping chan struct{}
	once     sync.Once
}

func (d *slowSleepDir) Put(rec rooms.RoomRecord) error {
	if rec.State == rooms.StateDormant {
		d.once.Do(func() { close(d.sleeping) })
		time.Sleep(100 * time.Millisecond)
	}
	return d.Store.Put(rec)
}

// TestDeleteDuringASleepWins: an administrator's delete that meets a room
// going to sleep deletes it: its row and checkpoints go.
func TestDeleteDuringASleepWins(t *testing.T) {
	st := mem.New()
	dir := &slowSleepDir{Store: st, sleeping: make(chan struct{})}
	mgr := durableManager(t, st, func(c *rooms.Config) { c.Directory = dir })
	r, _ := mgr.Create(rooms.CreateRequest{Type: "board"})
	<-dir.sleeping
	if err := mgr.Delete(r.ID, "deleted"); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := st.Get(r.ID); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("the row after the delete: %v, want it gone", err)
	}
	if _, err := mgr.Open(r.ID); !errors.Is(err, rooms.ErrNotFound) {
		t.Fatalf("open after the delete: %v", err)
	}
}

// TestUnrecordedRoomSurvivesACrashBeforeItsFirstCheckpoint: a room with no
// log has a checkpoint from its creation, so a crash before its first
// periodic one leaves it woken (as it was created), not stuck.
func TestUnrecordedRoomSurvivesACrashBeforeItsFirstCheckpoint(t *testing.T) {
	st := mem.New()
	mgr := durableManager(t, st, func(c *rooms.Config) { c.CheckpointInterval = time.Hour })
	no := false
	r, _ := mgr.Create(rooms.CreateRequest{Type: "board", Record: &no})
	join(t, r, "ann", "")
	crashed := st.Clone()
	next := durableManager(t, crashed, nil)
	if n, err := next.Recover(); err != nil || n != 1 {
		t.Fatalf("recover: %d, %v; want the room woken", n, err)
	}
}

// fragile is a board whose Tick panics once an input asks for it: a bug
// that a fixed build (the same type without it) does not have.
func fragile(bug bool) *rooms.Type {
	t := *board.Type
	t.Name = "fragile"
	t.New = func(opts map[string]any) (rooms.Handler, map[string]any, error) {
		h, eff, err := board.Type.New(opts)
		return &fragileHandler{Handler: h, cp: h.(rooms.Checkpointer), bug: bug}, eff, err
	}
	return &t
}

type fragileHandler struct {
	rooms.Handler
	cp   rooms.Checkpointer
	bug  bool
	boom bool
}

func (h *fragileHandler) SaveState(ctx *rooms.Context) ([]byte, error) { return h.cp.SaveState(ctx) }
func (h *fragileHandler) LoadState(ctx *rooms.Context, b []byte) error { return h.cp.LoadState(ctx, b) }

func (h *fragileHandler) Input(ctx *rooms.Context, m *rooms.Member, p msgpack.RawMessage) error {
	var in map[string]any
	if msgpack.Unmarshal(p, &in) == nil && in["op"] == "boom" {
		h.boom = true
		return nil
	}
	return h.Handler.Input(ctx, m, p)
}

func (h *fragileHandler) Tick(ctx *rooms.Context) {
	if h.boom && h.bug {
		panic(fmt.Sprintf("a bug at tick %d", ctx.Tick))
	}
	h.Handler.Tick(ctx)
}

// TestRoomThatFailsIsKeptForAFixedBuild: a handler panic in a tick closes
// the room's members with 4015-worthy news (1011 here), keeps the room
// stored as it was before the tick (state failed: not woken by joins), and
// the next start with a fixed build wakes it with everything it had.
func TestRoomThatFailsIsKeptForAFixedBuild(t *testing.T) {
	st := mem.New()
	mgr := durableManager(t, st, nil, fragile(true))
	r, err := mgr.Create(rooms.CreateRequest{Type: "fragile"})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := join(t, r, "ann", "")
	input(t, r, m, 1, map[string]any{"op": "create", "shape": 0, "x": 50, "y": 50, "w": 20, "h": 20, "color": 1})
	before := worldOf(t, r)
	payload, _ := msgpack.Marshal(map[string]any{"op": "boom"})
	if err := r.Input(m.client, 2, payload); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the room did not stop after its handler panicked")
	}
	if info, err := mgr.Lookup(r.ID); err != nil || info.State != rooms.StateFailed {
		t.Fatalf("lookup of the failed room: %+v, %v", info, err)
	}
	if _, err := mgr.Open(r.ID); !errors.Is(err, rooms.ErrRoomFailed) {
		t.Fatalf("a join of the failed room: %v, want ErrRoomFailed", err)
	}
	_ = mgr.Shutdown(t.Context(), rooms.CloseRestart, "upgrade")

	fixed := durableManager(t, st, nil, fragile(false))
	if n, err := fixed.Recover(); err != nil || n != 1 {
		t.Fatalf("recover with the fixed build: %d, %v", n, err)
	}
	woken := fixed.Get(r.ID)
	after := worldOf(t, woken)
	if after.Len() != before.Len() {
		t.Fatalf("the fixed build woke it with %d entities, want %d", after.Len(), before.Len())
	}
	roomtest.SameWorld(t, before, after)
}
