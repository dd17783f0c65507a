package rooms

import (
	"errors"
	"sync"
	"time"
)

// Errors from Manager.Create.
var (
	ErrUnknownType = errors.New("unknown room type")
	ErrRoomLimit   = errors.New("room limit reached")
	ErrBadRequest  = errors.New("bad room request")
	ErrStopped     = errors.New("manager stopped")
)

// Manager creates, finds, lists and closes rooms. It owns every room's
// goroutine: Shutdown stops them all and waits.
type Manager struct {
	cfg   Config
	types *Registry

	mu       sync.RWMutex
	rooms    map[string]*Room
	waking   map[string]*wakeCall // rooms being woken (or deleted)
	retired  map[string]*Totals   // by type: counters of rooms that stopped
	stopped  bool
	wg       sync.WaitGroup
	persist  *persister // nil without a Directory
	counters Counters
}

// NewManager returns a manager offering the registry's room types.
func NewManager(types *Registry, cfg Config) *Manager {
	m := &Manager{cfg: cfg.withDefaults(), types: types, rooms: make(map[string]*Room),
		waking: make(map[string]*wakeCall), retired: make(map[string]*Totals)}
	if m.cfg.Directory != nil {
		m.persist = newPersister()
	}
	return m
}

// Types returns the registry of room types.
func (m *Manager) Types() *Registry { return m.types }

// CreateRequest is what a creator asks for.
type CreateRequest struct {
	Type       string
	Options    map[string]any
	Public     bool
	MaxPlayers int // 0: the type's default
	// Record asks for the room to be recorded; nil means yes when the
	// manager has Logs.
	Record *bool
}

// retire drops a room that stopped, keeping its counters.
func (m *Manager) retire(r *Room) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rooms[r.ID] == r {
		delete(m.rooms, r.ID)
		t := m.retired[r.Type.Name]
		if t == nil {
			t = &Totals{TickBuckets: make([]uint64, len(TickBuckets)+1)}
			m.retired[r.Type.Name] = t
		}
		t.add(&r.stats)
	}
}

// Totals are a room type's counters summed over rooms: what metrics export.
type Totals struct {
	Rooms, Members                                        int
	Ticks, LateTicks, SkippedSlots, BytesOut, Snapshots   uint64
	Overflows, SlowClosed, InputsIn, InputsBusy, Rejected uint64
	Encodes                                               uint64
	TickBuckets                                           []uint64 // per bucket, not cumulative
	TickCount                                             uint64
	TickSum                                               time.Duration
}

func (t *Totals) add(s *Stats) {
	t.Ticks += s.Ticks.Load()
	t.LateTicks += s.LateTicks.Load()
	t.SkippedSlots += s.SkippedSlots.Load()
	t.BytesOut += s.BytesOut.Load()
	t.Snapshots += s.Snapshots.Load()
	t.Encodes += s.Encodes.Load()
	t.Overflows += s.Overflows.Load()
	t.SlowClosed += s.SlowClosed.Load()
	t.InputsIn += s.InputsIn.Load()
	t.InputsBusy += s.InputsBusy.Load()
	t.Rejected += s.InputsRejected.Load()
	counts, n, sum := s.TickTime.Snapshot()
	for i, c := range counts {
		t.TickBuckets[i] += c
	}
	t.TickCount += n
	t.TickSum += sum
}

// TotalsByType returns every type's counters: open rooms plus the ones
// that closed, so that counters never go backwards.
func (m *Manager) TotalsByType() map[string]*Totals {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make(map[string]*Totals)
	get := func(name string) *Totals {
		t := out[name]
		if t == nil {
			t = &Totals{TickBuckets: make([]uint64, len(TickBuckets)+1)}
			out[name] = t
		}
		return t
	}
	for _, ty := range m.types.All() {
		get(ty.Name)
	}
	for name, r := range m.retired {
		t := get(name)
		rooms, members := t.Rooms, t.Members
		*t = *r
		t.TickBuckets = append([]uint64(nil), r.TickBuckets...)
		t.Rooms, t.Members = rooms, members
	}
	for _, r := range m.rooms {
		t := get(r.Type.Name)
		t.Rooms++
		t.Members += r.Players()
		t.add(&r.stats)
	}
	return out
}

// All returns every open room, listed or not.
func (m *Manager) All() []*Room {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]*Room, 0, len(m.rooms))
	for _, r := range m.rooms {
		out = append(out, r)
	}
	return out
}

// Get returns the open room with the id, or nil.
func (m *Manager) Get(id string) *Room {
	m.mu.RLock()
	defer m.mu.RUnlock()
	r := m.rooms[id]
	if r == nil || r.Closed() {
		return nil
	}
	return r
}

// Len returns the number of open rooms.
func (m *Manager) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.rooms)
}

// RoomInfo is what listings show of a room.
type RoomInfo struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Players    int       `json:"players"`
	MaxPlayers int       `json:"maxPlayers"`
	CreatedAt  time.Time `json:"createdAt"`
	Visibility string    `json:"visibility"`
	Tick       uint64    `json:"tick"`
	TickRate   int       `json:"tickRate"`
	// RecordingID names the room's recording (GET /api/recordings/{id}).
	RecordingID string `json:"recordingId,omitempty"`
	// State is "live" (running here) or "dormant" (asleep: a join wakes it).
	State RoomState `json:"state"`
	// LastActive is when a sleeping room last had a member.
	LastActive time.Time `json:"lastActive,omitzero"`
	// Owner is the advertised HOST:PORT of the node that runs the room, in
	// a cluster (empty on a single node, and for a sleeping room).
	Owner string `json:"owner,omitempty"`
}

// Info describes a room for listings.
func (r *Room) Info() RoomInfo {
	info := r.info()
	if r.mgr != nil && r.mgr.cfg.Owner != nil {
		_, info.Owner = r.mgr.cfg.Owner.Self()
	}
	return info
}

func (r *Room) info() RoomInfo {
	vis := "unlisted"
	if r.Public {
		vis = "public"
	}
	return RoomInfo{ID: r.ID, Type: r.Type.Name, Players: r.Players(), MaxPlayers: r.MaxPlayers,
		CreatedAt: r.CreatedAt, Visibility: vis, Tick: r.CurrentTick(), TickRate: r.Type.TickRate,
		RecordingID: r.recordingID, State: StateLive}
}

// stop refuses new rooms from now on and returns the rooms open now.
func (m *Manager) stop() []*Room {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopped = true
	all := make([]*Room, 0, len(m.rooms))
	for _, r := range m.rooms {
		all = append(all, r)
	}
	return all
}
