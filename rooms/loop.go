package rooms

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tickroom/tickroom/state"
)

// The room loop: one goroutine per room runs control work as it arrives and
// a tick at each slot of the room type's fixed rate.

// run is the room's goroutine: control work as it arrives, and a tick at
// each slot of the fixed rate. An overrun skips the missed slots instead of
// bursting to catch up; both are counted.
func (r *Room) run() {
	defer r.finish()
	next := time.Now().Add(r.period)
	timer := time.NewTimer(r.period)
	defer timer.Stop()
	for {
		select {
		case <-r.quit:
			return
		case fn := <-r.control:
			fn()
			if r.end == endLost {
				return // an event's append was refused: the room is another node's now
			}
			continue
		case <-timer.C:
		}
		if r.Closed() {
			return // Close raced the timer: no tick after a close
		}
		if !r.lease.Valid() {
			r.end = endLost // another node may run the room now: not one more tick here
			return
		}
		start := time.Now()
		if start.Sub(next) > lateThreshold {
			r.stats.LateTicks.Add(1)
		}
		if err := r.safely("tick", func() error { r.step(start); return nil }); err != nil {
			r.end = endFailed
			return
		}
		if r.end != endForGood {
			return // the tick put the room to sleep or stopped it (finish stores it)
		}
		end := time.Now()
		r.stats.TickNanos.Store(int64(end.Sub(start)))
		r.stats.TickTime.Observe(end.Sub(start))
		next = next.Add(r.period)
		if !next.After(end) {
			missed := end.Sub(next)/r.period + 1
			r.stats.SkippedSlots.Add(uint64(missed))
			next = next.Add(missed * r.period)
		}
		timer.Reset(next.Sub(end))
	}
}

// logPanic logs a handler panic that drive.go recovered.
func (r *Room) logPanic(err error) {
	var p *PanicError
	if errors.As(err, &p) {
		r.log.Error("room handler panicked", "step", p.Step, "panic", p.Value)
	}
}

// safely runs handler code, turning a panic into an error so that one
// room's bug closes that room and nothing else.
func (r *Room) safely(step string, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("room handler panicked", "step", step, "panic", p)
			err = fmt.Errorf("rooms: %s: handler panicked: %v", step, p)
		}
	}()
	return fn()
}

// step runs one tick: the queued inputs in arrival order, the handler's
// Tick, one encode of the delta, and the same bytes to every member.
func (r *Room) step(now time.Time) {
	tick := r.world.Tick() + 1
	r.ctx.Tick = tick
	for _, in := range r.inputs.take() {
		r.applyInput(in)
	}
	r.expireSeats(now)
	r.handler.Tick(&r.ctx)

	var all *state.View
	if r.recorder != nil {
		all = r.allView
	}
	var snaps uint64 // group snapshots encoded before this tick's, the recording's frame's included
	if r.world.Views() {
		snaps = r.world.GroupSnapshotsEncoded()
	}
	delta := publish(r.world, tick, all, r.lastDelta+64)
	r.lastDelta = len(delta)
	r.snapshot = nil
	r.tick.Store(tick)
	r.stats.Ticks.Add(1)
	if r.world.Views() {
		r.stats.BytesOut.Add(uint64(r.world.SegmentBytes()))
		r.broadcastViews()
		r.recordTick(tick, delta)
		r.stats.Encodes.Add(uint64(r.world.ChangedGroupCount()) + r.world.GroupSnapshotsEncoded() - snaps)
	} else {
		r.stats.BytesOut.Add(uint64(len(delta)))
		r.stats.Encodes.Add(1)
		r.broadcastTick(delta)
		r.recordTick(tick, delta)
	}
	if r.end == endLost {
		return // the log refused the tick: the room is another node's now
	}
	for _, fn := range r.afterTick {
		fn()
	}
	r.afterTick = r.afterTick[:0]
	// No op is pending now: the moment to store the room's state.
	if req := r.stopReq.Load(); req != nil {
		r.stopForRestart(*req)
		return
	}
	if r.reapIfIdle(now) {
		return
	}
	if r.mgr != nil && tick-r.lastCheckpoint >= r.checkpointEvery {
		r.lastCheckpoint = tick
		r.checkpointLive()
	}
}

