package rooms

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/tickroom/tickroom/state"
)

// seat is a member's place in the room. It outlives connections: a dropped
// member keeps it for SeatGrace and gets it back with the resume token.
type seat struct {
	member       *Member
	token        string
	playerID     string  // verified identity, if the server has auth on
	client       *Client // nil while offline
	offlineSince time.Time
	needSnapshot bool        // the next message must be a snapshot
	stuckTicks   int         // ticks spent unable to take that snapshot
	all          *state.View // a spectator's view in a Views room: every group
}

// seat handles a join on the room goroutine: a held seat back for a known
// token, or a new seat while there is room.
func (r *Room) seat(c *Client) {
	if c.gone.Load() {
		return
	}
	if s := r.byToken[c.token]; c.token != "" && s != nil && (s.playerID == "" || s.playerID == c.playerID) {
		r.resume(s, c)
		return
	}
	if s := r.byPlayer[c.playerID]; c.playerID != "" && s != nil {
		r.resume(s, c)
		return
	}
	if len(r.seats) >= r.MaxPlayers {
		c.conn.Close(CloseFull, fmt.Sprintf("room full (%d players)", r.MaxPlayers))
		return
	}
	r.reserveMember()
	r.nextMember++
	m := &Member{Number: r.nextMember, Name: cleanName(c.name, r.cfg.NameMaxLen, r.nextMember)}
	var refused error
	r.mutate(func() {
		r.logOp(Op{Kind: OpJoin, Member: m.Number, Name: m.Name})
		refused = driveJoin(&r.ctx, r.handler, m)
		r.logPanic(refused)
	})
	if refused != nil {
		c.conn.Close(CloseRefused, truncate("join refused: "+refused.Error(), 120))
		return
	}
	s := &seat{member: m, token: seatToken(r.secret, m.Number), client: c, playerID: c.playerID}
	m.seat = s
	m.PlayerID = c.playerID
	c.seat = s
	r.seats = append(r.seats, s)
	r.byToken[s.token] = s
	if s.playerID != "" {
		r.byPlayer[s.playerID] = s
	}
	r.players.Store(int32(len(r.seats)))
	r.log.Info("member joined", "member", m.Number, "name", m.Name, "session", c.session)
	r.membersChanged()
	r.welcome(s, false)
	r.broadcastEvent(&state.Event{Type: "join", Member: m.Number, Name: m.Name, Entity: entityID(m)})
}

// seatToken is the resume token of a room's member: an HMAC of the
// member's number under the room's secret. A woken room gives every seat
// its token back without storing tokens anywhere (least of all in its log,
// which is served as a replay), and a member number is never reused, so a
// token never names another member's seat.
func seatToken(secret []byte, member uint32) string {
	mac := hmac.New(sha256.New, secret)
	_, _ = mac.Write(binary.BigEndian.AppendUint32([]byte("seat:"), member)) // hash writes never fail
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:16])
}

// watch adds a spectator: a seat with no member, kept in watchers.
func (r *Room) watch(c *Client) {
	if c.gone.Load() {
		return
	}
	s := &seat{client: c}
	c.seat = s
	r.mutate(func() {}) // cache the snapshot of the last tick before sending it
	r.watchers = append(r.watchers, s)
	r.watching.Store(int32(len(r.watchers)))
	r.welcome(s, false)
}

// resume gives a held seat to a new connection. A connection still holding
// it is closed as replaced.
func (r *Room) resume(s *seat, c *Client) {
	if old := s.client; old != nil {
		old.seat = nil
		old.conn.Close(CloseReplaced, "replaced: this seat was resumed by another connection")
	}
	s.client, s.offlineSince, s.stuckTicks = c, time.Time{}, 0
	c.seat = s
	r.log.Info("member resumed", "member", s.member.Number, "session", c.session)
	r.welcome(s, true)
	r.broadcastEvent(&state.Event{Type: "online", Member: s.member.Number, Name: s.member.Name})
}

