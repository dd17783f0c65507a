// Package cluster makes tickroom nodes one system on NATS JetStream: every
// node that uses the same NATS (and prefix) serves every share link, each
// room runs on one owner node at a time, and a room whose owner stops or
// dies is rebuilt from its log by another node.
//
// What is shared lives in JetStream (rooms/store/jetstream: the directory,
// checkpoints and logs; this package: who is alive and who owns what) and
// what flows between nodes goes over NATS subjects (relay.go). tickroom
// writes no consensus, membership or replication of its own: a node is
// alive while its key in the nodes bucket is (the bucket's TTL removes the
// key of a node that stops renewing it), and a room's owner is a key in
// the owners bucket, changed only by compare-and-set on its revision.
//
// Files: node.go (connecting, the node's own lease), owners.go (room
// leases: rooms.Owner), takeover.go (rebuilding orphaned rooms), relay.go
// and remote.go (members connected to a node that does not own their
// room), metrics.go.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	jsstore "github.com/tickroom/tickroom/rooms/store/jetstream"
)

// Config configures a node. The zero value of every field but NATS and
// Addr means the default written next to it.
type Config struct {
	// NATS is the servers' URLs, comma-separated (JetStream enabled,
	// nats-server 2.11 or newer).
	NATS string
	// Options are passed to nats.Connect (credentials, TLS).
	Options []nats.Option
	// Wait is how long to keep trying to reach NATS at start (0: fail at
	// once if it cannot be reached).
	Wait time.Duration
	// Prefix names the buckets, streams and subjects (default "tickroom");
	// nodes with the same NATS and prefix form one cluster.
	Prefix string
	// Replicas is the replication of every bucket and stream (default:
	// 3 when the NATS cluster has three servers or more, else 1).
	Replicas int
	// Addr is the node's advertised HOST:PORT: what other nodes and the API
	// ("owner") show.
	Addr string
	// Name is an optional name for logs; the node's id is derived from it
	// (or from Addr) and a random part.
	Name string
	// LeaseTTL is how long a node's lease lasts without renewal (default
	// 2 s): a dead node's rooms are taken over this long after its last
	// renewal. It renews every LeaseTTL/6 and stops running its rooms when
	// it has not renewed for LeaseTTL*2/3 (the margin covers clock rates
	// and delivery).
	LeaseTTL time.Duration
	// Types are the room types this node runs; it never takes a room of
	// another type.
	Types []string
	// Logger receives the node's logs (default slog.Default()), with the
	// node's id added.
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Prefix == "" {
		c.Prefix = "tickroom"
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 2 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// nodeRecord is a node's value in the nodes bucket. Inc is the node's
// incarnation: a node that lost its key (paused past its lease) registers
// again with a new one, and the rooms it owned under the old one are
// orphans, whatever its id.
type nodeRecord struct {
	ID      string    `json:"id"`
	Inc     string    `json:"inc"`
	Name    string    `json:"name,omitempty"`
	Addr    string    `json:"addr"`
	Types   []string  `json:"types"`
	Started time.Time `json:"started"`
}

// Node is this process as a member of the cluster.
type Node struct {
	cfg   Config
	log   *slog.Logger
	nc    *nats.Conn // data: logs, stores, the relay
	js    jetstream.JetStream
	ctl   *nats.Conn // the node's lease and room ownership, apart from the data: renewals never wait behind it
	ctlJS jetstream.JetStream
	store *jsstore.Store
	id    string

	nodes  jetstream.KeyValue
	owners jetstream.KeyValue

	// The node's own lease: its incarnation, its key's revision, and until
	// when (monotonic nanoseconds since start) it may run rooms.
	start      time.Time
	inc        atomic.Pointer[string]
	rev        atomic.Uint64
	validUntil atomic.Int64
	lost       atomic.Bool // the key expired under us: every lease is void
	renewals   atomic.Uint64
	renewFails atomic.Uint64

	mu         sync.RWMutex
	liveNodes  map[string]nodeRecord // from the nodes bucket
	ownerIndex map[string]ownerRecord
	leases     map[string]*lease      // rooms this node holds
	remotes    map[string]*remoteRoom // rooms this node holds, with members on other nodes
	relays     map[string]*relayRoom  // rooms other nodes hold, with members here
	relayConns sync.Map               // relayed members here, by connection id
	outbox     chan *nats.Msg         // messages for other nodes, published in order by one goroutine (remote.go)
	relayIn    chan *nats.Msg         // the inbox and relayed rooms' subjects, in arrival order
	leftConns  map[string]time.Time   // leaves that came before their joins (remote.go)

	events chan event // for the takeover loop
	stats  Stats

	ctx         context.Context
	cancel      context.CancelFunc
	wg          sync.WaitGroup
	renewCancel context.CancelFunc
	renewDone   chan struct{}
	subs        []*nats.Subscription // the node's relay subjects
	mgr         manager
	stopMu      sync.Mutex
	closed      bool
}

// event wakes the takeover loop: a node went, or a room lost its owner.
type event struct {
	node string // a node whose key went
	room string // a room whose owner key went
}

// Connect joins the cluster: it connects to NATS (trying for cfg.Wait),
// opens the JetStream stores, and registers the node. Close leaves.
func Connect(ctx context.Context, cfg Config) (*Node, error) {
	cfg = cfg.withDefaults()
	if cfg.NATS == "" {
		return nil, errors.New("cluster: no NATS URL")
	}
	if cfg.Addr == "" {
		return nil, errors.New("cluster: no advertised address")
	}
	n := &Node{cfg: cfg, id: nodeID(cfg), start: time.Now(), liveNodes: make(map[string]nodeRecord),
		ownerIndex: make(map[string]ownerRecord), leases: make(map[string]*lease), relays: make(map[string]*relayRoom),
		remotes: make(map[string]*remoteRoom), relayIn: make(chan *nats.Msg, 1<<16), outbox: make(chan *nats.Msg, outboxSize), leftConns: make(map[string]time.Time),
		events: make(chan event, 1024)}
	n.log = cfg.Logger.With("node", n.id)
	n.ctx, n.cancel = context.WithCancel(context.Background())
	var err error
	if n.nc, err = n.connect(ctx, "data"); err != nil {
		n.cancel()
		return nil, err
	}
	if n.ctl, err = n.connect(ctx, "control"); err != nil {
		n.cancel()
		n.nc.Close()
		return nil, err
	}
	// Making the buckets is tried again until this deadline: nodes of a new
	// cluster that start together all make them at once.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	fail := func(err error) (*Node, error) {
		n.cancel()
		n.nc.Close()
		n.ctl.Close()
		return nil, err
	}
	if n.js, err = jetstream.New(n.nc); err != nil {
		return fail(fmt.Errorf("cluster: %w", err))
	}
	if n.ctlJS, err = jetstream.New(n.ctl); err != nil {
		return fail(fmt.Errorf("cluster: %w", err))
	}
	if n.cfg.Replicas <= 0 {
		n.cfg.Replicas = 1
		if len(n.nc.Servers()) >= 3 || len(n.nc.DiscoveredServers()) >= 2 {
			n.cfg.Replicas = 3
		}
	}
	if n.store, err = jsstore.Open(ctx, n.nc, jsstore.Options{Prefix: cfg.Prefix, Replicas: n.cfg.Replicas, Logger: n.log}); err != nil {
		return fail(fmt.Errorf("cluster: %w", err))
	}
	if n.nodes, err = jsstore.Ensure(ctx, n.log, "the nodes bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return n.ctlJS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: cfg.Prefix + "_nodes", Description: "tickroom: the nodes of the cluster; a key lives while its node renews it",
			TTL: cfg.LeaseTTL, LimitMarkerTTL: max(cfg.LeaseTTL, time.Second), History: 1, Replicas: n.cfg.Replicas, Storage: jetstream.FileStorage,
		})
	}); err != nil {
		return fail(fmt.Errorf("cluster: nodes bucket: %w", err))
	}
	if n.owners, err = jsstore.Ensure(ctx, n.log, "the owners bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return n.ctlJS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: cfg.Prefix + "_owners", Description: "tickroom: each running room's owner node",
			History: 1, Replicas: n.cfg.Replicas, Storage: jetstream.FileStorage,
		})
	}); err != nil {
		return fail(fmt.Errorf("cluster: owners bucket: %w", err))
	}
	if err := n.follow(ctx); err != nil {
		return fail(err)
	}
	if err := n.register(ctx); err != nil {
		return fail(err)
	}
	if err := n.listen(); err != nil {
		return fail(err)
	}
	var renewCtx context.Context
	renewCtx, n.renewCancel = context.WithCancel(n.ctx)
	n.renewDone = make(chan struct{})
	go n.renewLoop(renewCtx)
	n.log.Info("joined the cluster", "addr", cfg.Addr, "nats", n.nc.ConnectedUrlRedacted(), "replicas", n.cfg.Replicas,
		"nodes", n.NodeCount(), "lease", cfg.LeaseTTL)
	return n, nil
}

