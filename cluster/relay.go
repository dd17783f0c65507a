package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// The relaying side: a browser connected to a node that does not run its
// room. The node follows the room's subject (one subscription per room,
// whatever its number of members here) and sends each tick's bytes on to
// its members' sockets, exactly as the owner encoded them; the owner's
// messages for one member (welcome, snapshots, direct chat, errors, a
// close) arrive on this node's inbox. Inputs, chat, resyncs and leaves go
// back to the owner's control subject, and a heartbeat names the members
// still here, so that a leave that was lost costs the owner nothing.
//
// The inbox and every room subject feed one channel, handled by one
// goroutine: NATS delivers what one owner published in the order it
// published it, and this keeps that order across subjects (a member's
// welcome and the events after it).
//
// Invariant (no silent gap for a relayed member): a delta goes to a
// member's socket only if it is of the member's ownership epoch (the
// owners key's revision its join was answered under) and its base is the
// tick the member last got; on a gap (a frame lost between nodes, a full
// socket) the member gets nothing until the snapshot it asks the owner
// for, then the recent deltas after it; a frame of a newer epoch means
// the room moved: the member is sent back (1012) to join its new owner.
// Guarded by TestAnyNodeServesAnyLink (mirrors equal through three nodes),
// TestRelayRecoversFromAGap and TestRelayNeverMixesOwners.

// ringSize is how many recent deltas a relayed room keeps, to send after a
// snapshot that arrived behind them.
const ringSize = 64

type ringFrame struct {
	epoch, tick, base uint64
	msg               []byte
}

// relayRoom is a room that runs elsewhere, with members here.
type relayRoom struct {
	n     *Node
	room  string
	owner string // the owner's node id
	sub   *nats.Subscription

	mu      sync.Mutex
	members map[string]*relayMember
	ring    [ringSize]ringFrame
	ringN   int
	tick    uint64 // the last delta's tick
	closed  bool
}

// relayMember is a member connected here whose room runs elsewhere: what
// the server holds for it (rooms.Membership).
type relayMember struct {
	rr        *relayRoom
	id        string
	conn      rooms.Conn
	spectator bool
	session   string
	left      atomic.Bool

	// Under rr.mu: the member's stream.
	epoch      uint64 // the ownership it joined (0 until its first message)
	welcomed   bool
	synced     bool   // a snapshot reached the member's socket
	last       uint64 // the tick the member's mirror is at
	awaiting   bool   // a snapshot was asked for: deltas wait for it
	askedAt    time.Time
	stuckSince time.Time
}

var _ rooms.Membership = (*relayMember)(nil)

// slowGrace is how long a relayed member may be unable to take a snapshot
// before it is closed as a slow consumer (as a room does, 4008).
const slowGrace = 2 * time.Second

// Join relays a connection to the node that owns the room (the error
// Open returned names it): the server calls it when the room runs
// elsewhere. It returns once the owner has seated the member; the
// welcome and snapshot are on their way.
func (n *Node) Join(room string, owner *rooms.OwnedError, conn rooms.Conn, spectator bool, req rooms.JoinRequest) (rooms.Membership, error) {
	rr, err := n.relayRoomFor(room, owner.Node)
	if err != nil {
		return nil, err
	}
	m := &relayMember{rr: rr, id: uuid.NewString(), conn: conn, spectator: spectator}
	if !rr.add(m) {
		// The relay closed under this join (the room moved that moment):
		// the client comes back and finds the new owner.
		return nil, fmt.Errorf("cluster: relay %s: %w: the room moved", room, rooms.ErrStopped)
	}
	n.relayConns.Store(m.id, m)
	body, _ := json.Marshal(joinRequest{Room: room, Conn: m.id, From: n.id, Spectator: spectator, Name: req.Name, Token: req.Token, PlayerID: req.PlayerID}) // plain struct
	resp, err := n.nc.Request(n.subjJoin(owner.Node), body, 5*time.Second)
	var rep joinReply
	if err == nil {
		err = json.Unmarshal(resp.Data, &rep)
	}
	if err == nil && rep.Err != "" {
		err = joinError(rep)
	}
	if err != nil {
		// The owner may seat the member after this gave up (a slow wake):
		// tell it the connection is gone, so that no seat stays online.
		m.ctl(opLeave, nil, []byte("0"))
		m.detach()
		if errors.Is(err, nats.ErrNoResponders) || errors.Is(err, nats.ErrTimeout) {
			return nil, fmt.Errorf("cluster: relay %s to %s: %w: %v", room, owner.Node, rooms.ErrRoomBusy, err)
		}
		return nil, fmt.Errorf("cluster: relay %s: %w", room, err)
	}
	rr.mu.Lock()
	if m.epoch == 0 {
		m.epoch = rep.Epoch
	}
	rr.mu.Unlock()
	m.session = rep.Session
	return m, nil
}

