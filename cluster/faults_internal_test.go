package cluster

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickroom/tickroom/cluster/natstest"
	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/board"
	jsstore "github.com/tickroom/tickroom/rooms/store/jetstream"
)

func quietLog() *slog.Logger {
	if os.Getenv("CLUSTER_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func bareNode(t *testing.T, url, prefix, name string) *Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	n, err := Connect(ctx, Config{NATS: url, Prefix: prefix, Addr: name + ":1", Name: name, LeaseTTL: 1500 * time.Millisecond,
		Types: []string{"board"}, Logger: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close() })
	return n
}

// slowManager opens rooms slowly (a wake that reads a long log, JetStream
// electing leaders).
type slowManager struct {
	*rooms.Manager
	delay time.Duration
}

func (m slowManager) Open(id string) (*rooms.Room, error) {
	time.Sleep(m.delay)
	return m.Manager.Open(id)
}

// TestRelayedJoinThatTimedOutLeavesNoSeatOnline: the owner seats a
// relayed member after the relaying node gave up waiting (5 s): the
// relaying node's leave (sent when it gave up) lets the seat go offline,
// and it expires after the grace; found in review, where it stayed online
// for good.
func TestRelayedJoinThatTimedOutLeavesNoSeatOnline(t *testing.T) {
	c := natstest.Start(t, 1)
	a := bareNode(t, c.URL(), "rv3", "a")
	b := bareNode(t, c.URL(), "rv3", "b")
	reg := rooms.NewRegistry()
	if err := reg.Register(board.Type); err != nil {
		t.Fatal(err)
	}
	st := a.Store()
	mgr := rooms.NewManager(reg, rooms.Config{Directory: st, Checkpoints: st, Logs: st, Owner: a, Logger: quietLog(),
		SeatGrace: time.Second})
	t.Cleanup(func() { _ = mgr.Shutdown(context.Background(), rooms.CloseGoingAway, "over") })
	a.Run(mgr)
	r, err := mgr.Create(rooms.CreateRequest{Type: "board"})
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.mgr = slowManager{mgr, 5500 * time.Millisecond}
	a.mu.Unlock()
	conn := &fakeConn{}
	_, err = b.Join(r.ID, &rooms.OwnedError{Room: r.ID, Node: a.id, Addr: a.cfg.Addr}, conn, false, rooms.JoinRequest{Name: "bob"})
	if err == nil {
		t.Fatal("the join did not time out")
	}
	t.Logf("relaying node's join: %v", err)
	time.Sleep(4 * time.Second) // well past the seat grace
	ms, err := r.Members(time.Second)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Online {
			t.Fatalf("member %d (%s) is still seated and online on the owner although its join failed on the relaying node", m.Member, m.Name)
		}
	}
}

// sleepyManager returns the live room, but the room falls asleep before
// the relayed join reaches its goroutine (the room's idle time ran out
// that moment: storeState takes a JetStream round trip or more).
type sleepyManager struct {
	*rooms.Manager
	once *sync.Once
}

// slowDormantDir is a directory whose write of a sleeping room's row takes
// 200 ms (a loaded R3 stream).
type slowDormantDir struct{ *jsstore.Store }

func (d slowDormantDir) Put(rec rooms.RoomRecord) error {
	if rec.State == rooms.StateDormant {
		time.Sleep(200 * time.Millisecond)
	}
	return d.Store.Put(rec)
}

func (m sleepyManager) Open(id string) (*rooms.Room, error) {
	r, err := m.Manager.Open(id)
	if err != nil {
		return nil, err
	}
	m.once.Do(func() { // the first time only: the room woken again is joined
		for r.Recording() { // storeState paused the log: the room is going to sleep
			time.Sleep(time.Millisecond)
		}
	})
	return r, nil
}

// TestRelayedJoinRacingASleepWakesTheRoom: a relayed join that meets a
// room going to sleep opens it again, as a local join does (server.enter),
// instead of answering "closed" (4011: the browser client gives up).
func TestRelayedJoinRacingASleepWakesTheRoom(t *testing.T) {
	c := natstest.Start(t, 1)
	a := bareNode(t, c.URL(), "rv6", "a")
	b := bareNode(t, c.URL(), "rv6", "b")
	reg := rooms.NewRegistry()
	if err := reg.Register(board.Type); err != nil {
		t.Fatal(err)
	}
	st := a.Store()
	mgr := rooms.NewManager(reg, rooms.Config{Directory: slowDormantDir{st}, Checkpoints: st, Logs: st, Owner: a, Logger: quietLog(),
		IdleTimeout: 300 * time.Millisecond})
	t.Cleanup(func() { _ = mgr.Shutdown(context.Background(), rooms.CloseGoingAway, "over") })
	a.Run(mgr)
	r, err := mgr.Create(rooms.CreateRequest{Type: "board"})
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.mgr = sleepyManager{mgr, &sync.Once{}}
	a.mu.Unlock()
	_, err = b.Join(r.ID, &rooms.OwnedError{Room: r.ID, Node: a.id, Addr: a.cfg.Addr}, &fakeConn{}, false, rooms.JoinRequest{Name: "bob"})
	if err != nil {
		t.Fatalf("the relayed join of a room that only went to sleep: %v, want it joined", err)
	}
}

// failingDeletes is an owners bucket whose deletes fail (JetStream briefly
// without a leader: "no responders").
type failingDeletes struct{ jetstream.KeyValue }

func (failingDeletes) Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error {
	return nats.ErrNoResponders
}

func bareManager(t *testing.T, n *Node) *rooms.Manager {
	reg := rooms.NewRegistry()
	if err := reg.Register(board.Type); err != nil {
		t.Fatal(err)
	}
	st := n.Store()
	mgr := rooms.NewManager(reg, rooms.Config{Directory: st, Checkpoints: st, Logs: st, Owner: n, Logger: quietLog()})
	t.Cleanup(func() { _ = mgr.Shutdown(context.Background(), rooms.CloseGoingAway, "over") })
	n.Run(mgr)
	return mgr
}

// TestLapsedRoomWhoseReleaseFailedIsTakenOver: the node's lease lapses
// for a moment, its room stops, its owner key cannot be deleted then, and
// the lease comes back under the same incarnation: the key still names a
// live node, but the room runs nowhere; the takeover loop sees it and
// wakes it again.
func TestLapsedRoomWhoseReleaseFailedIsTakenOver(t *testing.T) {
	c := natstest.Start(t, 1)
	a := bareNode(t, c.URL(), "rv8", "a")
	a.owners = failingDeletes{a.owners} // before anything of a's uses it
	b := bareNode(t, c.URL(), "rv8", "b")
	ma, mb := bareManager(t, a), bareManager(t, b)
	r, err := ma.Create(rooms.CreateRequest{Type: "board"})
	if err != nil {
		t.Fatal(err)
	}
	a.validUntil.Store(0) // as if renewals had timed out for 2/3 TTL: the room stops
	<-r.Done()
	deadline := time.Now().Add(15 * time.Second)
	for ma.Get(r.ID) == nil && mb.Get(r.ID) == nil {
		if time.Now().After(deadline) {
			rec, _ := a.Store().Get(r.ID)
			node, _, owned := b.Whois(r.ID)
			t.Fatalf("row says %s, owner per index %q (owned %v), a valid %v: nothing runs the room", rec.State, node, owned, a.Valid())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
