package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickroom/tickroom/rooms"
	jsstore "github.com/tickroom/tickroom/rooms/store/jetstream"
)

// Room leases. The owners bucket holds one key per running room: the
// owner's node id, incarnation and address. A node takes a room by
// creating its key, or, when the node the key names is gone (its key in
// the nodes bucket expired or names another incarnation), by updating it
// with compare-and-set on the revision it read: two nodes that race for an
// orphan cannot both win. The key's revision after the take is the
// ownership's epoch: it grows with every owner, and the relay uses it to
// tell an old owner's frames from the new one's.
//
// A room lease is valid while the node's own lease is (node.go) and the
// node has not seen the key taken by someone else. The node's lease lapses
// LeaseTTL/3 before its key can expire, so by the time another node may
// take a room, its old owner has stopped ticking it; the log's fence
// (rooms.ErrFenced) catches an append that was already on its way.

// ownerRecord is a room's value in the owners bucket.
type ownerRecord struct {
	Node string `json:"node"`
	Inc  string `json:"inc"`
	Addr string `json:"addr"`
	rev  uint64
}

// lease is this node's hold on one room.
type lease struct {
	n       *Node
	room    string
	inc     string // the node's incarnation it was taken under
	rev     uint64 // the owners key's revision when taken: the epoch
	revoked atomic.Bool
	done    atomic.Bool
}

// Valid reports whether the lease holds (rooms.Lease): no I/O.
func (l *lease) Valid() bool {
	return !l.revoked.Load() && !l.done.Load() && l.n.incarnation() == l.inc && l.n.Valid()
}

// Epoch is the ownership's epoch (the owners key's revision).
func (l *lease) Epoch() uint64 { return l.rev }

// Release deletes the room's key if it still names this ownership
// (rooms.Lease): the room's state is stored, and another node may take it
// at once.
func (l *lease) Release() {
	if l.done.Swap(true) {
		return
	}
	n := l.n
	n.mu.Lock()
	if n.leases[l.room] == l {
		delete(n.leases, l.room)
	}
	n.mu.Unlock()
	n.stats.Owned.Add(-1)
	n.closeRemotes(l.room) // the room's relayed members were closed by the room; forget them
	if l.revoked.Load() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.cfg.LeaseTTL)
	defer cancel()
	if err := n.owners.Delete(ctx, l.room, jetstream.LastRevision(l.rev)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		n.log.Debug("room's owner key not released (taken since, or NATS away: it is an orphan once this node's key expires)", "room", l.room, "err", err)
	}
}

var _ rooms.Owner = (*Node)(nil)

// Acquire makes this node the room's owner (rooms.Owner).
func (n *Node) Acquire(room string) (rooms.Lease, error) {
	if !n.Valid() {
		return nil, fmt.Errorf("cluster: acquire %s: this node holds no lease (NATS unreachable)", room)
	}
	inc := n.incarnation()
	me, _ := json.Marshal(ownerRecord{Node: n.id, Inc: inc, Addr: n.cfg.Addr}) // plain struct: never fails
	ctx, cancel := context.WithTimeout(n.ctx, n.cfg.LeaseTTL)
	defer cancel()
	for range 4 {
		e, err := n.owners.Get(ctx, room)
		var rev uint64
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted):
			rev, err = n.owners.Create(ctx, room, me)
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue // someone took it meanwhile: look again
			}
		case err != nil:
		default:
			var cur ownerRecord
			if json.Unmarshal(e.Value(), &cur) == nil && cur.Node == n.id && cur.Inc == inc {
				rev = e.Revision() // ours already (a wake that failed to start and is tried again)
				break
			}
			if alive, addr := n.alive(ctx, cur); alive {
				return nil, &rooms.OwnedError{Room: room, Node: cur.Node, Addr: addr}
			}
			rev, err = n.owners.Update(ctx, room, me, e.Revision())
			if apiCode(err) == jetstream.JSErrCodeStreamWrongLastSequence || apiCode(err) == jetstream.JSErrCodeStreamWrongLastSequenceConstant {
				continue // another node won the orphan: look again
			}
			if err == nil {
				n.stats.Takeovers.Add(1)
				n.log.Info("room taken over", "room", room, "from", cur.Node)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("cluster: acquire %s: %w", room, err)
		}
		l := &lease{n: n, room: room, inc: inc, rev: rev}
		n.mu.Lock()
		old := n.leases[room]
		n.leases[room] = l
		n.ownerIndex[room] = ownerRecord{Node: n.id, Inc: inc, Addr: n.cfg.Addr, rev: rev}
		n.mu.Unlock()
		if old == nil || old.done.Swap(true) {
			n.stats.Owned.Add(1) // the old lease, if any, no longer counts: its Release does nothing now
		}
		return l, nil
	}
	return nil, fmt.Errorf("cluster: acquire %s: the owner key kept changing", room)
}

// alive reports whether the node an owner record names is alive in the
// incarnation it names, reading the nodes bucket's leader (not this
// node's index, nor a replica: either may lag, and taking a room from a
// node that is alive would run it twice), and its address. A read that
// fails counts as alive: the room is not taken on a guess.
func (n *Node) alive(ctx context.Context, o ownerRecord) (bool, string) {
	v, _, found, err := jsstore.KVGet(ctx, n.ctl, n.cfg.Prefix+"_nodes", o.Node)
	if err != nil {
		return true, ""
	}
	var rec nodeRecord
	if !found || json.Unmarshal(v, &rec) != nil || rec.Inc != o.Inc {
		return false, ""
	}
	return true, rec.Addr
}

