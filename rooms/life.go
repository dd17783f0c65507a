package rooms

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/state"
)

// A room's life (docs/ARCHITECTURE.md, "The room's life"): Create makes it
// live; empty for IdleTimeout it goes to sleep (dormant: no goroutine, no
// memory, only its stores); Open wakes it again, from its newest good
// checkpoint and the log after it; Stop (a process stopping) stores it and
// the next process wakes it (Recover); a crash leaves it stored as it was
// at its last checkpoint and log flush, and the next process wakes it the
// same way; Close or Delete end it for good, and a sleeping room expires
// by age (Expire). Every start after the first goes through wake.

// More errors of the room's life, for errors.Is.
var (
	// ErrTypeGone: the room is stored but this build has no such type
	// (TypeGoneError says which); nothing is deleted.
	ErrTypeGone = errors.New("room type not on this server")
	// ErrStorage: the room could not be stored, so it was not created.
	ErrStorage = errors.New("room storage failed")
	// ErrUnrecoverable: the room's stores hold nothing it can wake from.
	ErrUnrecoverable = errors.New("room cannot be woken")
	// ErrRoomFailed: the room stopped because its handler panicked; it is
	// kept, and the next start of the server tries to wake it again.
	ErrRoomFailed = errors.New("room failed")
)

// TypeGoneError names the missing type of a stored room.
type TypeGoneError struct{ Room, Type string }

func (e *TypeGoneError) Error() string {
	return fmt.Sprintf("room %s is of type %q, which this server does not have", e.Room, e.Type)
}

// Unwrap makes errors.Is(err, ErrTypeGone) true.
func (e *TypeGoneError) Unwrap() error { return ErrTypeGone }

// wakeCall is a wake in progress: every Open of the room waits for it.
type wakeCall struct {
	done chan struct{}
	err  error
}

// Create starts a new room. With a Directory, its row is stored before
// Create returns: the share link survives a crash right after.
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
	if err := m.admit(""); err != nil {
		return nil, err
	}
	id := newID()
	lease, err := m.acquire(id)
	if err != nil {
		return nil, err
	}
	created := false
	defer func() {
		if !created {
			lease.Release()
		}
	}()
	var seed [8]byte
	secret := make([]byte, 32)
	_, _ = rand.Read(seed[:]) // crypto/rand.Read never fails on supported platforms
	_, _ = rand.Read(secret)
	r := m.cfg.newRoomShell(id, t, h, req.Options, opts, req.Public, maxPlayers, binary.LittleEndian.Uint64(seed[:]))
	r.mgr, r.secret, r.lastActive, r.memberReserve, r.lease = m, secret, r.CreatedAt, memberBlock, lease
	if err := r.safely("init", func() error { return h.Init(&r.ctx) }); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadOptions, err)
	}
	// Publish the starting state as tick 0 so that the first joiner's
	// snapshot holds it and tick 1's delta has a base.
	_ = publish(r.world, 0, nil, 0)
	if req.Record == nil || *req.Record {
		r.startRecording(0)
	}
	if r.durable() {
		row := r.row(StateLive)
		var cp []byte
		if r.recorder == nil { // no log to re-run: a crash before the first checkpoint must find one
			if cp, err = r.checkpoint(LogPosition{}); err != nil {
				return nil, fmt.Errorf("%w: %v", ErrStorage, err)
			}
		}
		if err := m.persist.wait(func() error { return m.store(r.lease, r.ID, 0, cp, &row) }); err != nil {
			if r.recorder != nil {
				_ = r.recorder.Close() // the room never was: its log ends here
			}
			return nil, fmt.Errorf("%w: %v", ErrStorage, err)
		}
	}
	if err := m.start(r); err != nil {
		r.forgetStored()
		if r.recorder != nil {
			_ = r.recorder.Close() // as above
		}
		return nil, err
	}
	created = true
	r.log.Info("room created", "public", r.Public, "maxPlayers", maxPlayers, "durable", r.durable())
	return r, nil
}