// welcome sends the welcome and the last published snapshot. The member's
// own entity, if spawned since, arrives in the next delta.
func (r *Room) welcome(s *seat, resumed bool) {
	w := &state.Welcome{
		V: state.ProtocolVersion, Room: r.ID, Type: r.Type.Name, Session: s.client.session,
		Token: s.token, Resumed: resumed, TickRate: r.Type.TickRate,
		Kinds: r.Type.Schema.Wire(), Members: r.memberInfos(), Options: r.Options,
	}
	if m := s.member; m != nil {
		w.Member, w.Entity, w.Chat = m.Number, entityID(m), r.chatFor(m.Number)
	} else {
		w.Spectator, w.Chat = true, r.chatFor(0)
	}
	b, err := state.EncodeWelcome(w)
	if err != nil {
		r.log.Error("welcome", "err", err)
		s.client.conn.Close(CloseInternalError, "internal error")
		return
	}
	if r.world.Views() {
		// The member's view snapshot follows with the next tick, built for
		// the view its Join (or the ticks since) gave it.
		s.needSnapshot = true
		if !s.client.conn.Send(b) {
			r.closeSlow(s, "slow consumer: could not take the welcome")
		}
		return
	}
	s.needSnapshot = false
	if !s.client.conn.Send(b) || !s.client.conn.Send(r.currentSnapshot()) {
		r.closeSlow(s, "slow consumer: could not take the welcome")
		return
	}
	r.stats.Snapshots.Add(1)
}

// drop handles a connection that ended. An explicit leave frees the seat;
// otherwise it is held for SeatGrace.
func (r *Room) drop(c *Client) {
	s := c.seat
	if s == nil || s.client != c {
		return // already replaced, or never seated
	}
	if s.member == nil { // a spectator leaves no trace
		c.seat, s.client = nil, nil
		for i, x := range r.watchers {
			if x == s {
				r.watchers = append(r.watchers[:i], r.watchers[i+1:]...)
				break
			}
		}
		r.watching.Store(int32(len(r.watchers)))
		return
	}
	c.seat = nil
	s.client = nil
	if c.explicit.Load() {
		r.removeSeat(s, "left")
		return
	}
	s.offlineSince = time.Now()
	r.log.Info("member offline", "member", s.member.Number, "session", c.session, "reason", "connection lost")
	r.broadcastEvent(&state.Event{Type: "offline", Member: s.member.Number, Name: s.member.Name})
}

// closeSlow closes a member's connection as a slow consumer; the seat is
// held like any dropped connection, so the member can resume.
func (r *Room) closeSlow(s *seat, reason string) {
	c := s.client
	if c == nil {
		return
	}
	if g, ok := c.conn.(GoneConn); ok && g.Gone() {
		r.log.Debug("connection gone", "session", c.session, "spectator", s.member == nil)
		r.drop(c)
		return
	}
	r.stats.SlowClosed.Add(1)
	r.log.Warn("closing slow consumer", "session", c.session, "spectator", s.member == nil)
	c.conn.Close(CloseSlowConsumer, reason)
	r.drop(c)
}

// expireSeats frees seats whose holder stayed away past SeatGrace, and
// notices connections that ended without a queued leave.
func (r *Room) expireSeats(now time.Time) {
	for i := 0; i < len(r.watchers); i++ {
		if c := r.watchers[i].client; c != nil && c.gone.Load() {
			r.drop(c)
			i--
		}
	}
	for i := 0; i < len(r.seats); i++ {
		s := r.seats[i]
		if s.client != nil && s.client.gone.Load() {
			r.drop(s.client)
		}
		if s.client == nil && !s.offlineSince.IsZero() && now.Sub(s.offlineSince) >= r.cfg.SeatGrace {
			r.removeSeat(s, "timeout")
			i--
		}
	}
}