func (r *Room) applyInput(in inputMsg) {
	s := in.c.seat
	if s == nil || s.client != in.c || s.member == nil {
		return // left or replaced before its input's tick, or a spectator
	}
	m := s.member
	called, err := driveInput(&r.ctx, r.handler, m, in.seq, in.payload)
	if called {
		r.logOp(Op{Kind: OpInput, Member: m.Number, Seq: in.seq, Payload: in.payload})
	}
	r.logPanic(err)
	if err != nil {
		r.stats.InputsRejected.Add(1)
		r.sendTo(s, state.EncodeError(state.ErrCodeBadInput, err.Error()))
	}
}

// broadcastTick sends this tick's delta to every online member, or a
// snapshot to members that need one. A member whose queue is full gets no
// delta, so its next message must be a snapshot; one that cannot take a
// snapshot for SlowConsumerGrace is closed with 4008.
//
// Members relayed by other nodes share a fan-out: it gets the delta once
// (a member of it that needs a snapshot gets that on its own).
//
// Members whose connection takes part in a batch (BatchConn) and that need
// no snapshot get the delta in one SendEach; a refused one is then treated
// as by sendTick (a snapshot next).
func (r *Room) broadcastTick(delta []byte) {
	var fan Fanout
	var batcher Batcher
	batch, conns := r.batchSeats[:0], r.batchConns[:0]
	for _, list := range [2][]*seat{r.watchers, r.seats} {
		for _, s := range list {
			if c := s.client; c != nil && c.fan == nil && !s.needSnapshot && !c.gone.Load() {
				if bc, ok := c.conn.(BatchConn); ok {
					if b := bc.Batch(); b != nil {
						batcher = b
						batch, conns = append(batch, s), append(conns, c.conn)
						continue
					}
				}
			}
			fan = r.sendTick(s, delta, fan)
		}
	}
	if len(batch) > 0 {
		sent := slices.Grow(r.batchSent[:0], len(batch))[:len(batch)]
		clear(sent)
		batcher.SendEach(delta, conns, sent)
		for i, s := range batch {
			if !sent[i] {
				r.stats.Overflows.Add(1)
				s.needSnapshot = true
				fan = r.sendTick(s, delta, fan)
			}
		}
		r.batchSent = sent
	}
	clear(batch) // keep no seat or connection alive past its member
	clear(conns)
	r.batchSeats, r.batchConns = batch[:0], conns[:0]
	if fan != nil {
		fan.Broadcast(delta)
	}
}

func (r *Room) sendTick(s *seat, delta []byte, fan Fanout) Fanout {
	c := s.client
	if c == nil || c.gone.Load() {
		return fan // dropped by expireSeats at the start of the next tick
	}
	if c.fan != nil && !s.needSnapshot {
		return c.fan
	}
	if !s.needSnapshot {
		if c.conn.Send(delta) {
			return fan
		}
		r.stats.Overflows.Add(1)
		s.needSnapshot = true
	}
	if snap := r.currentSnapshot(); c.conn.Send(snap) {
		s.needSnapshot, s.stuckTicks = false, 0
		r.stats.Snapshots.Add(1)
		return fan
	}
	s.stuckTicks++
	if s.stuckTicks > r.slowTicks {
		r.closeSlow(s, "slow consumer: could not keep up with the room")
	}
	return fan
}

// currentSnapshot returns the snapshot of the last published tick, encoding
// it at most once per tick. It must be first called before anything changes
// the world after a publish; mutate() guarantees that between ticks.
func (r *Room) currentSnapshot() []byte {
	if r.snapshot == nil || r.snapshotFor != r.world.Tick() {
		if r.world.Views() {
			// Only the recording asks in a views room: every group.
			r.snapshot, r.snapshotFor = mustFrame(r.world.AppendViewSnapshot(nil, r.allView)), r.world.Tick()
			return r.snapshot
		}
		b, err := r.world.AppendSnapshot(nil)
		if err != nil {
			// Only reachable if a change slipped in before the cache was
			// filled: a bug in this file, not a client's doing.
			panic(fmt.Sprintf("rooms: snapshot: %v", err))
		}
		r.snapshot, r.snapshotFor = b, r.world.Tick()
	}
	return r.snapshot
}

// mutate runs fn, which changes the world between ticks (a join or a
// leave), after making sure the last tick's snapshot is cached: members
// welcomed before the next tick get that snapshot, and the change reaches
// them in the next delta like everyone else.
//
// A views room skips that: nobody is sent the whole world between ticks
// (a member's view snapshot is built at the next tick, for its view), and
// the recording's keyframes ask right after a publish. Encoding every
// group on each join and leave would cost a whole-world encode per join.
func (r *Room) mutate(fn func()) {
	if !r.world.Views() {
		r.currentSnapshot()
	}
	r.ctx.Tick = r.world.Tick() + 1
	fn()
}

