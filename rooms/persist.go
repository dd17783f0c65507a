package rooms

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// Counters are the manager's counters of rooms' lives, readable from any
// goroutine (metrics).
type Counters struct {
	Wakes              atomic.Uint64 // rooms woken from their stores
	WakeFailures       atomic.Uint64 // wakes that failed (the room stays stored)
	Sleeps             atomic.Uint64 // rooms that went to sleep
	SleepFailures      atomic.Uint64 // sleeps refused because nothing could be stored
	Expired            atomic.Uint64 // sleeping rooms deleted by age
	Checkpoints        atomic.Uint64 // checkpoints stored
	CheckpointBytes    atomic.Uint64
	CheckpointFailures atomic.Uint64 // checkpoints that could not be taken or stored
	CheckpointsSkipped atomic.Uint64 // periodic checkpoints dropped: the store was behind
	BadCheckpoints     atomic.Uint64 // stored checkpoints refused on a wake (damaged)
	LogDamage          atomic.Uint64 // damaged log tails cut off on a wake
	StoreFailures      atomic.Uint64 // directory writes that failed
	WakeTime           Histogram     // how long wakes took
}

// persister runs every write to the directory and the checkpoint store on
// one goroutine, in the order rooms asked for them: a room's periodic
// checkpoint queued before it went to sleep can never land after its
// sleep, nor its row reappear after it was deleted. Its queue is bounded:
// a periodic checkpoint that finds it full is dropped (counted) and the
// room tries again at the next interval; a room that sleeps, stops or
// closes waits for its turn, since it stops ticking anyway.
type persister struct {
	jobs chan persistJob
	wg   sync.WaitGroup
	// mu guards the send side: held for reading while sending, for writing
	// while closing, so that nothing is sent on a closed queue.
	mu      sync.RWMutex
	stopped bool
}

type persistJob struct {
	run    func() error
	result chan error // nil: nobody waits
}

// persistQueue bounds the persister's queue.
const persistQueue = 256

func newPersister() *persister {
	p := &persister{jobs: make(chan persistJob, persistQueue)}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for j := range p.jobs {
			err := j.run()
			if j.result != nil {
				j.result <- err
			}
		}
	}()
	return p
}

// wait runs fn in order after every job queued before it and returns its
// error.
func (p *persister) wait(fn func() error) error {
	res := make(chan error, 1)
	p.mu.RLock()
	if p.stopped {
		p.mu.RUnlock()
		return ErrStopped
	}
	p.jobs <- persistJob{run: fn, result: res} // the worker drains without the lock
	p.mu.RUnlock()
	return <-res
}

// try queues fn unless the queue is full (or the persister stopped).
func (p *persister) try(fn func() error) bool {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.stopped {
		return false
	}
	select {
	case p.jobs <- persistJob{run: fn}:
		return true
	default:
		return false
	}
}

