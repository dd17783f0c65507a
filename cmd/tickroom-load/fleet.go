package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/rooms/fieldbench"
)

// sceneRoom is one arena-bench room and its clients.
type sceneRoom struct {
	field     bool // field-bench
	views     bool // field-bench with views on
	id        string
	index     int
	owner     int                           // the node that owns it (index into fleet.nodes)
	slots     []atomic.Pointer[sceneClient] // filled as clients join; the sender reads them concurrently
	clients   []*sceneClient                // filled once every client joined
	checkTick atomic.Uint64                 // set at the end: clients capture their mirror at this tick
}

// fleetConfig is what a fleet of arena-bench rooms does.
type fleetConfig struct {
	typ            string // the room type to create; "": arena-bench
	field          bool   // the field-bench scene (views on or off)
	rooms, clients int
	dialPar        int
	ping           time.Duration // 0: no pings
	expectTicks    int           // per client, for sizing the receipt log
}

// fleet is R arena-bench rooms of C clients, each client reading into its
// own mirror and sending the scene's input every 50 ms.
type fleet struct {
	cfg     fleetConfig
	clock   clock
	win     window
	period  int64   // tick period in ns
	api     *api    // the first node's
	dial    *dialer // the first node's
	nodes   []fleetNode
	rooms   []*sceneRoom
	liveS2C atomic.Int64
	liveC2S atomic.Int64
	joined  atomic.Int64
	// joinRetries counts dials tried again after a failure (see join).
	joinRetries atomic.Int64
	// createRetries counts room creations tried again after a 503 (the
	// server could not store the room: try again later).
	createRetries atomic.Int64

	stopSend chan struct{}
	senders  sync.WaitGroup
}

// fleetNode is one server of the target: a single server, or a node of a
// cluster.
type fleetNode struct {
	api  *api
	dial *dialer
	addr string // host:port, as GET /api/rooms/{id} names an owner
}

func newFleet(cfg fleetConfig, clk clock, a *api, d *dialer) *fleet {
	return newClusterFleet(cfg, clk, []fleetNode{{api: a, dial: d}})
}

// newClusterFleet spreads the rooms and clients over several nodes: room
// i is made on node i mod N (which owns it), and its client c joins
// through node (i + c) mod N, so that in a cluster a room has members on
// its owner and members relayed through every other node.
func newClusterFleet(cfg fleetConfig, clk clock, nodes []fleetNode) *fleet {
	return &fleet{cfg: cfg, clock: clk, api: nodes[0].api, dial: nodes[0].dial, nodes: nodes,
		period: int64(time.Second / arenabench.TickRate), stopSend: make(chan struct{})}
}

// start creates the rooms and joins their clients, a few rooms at a time
// (each room is created just before its clients join, so that no room
// sits empty long enough to be reaped), waiting for every client's first
// snapshot. Each room's sender starts with the room.
func (f *fleet) start(ctx context.Context) error {
	f.rooms = make([]*sceneRoom, f.cfg.rooms)
	for i := range f.rooms {
		f.rooms[i] = &sceneRoom{index: i, field: f.cfg.field, views: f.cfg.field && f.cfg.typ == "field-bench", slots: make([]atomic.Pointer[sceneClient], f.cfg.clients)}
	}
	par := max(1, f.cfg.dialPar/f.cfg.clients)
	err := forEach(ctx, f.cfg.rooms, par, func(ctx context.Context, i int) error {
		r := f.rooms[i]
		// Room for a seat per retried dial: a handshake the client gave up
		// on may still have seated a member on the server, held for the
		// seat grace.
		r.owner = i % len(f.nodes)
		a := f.nodes[r.owner].api
		typ := f.cfg.typ
		if typ == "" {
			typ = "arena-bench"
		}
		// Seats for retried dials, within the types' 64.
		seats := min(64, max(f.cfg.clients, 8)+joinAttempts-1)
		id, err := a.createRoom(ctx, typ, seats)
		for attempt := 1; err != nil && errors.Is(err, errTryAgain) && attempt < joinAttempts && ctx.Err() == nil; attempt++ {
			f.createRetries.Add(1)
			time.Sleep(time.Duration(attempt) * time.Second)
			id, err = a.createRoom(ctx, typ, seats)
		}
		if err != nil {
			return fmt.Errorf("room %d: %w", i, err)
		}
		r.id = id
		if len(f.nodes) > 1 {
			owner, err := a.roomOwner(ctx, id)
			if err != nil {
				return fmt.Errorf("room %d: %w", i, err)
			}
			if r.owner = f.nodeIndex(owner); r.owner < 0 {
				return fmt.Errorf("room %d: owned by %q, not one of the nodes", i, owner)
			}
		}
		f.senders.Add(1)
		go f.send(r)
		return forEach(ctx, f.cfg.clients, f.cfg.clients, func(ctx context.Context, c int) error {
			return f.join(ctx, r, c)
		})
	})
	for _, r := range f.rooms {
		r.clients = make([]*sceneClient, len(r.slots))
		for i := range r.slots {
			r.clients[i] = r.slots[i].Load()
		}
	}
	return err
}

// joinAttempts is how often a client tries to connect before the run
// fails: on a saturated machine a handshake can outlast the dialer's
// timeout, and a browser would try again too. Retries are counted and
// reported.
const joinAttempts = 3