// Whois names the live node that owns a room, from this node's index
// (rooms.Owner).
func (n *Node) Whois(room string) (string, string, bool) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	o, ok := n.ownerIndex[room]
	if !ok {
		return "", "", false
	}
	live, ok := n.liveNodes[o.Node]
	if !ok || live.Inc != o.Inc {
		return "", "", false
	}
	return o.Node, live.Addr, true
}

// Self names this node (rooms.Owner).
func (n *Node) Self() (string, string) { return n.id, n.cfg.Addr }

// Capable reports whether another live node runs rooms of the type
// (rooms.Owner), from this node's index.
func (n *Node) Capable(roomType string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	for id, rec := range n.liveNodes {
		if id != n.id && slices.Contains(rec.Types, roomType) {
			return true
		}
	}
	return false
}

// voidLeases revokes every room lease this node holds.
func (n *Node) voidLeases() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, l := range n.leases {
		l.revoked.Store(true)
	}
}

// follow loads the nodes and owners buckets into the node's index and
// keeps following them.
func (n *Node) follow(ctx context.Context) error {
	nodesLoaded, err := n.watch(ctx, n.nodes, n.nodeChanged)
	if err != nil {
		return fmt.Errorf("cluster: watch nodes: %w", err)
	}
	ownersLoaded, err := n.watch(ctx, n.owners, n.ownerChanged)
	if err != nil {
		return fmt.Errorf("cluster: watch owners: %w", err)
	}
	for _, loaded := range []chan struct{}{nodesLoaded, ownersLoaded} {
		select {
		case <-loaded:
		case <-ctx.Done():
			return fmt.Errorf("cluster: load the cluster's state: %w", ctx.Err())
		}
	}
	return nil
}

// watch follows a bucket, calling fn with every change; the channel is
// closed once the bucket's keys as they were have been seen.
func (n *Node) watch(ctx context.Context, kv jetstream.KeyValue, fn func(jetstream.KeyValueEntry)) (chan struct{}, error) {
	w, err := kv.WatchAll(n.ctx)
	if err != nil {
		return nil, err
	}
	loaded := make(chan struct{})
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		defer w.Stop()
		initial := true
		for e := range w.Updates() {
			if e == nil {
				if initial {
					initial = false
					close(loaded)
				}
				continue
			}
			fn(e)
		}
		if initial {
			close(loaded)
		}
	}()
	return loaded, nil
}

func (n *Node) nodeChanged(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		n.mu.Lock()
		_, was := n.liveNodes[e.Key()]
		delete(n.liveNodes, e.Key())
		n.mu.Unlock()
		if was && e.Key() != n.id {
			n.log.Info("node gone", "gone", e.Key())
			n.relayGone(e.Key())
			n.ownerNodeGone(e.Key())
			n.notify(event{node: e.Key()})
		}
		return
	}
	var rec nodeRecord
	if err := json.Unmarshal(e.Value(), &rec); err != nil {
		return
	}
	n.mu.Lock()
	old, was := n.liveNodes[rec.ID]
	n.liveNodes[rec.ID] = rec
	n.mu.Unlock()
	if !was {
		n.log.Info("node joined", "joined", rec.ID, "addr", rec.Addr)
	} else if old.Inc != rec.Inc && rec.ID != n.id {
		// The same node, a new incarnation: it lost its lease, its rooms
		// stopped and are orphans, and what it relayed is gone.
		n.relayGone(rec.ID)
		n.ownerNodeGone(rec.ID)
		n.notify(event{node: rec.ID})
	}
}

func (n *Node) ownerChanged(e jetstream.KeyValueEntry) {
	room := e.Key()
	if e.Operation() != jetstream.KeyValuePut {
		n.mu.Lock()
		if o, ok := n.ownerIndex[room]; ok && o.rev <= e.Revision() {
			delete(n.ownerIndex, room)
		}
		n.mu.Unlock()
		n.ownerGone(room)
		n.notify(event{room: room})
		return
	}
	var o ownerRecord
	if err := json.Unmarshal(e.Value(), &o); err != nil {
		return
	}
	o.rev = e.Revision()
	n.mu.Lock()
	if cur, ok := n.ownerIndex[room]; !ok || cur.rev < o.rev {
		n.ownerIndex[room] = o
	}
	l := n.leases[room]
	n.mu.Unlock()
	if l != nil && l.rev < o.rev && (o.Node != n.id || o.Inc != l.inc) {
		// Someone took the room from under this node: stop it now rather
		// than at the log's fence.
		l.revoked.Store(true)
		n.log.Warn("room taken by another node: it stops here", "room", room, "by", o.Node)
	}
	n.ownerMoved(room, o)
}

// notify hands an event to the takeover loop without blocking (a full
// queue is caught by the loop's periodic sweep).
func (n *Node) notify(ev event) {
	select {
	case n.events <- ev:
	default:
	}
}