// joinError maps an owner's refusal to the rooms error it stands for.
func joinError(r joinReply) error {
	switch r.Err {
	case "type_gone":
		return &rooms.TypeGoneError{Type: r.Detail}
	case "moved":
		return fmt.Errorf("%w: %s", rooms.ErrStopped, r.Detail) // 1012: the client comes back and finds the owner
	case "failed":
		return fmt.Errorf("%w: %s", rooms.ErrRoomFailed, r.Detail)
	case "not_found":
		return fmt.Errorf("%w: %s", rooms.ErrNotFound, r.Detail)
	case "closed":
		return fmt.Errorf("%w: %s", rooms.ErrRoomClosed, r.Detail)
	case "stopped":
		return fmt.Errorf("%w: %s", rooms.ErrStopped, r.Detail)
	case "unrecoverable":
		return fmt.Errorf("%w: %s", rooms.ErrUnrecoverable, r.Detail)
	}
	return fmt.Errorf("%w: %s", rooms.ErrRoomBusy, r.Detail)
}

// relayRoomFor returns the room's relay, following the room's subject
// (and waiting until NATS has the subscription, so that no frame after
// the member's snapshot is missed).
func (n *Node) relayRoomFor(room, owner string) (*relayRoom, error) {
	n.mu.Lock()
	rr := n.relays[room]
	if rr != nil && rr.owner == owner {
		n.mu.Unlock()
		return rr, nil
	}
	old := rr
	rr = &relayRoom{n: n, room: room, owner: owner, members: make(map[string]*relayMember)}
	n.relays[room] = rr
	n.mu.Unlock()
	if old != nil {
		old.closeAll(rooms.CloseRestart, "room moved to another node")
	}
	sub, err := n.nc.ChanSubscribe(n.subjRoom(room), n.relayIn)
	if err == nil {
		err = n.nc.Flush()
	}
	if err != nil {
		if sub != nil {
			_ = sub.Unsubscribe() // failed half way: nothing more to do
		}
		n.dropRelay(rr)
		return nil, fmt.Errorf("cluster: relay %s: %w", room, err)
	}
	rr.mu.Lock()
	closed := rr.closed
	if !closed {
		rr.sub = sub
	}
	rr.mu.Unlock()
	if closed { // a join that failed dropped it meanwhile
		_ = sub.Unsubscribe() // as above
		return nil, fmt.Errorf("cluster: relay %s: %w: the room moved", room, rooms.ErrStopped)
	}
	return rr, nil
}

// dropRelay stops following a room with no members here.
func (n *Node) dropRelay(rr *relayRoom) {
	n.mu.Lock()
	if n.relays[rr.room] == rr {
		delete(n.relays, rr.room)
	}
	n.mu.Unlock()
	rr.mu.Lock()
	rr.closed = true
	sub := rr.sub
	rr.sub = nil
	rr.mu.Unlock()
	if sub != nil {
		_ = sub.Unsubscribe() // the connection may be closing: nothing more to do
	}
}

func (rr *relayRoom) add(m *relayMember) bool {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if rr.closed {
		return false
	}
	rr.members[m.id] = m
	return true
}

// remove forgets a member; the last one out stops the subscription.
func (rr *relayRoom) remove(m *relayMember) {
	rr.mu.Lock()
	delete(rr.members, m.id)
	empty := len(rr.members) == 0
	rr.mu.Unlock()
	if empty {
		rr.n.dropRelay(rr)
	}
}

// closeAll closes every member here with code and reason (the room moved:
// they come back and find its new owner).
func (rr *relayRoom) closeAll(code int, reason string) {
	rr.mu.Lock()
	ms := make([]*relayMember, 0, len(rr.members))
	for _, m := range rr.members {
		ms = append(ms, m)
	}
	rr.mu.Unlock()
	for _, m := range ms {
		m.conn.Close(code, reason)
		m.detach()
	}
	rr.n.dropRelay(rr)
}