// admit checks that one more room may open (id: a room being woken, which
// already holds a place in m.waking).
func (m *Manager) admit(id string) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.stopped {
		return ErrStopped
	}
	n := len(m.rooms) + len(m.waking)
	if _, waking := m.waking[id]; waking {
		n--
	}
	if n >= m.cfg.MaxRooms {
		return fmt.Errorf("%w: %d rooms open", ErrRoomLimit, n)
	}
	return nil
}

// start registers a built room and runs its goroutine.
func (m *Manager) start(r *Room) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return ErrStopped
	}
	if m.rooms[r.ID] != nil {
		return fmt.Errorf("rooms: start %s: a room with this id is open", r.ID)
	}
	r.onClosed = m.retire
	r.durableAtStart = r.durable()
	m.rooms[r.ID] = r
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		r.run()
	}()
	return nil
}

// Open returns the live room with the id, waking it from its stores when
// it sleeps (or when its process stopped or died). Wakes are single-flight:
// every Open of a room being woken waits for that one wake. A room that is
// going to sleep is waited for, then woken. It fails with an error wrapping
// ErrNotFound for an id the directory does not know (one indexed lookup,
// no scan), ErrTypeGone, ErrRoomLimit or ErrStopped.
func (m *Manager) Open(id string) (*Room, error) { return m.open(id, false) }

// open is Open; withFailed also wakes a room whose row says it failed
// (Recover does, at start: the build may be fixed).
func (m *Manager) open(id string, withFailed bool) (*Room, error) {
	for {
		m.mu.Lock()
		if m.stopped {
			m.mu.Unlock()
			return nil, ErrStopped
		}
		if r := m.rooms[id]; r != nil {
			m.mu.Unlock()
			if !r.Closed() {
				return r, nil
			}
			<-r.done // going to sleep or closing: its stores say what next
			continue
		}
		if w := m.waking[id]; w != nil {
			m.mu.Unlock()
			<-w.done
			if w.err != nil {
				return nil, w.err
			}
			continue
		}
		if m.cfg.Directory == nil {
			m.mu.Unlock()
			return nil, fmt.Errorf("room %s: %w", id, ErrNotFound)
		}
		w := m.hold(id)
		m.mu.Unlock()
		return m.wakeHeld(id, w, withFailed)
	}
}

// hold takes the id's waking slot, so that nothing else wakes or deletes
// the room meanwhile, and counts the work in the manager's WaitGroup, so
// that Shutdown waits for it. The caller holds m.mu and has checked that
// the manager is not stopped; release gives the slot back.
func (m *Manager) hold(id string) *wakeCall {
	w := &wakeCall{done: make(chan struct{})}
	m.waking[id] = w
	m.wg.Add(1)
	return w
}

func (m *Manager) release(id string, w *wakeCall, err error) {
	m.mu.Lock()
	delete(m.waking, id)
	m.mu.Unlock()
	w.err = err
	close(w.done)
	m.wg.Done()
}

// wakeHeld wakes the room whose slot w the caller holds, and starts it.
func (m *Manager) wakeHeld(id string, w *wakeCall, withFailed bool) (r *Room, err error) {
	defer func() {
		if p := recover(); p != nil { // never leave the slot held: every opener would wait for ever
			err = fmt.Errorf("rooms: wake %s: %w", id, &PanicError{Step: "wake", Value: p})
		}
		m.release(id, w, err)
	}()
	if r, err = m.wake(id, withFailed); err != nil {
		return nil, err
	}
	if err = m.start(r); err != nil {
		if r.recorder != nil {
			_ = r.recorder.Pause() // not started: the log goes on at the next wake
		}
		r.lease.Release()
		return nil, err
	}
	return r, nil
}