// stop runs what is queued and ends the goroutine. Nothing may be queued
// after it.
func (p *persister) stop() {
	if p == nil {
		return
	}
	p.mu.Lock()
	if !p.stopped {
		p.stopped = true
		close(p.jobs)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// checkpointable reports whether the room stores checkpoints.
func (r *Room) checkpointable() bool {
	_, ok := r.handler.(Checkpointer)
	return ok && r.cfg.Checkpoints != nil
}

// durable reports whether the room can sleep and be woken: it has a
// directory row, and either checkpoints or a log a deterministic type
// re-runs from.
func (r *Room) durable() bool {
	if r.mgr == nil || r.cfg.Directory == nil {
		return false
	}
	return r.checkpointable() || (r.Type.Deterministic && r.recorder != nil)
}

// Durable reports whether the room outlives its goroutine and its process:
// it sleeps when empty instead of closing, and wakes after a restart or a
// crash. It is set when the room starts (a room whose recording later fails
// and that keeps no checkpoints stops being durable).
func (r *Room) Durable() bool { return r.durableAtStart }

// row is the room's directory row as of now.
func (r *Room) row(st RoomState) RoomRecord {
	return RoomRecord{ID: r.ID, Type: r.Type.Name, Options: r.requested, Public: r.Public, MaxPlayers: r.MaxPlayers,
		Seed: r.Seed, Secret: r.secret, State: st, CreatedAt: r.CreatedAt, LastActive: r.lastActive, LogID: r.recordingID,
		Tick: r.world.Tick(), Players: len(r.seats), MemberReserve: r.memberReserve}
}

// membersChanged stores the room's row after a member joined or left, in
// the background (dropped when the store is behind: the next checkpoint
// writes it): the lobby of every node of a cluster shows how many are in
// the room.
func (r *Room) membersChanged() {
	if r.mgr == nil || r.cfg.Directory == nil || !r.durable() {
		return
	}
	row, lease := r.row(StateLive), r.lease
	r.mgr.persist.try(func() error { return r.mgr.store(lease, row.ID, 0, nil, &row) })
}

// memberBlock is how many member numbers a room reserves in its row at a time.
const memberBlock = 64

// reserveMember makes sure the next member number is within the reserve
// stored in the room's row, extending it by a block (and waiting for the
// write) when it is not: a number is never given out unless a crash would
// find it reserved (RoomRecord.MemberReserve).
func (r *Room) reserveMember() {
	if r.mgr == nil || r.cfg.Directory == nil || r.nextMember < r.memberReserve {
		return
	}
	r.memberReserve = r.nextMember + memberBlock
	row := r.row(StateLive)
	if err := r.mgr.persist.wait(func() error { return r.mgr.store(r.lease, row.ID, 0, nil, &row) }); err != nil {
		r.log.Error("member reserve not stored: after a crash a member number may be given out twice", "err", err)
	}
}

// checkpoint encodes the room's checkpoint at its last published tick, with
// the log's position after it.
func (r *Room) checkpoint(pos LogPosition) ([]byte, error) {
	var cp *Checkpoint
	err := r.safely("checkpoint", func() error {
		var err error
		cp, err = takeCheckpoint(r.Type, r.handler, &r.ctx, r.memberList(), r.nextMember)
		return err
	})
	if err != nil {
		return nil, err
	}
	cp.Chat, cp.Log = r.chat, pos
	return EncodeCheckpoint(cp)
}

// logPosition writes out the room's log and returns where it ends.
func (r *Room) logPosition() (LogPosition, error) {
	if r.recorder == nil {
		return LogPosition{}, errors.New("not recorded")
	}
	pos, err := r.recorder.Position()
	if err != nil {
		r.record("position", func() error { return err }) // a failing log stops recording, as any write does
	}
	return pos, err
}

// checkpointLive stores a running room's checkpoint and row without
// waiting: the encoding happens here, on the room's goroutine (it owns the
// state); the writes happen on the persister.
func (r *Room) checkpointLive() {
	if !r.durable() {
		return
	}
	var data []byte
	logw := r.recorder
	if r.checkpointable() {
		pos, _ := r.logPosition() // without a log the checkpoint alone wakes the room
		b, err := r.checkpoint(pos)
		if err != nil {
			r.mgr.counters.CheckpointFailures.Add(1)
			r.log.Error("checkpoint not taken", "tick", r.world.Tick(), "err", err)
		}
		data = b
	}
	row, tick, log, lease := r.row(StateLive), r.world.Tick(), r.log, r.lease
	stored := r.mgr.persist.try(func() error {
		// A checkpoint names a place in the log: the log must be on disk
		// up to there before the checkpoint is, or a power cut could leave
		// a checkpoint that points past the log's end.
		if data != nil && logw != nil {
			if err := logw.Sync(); err != nil {
				log.Error("log not synced: checkpoint skipped", "tick", tick, "err", err)
				data = nil
			}
		}
		if err := r.mgr.store(lease, row.ID, tick, data, &row); err != nil {
			log.Error("room state not stored", "tick", tick, "err", err)
		}
		return nil
	})
	if !stored {
		r.mgr.counters.CheckpointsSkipped.Add(1)
	}
}

// storeState stores everything a wake needs and pauses the log, waiting
// for the writes (the room is about to stop ticking). It fails, giving
// nothing up, when neither a checkpoint nor a log to re-run could be kept.
func (r *Room) storeState(st RoomState) error {
	pos, logErr := r.logPosition()
	if logErr == nil {
		logErr = r.recorder.Sync()
	}
	cpErr := ErrNoCheckpoints
	if r.checkpointable() {
		var data []byte
		if data, cpErr = r.checkpoint(pos); cpErr == nil {
			id, tick := r.ID, r.world.Tick()
			cpErr = r.mgr.persist.wait(func() error { return r.mgr.store(r.lease, id, tick, data, nil) })
		}
		if cpErr != nil {
			r.log.Error("checkpoint not stored", "tick", r.world.Tick(), "err", cpErr)
		}
	}
	if cpErr != nil && (!r.Type.Deterministic || logErr != nil) {
		return fmt.Errorf("rooms: store %s: no checkpoint (%v) and no log to re-run (%v)", r.ID, cpErr, logErr)
	}
	r.pauseLog()
	row := r.row(st)
	row.MemberReserve = r.nextMember // stored cleanly: every join is in the log or the checkpoint
	if err := r.mgr.persist.wait(func() error { return r.mgr.store(r.lease, r.ID, 0, nil, &row) }); err != nil {
		// A row that still says live wakes the room all the same.
		r.log.Error("room row not stored", "err", err)
	}
	return nil
}

// pauseLog writes out and closes the room's log without ending it.
func (r *Room) pauseLog() {
	if r.recorder == nil {
		return
	}
	if err := r.recorder.Pause(); err != nil {
		r.log.Error("recording not paused", "err", err)
	}
	r.recorder = nil
	r.recording.Store(false)
}

// sleep stores the room and ends its loop.
func (r *Room) sleep() error {
	if err := r.storeState(StateDormant); err != nil {
		return err
	}
	r.end = endSleep
	r.isClosed.Store(true)
	r.mgr.counters.Sleeps.Add(1)
	return nil
}

// stopForRestart ends the loop for a stopping process: a durable room is
// stored (asleep if nobody is in it, else live so that the next process
// wakes it at once) and its members are closed with req; any other room
// closes for good.
func (r *Room) stopForRestart(req closeReason) {
	if !r.durable() {
		r.Close(req.code, req.reason) // a Close that came first keeps its reason
		return
	}
	st := StateLive
	if len(r.seats) == 0 && len(r.watchers) == 0 {
		st = StateDormant
	}
	if err := r.storeState(st); err != nil {
		r.log.Error("room not stored at stop: the next process wakes it from what is stored", "err", err)
		r.pauseLog()
	}
	r.end = endStop
	r.isClosed.Store(true)
}

// storeFailed keeps a room whose handler panicked in a tick as it was
// before that tick: its log is paused (the failing tick is not in it) and
// its row says failed. A room that is not durable just ends.
func (r *Room) storeFailed() {
	if !r.durable() {
		if r.recorder != nil {
			r.record("close", r.recorder.Close)
			r.recorder = nil
		}
		return
	}
	r.pauseLog()
	row := r.row(StateFailed)
	row.Tick = r.tick.Load() // the last tick published; the world is mid-tick
	if err := r.mgr.persist.wait(func() error { return r.mgr.store(r.lease, row.ID, 0, nil, &row) }); err != nil {
		r.log.Error("failed room's row not stored", "err", err)
	}
	r.log.Error("room failed: kept as it was before the failing tick; the next start of the server tries it again")
}

// forgetStored deletes the row and checkpoints of a room whose life is over.
func (r *Room) forgetStored() {
	if r.mgr == nil || r.cfg.Directory == nil {
		return
	}
	if err := r.mgr.persist.wait(func() error { return r.mgr.unstore(r.ID) }); err != nil {
		r.log.Error("room's row not deleted", "err", err)
	}
}

// store writes a checkpoint (when data is set) and a row (when set); it
// runs on the persister. With a lease, it writes nothing once the lease
// is lost: the room's new owner writes its row and checkpoints now.
func (m *Manager) store(l Lease, id string, tick uint64, data []byte, row *RoomRecord) error {
	if l != nil && !l.Valid() {
		return fmt.Errorf("rooms: store %s: %w", id, errLeaseLost)
	}
	var errs []error
	if data != nil {
		if err := m.cfg.Checkpoints.SaveCheckpoint(id, tick, data); err != nil {
			m.counters.CheckpointFailures.Add(1)
			errs = append(errs, fmt.Errorf("checkpoint at %d: %w", tick, err))
		} else {
			m.counters.Checkpoints.Add(1)
			m.counters.CheckpointBytes.Add(uint64(len(data)))
		}
	}
	if row != nil {
		if err := m.cfg.Directory.Put(*row); err != nil {
			m.counters.StoreFailures.Add(1)
			errs = append(errs, fmt.Errorf("row: %w", err))
		}
	}
	return errors.Join(errs...)
}

// unstore deletes a room's row and checkpoints; it runs on the persister.
func (m *Manager) unstore(id string) error {
	var errs []error
	if m.cfg.Checkpoints != nil {
		errs = append(errs, m.cfg.Checkpoints.DeleteCheckpoints(id))
	}
	if err := m.cfg.Directory.Delete(id); err != nil {
		m.counters.StoreFailures.Add(1)
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
