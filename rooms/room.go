package rooms

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/state"
)

// Errors returned to the server by Room methods.
var (
	ErrRoomClosed = errors.New("room closed")
	ErrRoomBusy   = errors.New("room busy")
	ErrSpectator  = errors.New("spectators cannot send inputs or chat")
)

// Room is one running room. Its state (world, members, handler) belongs to
// the goroutine started by the manager; every other goroutine talks to it
// through Join, Input, Chat, Resync, Leave and Close, which only queue work.
//
// Invariant (single writer per room): only run() and what it calls touch
// world, seats and handler. Guarded by the race detector: every socket test
// in server/ (TestTwoMembersMirrorTheRoom and the rest) and
// TestReplayEqualsLive run under -race with members, HTTP handlers and the
// loop all active.
type Room struct {
	ID         string
	Type       *Type
	Public     bool
	MaxPlayers int
	CreatedAt  time.Time
	Options    map[string]any
	Seed       uint64

	requested   map[string]any // the options the creator gave (its log and row keep them)
	recordingID string         // the room's log, set before the room runs
	secret      []byte         // derives resume tokens (seatToken)
	mgr         *Manager       // persists the room's row and checkpoints; nil in some tests
	lease       Lease          // this node's hold on the room (always valid on a single node)
	// durableAtStart is durable() when the room started, for Durable.
	durableAtStart bool
	// memberReserve is the highest member number the directory row allows
	// (RoomRecord.MemberReserve); lastActive is when the room last had a
	// seat (room goroutine only).
	memberReserve uint32
	lastActive    time.Time

	cfg     Config
	log     *slog.Logger
	handler Handler
	world   *state.World
	ctx     Context
	period  time.Duration

	control  chan func()
	inputs   inputQueue
	quit     chan struct{}
	done     chan struct{}
	stopOne  sync.Once
	closeBy  closeReason
	onClosed func(*Room)

	// Read by other goroutines (listing, pongs, tests).
	players   atomic.Int32
	watching  atomic.Int32
	tick      atomic.Uint64
	recording atomic.Bool
	stats     Stats
	isClosed  atomic.Bool

	// Room goroutine only.
	seats    []*seat // by member number
	watchers []*seat // spectators: no member, no entity, same stream
	// broadcastTick's scratch for the members sent to in one batch.
	batchSeats  []*seat
	batchConns  []Conn
	batchSent   []bool
	byToken     map[string]*seat
	byPlayer    map[string]*seat // seats of verified players
	nextMember  uint32
	chat        []state.Event
	snapshot    []byte // snapshot of the last published tick, built on demand
	snapshotFor uint64
	emptySince  time.Time
	slowTicks   int
	lastDelta   int
	allView     *state.View // views: every group, for the recording

	// Recording (room goroutine only): the ops applied since the last
	// tick, in order, and where the last keyframe was.
	recorder      LogWriter
	ops           []Op
	keyframeEvery uint64
	lastKeyframe  uint64
	// Views rooms: each member's view as last recorded (ViewRecorder),
	// and the scratch of one record.
	recViews map[uint32]*recordedView
	viewOut  []MemberView

	// Durability (room goroutine only): how often and when the room last
	// wrote a checkpoint, and how its loop ends (see ending).
	checkpointEvery uint64
	lastCheckpoint  uint64
	end             ending
	// stopReq is set by Stop from any goroutine; the loop acts on it at the
	// end of the next tick, when no op is pending.
	stopReq atomic.Pointer[closeReason]

	// Inspections waiting for the end of the next tick.
	afterTick []func()
}

// closeReason is a close code and its text, as members receive them.
type closeReason struct {
	code   int
	reason string
}

// ending is how a room's loop ends.
type ending uint8

const (
	// endForGood: the room's life is over (Close): its members are told,
	// its log gets its end record, its row and checkpoints are deleted.
	endForGood ending = iota
	// endSleep: the room went dormant (empty for IdleTimeout): its state is
	// in its stores and a join wakes it.
	endSleep
	// endStop: the process is stopping (Stop): the room's state is stored
	// and the next process wakes it; members are closed with the stop's
	// code and come back with their resume tokens.
	endStop
	// endFailed: the handler panicked in a tick: members are closed with
	// 1011, the log is paused, the row says failed (see StateFailed).
	endFailed
	// endLost: the room's lease was lost (another node owns it now, or
	// this node lost touch with the cluster): it stops at once, stores
	// nothing, and its members are closed with 1012 so that they come back
	// to the room's new owner.
	endLost
)

// Stats are a room's counters, readable from any goroutine.
type Stats struct {
	Ticks        atomic.Uint64
	LateTicks    atomic.Uint64 // started more than 5 ms after their slot
	SkippedSlots atomic.Uint64 // slots dropped after an overrun (no catch-up bursts)
	TickNanos    atomic.Int64  // duration of the last tick's work
	TickTime     Histogram     // every tick's duration
	BytesOut     atomic.Uint64 // delta bytes encoded (once per tick, not per member; views: every group segment)
	// Encodes counts encodings of tick state: one delta a tick, or in a
	// views room one segment per changed group plus each group snapshot
	// (members' snapshots are not counted).
	Encodes    atomic.Uint64
	Snapshots  atomic.Uint64 // snapshots sent to members (joins, resyncs, slow consumers)
	Overflows  atomic.Uint64 // deltas a member's full queue could not take
	SlowClosed atomic.Uint64
	InputsIn   atomic.Uint64
	InputsBusy atomic.Uint64
	// InputsRejected counts inputs the room type refused (bad_input) or
	// whose seq did not advance.
	InputsRejected atomic.Uint64
}