// dispatch handles what arrives on the relay channel, in order: the
// node's inbox and the subjects of the rooms it relays.
func (n *Node) dispatch() {
	defer n.wg.Done()
	inbox, prefix := n.subjIn(n.id), n.subjRoom("")
	for {
		select {
		case <-n.ctx.Done():
			return
		case msg := <-n.relayIn:
			switch {
			case msg.Subject == inbox:
				n.onDirect(msg)
			case strings.HasPrefix(msg.Subject, prefix):
				n.mu.RLock()
				rr := n.relays[msg.Subject[len(prefix):]]
				n.mu.RUnlock()
				if rr != nil {
					rr.onBroadcast(msg)
				}
			}
		}
	}
}

// onBroadcast sends a room message on to every member here that can take
// it: a delta only if it follows on from the member's tick, in its epoch.
func (rr *relayRoom) onBroadcast(msg *nats.Msg) {
	epoch, _ := strconv.ParseUint(msg.Header.Get(hdrEpoch), 10, 64)
	data := msg.Data
	rr.n.stats.RelayBytesIn.Add(uint64(len(data)))
	typ, tick, base, ok := state.Peek(data)
	if !ok {
		return
	}
	var moved []*relayMember
	rr.mu.Lock()
	if typ == state.MsgDelta {
		rr.ring[rr.ringN%ringSize] = ringFrame{epoch: epoch, tick: tick, base: base, msg: data}
		rr.ringN++
		rr.tick = tick
	}
	now := time.Now()
	for _, m := range rr.members {
		switch {
		case m.epoch == 0 || epoch < m.epoch:
			continue // not joined yet, or an old owner's frame, late
		case epoch > m.epoch:
			moved = append(moved, m) // the room's new owner: this member must join it
			continue
		case !m.welcomed:
			continue
		case typ != state.MsgDelta:
			if !m.conn.Send(data) {
				rr.slow(m, "slow consumer: could not take an event")
			}
			continue
		}
		m.sendDelta(tick, base, data, now)
	}
	empty := len(rr.members) == 0
	rr.mu.Unlock()
	for _, m := range moved {
		m.conn.Close(rooms.CloseRestart, "room moved to another node")
		m.detach()
	}
	if empty && len(moved) == 0 {
		rr.n.dropRelay(rr) // the last member was closed as slow
	}
}

// sendDelta sends one delta to a member if it follows on from the
// member's tick; otherwise the member asks for a snapshot. Under rr.mu.
func (m *relayMember) sendDelta(tick, base uint64, data []byte, now time.Time) {
	switch {
	case !m.synced:
		return // its snapshot has not arrived yet: the ring keeps this for it
	case m.awaiting:
		if !m.stuckSince.IsZero() && now.Sub(m.stuckSince) > slowGrace {
			m.rr.slow(m, "slow consumer: could not keep up with the room")
			return
		}
		if now.Sub(m.askedAt) > 500*time.Millisecond {
			m.askSnapshot(now) // the answer was lost or refused: ask again
		}
		return
	case tick <= m.last:
		return // already covered by its snapshot
	case base != m.last:
		m.askSnapshot(now)
		return
	}
	if !m.conn.Send(data) {
		m.stuckSince = now
		m.askSnapshot(now)
		return
	}
	m.last = tick
}

// askSnapshot asks the owner for a snapshot for the member. Under rr.mu.
func (m *relayMember) askSnapshot(now time.Time) {
	m.awaiting, m.askedAt = true, now
	m.rr.n.stats.RelayResyncs.Add(1)
	m.ctl(opResync, nil, nil)
}

// slow closes a member that cannot keep up, as a room does (4008); its
// seat is held at the owner, so it can resume. Under rr.mu.
func (rr *relayRoom) slow(m *relayMember, reason string) {
	if g, ok := m.conn.(rooms.GoneConn); !ok || !g.Gone() {
		m.conn.Close(rooms.CloseSlowConsumer, reason)
	}
	delete(rr.members, m.id)
	m.left.Store(true)
	rr.n.relayConns.Delete(m.id)
	m.ctl(opLeave, nil, []byte("0"))
}