// nodeID is the node's name (or address) made safe for keys and subjects,
// and a random part: each start of a process is a node of its own.
func nodeID(cfg Config) string {
	base := cfg.Name
	if base == "" {
		base = cfg.Addr
	}
	var b strings.Builder
	for _, c := range base {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-") + "-" + randomHex(3)
}

// connect dials NATS, trying again for cfg.Wait. Nothing published while
// the connection is down is held for later (no reconnect buffer): a log
// append or a relay frame that arrived after the node lost its lease
// would be worse than one that fails.
func (n *Node) connect(ctx context.Context, role string) (*nats.Conn, error) {
	opts := append([]nats.Option{
		nats.Name("tickroom " + n.id + " " + role),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.ReconnectBufSize(-1),
		nats.FlusherTimeout(2 * time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				n.log.Warn("NATS connection lost: rooms run on until the lease lapses", "conn", role, "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			n.log.Info("NATS connection back", "conn", role, "server", nc.ConnectedUrlRedacted())
		}),
	}, n.cfg.Options...)
	deadline := time.Now().Add(n.cfg.Wait)
	for {
		nc, err := nats.Connect(n.cfg.NATS, opts...)
		if err == nil {
			return nc, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("cluster: cannot reach NATS at %s: %w (start NATS first, or wait for it with -nats-wait)", redact(n.cfg.NATS), err)
		}
		n.log.Warn("NATS not reachable yet: trying again", "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster: cannot reach NATS: %w", ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// redact hides passwords in NATS URLs.
func redact(urls string) string {
	parts := strings.Split(urls, ",")
	for i, p := range parts {
		if at := strings.LastIndexByte(p, '@'); at >= 0 {
			if scheme := strings.Index(p, "://"); scheme >= 0 && scheme < at {
				parts[i] = p[:scheme+3] + "***" + p[at:]
			}
		}
	}
	return strings.Join(parts, ",")
}

// register puts the node's key in the nodes bucket under a new
// incarnation and starts its lease.
func (n *Node) register(ctx context.Context) error {
	inc := randomHex(4)
	rec := nodeRecord{ID: n.id, Inc: inc, Name: n.cfg.Name, Addr: n.cfg.Addr, Types: n.cfg.Types, Started: n.start}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	sent := n.now()
	rev, err := n.nodes.Create(ctx, n.id, b)
	if err != nil {
		return fmt.Errorf("cluster: register node %s: %w", n.id, err)
	}
	n.inc.Store(&inc)
	n.rev.Store(rev)
	n.validUntil.Store(sent + n.validFor())
	n.mu.Lock()
	n.liveNodes[n.id] = rec
	n.mu.Unlock()
	return nil
}

// record is the node's value in the nodes bucket now.
func (n *Node) record() nodeRecord {
	return nodeRecord{ID: n.id, Inc: n.incarnation(), Name: n.cfg.Name, Addr: n.cfg.Addr, Types: n.cfg.Types, Started: n.start}
}

// incarnation is the node's current incarnation.
func (n *Node) incarnation() string {
	if p := n.inc.Load(); p != nil {
		return *p
	}
	return ""
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}

// now is monotonic nanoseconds since the node started: leases are
// durations on this machine's clock, never wall-clock times.
func (n *Node) now() int64 { return int64(time.Since(n.start)) }

// validFor is how long after a renewal was sent the node may run rooms.
func (n *Node) validFor() int64 { return int64(n.cfg.LeaseTTL * 2 / 3) }

// Valid reports whether the node's lease holds now.
func (n *Node) Valid() bool { return !n.lost.Load() && n.now() < n.validUntil.Load() }

// renewLoop renews the node's key every LeaseTTL/6. A renewal refused
// because the key is gone (it expired: the process was paused, or cut off
// from NATS for longer than the TTL) voids every lease at once; the node
// then registers again, as a new node with no rooms.
func (n *Node) renewLoop(ctx context.Context) {
	defer close(n.renewDone)
	t := time.NewTicker(n.cfg.LeaseTTL / 6)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n.renew(ctx)
	}
}

func (n *Node) renew(run context.Context) {
	b, _ := json.Marshal(n.record()) // plain struct: never fails
	sent := n.now()
	ctx, cancel := context.WithTimeout(run, n.cfg.LeaseTTL/3)
	rev, err := n.nodes.Update(ctx, n.id, b, n.rev.Load())
	cancel()
	if err == nil {
		n.rev.Store(rev)
		n.validUntil.Store(sent + n.validFor())
		n.renewals.Add(1)
		return
	}
	n.renewFails.Add(1)
	if run.Err() != nil {
		return
	}
	if n.lost.Load() {
		n.loseEverything("registering again") // NATS is back: try to come back as a new incarnation
		return
	}
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) || apiCode(err) == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiCode(err) == jetstream.JSErrCodeStreamWrongLastSequenceConstant {
		// A renewal that JetStream applied but whose answer was lost (a
		// timeout) leaves the key one revision on: it is still this
		// incarnation's, and the lease holds from the renewal before.
		if rev, mine := n.ownKey(); mine {
			n.rev.Store(rev)
			n.log.Debug("lease renewal answered late: the key is this node's", "rev", rev)
			return
		}
		n.loseEverything("the node's key expired before it was renewed")
		return
	}
	if !n.Valid() {
		n.log.Warn("lease renewal failing: the node's rooms stop", "err", err)
	} else {
		n.log.Debug("lease renewal failed: trying again", "err", err)
	}
}

// ownKey reads the node's key from the nodes bucket's leader: its
// revision, and whether it is this incarnation's.
func (n *Node) ownKey() (uint64, bool) {
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.LeaseTTL/3)
	defer cancel()
	v, rev, found, err := jsstore.KVGet(ctx, n.ctl, n.cfg.Prefix+"_nodes", n.id)
	if err != nil || !found {
		return 0, false
	}
	var rec nodeRecord
	if json.Unmarshal(v, &rec) != nil || rec.Inc != n.incarnation() {
		return 0, false
	}
	return rev, true
}

// loseEverything voids the node's lease and every room lease under its
// incarnation, then registers the node again under a new incarnation (or
// leaves it without a lease until NATS lets it: the renewal loop tries
// again).
func (n *Node) loseEverything(why string) {
	if !n.lost.Swap(true) {
		n.stats.LeasesLost.Add(1)
		n.log.Error("lease lost: every room of this node stops; they are taken over from their logs", "why", why)
	}
	n.validUntil.Store(0)
	n.voidLeases()
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.LeaseTTL)
	defer cancel()
	if err := n.register(ctx); err != nil {
		n.log.Error("registering again failed: this node runs no rooms until it can", "err", err)
		return
	}
	n.lost.Store(false)
	n.log.Info("registered again under a new incarnation", "inc", n.incarnation())
}

