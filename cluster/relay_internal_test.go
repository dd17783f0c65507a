package cluster

import (
	"io"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tickroom/tickroom/cluster/natstest"
	"github.com/tickroom/tickroom/state"
)

// fakeConn is a relayed member's socket: it keeps what it is sent, and
// refuses while full is set.
type fakeConn struct {
	mu     sync.Mutex
	msgs   [][]byte
	full   bool
	closed int
}

func (c *fakeConn) Send(msg []byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.full {
		return false
	}
	c.msgs = append(c.msgs, msg)
	return true
}

func (c *fakeConn) Close(code int, _ string) {
	c.mu.Lock()
	c.closed = code
	c.mu.Unlock()
}

// ticks lists the ticks of the state messages the conn got, in order:
// snapshots as negative numbers.
func (c *fakeConn) ticks() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int64
	for _, m := range c.msgs {
		switch typ, tick, _, _ := state.Peek(m); typ {
		case state.MsgSnapshot:
			out = append(out, -int64(tick))
		case state.MsgDelta:
			out = append(out, int64(tick))
		}
	}
	return out
}

// frames builds a room's messages by hand: a delta [3, tick, base] and a
// snapshot [2, tick, []] are all the relay reads of them.
func delta(tick uint64) []byte {
	return []byte{0x93, 0x03, 0xce, byte(tick >> 24), byte(tick >> 16), byte(tick >> 8), byte(tick), 0xce,
		byte((tick - 1) >> 24), byte((tick - 1) >> 16), byte((tick - 1) >> 8), byte(tick - 1)}
}

func snapshot(tick uint64) []byte {
	return []byte{0x93, 0x02, 0xce, byte(tick >> 24), byte(tick >> 16), byte(tick >> 8), byte(tick), 0x90}
}

var welcome = []byte{0x92, 0x01, 0x80}

// relayFixture is a relaying node's side of one room with one member,
// on a real NATS (the resyncs it asks for are read off the owner's
// control subject).
type relayFixture struct {
	t       *testing.T
	rr      *relayRoom
	m       *relayMember
	conn    *fakeConn
	resyncs chan string
}