// onDirect handles what an owner sends one of this node's members: a
// close, or a message for it alone.
func (n *Node) onDirect(msg *nats.Msg) {
	id := msg.Header.Get(hdrConn)
	v, ok := n.relayConns.Load(id)
	if !ok {
		// Not a member here (it left, or its join gave up): the owner may
		// still hold it online; tell it, unless this is the owner's close.
		if from := msg.Header.Get(hdrFrom); from != "" && msg.Header.Get(hdrClose) == "" {
			h := nats.Header{hdrRoom: {msg.Header.Get(hdrRoom)}, hdrConn: {id}, hdrFrom: {n.id}, hdrOp: {opLeave}}
			_ = n.nc.PublishMsg(&nats.Msg{Subject: n.subjCtl(from), Header: h, Data: []byte("0")}) // best effort: the heartbeat covers a loss
		}
		return
	}
	m := v.(*relayMember)
	if code := msg.Header.Get(hdrClose); code != "" {
		c, _ := strconv.Atoi(code)
		m.conn.Close(c, msg.Header.Get(hdrReason))
		m.detach()
		return
	}
	n.stats.RelayBytesIn.Add(uint64(len(msg.Data)))
	epoch, _ := strconv.ParseUint(msg.Header.Get(hdrEpoch), 10, 64)
	m.rr.direct(m, msg.Data, epoch)
}

// direct sends a message for one member on; a snapshot resets the
// member's stream and is followed by the ring's deltas after it.
func (rr *relayRoom) direct(m *relayMember, data []byte, epoch uint64) {
	typ, tick, _, _ := state.Peek(data)
	rr.mu.Lock()
	defer rr.mu.Unlock()
	if _, here := rr.members[m.id]; !here {
		return
	}
	if m.epoch == 0 {
		m.epoch = epoch // its first message: the ownership that seated it
	} else if epoch != m.epoch {
		return // another ownership's: the member is being sent back
	}
	switch typ {
	case state.MsgWelcome:
		m.welcomed = true
	case state.MsgSnapshot:
		if !m.conn.Send(data) {
			if m.stuckSince.IsZero() {
				m.stuckSince = time.Now()
			}
			m.awaiting = true
			return
		}
		m.last, m.synced, m.awaiting, m.stuckSince = tick, true, false, time.Time{}
		rr.catchUp(m)
		return
	}
	if !m.conn.Send(data) {
		rr.slow(m, "slow consumer: could not take a message")
	}
}

// catchUp sends a member the ring's deltas of its epoch that follow its
// tick. Under rr.mu.
func (rr *relayRoom) catchUp(m *relayMember) {
	first := max(0, rr.ringN-ringSize)
	now := time.Now()
	for i := first; i < rr.ringN; i++ {
		f := rr.ring[i%ringSize]
		if f.epoch == m.epoch && f.tick > m.last {
			m.sendDelta(f.tick, f.base, f.msg, now)
			if m.awaiting {
				return
			}
		}
	}
}

// detach forgets the member here (closed by the owner, or the room moved).
func (m *relayMember) detach() {
	if m.left.Swap(true) {
		return
	}
	m.rr.n.relayConns.Delete(m.id)
	m.rr.remove(m)
}

// ctl sends an operation to the owner for this member.
func (m *relayMember) ctl(op string, h nats.Header, data []byte) {
	if h == nil {
		h = nats.Header{}
	}
	h.Set(hdrRoom, m.rr.room)
	h.Set(hdrConn, m.id)
	h.Set(hdrFrom, m.rr.n.id)
	h.Set(hdrOp, op)
	_ = m.rr.n.nc.PublishMsg(&nats.Msg{Subject: m.rr.n.subjCtl(m.rr.owner), Header: h, Data: data}) // lost only with the connection; the heartbeat and the owner's grace cover it
}

// Input sends an input to the owner (rooms.Membership).
func (m *relayMember) Input(seq uint64, payload msgpack.RawMessage) error {
	if m.spectator {
		return rooms.ErrSpectator
	}
	if m.left.Load() {
		return rooms.ErrRoomClosed
	}
	m.ctl(opInput, nats.Header{hdrSeq: {strconv.FormatUint(seq, 10)}}, payload)
	return nil
}

// Chat sends a chat message to the owner (rooms.Membership).
func (m *relayMember) Chat(text string, to uint32, hasTo bool) error {
	if m.spectator {
		return rooms.ErrSpectator
	}
	if m.left.Load() {
		return rooms.ErrRoomClosed
	}
	b, _ := json.Marshal(chatMsg{Text: text, To: to, HasTo: hasTo}) // plain struct
	m.ctl(opChat, nil, b)
	return nil
}