// wake rebuilds a stored room: its newest good checkpoint (if its type
// has them), the log after it re-run (if its type is deterministic), its
// seats held for SeatGrace with their resume tokens, its log continued.
func (m *Manager) wake(id string, withFailed bool) (*Room, error) {
	start := time.Now()
	rec, err := m.cfg.Directory.Get(id)
	if err != nil {
		return nil, fmt.Errorf("room %s: %w", id, err)
	}
	if rec.State == StateFailed && !withFailed {
		return nil, fmt.Errorf("room %s: %w: it is kept, and tried again when the server restarts", id, ErrRoomFailed)
	}
	if m.cfg.Owner != nil {
		// Run by another node: it is joined through that node (even when
		// this one lacks the type), and no lease is asked for.
		if node, addr, ok := m.cfg.Owner.Whois(id); ok {
			if self, _ := m.cfg.Owner.Self(); node != self {
				return nil, &OwnedError{Room: id, Node: node, Addr: addr}
			}
		}
	}
	t := m.types.Get(rec.Type)
	if t == nil {
		if m.cfg.Owner != nil && m.cfg.Owner.Capable(rec.Type) {
			// Between owners (one died, another is taking the room): a
			// join through here comes back (1013) and is relayed then.
			return nil, fmt.Errorf("room %s: %w: a node with its type %q is taking it over", id, ErrRoomBusy, rec.Type)
		}
		return nil, &TypeGoneError{Room: id, Type: rec.Type}
	}
	if err := m.admit(id); err != nil {
		return nil, err
	}
	lease, err := m.acquire(id)
	if err != nil {
		return nil, err
	}
	if m.cfg.Owner != nil {
		// The row may have changed until the lease was ours (the last
		// owner stored the room): read it again now that it cannot.
		if rec, err = m.cfg.Directory.Get(id); err != nil {
			lease.Release()
			return nil, fmt.Errorf("room %s: %w", id, err)
		}
	}
	r, err := m.rebuild(rec, t)
	if err != nil {
		lease.Release()
		m.counters.WakeFailures.Add(1)
		return nil, err
	}
	r.lease = lease
	row := r.row(StateLive)
	if err := m.persist.wait(func() error { return m.store(r.lease, r.ID, 0, nil, &row) }); err != nil {
		r.log.Error("woken room's row not stored", "err", err) // the room runs all the same
	}
	m.counters.Wakes.Add(1)
	m.counters.WakeTime.Observe(time.Since(start))
	r.log.Info("room woken", "tick", r.world.Tick(), "seats", len(r.seats), "took", time.Since(start).Round(time.Microsecond))
	return r, nil
}

