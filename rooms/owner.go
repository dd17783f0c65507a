package rooms

import (
	"errors"
	"fmt"
)

// Who may run a room. On one node, this node runs every room it has
// (Config.Owner nil). In a cluster every room has one owner node at a
// time, holding it by a lease that the cluster's shared store grants and
// takes back (package cluster): the manager acquires a room's lease
// before it creates or wakes the room, the room checks it before every
// tick and stops at once when it no longer holds, and gives it back once
// its state is stored (asleep, or stopping for a deploy).
//
// Invariant (one writer per room across nodes): a room ticks only while
// its lease is valid, and its log refuses the appends of a writer that is
// no longer the room's (ErrFenced), which stops the room too. Guarded by
// TestLostLeaseStopsTheRoomAtOnce, TestFencedLogStopsTheRoom, the log's
// one-tick-each checks in cluster.TestRoomSurvivesItsOwnersLoss and
// cmd/tickroom.TestSplitBrainPausedOwnerStopsBeforeItTicks (SIGSTOP).

// ErrOwnedElsewhere: another node runs the room (OwnedError says which).
var ErrOwnedElsewhere = errors.New("room is run by another node")

// errLeaseLost: a write of a room whose lease is lost, not made.
var errLeaseLost = errors.New("lease lost: another node owns the room")

// OwnedError names the node that runs a room.
type OwnedError struct {
	Room string
	Node string // the owner's node id
	Addr string // the owner's advertised HOST:PORT
}

func (e *OwnedError) Error() string {
	return fmt.Sprintf("room %s is run by node %s (%s)", e.Room, e.Node, e.Addr)
}

// Unwrap makes errors.Is(err, ErrOwnedElsewhere) true.
func (e *OwnedError) Unwrap() error { return ErrOwnedElsewhere }

// Owner grants leases on rooms.
type Owner interface {
	// Acquire makes this node the room's owner, or fails with an
	// *OwnedError when a live node holds it (or another error when the
	// shared store cannot be reached).
	Acquire(room string) (Lease, error)
	// Whois names the node that owns a room, if any node does.
	Whois(room string) (node, addr string, ok bool)
	// Self names this node.
	Self() (node, addr string)
	// Capable reports whether some live node other than this one runs
	// rooms of the type: a room this node lacks the type of is then not
	// "gone", another node is about to take it.
	Capable(roomType string) bool
}

// Lease is a node's hold on one room.
type Lease interface {
	// Valid reports whether the lease still holds. It is called before
	// every tick and does no I/O.
	Valid() bool
	// Release gives the room up; it is idempotent, and harmless once the
	// lease has been lost (it never takes a room from its new owner).
	Release()
}

// localLease is a single node's: it always holds.
type localLease struct{}

func (localLease) Valid() bool { return true }
func (localLease) Release()    {}

// acquire takes a room's lease from the configured Owner (a local one
// when there is none).
func (m *Manager) acquire(id string) (Lease, error) {
	if m.cfg.Owner == nil {
		return localLease{}, nil
	}
	l, err := m.cfg.Owner.Acquire(id)
	if err != nil {
		return nil, fmt.Errorf("rooms: %s: %w", id, err)
	}
	return l, nil
}

// Owner returns the manager's Owner (nil on a single node).
func (m *Manager) Owner() Owner { return m.cfg.Owner }
