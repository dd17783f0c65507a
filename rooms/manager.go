package rooms

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
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

	mu      sync.RWMutex
	rooms   map[string]*Room
	retired map[string]*Totals // by type: counters of rooms that closed
	stopped bool
	wg      sync.WaitGroup
}

// NewManager returns a manager offering the registry's room types.
func NewManager(types *Registry, cfg Config) *Manager {
	return &Manager{cfg: cfg.withDefaults(), types: types, rooms: make(map[string]*Room), retired: make(map[string]*Totals)}
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
	// manager has a Recorder.
	Record *bool
}

// Create starts a new room.
func (m *Manager) Create(req CreateRequest) (*Room, error) {
	t := m.types.Get(req.Type)
	if t == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownType, req.Type)
	}
	maxPlayers := req.MaxPlayers
	if maxPlayers == 0 {
		maxPlayers = t.PlayerLimit()
	}
	if maxPlayers < 1 || maxPlayers > t.PlayerLimit() {
		return nil, fmt.Errorf("%w: maxPlayers %d outside 1..%d for %q", ErrBadRequest, maxPlayers, t.PlayerLimit(), t.Name)
	}
	h, opts, err := t.New(req.Options)
	if err != nil {
		if !errors.Is(err, ErrBadOptions) {
			err = fmt.Errorf("%w: %v", ErrBadOptions, err)
		}
		return nil, err
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return nil, ErrStopped
	}
	if len(m.rooms) >= m.cfg.MaxRooms {
		return nil, fmt.Errorf("%w: %d rooms open", ErrRoomLimit, len(m.rooms))
	}
	var seed [8]byte
	_, _ = rand.Read(seed[:]) // crypto/rand.Read never fails on supported platforms
	record := req.Record == nil || *req.Record
	r, err := newRoom(newID(), t, h, req.Options, opts, req.Public, maxPlayers, binary.LittleEndian.Uint64(seed[:]), m.cfg, record)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadOptions, err)
	}
	r.onClosed = m.forget
	m.rooms[r.ID] = r
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		r.run()
	}()
	r.log.Info("room created", "public", r.Public, "maxPlayers", maxPlayers)
	return r, nil
}

func (m *Manager) forget(r *Room) {
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
}

// Info describes a room for listings.
func (r *Room) Info() RoomInfo {
	vis := "unlisted"
	if r.Public {
		vis = "public"
	}
	return RoomInfo{ID: r.ID, Type: r.Type.Name, Players: r.Players(), MaxPlayers: r.MaxPlayers,
		CreatedAt: r.CreatedAt, Visibility: vis, Tick: r.CurrentTick(), TickRate: r.Type.TickRate,
		RecordingID: r.recordingID}
}

// List returns the open public rooms, newest first.
func (m *Manager) List() []RoomInfo {
	m.mu.RLock()
	out := make([]RoomInfo, 0, len(m.rooms))
	for _, r := range m.rooms {
		if r.Public && !r.Closed() {
			out = append(out, r.Info())
		}
	}
	m.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out
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

// Shutdown refuses new rooms, closes every room with the code and reason,
// and waits for their goroutines until ctx ends.
func (m *Manager) Shutdown(ctx context.Context, code int, reason string) error {
	for _, r := range m.stop() {
		r.Close(code, reason)
	}
	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("rooms: shutdown: %w", ctx.Err())
	}
}