// rebuild makes the room of a directory row from its checkpoints and log.
func (m *Manager) rebuild(rec RoomRecord, t *Type) (*Room, error) {
	log := m.cfg.Logger.With("room", rec.ID, "type", t.Name)
	_, opts, err := t.New(rec.Options) // the effective options, for welcomes
	if err != nil {
		return nil, fmt.Errorf("rooms: wake %s: %w", rec.ID, err)
	}
	sim, cp := m.newestCheckpoint(rec, t, false, log)
	var w LogWriter
	var end LogEnd
	if rec.LogID != "" && m.cfg.Logs != nil {
		w, end, err = m.cfg.Logs.Continue(rec.LogID)
		switch {
		case errors.Is(err, ErrNotFound):
			// Deleted by hand: the room wakes from its checkpoint (if any)
			// and records on in a new log.
			log.Warn("room's log is gone", "log", rec.LogID)
			w = nil
		case err != nil:
			// Anything else may pass (a full disk, too many open files):
			// waking without the log's tail would lose it for good.
			return nil, fmt.Errorf("rooms: wake %s: continue its log: %w", rec.ID, err)
		case end.Damage != nil:
			m.counters.LogDamage.Add(1)
			log.Warn("room's log was damaged: its tail is cut off and the room wakes at its last good tick",
				"log", rec.LogID, "tick", end.Tick, "damage", end.Damage)
		}
	}
	fail := func(err error) (*Room, error) {
		if w != nil {
			_ = w.Pause() // leave the log as it was for the next try
		}
		return nil, err
	}
	if cp == nil && t.Views && (!t.Deterministic || w == nil) {
		// No log to re-run: a checkpoint taken before the type had views
		// is better than none (its entities wake in Everyone).
		if sim, cp = m.newestCheckpoint(rec, t, true, log); cp != nil {
			log.Warn("room woken from a checkpoint taken before its type had views: its entities are in Everyone", "tick", cp.Tick)
		}
	}
	from := LogPosition{}
	var chat []state.Event
	if cp != nil {
		from, chat = cp.Log, cp.Chat
		log.Info("room loaded from its checkpoint", "tick", cp.Tick)
	} else {
		if !t.Deterministic || w == nil {
			return fail(fmt.Errorf("rooms: wake %s: %w: no good checkpoint and no log to re-run", rec.ID, ErrUnrecoverable))
		}
		if sim, err = NewSim(t, rec.Options, rec.Seed); err != nil {
			return fail(fmt.Errorf("rooms: wake %s: %w", rec.ID, err))
		}
	}
	if t.Deterministic && w != nil && end.Tick > sim.Tick() {
		if chat, err = m.rerun(rec.LogID, from, sim, chat); err != nil {
			return fail(fmt.Errorf("rooms: wake %s: re-run the log: %w", rec.ID, err))
		}
	}
	if w != nil && end.Tick < sim.Tick() {
		log.Warn("room's log ends before its checkpoint: its replay skips to the wake", "log", end.Tick, "checkpoint", sim.Tick())
	}

	r := m.cfg.newRoomShell(rec.ID, t, sim.handler, rec.Options, opts, rec.Public, rec.MaxPlayers, rec.Seed)
	r.mgr, r.secret, r.CreatedAt, r.recordingID, r.lastActive = m, rec.Secret, rec.CreatedAt, rec.LogID, rec.LastActive
	r.world, r.ctx = sim.World, sim.ctx
	r.ctx.sim, r.ctx.room, r.ctx.World = nil, r, r.world
	// Numbers up to the reserve may have gone to joins a crash lost: start
	// above them, so that no token (derived from the number) names a seat
	// twice.
	r.nextMember = max(sim.nextMember, rec.MemberReserve)
	r.memberReserve = r.nextMember + memberBlock
	r.tick.Store(sim.Tick())
	r.lastCheckpoint = sim.Tick()
	if over := len(chat) - r.cfg.ChatHistory; over > 0 {
		chat = chat[over:]
	}
	r.chat = chat
	now := time.Now()
	for _, mem := range sim.order {
		s := &seat{member: mem, token: seatToken(r.secret, mem.Number), offlineSince: now, playerID: mem.PlayerID}
		mem.seat = s
		r.seats = append(r.seats, s)
		r.byToken[s.token] = s
		if s.playerID != "" {
			r.byPlayer[s.playerID] = s
		}
	}
	r.players.Store(int32(len(r.seats)))
	if len(r.seats) > 0 {
		r.lastActive = now
	}
	switch {
	case w != nil:
		r.continueRecording(w, sim.Tick())
	case rec.LogID != "":
		r.startRecording(sim.Tick()) // the old log is gone: record on in a new one
	}
	return r, nil
}

