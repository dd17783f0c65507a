package cluster

import (
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// The owner's side of the relay: members of a room this node runs that
// are connected to other nodes. Each is a rooms.Conn (remoteConn) whose
// own messages go to its node's inbox subject; the room's broadcast
// messages go once per room to the room's subject (remoteRoom, the
// members' rooms.Fanout), which every node with members of the room
// follows (relay.go). What relaying nodes send back (joins, inputs, chat,
// resyncs, leaves) arrives on this node's join and control subjects.

// Relay subjects and headers.
const (
	hdrRoom   = "Tr-Room"
	hdrConn   = "Tr-Conn"
	hdrFrom   = "Tr-From"
	hdrOp     = "Tr-Op"
	hdrSeq    = "Tr-Seq"
	hdrEpoch  = "Tr-Epoch"
	hdrClose  = "Tr-Close"
	hdrReason = "Tr-Reason"
)

// Control operations from a relaying node.
const (
	opInput  = "i"
	opChat   = "c"
	opResync = "r"
	opLeave  = "l"
	// opHeartbeat names a relaying node's members (its payload: their
	// connection ids, JSON), every lease TTL.
	opHeartbeat = "h"
)

func (n *Node) subjRoom(room string) string { return n.cfg.Prefix + ".relay.room." + room }
func (n *Node) subjIn(node string) string   { return n.cfg.Prefix + ".relay.in." + node }
func (n *Node) subjCtl(node string) string  { return n.cfg.Prefix + ".relay.ctl." + node }
func (n *Node) subjJoin(node string) string { return n.cfg.Prefix + ".relay.join." + node }

// joinRequest is a relaying node's join on behalf of a connection.
type joinRequest struct {
	Room      string `json:"room"`
	Conn      string `json:"conn"`
	From      string `json:"from"`
	Spectator bool   `json:"spectator,omitempty"`
	Name      string `json:"name,omitempty"`
	Token     string `json:"token,omitempty"`
	PlayerID  string `json:"playerId,omitempty"`
}

// joinReply answers it: the session, or why not (errKind).
type joinReply struct {
	Session string `json:"session,omitempty"`
	Err     string `json:"err,omitempty"`
	Detail  string `json:"detail,omitempty"`
	Epoch   uint64 `json:"epoch,omitempty"`
}

// chatMsg is a relayed chat message.
type chatMsg struct {
	Text  string `json:"text"`
	To    uint32 `json:"to,omitempty"`
	HasTo bool   `json:"hasTo,omitempty"`
}

// remoteRoom is a room this node runs, as far as other nodes' members go.
type remoteRoom struct {
	n     *Node
	room  string
	epoch uint64
	subj  string
	hdr   nats.Header // the epoch, on every broadcast

	mu    sync.Mutex
	conns map[string]*remoteConn // by the relaying node's connection id
}

// Broadcast publishes a room message once for every relaying node
// (rooms.Fanout). It only queues it (outbox): the room's goroutine never
// waits on NATS; a frame the full queue refuses is a gap the relaying
// nodes notice and ask a snapshot for.
func (rr *remoteRoom) Broadcast(msg []byte) {
	rr.n.enqueue(&nats.Msg{Subject: rr.subj, Data: msg, Header: rr.hdr})
}

// outboxSize bounds the messages a node has queued for other nodes.
const outboxSize = 1 << 14

// enqueue hands a message for other nodes to the node's publisher without
// waiting; false when the outbox is full (counted).
func (n *Node) enqueue(m *nats.Msg) bool {
	select {
	case n.outbox <- m:
		return true
	default:
		n.stats.RelayDropped.Add(1)
		return false
	}
}

// publisher publishes the outbox in order, so that what a room hands over
// (its broadcasts and each member's own messages) keeps its order, and a
// NATS that is slow or away holds up this goroutine, not the rooms.
func (n *Node) publisher() {
	defer n.wg.Done()
	for {
		select {
		case <-n.ctx.Done():
			return
		case m := <-n.outbox:
			if err := n.nc.PublishMsg(m); err != nil {
				n.stats.RelayDropped.Add(1)
				continue
			}
			if m.Header.Get(hdrConn) == "" {
				n.stats.RelayPublishes.Add(1) // a room's broadcast
			}
			n.stats.RelayBytesOut.Add(uint64(len(m.Data)))
		}
	}
}

// remoteConn is one relayed member's connection, as its room sees it.
type remoteConn struct {
	rr       *remoteRoom
	id       string
	relay    string // the relaying node
	subj     string // its inbox
	hdr      nats.Header
	client   atomic.Pointer[rooms.Client]
	closed   atomic.Bool
	lastSeen atomic.Int64 // unix nanoseconds: the relaying node's last word of it (join, heartbeat)
}

var (
	_ rooms.FanoutConn = (*remoteConn)(nil)
	_ rooms.GoneConn   = (*remoteConn)(nil)
)

// Send publishes a message for this member alone (rooms.Conn).
func (c *remoteConn) Send(msg []byte) bool {
	if c.closed.Load() {
		return false
	}
	return c.rr.n.enqueue(&nats.Msg{Subject: c.subj, Data: msg, Header: c.hdr})
}

// Close tells the relaying node to close the member's socket with code and
// reason (rooms.Conn).
func (c *remoteConn) Close(code int, reason string) {
	if c.closed.Swap(true) {
		return
	}
	c.rr.remove(c)
	h := nats.Header{hdrConn: {c.id}, hdrClose: {strconv.Itoa(code)}, hdrReason: {reason}}
	c.rr.n.enqueue(&nats.Msg{Subject: c.subj, Header: h}) // if refused: the relaying node also closes its members when it sees the room move
}

// Gone reports whether the relaying node is gone (rooms.GoneConn).
func (c *remoteConn) Gone() bool { return c.closed.Load() || !c.rr.n.isAlive(c.relay) }

// Fanout is the room's broadcast to relaying nodes (rooms.FanoutConn).
func (c *remoteConn) Fanout() rooms.Fanout { return c.rr }

func (rr *remoteRoom) add(c *remoteConn) {
	rr.mu.Lock()
	rr.conns[c.id] = c
	rr.mu.Unlock()
}

func (rr *remoteRoom) remove(c *remoteConn) {
	rr.mu.Lock()
	delete(rr.conns, c.id)
	rr.mu.Unlock()
}

func (rr *remoteRoom) conn(id string) *remoteConn {
	rr.mu.Lock()
	defer rr.mu.Unlock()
	return rr.conns[id]
}

// remoteRoomFor returns the room's relay state under the given ownership,
// making it on first use.
func (n *Node) remoteRoomFor(room string, epoch uint64) *remoteRoom {
	n.mu.Lock()
	defer n.mu.Unlock()
	if rr := n.remotes[room]; rr != nil && rr.epoch == epoch {
		return rr
	}
	rr := &remoteRoom{n: n, room: room, epoch: epoch, subj: n.subjRoom(room),
		hdr: nats.Header{hdrEpoch: {strconv.FormatUint(epoch, 10)}}, conns: make(map[string]*remoteConn)}
	n.remotes[room] = rr
	return rr
}

// closeRemotes forgets a room's relayed members (its lease ended: the room
// closed them itself).
func (n *Node) closeRemotes(room string) {
	n.mu.Lock()
	rr := n.remotes[room]
	delete(n.remotes, room)
	n.mu.Unlock()
	if rr == nil {
		return
	}
	rr.mu.Lock()
	conns := make([]*remoteConn, 0, len(rr.conns))
	for _, c := range rr.conns {
		conns = append(conns, c)
	}
	rr.mu.Unlock()
	for _, c := range conns {
		c.Close(rooms.CloseRestart, "room moved to another node")
	}
}

// relayGone takes the members relayed by a node that went: they go
// offline in their rooms (their seats are held for the grace period).
func (n *Node) relayGone(node string) {
	n.mu.RLock()
	var all []*remoteRoom
	for _, rr := range n.remotes {
		all = append(all, rr)
	}
	n.mu.RUnlock()
	for _, rr := range all {
		rr.mu.Lock()
		var gone []*remoteConn
		for _, c := range rr.conns {
			if c.relay == node {
				gone = append(gone, c)
			}
		}
		rr.mu.Unlock()
		for _, c := range gone {
			c.closed.Store(true)
			rr.remove(c)
			if cl := c.client.Load(); cl != nil {
				cl.Leave(false)
			}
		}
	}
}

// onJoin answers a relaying node's join: the room is opened here (woken,
// if need be: this node owns it, or takes it when it is an orphan) and
// the member joins through a remoteConn. Each join runs on its own
// goroutine: a wake may take a while.
func (n *Node) onJoin(m *nats.Msg) {
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		var req joinRequest
		if err := json.Unmarshal(m.Data, &req); err != nil || req.Room == "" || req.Conn == "" || req.From == "" {
			n.reply(m, joinReply{Err: "bad_request", Detail: "malformed join"})
			return
		}
		n.reply(m, n.joinRemote(req))
	}()
}

