package rooms_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/store/mem"
)

// fakeOwner grants leases that a test can take back, and says that some
// rooms are run by another node.
type fakeOwner struct {
	mu        sync.Mutex
	leases    map[string]*fakeLease
	elsewhere map[string]bool
}

type fakeLease struct {
	valid    atomic.Bool
	released atomic.Bool
}

func (l *fakeLease) Valid() bool { return l.valid.Load() }
func (l *fakeLease) Release()    { l.released.Store(true) }

func newFakeOwner() *fakeOwner {
	return &fakeOwner{leases: make(map[string]*fakeLease), elsewhere: make(map[string]bool)}
}

func (o *fakeOwner) Acquire(room string) (rooms.Lease, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.elsewhere[room] {
		return nil, &rooms.OwnedError{Room: room, Node: "other", Addr: "10.0.0.2:8080"}
	}
	l := &fakeLease{}
	l.valid.Store(true)
	o.leases[room] = l
	return l, nil
}

func (o *fakeOwner) Whois(room string) (string, string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.elsewhere[room] {
		return "other", "10.0.0.2:8080", true
	}
	if l := o.leases[room]; l != nil && l.Valid() && !l.released.Load() {
		return "self", "10.0.0.1:8080", true
	}
	return "", "", false
}

func (o *fakeOwner) Self() (string, string) { return "self", "10.0.0.1:8080" }

func (o *fakeOwner) Capable(string) bool { return false }

func (o *fakeOwner) lease(room string) *fakeLease {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.leases[room]
}

// closeConn is a connection that keeps its messages and its close code.
type closeConn struct {
	msgs   chan []byte
	once   sync.Once
	closed chan int
}

func newCloseConn() *closeConn {
	return &closeConn{msgs: make(chan []byte, 1<<14), closed: make(chan int, 1)}
}

func (c *closeConn) Send(msg []byte) bool {
	select {
	case c.msgs <- msg:
		return true
	default:
		return false
	}
}

func (c *closeConn) Close(code int, _ string) { c.once.Do(func() { c.closed <- code }) }

func closeCode(t *testing.T, c *closeConn) int {
	t.Helper()
	select {
	case code := <-c.closed:
		return code
	case <-time.After(5 * time.Second):
		t.Fatal("the connection was not closed")
		return 0
	}
}

// TestLostLeaseStopsTheRoomAtOnce: a room whose lease no longer holds
// does not tick again, stores nothing (its new owner has it), and closes
// its members with 1012 so that they reconnect to the new owner.
func TestLostLeaseStopsTheRoomAtOnce(t *testing.T) {
	st := mem.New()
	owner := newFakeOwner()
	mgr := durableManager(t, st, func(c *rooms.Config) { c.Owner = owner; c.CheckpointInterval = time.Hour })
	r, err := mgr.Create(rooms.CreateRequest{Type: "board"})
	if err != nil {
		t.Fatal(err)
	}
	conn := newCloseConn()
	if _, err := r.Join(conn, "ann", ""); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "a few ticks", func() bool { return r.CurrentTick() >= 3 })
	before, err := st.Get(r.ID)
	if err != nil {
		t.Fatal(err)
	}
	lost := r.CurrentTick()
	owner.lease(r.ID).valid.Store(false)
	if code := closeCode(t, conn); code != rooms.CloseRestart {
		t.Fatalf("member closed with %d, want %d (reconnect to the new owner)", code, rooms.CloseRestart)
	}
	<-r.Done()
	// At most the tick that was under way when the lease went (its check
	// came before): never one that started after.
	if r.CurrentTick() > lost+1 {
		t.Fatalf("the room ticked after losing its lease: %d -> %d", lost, r.CurrentTick())
	}
	after, err := st.Get(r.ID)
	if err != nil {
		t.Fatalf("the row after the loss: %v (a lost room deletes nothing)", err)
	}
	if after.State != before.State || after.Tick != before.Tick {
		t.Fatalf("the row changed after the lease was lost: %+v -> %+v", before, after)
	}
	if mgr.Get(r.ID) != nil {
		t.Fatal("the room is still listed as running here")
	}
}

