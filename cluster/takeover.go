package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/tickroom/tickroom/rooms"
	jsstore "github.com/tickroom/tickroom/rooms/store/jetstream"
)

// Takeover: a room whose row says live but that no live node owns (its
// owner died, or stopped and handed it on) is woken by one of the nodes
// that have its type: the first in the room's rendezvous order (highest
// hash of room and node id) takes it at once, the next one if it is still
// an orphan half a lease later, and so on, so that the rooms of a dead
// node spread over the others and a slow node does not hold one up. Two
// nodes that try anyway are kept apart by the owners key's
// compare-and-set (owners.go). A room that no node can take stays stored
// (it is listed asleep) and the next join wakes it.

// manager is what takeover and the relay need of the node's rooms.
type manager interface {
	Open(id string) (*rooms.Room, error)
	Get(id string) *rooms.Room
}

// takeovers bounds the wakes the loop runs at once.
const takeovers = 4

// Run starts taking over orphaned rooms into mgr, and serving the rooms
// this node owns to members relayed by other nodes; Close stops it.
func (n *Node) Run(mgr *rooms.Manager) {
	n.mu.Lock()
	n.mgr = mgr
	n.mu.Unlock()
	n.wg.Add(1)
	go n.takeoverLoop(mgr)
}

// retry is a room that could not be woken: when to try it again.
type retry struct {
	fails int
	next  time.Time
}

func (n *Node) takeoverLoop(mgr manager) {
	defer n.wg.Done()
	sweep := time.NewTicker(n.cfg.LeaseTTL / 2)
	defer sweep.Stop()
	orphanSince := make(map[string]time.Time)
	var mu sync.Mutex
	backoff := make(map[string]retry) // rooms whose wake failed, under mu
	var running sync.Map              // rooms being woken by this loop
	sem := make(chan struct{}, takeovers)
	for {
		swept := false
		select {
		case <-n.ctx.Done():
			return
		case <-n.events:
			for drained := false; !drained; { // one pass for a burst of events
				select {
				case <-n.events:
				default:
					drained = true
				}
			}
		case <-sweep.C:
			swept = true
		}
		now := time.Now()
		if swept {
			n.heartbeat()
			n.sweepRemotes(now)
		}
		if !n.Valid() {
			continue
		}
		if swept {
			n.auditNodes()
		}
		seen := make(map[string]time.Time)
		for _, rec := range n.orphans() {
			since, ok := orphanSince[rec.ID]
			if !ok {
				since = now
			}
			seen[rec.ID] = since
			rank := n.rank(rec)
			if rank < 0 || now.Sub(since) < time.Duration(rank)*n.cfg.LeaseTTL/2 {
				continue
			}
			mu.Lock()
			wait := backoff[rec.ID].next.After(now)
			mu.Unlock()
			if wait {
				continue
			}
			if _, busy := running.LoadOrStore(rec.ID, true); busy {
				continue
			}
			select {
			case sem <- struct{}{}:
			case <-n.ctx.Done():
				return
			}
			n.wg.Add(1)
			go func(id string) {
				defer n.wg.Done()
				defer func() { <-sem; running.Delete(id) }()
				failed := !n.takeOver(mgr, id)
				mu.Lock()
				defer mu.Unlock()
				if !failed {
					delete(backoff, id)
					return
				}
				// A room that cannot be woken (nothing to wake it from, a
				// log that does not re-run) is tried again, less and less
				// often: a second, then doubling up to five minutes.
				r := backoff[id]
				r.fails++
				r.next = time.Now().Add(min(time.Second<<min(r.fails-1, 9), 5*time.Minute))
				backoff[id] = r
			}(rec.ID)
		}
		orphanSince = seen // rooms no longer orphans (owned, asleep, deleted) are forgotten
		mu.Lock()
		for id := range backoff {
			if _, still := seen[id]; !still {
				delete(backoff, id)
			}
		}
		mu.Unlock()
	}
}