// newestCheckpoint loads the newest of a room's checkpoints that decodes
// and loads; damaged ones are skipped with a warning. It returns nil, nil
// when the type keeps none or none is good.
func (m *Manager) newestCheckpoint(rec RoomRecord, t *Type, ungrouped bool, log interface {
	Warn(string, ...any)
}) (*Sim, *Checkpoint) {
	if m.cfg.Checkpoints == nil {
		return nil, nil
	}
	probe, _, err := t.New(rec.Options)
	if _, ok := probe.(Checkpointer); err != nil || !ok {
		return nil, nil
	}
	var sim *Sim
	var good *Checkpoint
	err = m.cfg.Checkpoints.LoadCheckpoints(rec.ID, func(tick uint64, data []byte) bool {
		cp, err := DecodeCheckpoint(data)
		if err == nil && cp.Tick != tick {
			err = fmt.Errorf("%w: stored as tick %d, holds tick %d", ErrBadCheckpoint, tick, cp.Tick)
		}
		if err == nil {
			sim, err = newSimFromCheckpoint(t, rec.Options, cp, ungrouped)
		}
		if err != nil {
			m.counters.BadCheckpoints.Add(1)
			log.Warn("checkpoint ignored: the room wakes from an older one or its log", "tick", tick, "err", err)
			return false
		}
		good = cp
		return true
	})
	if err != nil {
		log.Warn("checkpoints not read: the room wakes from its log", "err", err)
		return nil, nil
	}
	return sim, good
}

// rerun applies a log's ticks after from to sim, collecting the public
// chat that followed; a damaged tail (which Continue has cut off already)
// ends it at the last good tick.
func (m *Manager) rerun(logID string, from LogPosition, sim *Sim, chat []state.Event) ([]state.Event, error) {
	err := m.cfg.Logs.Read(logID, from, func(lr LogRecord) error {
		if !lr.IsTick {
			if ev := decodeChat(lr.Event); ev != nil && lr.Tick >= sim.Tick() {
				chat = append(chat, *ev)
			}
			return nil
		}
		if lr.Tick <= sim.Tick() {
			return nil // already in the checkpoint
		}
		if lr.Tick != sim.Tick()+1 {
			return fmt.Errorf("the log jumps from tick %d to %d", sim.Tick(), lr.Tick)
		}
		return safeCall(func() error {
			for _, op := range lr.Ops {
				if err := sim.Apply(lr.Tick, op); err != nil {
					return err
				}
			}
			sim.Step(lr.Tick)
			return nil
		})
	})
	if errors.Is(err, ErrLogDamaged) {
		err = nil
	}
	return chat, err
}

// decodeChat returns the public chat event of an event message, or nil.
func decodeChat(b []byte) *state.Event {
	var msg []msgpack.RawMessage
	var tag int
	var ev state.Event
	if state.WellSized(b) != nil || msgpack.Unmarshal(b, &msg) != nil || len(msg) != 2 || msgpack.Unmarshal(msg[0], &tag) != nil || tag != state.MsgEvent ||
		msgpack.Unmarshal(msg[1], &ev) != nil || ev.Type != "chat" || ev.To != nil {
		return nil
	}
	return &ev
}

// Lookup describes a room, live or stored, without waking it. It fails with
// errors wrapping ErrNotFound or ErrTypeGone.
func (m *Manager) Lookup(id string) (RoomInfo, error) {
	if r := m.Get(id); r != nil {
		return r.Info(), nil
	}
	if m.cfg.Directory == nil {
		return RoomInfo{}, fmt.Errorf("room %s: %w", id, ErrNotFound)
	}
	rec, err := m.cfg.Directory.Get(id)
	if err != nil {
		return RoomInfo{}, fmt.Errorf("room %s: %w", id, err)
	}
	if m.types.Get(rec.Type) == nil && (m.cfg.Owner == nil || !m.cfg.Owner.Capable(rec.Type)) {
		return RoomInfo{}, &TypeGoneError{Room: id, Type: rec.Type}
	}
	return m.storedInfo(rec), nil
}

// storedInfo describes a room that is not running here.
func (m *Manager) storedInfo(rec RoomRecord) RoomInfo {
	st := StateDormant // not running here: a row that says live is a room a process left
	if rec.State == StateFailed {
		st = StateFailed
	}
	owner := ""
	if m.cfg.Owner != nil && rec.State == StateLive {
		if _, addr, ok := m.cfg.Owner.Whois(rec.ID); ok {
			st, owner = StateLive, addr // running on another node of the cluster
		}
	}
	vis := "unlisted"
	if rec.Public {
		vis = "public"
	}
	rate := 0
	if t := m.types.Get(rec.Type); t != nil {
		rate = t.TickRate
	}
	return RoomInfo{ID: rec.ID, Type: rec.Type, MaxPlayers: rec.MaxPlayers, CreatedAt: rec.CreatedAt, Visibility: vis,
		Tick: rec.Tick, TickRate: rate, RecordingID: rec.LogID, State: st, LastActive: rec.LastActive, Owner: owner,
		Players: players(st, rec)}
}