// TestRoomOwnedElsewhereIsNotWoken: a room another node runs is not woken
// here (the server relays to it instead), is described as live with its
// owner, and Recover leaves it alone.
func TestRoomOwnedElsewhereIsNotWoken(t *testing.T) {
	st := mem.New()
	owner := newFakeOwner()
	mgr := durableManager(t, st, func(c *rooms.Config) { c.Owner = owner })
	r, err := mgr.Create(rooms.CreateRequest{Type: "board", Public: true})
	if err != nil {
		t.Fatal(err)
	}
	join(t, r, "ann", "")
	waitUntil(t, 5*time.Second, "the row to count the member", func() bool {
		rec, err := st.Get(r.ID)
		return err == nil && rec.Players == 1
	})
	crashed := st.Clone() // as if this node died with the room live in its row
	next := durableManager(t, crashed, func(c *rooms.Config) { c.Owner = owner })
	owner.mu.Lock()
	owner.elsewhere[r.ID] = true // another node took it over meanwhile
	owner.mu.Unlock()
	if _, err := next.Open(r.ID); !errors.Is(err, rooms.ErrOwnedElsewhere) {
		t.Fatalf("open: got %v, want ErrOwnedElsewhere", err)
	}
	var owned *rooms.OwnedError
	if _, err := next.Open(r.ID); !errors.As(err, &owned) || owned.Addr != "10.0.0.2:8080" {
		t.Fatalf("open's error does not name the owner: %v", err)
	}
	info, err := next.Lookup(r.ID)
	if err != nil || info.State != rooms.StateLive || info.Owner != "10.0.0.2:8080" || info.Players != 1 {
		t.Fatalf("lookup: got %+v, %v; want live on 10.0.0.2:8080 with 1 player", info, err)
	}
	list, err := next.List(10)
	if err != nil || len(list) != 1 || list[0].State != rooms.StateLive {
		t.Fatalf("list: got %+v, %v; want the room, live", list, err)
	}
	if n, err := next.Recover(); err != nil || n != 0 {
		t.Fatalf("recover: %d, %v; want nothing woken", n, err)
	}
	if rec, _ := crashed.Get(r.ID); rec.State != rooms.StateLive {
		t.Fatalf("recover changed the row of a room another node runs: %s", rec.State)
	}
}

// fencingLogs is a log store whose writers start refusing appends with
// ErrFenced when told to (another node took the room over).
type fencingLogs struct {
	*mem.Store
	fenced atomic.Bool
}

func (f *fencingLogs) Create(h rooms.RecordingHeader) (rooms.LogWriter, error) {
	w, err := f.Store.Create(h)
	return &fencingWriter{LogWriter: w, fenced: &f.fenced}, err
}

type fencingWriter struct {
	rooms.LogWriter
	fenced *atomic.Bool
}

func (w *fencingWriter) Tick(tick uint64, ops []rooms.Op, delta []byte) error {
	if w.fenced.Load() {
		return rooms.ErrFenced
	}
	return w.LogWriter.Tick(tick, ops, delta)
}

// TestFencedLogStopsTheRoom: a log that refuses the room's append because
// another writer took it over stops the room at once, like a lost lease.
func TestFencedLogStopsTheRoom(t *testing.T) {
	st := mem.New()
	logs := &fencingLogs{Store: st}
	mgr := durableManager(t, st, func(c *rooms.Config) { c.Logs = logs; c.CheckpointInterval = time.Hour })
	r, err := mgr.Create(rooms.CreateRequest{Type: "board"})
	if err != nil {
		t.Fatal(err)
	}
	conn := newCloseConn()
	if _, err := r.Join(conn, "ann", ""); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 5*time.Second, "a few ticks", func() bool { return r.CurrentTick() >= 3 })
	logs.fenced.Store(true)
	if code := closeCode(t, conn); code != rooms.CloseRestart {
		t.Fatalf("member closed with %d, want %d", code, rooms.CloseRestart)
	}
	<-r.Done()
	if rec, err := st.Get(r.ID); err != nil || rec.State != rooms.StateLive {
		t.Fatalf("the row after the fence: %+v, %v; want it kept, live", rec, err)
	}
}