func (n *Node) joinRemote(req joinRequest) joinReply {
	n.mu.RLock()
	mgr := n.mgr
	n.mu.RUnlock()
	if mgr == nil {
		return joinReply{Err: "busy", Detail: "node starting"}
	}
	var err error
	for range 3 { // a room that went to sleep that moment is woken again, as server.enter does
		var r *rooms.Room
		if r, err = mgr.Open(req.Room); err != nil {
			return errReply(err)
		}
		n.mu.RLock()
		l := n.leases[req.Room]
		n.mu.RUnlock()
		if l == nil || !l.Valid() {
			return joinReply{Err: "moved", Detail: "the room is not run here"}
		}
		rr := n.remoteRoomFor(req.Room, l.rev)
		c := &remoteConn{rr: rr, id: req.Conn, relay: req.From, subj: n.subjIn(req.From),
			hdr: nats.Header{hdrConn: {req.Conn}, hdrRoom: {req.Room}, hdrFrom: {n.id}, hdrEpoch: {strconv.FormatUint(l.rev, 10)}}}
		c.lastSeen.Store(time.Now().UnixNano())
		rr.add(c)
		var client *rooms.Client
		if req.Spectator {
			client, err = r.Spectate(c)
		} else {
			client, err = r.JoinAs(c, rooms.JoinRequest{Name: req.Name, Token: req.Token, PlayerID: req.PlayerID})
		}
		if errors.Is(err, rooms.ErrRoomClosed) {
			rr.remove(c)
			continue
		}
		if err != nil {
			rr.remove(c)
			return errReply(err)
		}
		c.client.Store(client)
		if c.closed.Load() || n.takeLeft(req.Conn) {
			// The relaying node gave up on this join meanwhile.
			c.closed.Store(true)
			rr.remove(c)
			client.Leave(false)
			return joinReply{Err: "stopped", Detail: "the connection went while it joined"}
		}
		return joinReply{Session: client.Session(), Epoch: l.rev}
	}
	return errReply(err)
}