// players is a stored room's member count as listings show it: a room
// that runs on another node has its row's (as of its last checkpoint).
func players(st RoomState, rec RoomRecord) int {
	if st == StateLive {
		return rec.Players
	}
	return 0
}

// List returns the public rooms: the live ones, newest first, then up to
// limit sleeping ones (0: 100), most recently active first. In a cluster,
// rooms that run on other nodes are listed with the live ones.
func (m *Manager) List(limit int) ([]RoomInfo, error) {
	m.mu.RLock()
	out := make([]RoomInfo, 0, len(m.rooms))
	live := make(map[string]bool, len(m.rooms))
	for _, r := range m.rooms {
		live[r.ID] = true
		if r.Public && !r.Closed() {
			out = append(out, r.Info())
		}
	}
	m.mu.RUnlock()
	newestFirst := func(rs []RoomInfo) {
		sort.Slice(rs, func(i, j int) bool { return rs[i].CreatedAt.After(rs[j].CreatedAt) })
	}
	if m.cfg.Directory == nil {
		newestFirst(out)
		return out, nil
	}
	if limit <= 0 {
		limit = 100
	}
	recs, err := m.cfg.Directory.List(DirectoryQuery{PublicOnly: true, Limit: limit + len(live)})
	if err != nil {
		newestFirst(out)
		return out, fmt.Errorf("rooms: list: %w", err)
	}
	var asleep []RoomInfo
	for _, rec := range recs {
		if live[rec.ID] || m.types.Get(rec.Type) == nil || rec.State == StateFailed {
			continue
		}
		switch info := m.storedInfo(rec); {
		case info.State == StateLive:
			out = append(out, info) // on another node of the cluster
		case len(asleep) < limit:
			asleep = append(asleep, info)
		}
	}
	newestFirst(out)
	return append(out, asleep...), nil
}

// Recover wakes every room whose row says it was live: the rooms a
// stopped or crashed process left. It returns how many woke; a room that
// fails to wake keeps its row (and is listed asleep) and is logged.
func (m *Manager) Recover() (int, error) {
	if m.cfg.Directory == nil {
		return 0, nil
	}
	recs, err := m.cfg.Directory.List(DirectoryQuery{State: StateLive, Limit: 2 * m.cfg.MaxRooms})
	if err != nil {
		return 0, fmt.Errorf("rooms: recover: %w", err)
	}
	failed, err := m.cfg.Directory.List(DirectoryQuery{State: StateFailed, Limit: m.cfg.MaxRooms})
	if err != nil {
		return 0, fmt.Errorf("rooms: recover: %w", err)
	}
	if len(failed) > 0 {
		m.cfg.Logger.Info("trying the rooms that failed again", "rooms", len(failed))
	}
	recs = append(recs, failed...)
	if n := len(recs) - len(failed); n > 0 {
		m.cfg.Logger.Info("waking the rooms that were live", "rooms", n)
	}
	woken := 0
	for i, rec := range recs {
		if _, err := m.open(rec.ID, true); err != nil {
			m.cfg.Logger.Error("room not woken", "room", rec.ID, "type", rec.Type, "err", err)
			var p *PanicError
			switch {
			case errors.Is(err, ErrStopped), errors.Is(err, ErrRoomLimit), errors.Is(err, ErrTypeGone), errors.Is(err, ErrOwnedElsewhere):
			case errors.As(err, &p):
				rec.State = StateFailed                                                        // its handler still fails: tried again at the next start
				_ = m.persist.wait(func() error { return m.store(nil, rec.ID, 0, nil, &rec) }) // counted by store
			case rec.State == StateLive:
				rec.State = StateDormant                                                       // listed asleep; a join tries again
				_ = m.persist.wait(func() error { return m.store(nil, rec.ID, 0, nil, &rec) }) // counted by store
			}
			continue
		}
		woken++
		if (i+1)%100 == 0 {
			m.cfg.Logger.Info("waking rooms", "done", i+1, "of", len(recs))
		}
	}
	return woken, nil
}

