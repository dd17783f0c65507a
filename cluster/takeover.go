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

func (n *Node) takeoverLoop(mgr manager) {
	defer n.wg.Done()
	sweep := time.NewTicker(n.cfg.LeaseTTL / 2)
	defer sweep.Stop()
	orphanSince := make(map[string]time.Time)
	var running sync.Map // rooms being woken by this loop
	sem := make(chan struct{}, takeovers)
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-n.events:
		case <-sweep.C:
		}
		if !n.Valid() {
			continue
		}
		n.auditNodes()
		now := time.Now()
		for _, rec := range n.orphans() {
			since, seen := orphanSince[rec.ID]
			if !seen {
				since = now
				orphanSince[rec.ID] = now
			}
			rank := n.rank(rec)
			if rank < 0 || now.Sub(since) < time.Duration(rank)*n.cfg.LeaseTTL/2 {
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
				n.takeOver(mgr, id)
			}(rec.ID)
		}
		for id := range orphanSince {
			if _, _, owned := n.Whois(id); owned {
				delete(orphanSince, id)
			}
		}
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
		v, _, found, err := jsstore.KVGet(ctx, n.nc, n.cfg.Prefix+"_nodes", rec.ID) // the leader's word, not a replica's
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

// orphans lists the rooms whose row says live and that no live node owns.
func (n *Node) orphans() []rooms.RoomRecord {
	recs, err := n.store.List(rooms.DirectoryQuery{State: rooms.StateLive, Limit: 1 << 30})
	if err != nil {
		return nil
	}
	out := recs[:0]
	for _, rec := range recs {
		if _, _, owned := n.Whois(rec.ID); !owned {
			out = append(out, rec)
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

// takeOver wakes an orphaned room here.
func (n *Node) takeOver(mgr manager, id string) {
	start := time.Now()
	_, err := mgr.Open(id)
	switch {
	case err == nil:
		n.stats.TakeoverTime.Observe(time.Since(start))
		n.log.Info("room rebuilt from its log after its owner went", "room", id, "took", time.Since(start).Round(time.Millisecond))
	case errors.Is(err, rooms.ErrOwnedElsewhere), errors.Is(err, rooms.ErrNotFound), errors.Is(err, rooms.ErrStopped):
		// another node was quicker, or the room is gone, or we are stopping
	default:
		n.log.Warn("room not taken over", "room", id, "err", err)
	}
}