// join connects client c of room r and waits for its first snapshot. A
// dial that fails, or a connection closed with 1013 (try again later: in
// a cluster, a relaying node whose join request to the owner timed out)
// before the snapshot, is tried again, as a browser would.
func (f *fleet) join(ctx context.Context, r *sceneRoom, c int) error {
	node := clientNode(r.index, c, len(f.nodes))
	d := f.nodes[node].dial
	for attempt := 1; ; attempt++ {
		retry := func(err error) error {
			if attempt >= joinAttempts || ctx.Err() != nil {
				return fmt.Errorf("join room %d client %d (%d attempts): %w", r.index, c, attempt, err)
			}
			f.joinRetries.Add(1)
			time.Sleep(time.Duration(attempt) * time.Second)
			return nil
		}
		conn, err := d.dial(ctx, r.id, "")
		if err != nil {
			if err := retry(err); err != nil {
				return err
			}
			continue
		}
		cl := newSceneClient(r, c, conn, f.cfg.expectTicks)
		cl.node, cl.relayed = node, node != r.owner
		r.slots[c].Store(cl)
		go cl.read(f)
		select {
		case <-cl.synced:
			f.joined.Add(1)
			return nil
		case <-cl.done:
			err := fmt.Errorf("connection ended before the first snapshot: %v (%s)", cl.readErr, cl.firstProblem)
			if closeCode(cl.readErr) != 1013 {
				return fmt.Errorf("join room %d client %d: %w", r.index, c, err)
			}
			r.slots[c].Store(nil)
			if err := retry(err); err != nil {
				return err
			}
		case <-time.After(15 * time.Second):
			return fmt.Errorf("join room %d client %d: no snapshot within 15 s", r.index, c)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// send is a room's sender goroutine: every 50 ms, one input per synced
// client (and a ping every f.cfg.ping), at a random phase per room so that
// rooms do not all write at once.
func (f *fleet) send(r *sceneRoom) {
	defer f.senders.Done()
	phase := time.Duration(rand.Int64N(f.period))
	select {
	case <-time.After(phase):
	case <-f.stopSend:
		return
	}
	t := time.NewTicker(time.Duration(f.period))
	defer t.Stop()
	pingEvery := 0
	if f.cfg.ping > 0 {
		pingEvery = max(1, int(f.cfg.ping/time.Duration(f.period)))
	}
	buf := make([]byte, 0, 64)
	for round := 0; ; round++ {
		select {
		case <-t.C:
		case <-f.stopSend:
			return
		}
		for i := range r.slots {
			c := r.slots[i].Load()
			if c == nil || c.writeErr != nil || c.closed.Load() || !isClosed(c.synced) {
				continue
			}
			if c.needResync.Swap(false) {
				c.write(f, resyncMsg, false)
			}
			c.seq++
			in := arenabench.ClientInput(c.idx, c.seq)
			if f.cfg.field {
				// The spec's client c is the member's place in join order.
				in = arenabench.Input(fieldbench.ClientInput(int(c.benchIdx.Load()), c.seq))
			}
			buf = appendInput(buf[:0], c.seq, in)
			c.write(f, buf, false)
			if pingEvery > 0 && (round+i)%pingEvery == 0 {
				buf = appendPing(buf[:0], float64(f.clock.now()))
				c.write(f, buf, true)
			}
		}
	}
}

func (c *sceneClient) write(f *fleet, msg []byte, ping bool) {
	if err := c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second)); err != nil {
		c.writeErr = err
		return
	}
	if err := c.conn.WriteMessage(2, msg); err != nil { // 2: binary
		c.writeErr = fmt.Errorf("write: %w", err)
		return
	}
	n := int64(len(msg))
	f.liveC2S.Add(n)
	if !f.win.has(f.clock.now()) {
		return
	}
	if ping {
		c.winPing += n
		return
	}
	c.winC2S += n
	c.winC2SWire += n + wsHeader(n, true)
	c.winC2SMsgs++
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// clientNode is the node client c of room i joins through: (i + c) mod
// n, so that room i (made on node i mod n) has members on its owner and
// on every other node.
func clientNode(i, c, n int) int { return (i + c) % n }

// nodeIndex is the index of the node at addr (host:port), or -1.
func (f *fleet) nodeIndex(addr string) int {
	for i, n := range f.nodes {
		if n.addr == addr {
			return i
		}
	}
	return -1
}

// maxTick is the highest tick any client has seen.
func (f *fleet) maxTick() uint64 {
	var m uint64
	for _, r := range f.rooms {
		if r == nil {
			continue
		}
		for i := range r.slots {
			if c := r.slots[i].Load(); c != nil {
				m = max(m, c.lastTick.Load())
			}
		}
	}
	return m
}

// capture asks every room's clients to copy their mirror at a tick a few
// ticks ahead of the room's newest, and waits for them (up to limit); a
// client that did not capture counts as unchecked.
func (f *fleet) capture(ahead uint64, limit time.Duration) {
	for _, r := range f.rooms {
		var m uint64
		for _, c := range r.clients {
			if c != nil {
				m = max(m, c.lastTick.Load())
			}
		}
		r.checkTick.Store(m + ahead)
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for _, r := range f.rooms {
		for _, c := range r.clients {
			if c == nil {
				continue
			}
			select {
			case <-c.captured:
			case <-ctx.Done():
			}
		}
	}
}

// stop ends the senders, closes every connection and waits for the readers.
func (f *fleet) stop() {
	select {
	case <-f.stopSend:
	default:
		close(f.stopSend)
	}
	f.senders.Wait()
	var wg sync.WaitGroup
	for _, r := range f.rooms {
		if r == nil {
			continue
		}
		for _, c := range r.clients {
			if c == nil {
				continue
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				closeConn(c.conn)
				<-c.done
			}()
		}
	}
	wg.Wait()
}

// clients returns every joined client.
func (f *fleet) all() []*sceneClient {
	var out []*sceneClient
	for _, r := range f.rooms {
		if r == nil {
			continue
		}
		for _, c := range r.clients {
			if c != nil {
				out = append(out, c)
			}
		}
	}
	return out
}