// Delete ends a room's life, live or asleep: a live room closes (its
// members are told why); a sleeping one's log gets its end record and its
// row and checkpoints are deleted. Its recording stays.
func (m *Manager) Delete(id string, reason string) error {
	if r := m.Get(id); r != nil {
		r.Close(CloseRoomClosed, reason)
		<-r.done
		return nil
	}
	return m.deleteStored(id, func(RoomRecord) bool { return true })
}

// deleteStored deletes a room that is not running here, if its row passes
// check (read again once the room is held, so that nothing that happened
// meanwhile is deleted by mistake). It holds the id's waking slot, so no
// wake starts while it runs.
func (m *Manager) deleteStored(id string, check func(RoomRecord) bool) error {
	if m.cfg.Directory == nil {
		return fmt.Errorf("room %s: %w", id, ErrNotFound)
	}
	m.mu.Lock()
	switch {
	case m.stopped:
		m.mu.Unlock()
		return ErrStopped
	case m.rooms[id] != nil || m.waking[id] != nil:
		m.mu.Unlock()
		return fmt.Errorf("rooms: delete %s: %w: it is running, waking or going to sleep", id, ErrRoomBusy)
	}
	w := m.hold(id)
	m.mu.Unlock()
	var err error
	defer func() { m.release(id, w, err) }()
	lease, err := m.acquire(id) // in a cluster: nobody wakes it meanwhile
	if err != nil {
		return err
	}
	defer lease.Release()
	rec, err := m.cfg.Directory.Get(id)
	if err != nil {
		err = fmt.Errorf("room %s: %w", id, err)
		return err
	}
	if !check(rec) {
		err = nil
		return errSkipped
	}
	if err = m.deleteRow(rec); err != nil {
		return err
	}
	// The waiters find no row: not found.
	err = fmt.Errorf("room %s: %w", id, ErrNotFound)
	return nil
}

// deleteRow ends a stored room's log and deletes its row and checkpoints.
// The caller makes sure nothing wakes the room meanwhile.
func (m *Manager) deleteRow(rec RoomRecord) error {
	m.endLog(rec.ID, rec)
	if err := m.persist.wait(func() error { return m.unstore(rec.ID) }); err != nil {
		return fmt.Errorf("rooms: delete %s: %w", rec.ID, err)
	}
	m.cfg.Logger.Info("stored room deleted", "room", rec.ID, "type", rec.Type)
	return nil
}

// errSkipped: deleteStored found the row no longer matching its check.
var errSkipped = errors.New("not deleted: the room changed")

// endLog gives a stored room's log its end record.
func (m *Manager) endLog(id string, rec RoomRecord) {
	if rec.LogID == "" || m.cfg.Logs == nil {
		return
	}
	if w, _, err := m.cfg.Logs.Continue(rec.LogID); err == nil {
		if err := w.Close(); err != nil {
			m.cfg.Logger.Warn("deleted room's log not ended", "room", id, "err", err)
		}
	}
}

// dormantMaxAge is how long a sleeping room of type t is kept (0: for ever).
func (m *Manager) dormantMaxAge(t *Type) time.Duration {
	if d, ok := m.cfg.DormantMaxAge[t.Name]; ok {
		return d
	}
	if d, ok := m.cfg.DormantMaxAge["*"]; ok {
		return d
	}
	if t.DormantMaxAge > 0 {
		return t.DormantMaxAge
	}
	return DefaultDormantMaxAge
}