type inputMsg struct {
	c       *Client
	seq     uint64
	payload msgpack.RawMessage
}

// inputQueue holds the inputs that arrived since the last tick, at most
// limit. It is a slice that grows with use rather than a channel sized for
// the worst case, so a quiet room holds no memory for it (a channel of 64
// inputs per seat cost a 64-seat room 160 KiB). The room swaps the slice
// out once a tick.
type inputQueue struct {
	mu    sync.Mutex
	items []inputMsg
	spare []inputMsg
	limit int
}

func (q *inputQueue) push(m inputMsg) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) >= q.limit {
		return false
	}
	q.items = append(q.items, m)
	return true
}

// take returns the queued inputs in arrival order and empties the queue.
// The slice is the caller's until the next take.
func (q *inputQueue) take() []inputMsg {
	q.mu.Lock()
	defer q.mu.Unlock()
	clear(q.spare) // the previous batch: let go of its clients and payloads
	if cap(q.spare) > 256 && cap(q.spare) > 4*len(q.items) {
		q.spare = nil // a past burst: do not keep its memory for the room's life
	}
	batch := q.items
	q.items, q.spare = q.spare[:0], batch
	return batch
}

// lateThreshold is how late a tick may start before it counts as late.
const lateThreshold = 5 * time.Millisecond

// newRoomShell builds a room around a handler with an empty world, not yet
// initialised or running: Manager.Create and Manager.wake finish it.
func (cfg Config) newRoomShell(id string, t *Type, h Handler, requested, opts map[string]any, public bool, maxPlayers int, seed uint64) *Room {
	r := &Room{
		ID: id, Type: t, Public: public, MaxPlayers: maxPlayers, CreatedAt: time.Now(),
		Options: opts, requested: requested, Seed: seed, cfg: cfg, handler: h,
		log:      cfg.Logger.With("room", id, "type", t.Name),
		world:    state.NewWorld(t.Schema),
		period:   time.Second / time.Duration(t.TickRate),
		control:  make(chan func(), cfg.ControlQueue),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		byToken:  make(map[string]*seat),
		byPlayer: make(map[string]*seat),
		lease:    localLease{},
	}
	q := cfg.InputQueue
	if q <= 0 {
		q = max(256, 64*maxPlayers)
	}
	r.inputs.limit = q
	if t.Views {
		r.world.EnableViews()
		r.allView = seeAll(t)
	}
	r.slowTicks = max(1, int(cfg.SlowConsumerGrace/r.period))
	r.ctx = *newContext(r.world, seed)
	r.ctx.room = r
	r.keyframeEvery = max(1, uint64(cfg.KeyframeInterval/r.period))
	r.checkpointEvery = max(1, uint64(cfg.CheckpointInterval/r.period))
	return r
}

// Players returns the number of seated members, online or holding a seat.
func (r *Room) Players() int { return int(r.players.Load()) }

// CurrentTick returns the last published tick.
func (r *Room) CurrentTick() uint64 { return r.tick.Load() }

// Stats returns the room's live counters.
func (r *Room) Stats() *Stats { return &r.stats }

// Closed reports whether the room has stopped or is stopping.
func (r *Room) Closed() bool { return r.isClosed.Load() }

// Done is closed when the room's goroutine has exited.
func (r *Room) Done() <-chan struct{} { return r.done }

// Join queues a new connection's join and returns its handle. name is the
// requested display name; token, when not empty, asks for a held seat back.
// The welcome and snapshot follow on conn as soon as the room seats it; a
// refusal (room full) closes conn with a close code.
func (r *Room) Join(conn Conn, name, token string) (*Client, error) {
	return r.JoinAs(conn, JoinRequest{Name: name, Token: token})
}

// JoinRequest is who a connection says it is.
type JoinRequest struct {
	Name  string // requested display name
	Token string // resume token from an earlier welcome, or ""
	// PlayerID is an identity the server verified (an auth token's
	// subject). A seat belongs to its player: the same player joining again
	// takes the seat back, token or not.
	PlayerID string
}

// JoinAs is Join with a verified identity.
func (r *Room) JoinAs(conn Conn, req JoinRequest) (*Client, error) {
	c := &Client{room: r, conn: conn, name: req.Name, token: req.Token, playerID: req.PlayerID, session: uuid.NewString(), fan: fanoutOf(conn)}
	if err := r.await(func() { r.seat(c) }); err != nil {
		return nil, err
	}
	return c, nil
}