// Resync asks the owner for a snapshot (rooms.Membership).
func (m *relayMember) Resync() error {
	m.rr.mu.Lock()
	defer m.rr.mu.Unlock()
	m.askSnapshot(time.Now())
	return nil
}

// Leave tells the owner the connection ended (rooms.Membership).
func (m *relayMember) Leave(explicit bool) {
	if m.left.Load() {
		return
	}
	flag := []byte("0")
	if explicit {
		flag = []byte("1")
	}
	m.ctl(opLeave, nil, flag)
	m.detach()
}

// Tick is the last tick relayed for the room (rooms.Membership).
func (m *relayMember) Tick() uint64 {
	m.rr.mu.Lock()
	defer m.rr.mu.Unlock()
	return m.rr.tick
}

func (m *relayMember) Session() string { return m.session }
func (m *relayMember) Spectator() bool { return m.spectator }
func (m *relayMember) RoomID() string  { return m.rr.room }

// heartbeat tells each owner which of its rooms' members are still
// relayed here: the owner lets go of the ones it holds for this node that
// are not named (their leave was lost, or their join gave up).
func (n *Node) heartbeat() {
	byOwner := map[string][]string{}
	n.relayConns.Range(func(_, v any) bool {
		m := v.(*relayMember)
		byOwner[m.rr.owner] = append(byOwner[m.rr.owner], m.id)
		return true
	})
	n.mu.RLock()
	for _, o := range n.ownerIndex {
		if o.Node != n.id {
			if _, ok := byOwner[o.Node]; !ok {
				byOwner[o.Node] = nil // an owner with nobody of ours: it may still hold some
			}
		}
	}
	n.mu.RUnlock()
	for owner, ids := range byOwner {
		b, _ := json.Marshal(ids) // strings: never fails
		h := nats.Header{hdrFrom: {n.id}, hdrOp: {opHeartbeat}}
		_ = n.nc.PublishMsg(&nats.Msg{Subject: n.subjCtl(owner), Header: h, Data: b}) // the next one follows
	}
}

// ownerMoved closes this node's members of a room whose owner changed: they
// come back and join its new owner.
func (n *Node) ownerMoved(room string, o ownerRecord) {
	n.mu.RLock()
	rr := n.relays[room]
	n.mu.RUnlock()
	if rr != nil && rr.owner != o.Node {
		rr.closeAll(rooms.CloseRestart, "room moved to another node")
	}
}

// ownerGone does the same when the room's owner key went (the room slept,
// or its owner stopped and handed it on).
func (n *Node) ownerGone(room string) {
	n.mu.RLock()
	rr := n.relays[room]
	n.mu.RUnlock()
	if rr != nil {
		rr.closeAll(rooms.CloseRestart, "room moved to another node")
	}
}

// ownerNodeGone closes the members of every room a gone node ran.
func (n *Node) ownerNodeGone(node string) {
	n.mu.RLock()
	var gone []*relayRoom
	for _, rr := range n.relays {
		if rr.owner == node {
			gone = append(gone, rr)
		}
	}
	n.mu.RUnlock()
	for _, rr := range gone {
		rr.closeAll(rooms.CloseRestart, "the room's node went away: reconnecting")
	}
}

// listen subscribes to this node's relay subjects: its inbox into the
// ordered relay channel, its control and join subjects (the owner's side)
// to handlers of their own.
func (n *Node) listen() error {
	inbox, err := n.nc.ChanSubscribe(n.subjIn(n.id), n.relayIn)
	if err != nil {
		return fmt.Errorf("cluster: subscribe %s: %w", n.subjIn(n.id), err)
	}
	n.subs = append(n.subs, inbox)
	for subj, fn := range map[string]nats.MsgHandler{n.subjCtl(n.id): n.onCtl, n.subjJoin(n.id): n.onJoin} {
		sub, err := n.nc.Subscribe(subj, fn)
		if err != nil {
			return fmt.Errorf("cluster: subscribe %s: %w", subj, err)
		}
		_ = sub.SetPendingLimits(1<<18, 256<<20)
		n.subs = append(n.subs, sub)
	}
	n.wg.Add(2)
	go n.dispatch()
	go n.publisher()
	return n.nc.Flush()
}

// isAlive reports whether a node is alive, from this node's index.
func (n *Node) isAlive(node string) bool {
	n.mu.RLock()
	defer n.mu.RUnlock()
	_, ok := n.liveNodes[node]
	return ok
}