// reapIfIdle puts a room that has been empty (no seat, no spectator) for
// IdleTimeout to sleep, or closes it when it cannot sleep. It reports
// whether the room's loop ends.
func (r *Room) reapIfIdle(now time.Time) bool {
	if len(r.seats) > 0 {
		r.lastActive = now
	}
	if len(r.seats) > 0 || len(r.watchers) > 0 {
		r.emptySince = time.Time{}
		return false
	}
	if r.emptySince.IsZero() {
		r.emptySince = now
		return false
	}
	idle := now.Sub(r.emptySince)
	if idle < r.cfg.IdleTimeout {
		return false
	}
	if !r.durable() {
		r.log.Info("room idle, closing", "idle", idle.Round(time.Second))
		r.Close(CloseRoomClosed, "room closed: idle")
		return false // the loop sees the close
	}
	if err := r.sleep(); err != nil {
		// Nothing was given up: the room runs on and tries again later.
		r.log.Error("room could not go to sleep; it stays live", "err", err)
		r.mgr.counters.SleepFailures.Add(1)
		r.emptySince = now
		return false
	}
	r.log.Info("room asleep", "idle", idle.Round(time.Second), "tick", r.world.Tick())
	return true
}

// finish runs when the loop ends. A room that went to sleep has nobody to
// tell; a stopped one was stored by stopForRestart; a room closed for good
// tells its members, ends its log and leaves the directory.
func (r *Room) finish() {
	r.isClosed.Store(true)
	// closeBy is written before quit is closed: read it only after seeing
	// quit closed, or a Close racing the end of the loop races the read.
	closed := r.closeRequested()
	var code int
	var reason string
	if closed {
		code, reason = r.closeBy.code, r.closeBy.reason
	}
	if r.end == endSleep && closed {
		// Closed (deleted) while it was going to sleep: the close wins.
		r.end = endForGood
		if err := r.mgr.deleteRow(r.row(StateDormant)); err != nil {
			r.log.Error("room deleted while going to sleep: not deleted", "err", err)
		}
	}
	switch r.end {
	case endSleep:
		reason = "asleep"
	case endLost:
		// Nothing is stored: the room's new owner has its state, from its
		// log. The log is paused (what it still takes, the fence lets
		// through only while nobody else has written).
		code, reason = CloseRestart, "room moved to another node"
		r.closeMembers(code, reason)
		if w := r.recorder; w != nil {
			// In the background: appends a lost node can still make may
			// take their retries' time, and nobody needs to wait for them.
			r.recorder = nil
			go func() { _ = w.Pause() }() // the fence decides whether they land; nothing to do either way
		}
		r.log.Warn("room stopped: its lease is lost; another node runs it from its log")
	case endFailed:
		code, reason = CloseInternalError, "room failed"
		r.closeMembers(code, reason)
		r.storeFailed()
	case endStop:
		code, reason = r.stopReq.Load().code, r.stopReq.Load().reason
		r.closeMembers(code, reason)
	default:
		if code == 0 {
			code, reason = CloseRoomClosed, "room closed"
		}
		r.closeMembers(code, reason)
		if r.recorder != nil {
			r.record("close", r.recorder.Close)
			r.recorder = nil
		}
		r.forgetStored()
	}
	r.recording.Store(false)
	r.players.Store(0)
	r.lease.Release()
	if r.onClosed != nil {
		r.onClosed(r)
	}
	close(r.done)
	r.log.Info("room stopped", "reason", reason, "ticks", r.stats.Ticks.Load())
}

// closeRequested reports whether Close was called.
func (r *Room) closeRequested() bool {
	select {
	case <-r.quit:
		return true
	default:
		return false
	}
}

// closeMembers sends every member and spectator a closing event and closes
// their connections with code and reason.
func (r *Room) closeMembers(code int, reason string) {
	all := append(r.seats[:len(r.seats):len(r.seats)], r.watchers...)
	if ev, err := state.EncodeEvent(&state.Event{Type: "closing", Reason: reason}); err == nil {
		for _, s := range all {
			if s.client != nil {
				s.client.conn.Send(ev)
			}
		}
	}
	for _, s := range all {
		if s.client != nil {
			s.client.conn.Close(code, reason)
		}
	}
}