// auditNodes reads every node this node believes alive from the nodes
// bucket itself: a key removed by its TTL is normally announced to the
// watchers by a marker, but one can be missed (seen when the bucket's
// stream changed leader as a NATS server died), and a dead node that
// stayed in the index would keep its rooms from being taken over and its
// relayed members waiting.
func (n *Node) auditNodes() {
	n.mu.RLock()
	var others []nodeRecord
	for id, rec := range n.liveNodes {
		if id != n.id {
			others = append(others, rec)
		}
	}
	n.mu.RUnlock()
	for _, rec := range others {
		ctx, cancel := context.WithTimeout(n.ctx, n.cfg.LeaseTTL/2)
		v, _, found, err := jsstore.KVGet(ctx, n.ctl, n.cfg.Prefix+"_nodes", rec.ID) // the leader's word, not a replica's
		cancel()
		var cur nodeRecord
		switch {
		case err != nil:
			continue // NATS is slow or away: the next audit tries again
		case found && json.Unmarshal(v, &cur) == nil && cur.Inc == rec.Inc:
			continue // alive
		}
		n.mu.Lock()
		_, was := n.liveNodes[rec.ID]
		if was && n.liveNodes[rec.ID].Inc == rec.Inc {
			delete(n.liveNodes, rec.ID)
		} else {
			was = false
		}
		n.mu.Unlock()
		if was {
			n.log.Info("node gone (found by audit)", "gone", rec.ID)
			n.relayGone(rec.ID)
			n.ownerNodeGone(rec.ID)
		}
	}
}

// orphans lists the rooms whose row says live and that no live node
// owns, or that the owners key says this node owns but this node does not
// run (its lease lapsed and the key could not be deleted then).
func (n *Node) orphans() []rooms.RoomRecord {
	recs, err := n.store.List(rooms.DirectoryQuery{State: rooms.StateLive, Limit: 1 << 30})
	if err != nil {
		return nil
	}
	out := recs[:0]
	for _, rec := range recs {
		node, _, owned := n.Whois(rec.ID)
		if !owned {
			out = append(out, rec)
			continue
		}
		if node == n.id {
			n.mu.RLock()
			l := n.leases[rec.ID]
			n.mu.RUnlock()
			if l == nil {
				out = append(out, rec)
			}
		}
	}
	return out
}

// rank is this node's place in the room's rendezvous order among the
// live nodes that have the room's type (0: first), or -1 when this node
// lacks the type.
func (n *Node) rank(rec rooms.RoomRecord) int {
	if !slices.Contains(n.cfg.Types, rec.Type) {
		return -1
	}
	type scored struct {
		id    string
		score uint64
	}
	var all []scored
	n.mu.RLock()
	for id, nr := range n.liveNodes {
		if slices.Contains(nr.Types, rec.Type) {
			all = append(all, scored{id, hrw(rec.ID, id)})
		}
	}
	n.mu.RUnlock()
	slices.SortFunc(all, func(a, b scored) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		if a.id < b.id {
			return -1
		}
		return 1
	})
	for i, s := range all {
		if s.id == n.id {
			return i
		}
	}
	return len(all)
}

// hrw is the rendezvous hash of a room and a node.
func hrw(room, node string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(room)) // hash writes never fail
	_, _ = h.Write([]byte{0})
	_, _ = h.Write([]byte(node))
	return h.Sum64()
}

// takeOver wakes an orphaned room here; false when it could not be woken
// (and will be tried again later).
func (n *Node) takeOver(mgr manager, id string) bool {
	start := time.Now()
	_, err := mgr.Open(id)
	switch {
	case err == nil:
		n.stats.TakeoverTime.Observe(time.Since(start))
		n.log.Info("room rebuilt from its log after its owner went", "room", id, "took", time.Since(start).Round(time.Millisecond))
	case errors.Is(err, rooms.ErrOwnedElsewhere), errors.Is(err, rooms.ErrNotFound), errors.Is(err, rooms.ErrStopped):
		// another node was quicker, or the room is gone, or we are stopping
	default:
		n.log.Warn("room not taken over: tried again later", "room", id, "err", err)
		return false
	}
	return true
}