// noteLeft remembers the leave of a connection whose join this node has
// not seen yet (the leave overtook a slow join), for joinRemote; entries
// older than a minute are dropped.
func (n *Node) noteLeft(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	now := time.Now()
	for k, at := range n.leftConns {
		if now.Sub(at) > time.Minute {
			delete(n.leftConns, k)
		}
	}
	n.leftConns[id] = now
}

// takeLeft reports (and forgets) whether a connection's leave came first.
func (n *Node) takeLeft(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.leftConns[id]
	delete(n.leftConns, id)
	return ok
}

// sweepRemotes lets go of relayed members whose relaying node has not
// named them for three lease times (their leave was lost): they go
// offline in their rooms, and their seats are held for the grace period.
func (n *Node) sweepRemotes(now time.Time) {
	n.mu.RLock()
	all := make([]*remoteRoom, 0, len(n.remotes))
	for _, rr := range n.remotes {
		all = append(all, rr)
	}
	n.mu.RUnlock()
	limit := 3 * n.cfg.LeaseTTL
	for _, rr := range all {
		n.mu.Lock()
		l := n.leases[rr.room]
		rr.mu.Lock()
		if len(rr.conns) == 0 && (l == nil || l.rev != rr.epoch) && n.remotes[rr.room] == rr {
			delete(n.remotes, rr.room) // made by a join that raced the room's end
		}
		rr.mu.Unlock()
		n.mu.Unlock()
		rr.mu.Lock()
		var stale []*remoteConn
		for _, c := range rr.conns {
			if now.Sub(time.Unix(0, c.lastSeen.Load())) > limit {
				stale = append(stale, c)
			}
		}
		rr.mu.Unlock()
		for _, c := range stale {
			c.closed.Store(true)
			rr.remove(c)
			if cl := c.client.Load(); cl != nil {
				n.log.Info("relayed member not heard of: offline", "room", rr.room, "relay", c.relay)
				cl.Leave(false)
			}
		}
	}
}