// removeSeat ends a membership: the handler's Leave, and a leave event.
func (r *Room) removeSeat(s *seat, reason string) {
	for i, x := range r.seats {
		if x == s {
			r.seats = append(r.seats[:i], r.seats[i+1:]...)
			break
		}
	}
	delete(r.byToken, s.token)
	if s.playerID != "" && r.byPlayer[s.playerID] == s {
		delete(r.byPlayer, s.playerID)
	}
	r.players.Store(int32(len(r.seats)))
	m := s.member
	r.mutate(func() {
		r.logOp(Op{Kind: OpLeave, Member: m.Number})
		r.logPanic(driveLeave(&r.ctx, r.handler, m))
	})
	if c := s.client; c != nil {
		c.seat = nil
		s.client = nil
		c.conn.Close(CloseKicked, "removed from the room")
	}
	r.log.Info("member left", "member", m.Number, "name", m.Name, "reason", reason)
	r.membersChanged()
	r.broadcastEvent(&state.Event{Type: "leave", Member: m.Number, Name: m.Name, Reason: reason})
}

// Kick removes a member from the room for good.
func (r *Room) Kick(member uint32) error {
	return r.try(func() {
		for _, s := range r.seats {
			if s.member.Number == member {
				r.removeSeat(s, "kicked")
				return
			}
		}
	})
}

// sendTo sends one message to a seat's connection; a member that cannot
// take it is closed as slow rather than silently missing it.
func (r *Room) sendTo(s *seat, msg []byte) {
	if c := s.client; c != nil && !c.gone.Load() && !c.conn.Send(msg) {
		r.closeSlow(s, "slow consumer: could not take an event")
	}
}

// sendEvent sends a broadcast event to a seat, or leaves it to the seat's
// fan-out (returned).
func (r *Room) sendEvent(s *seat, msg []byte, fan Fanout) Fanout {
	if c := s.client; c != nil && c.fan != nil {
		if !c.gone.Load() {
			return c.fan
		}
		return fan
	}
	r.sendTo(s, msg)
	return fan
}

// broadcastEvent encodes an event once and sends it to every online member.
func (r *Room) broadcastEvent(ev *state.Event) {
	b, err := state.EncodeEvent(ev)
	if err != nil {
		r.log.Error("encode event", "err", err)
		return
	}
	var fan Fanout
	for _, s := range r.seats {
		fan = r.sendEvent(s, b, fan)
	}
	for _, s := range r.watchers {
		fan = r.sendEvent(s, b, fan)
	}
	if fan != nil {
		fan.Broadcast(b)
	}
	r.record("event", func() error { return r.recorder.Event(r.world.Tick(), b) })
}

func (r *Room) memberList() []*Member {
	out := make([]*Member, len(r.seats))
	for i, s := range r.seats {
		out[i] = s.member
	}
	return out
}

func (r *Room) memberInfos() []state.MemberInfo {
	out := make([]state.MemberInfo, len(r.seats))
	for i, s := range r.seats {
		m := s.member
		out[i] = state.MemberInfo{Member: m.Number, Name: m.Name, Entity: entityID(m), Online: s.client != nil}
	}
	return out
}

func entityID(m *Member) *state.EntityID {
	if m.Entity == nil {
		return nil
	}
	id := m.Entity.ID()
	return &id
}

// cleanName trims a requested display name, drops control and format
// characters, and limits its length; an empty result becomes "player-N".
func cleanName(name string, maxLen int, n uint32) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.Join(strings.Fields(name), " ")
	name = truncate(name, maxLen)
	if name == "" {
		return fmt.Sprintf("player-%d", n)
	}
	return name
}

func truncate(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// Members returns the room's members as the welcome lists them, read on the
// room goroutine (admin and monitoring).
func (r *Room) Members(timeout time.Duration) ([]state.MemberInfo, error) {
	var out []state.MemberInfo
	done := make(chan struct{})
	if err := r.do(func() { defer close(done); out = r.memberInfos() }, timeout); err != nil {
		return nil, err
	}
	select {
	case <-done:
		return out, nil
	case <-r.done:
		return nil, ErrRoomClosed
	}
}