// Expire deletes the sleeping rooms last active longer ago than their
// type's DormantMaxAge (at most 1000 a call; call it periodically). Rooms of
// types this build lacks are kept. It returns how many it deleted.
func (m *Manager) Expire(now time.Time) (int, error) {
	if m.cfg.Directory == nil {
		return 0, nil
	}
	deleted := 0
	var errs []error
	for _, t := range m.types.All() {
		age := m.dormantMaxAge(t)
		if age <= 0 {
			continue
		}
		cutoff := now.Add(-age)
		var recs []RoomRecord
		for _, st := range []RoomState{StateDormant, StateFailed} {
			got, err := m.cfg.Directory.List(DirectoryQuery{State: st, Type: t.Name, ActiveBefore: cutoff, Limit: 1000 - deleted})
			if err != nil {
				errs = append(errs, err)
			}
			recs = append(recs, got...)
		}
		stillOld := func(rec RoomRecord) bool {
			return rec.State != StateLive && rec.LastActive.Before(cutoff)
		}
		for _, rec := range recs {
			switch err := m.deleteStored(rec.ID, stillOld); {
			case err == nil:
				deleted++
				m.counters.Expired.Add(1)
			case errors.Is(err, ErrRoomBusy), errors.Is(err, errSkipped), errors.Is(err, ErrNotFound):
				// woken (or deleted) meanwhile: not ours to expire
			case errors.Is(err, ErrStopped):
				return deleted, errors.Join(errs...)
			default:
				errs = append(errs, err)
			}
		}
		if deleted >= 1000 {
			break
		}
	}
	return deleted, errors.Join(errs...)
}

// RunExpiry calls Expire every interval until ctx ends, logging what it did.
func (m *Manager) RunExpiry(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if n, err := m.Expire(time.Now()); err != nil {
			m.cfg.Logger.Error("sleeping rooms' expiry", "err", err)
		} else if n > 0 {
			m.cfg.Logger.Info("sleeping rooms expired", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Shutdown stops the manager: no new rooms, and every room stops (Stop:
// durable rooms are stored for the next process, the others close) with
// the code and reason; it waits for their goroutines until ctx ends.
func (m *Manager) Shutdown(ctx context.Context, code int, reason string) error {
	for _, r := range m.stop() {
		r.Stop(code, reason)
	}
	done := make(chan struct{})
	go func() {
		m.wg.Wait()
		m.persist.stop()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("rooms: shutdown: %w", ctx.Err())
	}
}

// Counters returns the manager's counters of rooms' lives.
func (m *Manager) Counters() *Counters { return &m.counters }

// Dormant returns how many rooms sleep (the directory's count), or -1
// without a directory.
func (m *Manager) Dormant() (int, error) {
	if m.cfg.Directory == nil {
		return -1, nil
	}
	return m.cfg.Directory.Count(StateDormant)
}

// LogInUse reports whether a log belongs to a room that still exists,
// whose recording must therefore be kept (tape.StoreOptions.Keep).
func (m *Manager) LogInUse(id string) bool {
	if m.cfg.Directory == nil {
		return false
	}
	used, err := m.cfg.Directory.HasLog(id)
	return err != nil || used // when in doubt, keep
}

// Stored lists the rooms that are stored but not running here (asleep, or
// left by a process that stopped), public and unlisted, most recently
// active first, at most limit: the admin's view.
func (m *Manager) Stored(limit int) ([]RoomInfo, error) {
	if m.cfg.Directory == nil {
		return []RoomInfo{}, nil
	}
	recs, err := m.cfg.Directory.List(DirectoryQuery{Limit: limit + m.Len()})
	if err != nil {
		return nil, fmt.Errorf("rooms: stored: %w", err)
	}
	out := []RoomInfo{}
	for _, rec := range recs {
		if m.Get(rec.ID) == nil && len(out) < limit {
			out = append(out, m.storedInfo(rec))
		}
	}
	return out, nil
}
