package rooms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tickroom/tickroom/state"
)

// HandoffRoom is what a draining process passes to its successor about one
// room. The room's state itself is not in it: the successor rebuilds it by
// re-running the room's recording (seed, options, ops) to Tick, exactly as
// `tickroom verify` does, so only deterministic, recorded rooms are handed
// off.
type HandoffRoom struct {
	ID          string         `json:"id"`
	Type        string         `json:"type"`
	Public      bool           `json:"public"`
	MaxPlayers  int            `json:"maxPlayers"`
	CreatedAt   time.Time      `json:"createdAt"`
	Seed        uint64         `json:"seed"`
	Options     map[string]any `json:"options"` // as the creator gave them
	Tick        uint64         `json:"tick"`    // the last tick run and recorded
	NextMember  uint32         `json:"nextMember"`
	RecordingID string         `json:"recordingId"`
	Seats       []HandoffSeat  `json:"seats"`
	Chat        []state.Event  `json:"chat"`
}

// HandoffSeat is one member's seat: the resume token is what lets its
// client take the seat back in the new process.
type HandoffSeat struct {
	Member   uint32 `json:"member"`
	Name     string `json:"name"`
	Token    string `json:"token"`
	PlayerID string `json:"playerId,omitempty"`
}

// ErrNotHandedOff is why a room was closed instead of handed off.
var ErrNotHandedOff = errors.New("room not handed off: its type is not deterministic or it is not recorded")

// Handoff stops every room at the end of its next tick, exports what a
// successor needs, closes the members with code and reason (1012: come
// back) and their recordings, and waits until ctx ends. Rooms that cannot
// be handed off are closed all the same and left out of the result.
func (m *Manager) Handoff(ctx context.Context, code int, reason string) ([]HandoffRoom, error) {
	all := m.stop()
	results := make([]chan *HandoffRoom, len(all))
	for i, r := range all {
		ch := make(chan *HandoffRoom, 1)
		results[i] = ch
		if err := r.do(func() { r.handoffTo, r.handoffCode, r.handoffReason = ch, code, reason }, time.Second); err != nil {
			r.Close(code, reason)
			ch <- nil
		}
	}
	var out []HandoffRoom
	var errs []error
	for i, r := range all {
		select {
		case h := <-results[i]:
			if h != nil {
				out = append(out, *h)
			}
		case <-r.done: // closed before its next tick (idle, failed): nothing to hand off
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("rooms: handoff of %s: %w", r.ID, ctx.Err()))
		}
	}
	if err := m.Shutdown(ctx, code, reason); err != nil { // waits for the goroutines
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// export describes the room for a successor, or nil when it cannot be
// handed off. Called on the room goroutine right after a tick was recorded,
// so no op is pending.
func (r *Room) export() *HandoffRoom {
	if !r.Type.Deterministic || r.recorder == nil || r.recordingID == "" {
		r.log.Warn("room closed, not handed off", "deterministic", r.Type.Deterministic, "recorded", r.recorder != nil)
		return nil
	}
	h := &HandoffRoom{ID: r.ID, Type: r.Type.Name, Public: r.Public, MaxPlayers: r.MaxPlayers, CreatedAt: r.CreatedAt,
		Seed: r.Seed, Options: r.requested, Tick: r.world.Tick(), NextMember: r.nextMember, RecordingID: r.recordingID,
		Chat: append([]state.Event(nil), r.chat...)}
	for _, s := range r.seats {
		h.Seats = append(h.Seats, HandoffSeat{Member: s.member.Number, Name: s.member.Name, Token: s.token, PlayerID: s.playerID})
	}
	return h
}

// RecordedTicks walks a room's recorded ticks in order, calling fn with
// each tick's ops; the successor builds one from the room's tape.
type RecordedTicks func(fn func(tick uint64, ops []Op) error) error

// Restore rebuilds a handed-off room by re-running its recording to h.Tick
// and starts it under its old id, with every seat held for SeatGrace so
// that members resume with their tokens. Its recording continues in a new
// tape that starts at h.Tick.
func (m *Manager) Restore(h HandoffRoom, ticks RecordedTicks) (*Room, error) {
	t := m.types.Get(h.Type)
	if t == nil || !t.Deterministic {
		return nil, fmt.Errorf("rooms: restore %s: type %q is unknown or not deterministic", h.ID, h.Type)
	}
	sim, err := NewSim(t, h.Options, h.Seed)
	if err != nil {
		return nil, fmt.Errorf("rooms: restore %s: %w", h.ID, err)
	}
	err = ticks(func(tick uint64, ops []Op) error {
		for _, op := range ops {
			if err := sim.Apply(tick, op); err != nil {
				return err
			}
		}
		sim.Step(tick)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("rooms: restore %s: re-run: %w", h.ID, err)
	}
	if got := sim.World.Tick(); got != h.Tick {
		return nil, fmt.Errorf("rooms: restore %s: the recording ends at tick %d, the handoff at %d", h.ID, got, h.Tick)
	}
	_, opts, err := t.New(h.Options) // the effective options, for welcomes
	if err != nil {
		return nil, fmt.Errorf("rooms: restore %s: %w", h.ID, err)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return nil, ErrStopped
	}
	if m.rooms[h.ID] != nil {
		return nil, fmt.Errorf("rooms: restore %s: a room with this id is open", h.ID)
	}
	r := m.cfg.newRoomShell(h.ID, t, sim.handler, h.Options, opts, h.Public, h.MaxPlayers, h.Seed)
	r.CreatedAt = h.CreatedAt
	r.world, r.ctx = sim.World, sim.ctx
	r.ctx.sim, r.ctx.room = nil, r
	r.ctx.World = r.world
	r.nextMember = h.NextMember
	r.tick.Store(h.Tick)
	r.chat = h.Chat
	now := time.Now()
	for _, hs := range h.Seats {
		mem := sim.members[hs.Member]
		if mem == nil {
			r.log.Warn("handoff seat has no member in the recording", "member", hs.Member)
			continue
		}
		s := &seat{member: mem, token: hs.Token, offlineSince: now, playerID: hs.PlayerID}
		mem.seat, mem.PlayerID = s, hs.PlayerID
		r.seats = append(r.seats, s)
		r.byToken[s.token] = s
		if s.playerID != "" {
			r.byPlayer[s.playerID] = s
		}
	}
	r.players.Store(int32(len(r.seats)))
	r.startRecording(h.Tick)
	r.onClosed = m.forget
	m.rooms[r.ID] = r
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		r.run()
	}()
	r.log.Info("room restored from handoff", "tick", h.Tick, "seats", len(r.seats))
	return r, nil
}