// Spectate queues a view-only connection: it receives the welcome (no
// member, no entity), the snapshot and every delta and event like a
// member, but is not a member: it holds no seat, counts as no player, and
// cannot send inputs or chat (the server refuses them).
func (r *Room) Spectate(conn Conn) (*Client, error) {
	c := &Client{room: r, conn: conn, spectator: true, session: uuid.NewString(), fan: fanoutOf(conn)}
	if err := r.await(func() { r.watch(c) }); err != nil {
		return nil, err
	}
	return c, nil
}

// fanoutOf is the conn's fan-out, or nil.
func fanoutOf(conn Conn) Fanout {
	if f, ok := conn.(FanoutConn); ok {
		return f.Fanout()
	}
	return nil
}

// await queues a join (or a spectator's) and waits until the room has run
// it. It fails with ErrRoomClosed when the room stopped first (it closed,
// or went to sleep, and Manager.Open wakes it again), so a join is never
// left queued in a room that will not run it.
func (r *Room) await(join func()) error {
	ran := make(chan struct{})
	if err := r.do(func() { join(); close(ran) }, 2*time.Second); err != nil {
		return err
	}
	select {
	case <-ran:
		return nil
	case <-r.done:
		select {
		case <-ran: // it ran just before the room stopped
			return nil
		default:
			return ErrRoomClosed
		}
	}
}

// Spectators returns the number of spectators watching.
func (r *Room) Spectators() int { return int(r.watching.Load()) }

// Leave tells the room the client's connection ended. explicit means the
// client closed normally (1000) and gives up its seat; otherwise the seat
// is held for the grace period. It never blocks.
func (r *Room) Leave(c *Client, explicit bool) {
	c.explicit.Store(explicit)
	c.gone.Store(true)
	// A full queue is fine: the tick notices gone clients anyway.
	_ = r.try(func() { r.drop(c) })
}

// Input queues an input for the next tick. It fails with ErrRoomBusy when
// the room's input queue is full: the input is dropped and the caller tells
// the client (room_busy); no other member is affected.
func (r *Room) Input(c *Client, seq uint64, payload msgpack.RawMessage) error {
	if r.Closed() {
		return ErrRoomClosed
	}
	if c.spectator {
		return ErrSpectator
	}
	if !r.inputs.push(inputMsg{c, seq, payload}) {
		r.stats.InputsBusy.Add(1)
		return ErrRoomBusy
	}
	r.stats.InputsIn.Add(1)
	return nil
}

// Chat queues a chat message from c, to everyone or (hasTo) to one member.
func (r *Room) Chat(c *Client, text string, to uint32, hasTo bool) error {
	if c.spectator {
		return ErrSpectator
	}
	return r.try(func() { r.chatFrom(c, text, to, hasTo) })
}

// Resync asks for a snapshot in place of the client's next delta.
func (r *Room) Resync(c *Client) error {
	return r.try(func() {
		if c.seat != nil && c.seat.client == c {
			c.seat.needSnapshot = true
		}
	})
}

// Inspect runs fn on the room goroutine between ticks, with the world
// exactly at its last published tick, and waits for it (up to timeout for a
// place in the queue). If a join or leave changed the world since that
// publish, fn waits for the end of the next tick, so it never sees a change
// no client has been sent. While fn runs the room does not tick. Tests use
// it to compare a client's mirror with the server's state at the same tick;
// fn must not change the world.
func (r *Room) Inspect(fn func(w *state.World), timeout time.Duration) error {
	done := make(chan struct{})
	run := func() { defer close(done); fn(r.world) }
	if err := r.do(func() {
		if r.world.Pending() {
			r.afterTick = append(r.afterTick, run)
			return
		}
		run()
	}, timeout); err != nil {
		return err
	}
	select {
	case <-done:
		return nil
	case <-r.done:
		return ErrRoomClosed
	}
}

// Close ends the room's life: members get a closing event and a close
// frame with the code and reason, its log its end record, and its row and
// checkpoints are deleted. It is idempotent and does not wait; see Done.
func (r *Room) Close(code int, reason string) {
	r.stopOne.Do(func() {
		r.closeBy.code, r.closeBy.reason = code, reason
		r.isClosed.Store(true)
		close(r.quit)
	})
}

// Stop stops the room for a restart of its process: at the end of its next
// tick a durable room stores its state (the next process wakes it) and
// closes its members with the code and reason, who come back with their
// resume tokens. A room that cannot be stored closes for good (Close). It
// does not wait; see Done.
func (r *Room) Stop(code int, reason string) {
	r.stopReq.CompareAndSwap(nil, &closeReason{code, reason})
}

// try queues fn on the room goroutine without blocking.
func (r *Room) try(fn func()) error {
	if r.Closed() {
		return ErrRoomClosed
	}
	select {
	case r.control <- fn:
		return nil
	default:
		return ErrRoomBusy
	}
}

// do queues fn, waiting up to timeout for room in the queue.
func (r *Room) do(fn func(), timeout time.Duration) error {
	if r.Closed() {
		return ErrRoomClosed
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r.control <- fn:
		return nil
	case <-r.quit:
		return ErrRoomClosed
	case <-t.C:
		return ErrRoomBusy
	}
}