// ID is the node's id.
func (n *Node) ID() string { return n.id }

// Addr is the node's advertised address.
func (n *Node) Addr() string { return n.cfg.Addr }

// Store is the JetStream store of rooms (directory, checkpoints, logs).
func (n *Node) Store() *jsstore.Store { return n.store }

// Conn is the node's NATS connection.
func (n *Node) Conn() *nats.Conn { return n.nc }

// Disconnect closes the node's NATS connections without leaving the
// cluster, as a lost machine or a cut network does: its key expires and
// its rooms are taken over. For tests and drills; Close leaves properly.
func (n *Node) Disconnect() {
	n.nc.Close()
	n.ctl.Close()
}

// Connected reports whether the node has its NATS connections now (/readyz).
func (n *Node) Connected() bool { return n.nc.IsConnected() && n.ctl.IsConnected() }

// NodeCount is how many nodes the node sees alive, itself included.
func (n *Node) NodeCount() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.liveNodes)
}

// Close leaves the cluster: the node's key is deleted (its rooms, which
// the caller has stopped and stored first, are taken over at once), and
// the connection is drained and closed.
func (n *Node) Close() error {
	n.stopMu.Lock()
	if n.closed {
		n.stopMu.Unlock()
		return nil
	}
	n.closed = true
	n.stopMu.Unlock()
	// The lease goes first: no renewal races the key's deletion, and
	// nothing of this node's that is still running (a shutdown past its
	// grace) holds a room that other nodes take once the key is gone.
	n.renewCancel()
	<-n.renewDone
	n.lost.Store(true)
	n.validUntil.Store(0)
	n.voidLeases()
	for _, sub := range n.subs { // no more relayed joins, inputs or frames
		_ = sub.Unsubscribe() // the connection may be closing: nothing more to do
	}
	// What the rooms handed over as they stopped (their members' closes)
	// goes out before the connection does, for up to a second.
	for deadline := time.Now().Add(time.Second); len(n.outbox) > 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := n.nodes.Delete(ctx, n.id, jetstream.LastRevision(n.rev.Load())); err != nil {
		n.log.Warn("node key not deleted: other nodes see this node gone when it expires", "err", err)
	}
	n.cancel()
	n.wg.Wait()
	_ = n.store.Close() // stops following the directory; nothing to report
	for _, nc := range []*nats.Conn{n.nc, n.ctl} {
		if err := nc.Drain(); err != nil {
			nc.Close()
		}
	}
	n.log.Info("left the cluster")
	return nil
}

// apiCode returns the JetStream error code of err, or 0.
func apiCode(err error) jetstream.ErrorCode {
	var api *jetstream.APIError
	if errors.As(err, &api) {
		return api.ErrorCode
	}
	return 0
}