func newRelayFixture(t *testing.T) *relayFixture {
	c := natstest.Start(t, 1)
	nc, err := nats.Connect(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	n := &Node{cfg: Config{Prefix: "t"}, id: "relay", nc: nc, log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		relays: make(map[string]*relayRoom)}
	f := &relayFixture{t: t, conn: &fakeConn{}, resyncs: make(chan string, 100)}
	sub, err := nc.Subscribe(n.subjCtl("owner"), func(m *nats.Msg) {
		if m.Header.Get(hdrOp) == opResync {
			f.resyncs <- m.Header.Get(hdrConn)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	_ = nc.Flush()
	f.rr = &relayRoom{n: n, room: "r", owner: "owner", members: make(map[string]*relayMember)}
	f.m = &relayMember{rr: f.rr, id: "m1", conn: f.conn}
	f.rr.add(f.m)
	return f
}

func (f *relayFixture) broadcast(msg []byte, epoch uint64) {
	f.rr.onBroadcast(&nats.Msg{Data: msg, Header: nats.Header{hdrEpoch: {strconv.FormatUint(epoch, 10)}}})
}

func (f *relayFixture) wantResync() {
	f.t.Helper()
	select {
	case id := <-f.resyncs:
		if id != "m1" {
			f.t.Fatalf("resync asked for %q", id)
		}
	case <-time.After(5 * time.Second):
		f.t.Fatal("no snapshot was asked for")
	}
}

func (f *relayFixture) noResync() {
	f.t.Helper()
	_ = f.rr.n.nc.Flush()
	select {
	case id := <-f.resyncs:
		f.t.Fatalf("a snapshot was asked for (%s) with no gap", id)
	default:
	}
}

func same(got, want []int64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// TestRelayRecoversFromAGap: the relaying node sends a member a delta only
// if it follows on from what the member has; a delta that arrived before
// the member's snapshot (the two travel on different subjects) is sent
// after it; a lost delta makes it ask the owner for a snapshot and send
// nothing until it comes, then the deltas after it; a full socket does
// the same. The member's stream never has a gap.
func TestRelayRecoversFromAGap(t *testing.T) {
	f := newRelayFixture(t)
	f.broadcast(delta(11), 1) // before the welcome: not for this member yet, kept in the ring
	f.rr.direct(f.m, welcome, 1)
	f.broadcast(delta(12), 1) // after the welcome, before the snapshot
	f.rr.direct(f.m, snapshot(10), 1)
	f.broadcast(delta(13), 1)
	if got, want := f.conn.ticks(), []int64{-10, 11, 12, 13}; !same(got, want) {
		t.Fatalf("after a snapshot that came late: %v, want %v", got, want)
	}
	f.noResync()

	f.broadcast(delta(15), 1) // 14 lost between the nodes
	f.wantResync()
	f.broadcast(delta(16), 1)
	if got, want := f.conn.ticks(), []int64{-10, 11, 12, 13}; !same(got, want) {
		t.Fatalf("after a gap: %v, want nothing sent until the snapshot", got)
	}
	f.rr.direct(f.m, snapshot(15), 1)
	f.broadcast(delta(17), 1)
	if got, want := f.conn.ticks(), []int64{-10, 11, 12, 13, -15, 16, 17}; !same(got, want) {
		t.Fatalf("after the gap's snapshot: %v, want %v", got, want)
	}

	f.conn.mu.Lock()
	f.conn.full = true
	f.conn.mu.Unlock()
	f.broadcast(delta(18), 1)
	f.wantResync()
	f.conn.mu.Lock()
	f.conn.full = false
	f.conn.mu.Unlock()
	f.broadcast(delta(19), 1)
	f.rr.direct(f.m, snapshot(19), 1)
	f.broadcast(delta(20), 1)
	if got, want := f.conn.ticks(), []int64{-10, 11, 12, 13, -15, 16, 17, -19, 20}; !same(got, want) {
		t.Fatalf("after a full socket: %v, want %v", got, want)
	}
}

// TestRelayNeverMixesOwners: a relayed member follows the ownership that
// seated it (its epoch): a late frame of an older owner is dropped, and a
// frame of a newer owner sends the member back (1012) instead of being
// applied on a stream the new owner did not write (the two reuse tick
// numbers). Cases found in review.
func TestRelayNeverMixesOwners(t *testing.T) {
	t.Run("an old owner's frame after the new owner's snapshot", func(t *testing.T) {
		f := newRelayFixture(t)
		f.rr.direct(f.m, welcome, 7)
		f.rr.direct(f.m, snapshot(100), 7) // the new owner's
		f.broadcast(delta(101), 5)         // the old owner's, late
		f.broadcast(delta(101), 7)
		f.broadcast(delta(102), 7)
		if got, want := f.conn.ticks(), []int64{-100, 101, 102}; !same(got, want) {
			t.Fatalf("member got %v, want %v (the new owner's stream only)", got, want)
		}
	})
	t.Run("a new owner's frames on the old owner's stream", func(t *testing.T) {
		f := newRelayFixture(t)
		f.rr.direct(f.m, welcome, 5)
		f.rr.direct(f.m, snapshot(100), 5)
		f.broadcast(delta(101), 5)
		f.broadcast(delta(102), 5)
		f.broadcast(delta(103), 5)
		for tick := uint64(102); tick <= 104; tick++ {
			f.broadcast(delta(tick), 7) // rebuilt from the log at 101: its own 102, 103, 104
		}
		if got, want := f.conn.ticks(), []int64{-100, 101, 102, 103}; !same(got, want) {
			t.Fatalf("member got %v, want %v", got, want)
		}
		f.conn.mu.Lock()
		code := f.conn.closed
		f.conn.mu.Unlock()
		if code != 1012 {
			t.Fatalf("the member was closed with %d, want 1012: its room moved", code)
		}
	})
}

// TestRelayClosesAMemberStuckTooLong: a member whose socket stays full
// past the grace is closed as a slow consumer (4008), as a room does.
func TestRelayClosesAMemberStuckTooLong(t *testing.T) {
	f := newRelayFixture(t)
	f.rr.direct(f.m, welcome, 1)
	f.rr.direct(f.m, snapshot(10), 1)
	f.conn.mu.Lock()
	f.conn.full = true
	f.conn.mu.Unlock()
	f.broadcast(delta(11), 1)
	f.wantResync()
	f.rr.mu.Lock()
	f.m.stuckSince = time.Now().Add(-slowGrace - time.Second) // as if it had been stuck that long
	f.rr.mu.Unlock()
	f.broadcast(delta(12), 1)
	f.conn.mu.Lock()
	code := f.conn.closed
	f.conn.mu.Unlock()
	if code != 4008 {
		t.Fatalf("a member stuck past the grace was closed with %d, want 4008", code)
	}
}