// heard marks the members a relaying node named in its heartbeat.
func (n *Node) heard(from string, ids []string) {
	named := make(map[string]bool, len(ids))
	for _, id := range ids {
		named[id] = true
	}
	now := time.Now().UnixNano()
	n.mu.RLock()
	defer n.mu.RUnlock()
	for _, rr := range n.remotes {
		rr.mu.Lock()
		for id, c := range rr.conns {
			if c.relay == from && named[id] {
				c.lastSeen.Store(now)
			}
		}
		rr.mu.Unlock()
	}
}

// errReply names a join's failure for the relaying node (joinError).
func errReply(err error) joinReply {
	var gone *rooms.TypeGoneError
	kind := "busy"
	switch {
	case errors.As(err, &gone):
		return joinReply{Err: "type_gone", Detail: gone.Type}
	case errors.Is(err, rooms.ErrOwnedElsewhere):
		kind = "moved"
	case errors.Is(err, rooms.ErrRoomFailed):
		kind = "failed"
	case errors.Is(err, rooms.ErrNotFound):
		kind = "not_found"
	case errors.Is(err, rooms.ErrRoomClosed):
		kind = "closed"
	case errors.Is(err, rooms.ErrStopped):
		kind = "stopped"
	case errors.Is(err, rooms.ErrUnrecoverable):
		kind = "unrecoverable"
	}
	return joinReply{Err: kind, Detail: err.Error()}
}

func (n *Node) reply(m *nats.Msg, r joinReply) {
	b, _ := json.Marshal(r) // plain struct: never fails
	if err := m.Respond(b); err != nil {
		n.log.Debug("join reply not sent", "err", err)
	}
}

// onCtl handles what a relaying node sends for its members: in order, on
// the subscription's goroutine (none of it blocks).
func (n *Node) onCtl(m *nats.Msg) {
	if m.Header.Get(hdrOp) == opHeartbeat {
		var ids []string
		if json.Unmarshal(m.Data, &ids) == nil {
			n.heard(m.Header.Get(hdrFrom), ids)
		}
		return
	}
	room, id := m.Header.Get(hdrRoom), m.Header.Get(hdrConn)
	n.mu.RLock()
	rr := n.remotes[room]
	n.mu.RUnlock()
	var c *remoteConn
	if rr != nil {
		c = rr.conn(id)
	}
	var client *rooms.Client
	if c != nil {
		client = c.client.Load()
	}
	op := m.Header.Get(hdrOp)
	if client == nil && op == opLeave {
		if c != nil {
			c.closed.Store(true) // joinRemote lets go of it once its join returns
		} else {
			n.noteLeft(id)
		}
		return
	}
	if client == nil {
		if c == nil {
			// Not a member here (the room moved, or this node restarted):
			// the relaying node closes it, and it comes back to the owner.
			from := m.Header.Get(hdrFrom)
			if from != "" {
				h := nats.Header{hdrConn: {id}, hdrClose: {strconv.Itoa(rooms.CloseRestart)}, hdrReason: {"room moved to another node"}}
				_ = n.nc.PublishMsg(&nats.Msg{Subject: n.subjIn(from), Header: h}) // best effort, as any close
			}
		}
		return
	}
	switch op {
	case opInput:
		seq, err := strconv.ParseUint(m.Header.Get(hdrSeq), 10, 64)
		if err != nil {
			return
		}
		if err := client.Input(seq, m.Data); errors.Is(err, rooms.ErrRoomBusy) {
			c.Send(state.EncodeError(state.ErrCodeRoomBusy, "room busy: input dropped"))
		}
	case opChat:
		var ch chatMsg
		if json.Unmarshal(m.Data, &ch) != nil {
			return
		}
		if err := client.Chat(ch.Text, ch.To, ch.HasTo); errors.Is(err, rooms.ErrRoomBusy) {
			c.Send(state.EncodeError(state.ErrCodeRoomBusy, "room busy: chat message dropped"))
		}
	case opResync:
		_ = client.Resync() // busy: the relaying node asks again
	case opLeave:
		c.closed.Store(true)
		rr.remove(c)
		client.Leave(string(m.Data) == "1")
	}
}
