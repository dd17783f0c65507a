package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	"github.com/tickroom/tickroom/internal/melody"
	"golang.org/x/time/rate"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// newMelody configures melody explicitly: its defaults (512-byte read limit,
// 256-message buffers, any origin) are not acceptable here.
func (s *Server) newMelody() *melody.Melody {
	m := melody.New()
	m.Config.MaxMessageSize = s.cfg.ReadLimit
	m.Config.WriteWait = s.cfg.WriteWait
	m.Config.PongWait = s.cfg.PongWait
	m.Config.PingPeriod = s.cfg.PingPeriod
	// Data frames are written through the session's sock (see sock.go);
	// melody writes only control frames, to the same sock.
	m.Upgrader = &websocket.Upgrader{
		// gorilla does only the handshake; melody reads and writes the
		// frames (internal/melody). Small buffers, dropped with gorilla's
		// Conn right after the upgrade.
		ReadBufferSize:  128,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     checkOrigin(s.cfg.AllowedOrigins),
	}
	m.HandleConnect(s.onConnect)
	m.HandleMessageBinary(s.onMessage)
	m.HandleMessage(func(ms *melody.Session, _ []byte) {
		conn := connOf(ms)
		defer s.recovered(conn, "text")
		s.refuse(conn, state.ErrCodeBadMessage, "text frames are not accepted: send binary MessagePack frames")
	})
	m.HandleClose(func(ms *melody.Session, code int, text string) error {
		conn := connOf(ms)
		defer s.recovered(conn, "close")
		conn.closeCode.Store(int32(code))
		// Answer the close handshake as melody's default handler would.
		return ms.CloseWithMsg(melody.FormatCloseMessage(code, ""))
	})
	m.HandleDisconnect(s.onDisconnect)
	m.HandleError(func(ms *melody.Session, err error) {
		defer s.recovered(connOf(ms), "error")
		if !errors.Is(err, melody.ErrWriteClosed) && !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway, websocket.CloseNoStatusReceived) {
			s.log.Debug("session error", "err", err)
		}
	})
	return m
}

// checkOrigin allows pages from this server's own host, the configured
// origins, and clients that send no Origin (browsers always send one).
func checkOrigin(allowed []string) func(*http.Request) bool {
	return func(r *http.Request) bool {
		origin := r.Header.Get("Origin")
		if origin == "" {
			return true
		}
		u, err := url.Parse(origin)
		if err != nil {
			return false
		}
		if strings.EqualFold(u.Host, r.Host) {
			return true
		}
		for _, a := range allowed {
			if strings.EqualFold(strings.TrimSuffix(a, "/"), origin) {
				return true
			}
		}
		return false
	}
}

// connOf finds a session's wsConn through its connection, the sock that
// the upgrade's Hijack made (no keys map, and no request kept for it).
func connOf(ms *melody.Session) *wsConn { return ms.NetConn().(*sock).owner }

// handleWS upgrades GET /ws/{id}. The room is found (and woken, if it
// sleeps) after the upgrade, in melody's connect handler: even for an
// unknown room the upgrade goes ahead, so that a browser learns why from
// the close code (4004).
//
// The upgrade and the join run on a goroutine of their own, with a trimmed
// copy of the request, and the handler returns as soon as the upgrade is
// done (or has failed): a join may wait (a room waking from its log, a
// cluster join over NATS), and net/http's buffers and the request are let
// go at once. melody's HandleRequest returns once the session is handed to
// its event loop (internal/melody), and that goroutine ends: an open
// session has no goroutine of its own. The session's end (onDisconnect)
// gives back its place in s.sessions and its address's count.
func (s *Server) handleWS(c echo.Context) error {
	if !websocket.IsWebSocketUpgrade(c.Request()) {
		return apiError(http.StatusBadRequest, "bad_request", "this endpoint takes WebSocket upgrades")
	}
	ip := c.RealIP()
	if !s.perIP.openSession(ip, s.cfg.SessionsPerIP) {
		s.metrics.refused.WithLabelValues("sessions_per_ip").Inc()
		return apiError(http.StatusTooManyRequests, "too_many_requests", "too many connections from your address")
	}
	conn := newWSConn(s.cfg, s.metrics)
	conn.batch = s.batch
	conn.roomID = c.Param("id")
	conn.ip = ip
	ready := make(chan error, 1)
	conn.ready = ready
	w, r := sockWriter{c.Response(), conn}, sessionRequest(c.Request(), conn)
	s.sessions.Add(1)
	go func() {
		err := errSessionPanicked
		defer func() {
			conn.signalReady(err) // a failed upgrade never reached onConnect
			if conn.s == nil {    // no session: onDisconnect will not run
				s.sessions.Done()
				s.perIP.closeSession(ip)
			}
		}()
		defer s.recoverSession(conn)
		err = s.melody.HandleRequest(w, r)
	}()
	// Until melody has upgraded (onConnect) or failed, it may use the
	// response writer, which belongs to this handler call.
	err := <-ready
	if err != nil && conn.sock != nil {
		return nil // it failed after the connection was taken over: nothing can be answered on it
	}
	if err != nil && !c.Response().Committed {
		return apiError(http.StatusServiceUnavailable, "unavailable", "could not open the WebSocket: "+err.Error())
	}
	if err == nil {
		c.Response().Status = http.StatusSwitchingProtocols // for the request log
	}
	return nil
}

var errSessionPanicked = errors.New("the session's handler panicked")

// testHookOnMessage, when set, runs first in every onMessage: a seam for
// tests of what a panicking handler costs (TestPanickingHandlerEndsOnlyItsSession).
var testHookOnMessage atomic.Pointer[func([]byte)]

// recoverSession is the last guard of the upgrade goroutine: a panic that
// escaped melody (every callback of ours recovers its own) ends this
// session, never the process. Its socket is closed at once and the member
// goes offline as on a disconnect; only melody's own registry entry cannot
// be reached. (On melody's event loop, a panic ends its session the same
// way: internal/melody.) It must be deferred directly.
func (s *Server) recoverSession(conn *wsConn) {
	if p := recover(); p != nil {
		s.log.Error("session panicked", "panic", p, "stack", string(debug.Stack()))
		if conn.sock != nil {
			conn.sock.mu.Lock()
			conn.sock.fail(errSessionPanicked)
			conn.sock.mu.Unlock()
		}
		if conn.s != nil {
			_ = conn.s.Close()
			s.onDisconnect(conn.s)
		}
	}
}

// recovered keeps a panic in one of melody's callbacks to its session:
// the client is closed with 1011 and melody's own clean-up still runs. It
// must be deferred directly.
func (s *Server) recovered(conn *wsConn, where string) {
	if p := recover(); p != nil {
		s.log.Error("session handler panicked", "where", where, "panic", p, "stack", string(debug.Stack()))
		if conn.s != nil {
			conn.Close(rooms.CloseInternalError, "internal error")
		}
	}
}

// sessionRequest copies what the upgrade and the session need of r: the
// handshake headers, the URL (its query has the join parameters), the
// remote address, and conn in its context.
func sessionRequest(r *http.Request, conn *wsConn) *http.Request {
	h := make(http.Header, 8)
	for _, k := range []string{"Connection", "Upgrade", "Sec-Websocket-Version", "Sec-Websocket-Key", "Sec-Websocket-Extensions", "Sec-Websocket-Protocol", "Origin"} {
		if v, ok := r.Header[k]; ok {
			h[k] = slices.Clone(v)
		}
	}
	u := *r.URL
	return (&http.Request{
		Method: r.Method, URL: &u, Proto: r.Proto, ProtoMajor: r.ProtoMajor, ProtoMinor: r.ProtoMinor,
		Header: h, Host: r.Host, RemoteAddr: r.RemoteAddr,
	})
}

func (s *Server) onConnect(ms *melody.Session) {
	conn := connOf(ms)
	conn.s = ms
	conn.signalReady(nil) // handleWS may return now
	defer s.recovered(conn, "connect")
	q := ms.Request.URL.Query()
	// The handshake is over: nothing uses the request any more (the
	// address is the connection's), so an open session does not keep it.
	ms.Request = nil
	conn.sock.onFail(ms.Abort) // a broken socket ends the session at once
	s.conns.Store(conn, struct{}{})
	s.metrics.sessions.Inc()
	role, err := s.links.role(conn.roomID, q, time.Now())
	if err != nil {
		conn.Close(rooms.CloseRefused, "join refused: "+err.Error())
		return
	}
	req := rooms.JoinRequest{Name: q.Get("name"), Token: q.Get("token")}
	if s.cfg.JWTSecret != "" && role != RoleSpectator {
		id, name, aerr := verifyPlayer([]byte(s.cfg.JWTSecret), q.Get("auth"))
		if aerr != nil {
			s.metrics.refused.WithLabelValues("auth").Inc()
			conn.Close(rooms.CloseRefused, "join refused: "+aerr.Error())
			return
		}
		req.PlayerID = id
		if name != "" {
			req.Name = name
		}
	}
	member, err := s.enter(conn, role, req)
	if err != nil {
		code, reason := closeFor(err)
		conn.Close(code, reason)
		return
	}
	conn.member = member
	_, relayed := member.(*rooms.Client)
	s.log.Info("session open", "room", member.RoomID(), "session", member.Session(), "spectator", member.Spectator(),
		"relayed", !relayed, "remote", ms.RemoteAddr())
}

// enter opens the connection's room (waking it if it sleeps) and joins
// it. A room that stops between the two (it went to sleep that moment) is
// opened again: the join wakes it. In a cluster, a room that another node
// runs is joined through that node (Cluster.Join).
func (s *Server) enter(conn *wsConn, role string, req rooms.JoinRequest) (rooms.Membership, error) {
	var err error
	for range 3 {
		var room *rooms.Room
		room, err = s.rooms.Open(conn.roomID)
		var owned *rooms.OwnedError
		if errors.As(err, &owned) && s.cfg.Cluster != nil {
			return s.cfg.Cluster.Join(conn.roomID, owned, conn, role == RoleSpectator, req)
		}
		if err != nil {
			return nil, err
		}
		var client *rooms.Client
		if role == RoleSpectator {
			client, err = room.Spectate(conn)
		} else {
			client, err = room.JoinAs(conn, req)
		}
		if !errors.Is(err, rooms.ErrRoomClosed) {
			if err != nil {
				return nil, err
			}
			return client, nil
		}
	}
	return nil, err
}

// closeFor is the close code and reason for a connection whose join failed.
func closeFor(err error) (int, string) {
	var gone *rooms.TypeGoneError
	switch {
	case errors.As(err, &gone):
		return rooms.CloseTypeGone, fmt.Sprintf("room type %q is not on this server", gone.Type)
	case errors.Is(err, rooms.ErrRoomFailed):
		return rooms.CloseRoomFailed, "the room stopped on an error; it is kept and tried again when the server restarts"
	case errors.Is(err, rooms.ErrNotFound):
		return rooms.CloseNotFound, "room not found"
	case errors.Is(err, rooms.ErrRoomClosed):
		return rooms.CloseRoomClosed, "room closed"
	case errors.Is(err, rooms.ErrStopped):
		return rooms.CloseRestart, "server restarting"
	case errors.Is(err, rooms.ErrUnrecoverable):
		return rooms.CloseInternalError, "the room could not be restored"
	}
	return rooms.CloseTryAgainLater, "room busy, try again"
}

func (s *Server) onDisconnect(ms *melody.Session) {
	conn := connOf(ms)
	defer s.recovered(conn, "disconnect")
	if !conn.disconnected.CompareAndSwap(false, true) {
		return // already done by recoverSession
	}
	defer s.sessions.Done()
	defer s.perIP.closeSession(conn.ip)
	conn.closed.Store(true)
	s.conns.Delete(conn)
	s.metrics.sessions.Dec()
	if conn.member == nil {
		return
	}
	code := int(conn.closeCode.Load())
	conn.member.Leave(code == websocket.CloseNormalClosure)
	s.log.Info("session closed", "room", conn.member.RoomID(), "session", conn.member.Session(), "remote", ms.RemoteAddr(), "code", code)
}

// onMessage decodes one client frame and hands it to the room. It runs on
// melody's event loop, so decoding and validation cost the room nothing;
// the room only ever sees well-formed messages. data is melody's read
// buffer: nothing here keeps it (DecodeClient copies the input payload).
func (s *Server) onMessage(ms *melody.Session, data []byte) {
	conn := connOf(ms)
	defer s.recovered(conn, "message")
	if h := testHookOnMessage.Load(); h != nil {
		(*h)(data)
	}
	s.metrics.msgsIn.Inc()
	s.metrics.bytesIn.Add(float64(len(data)))
	if conn.member == nil || conn.closed.Load() {
		return // not seated, or closing: what arrives while lingering is drained unread
	}
	msg, err := state.DecodeClient(data)
	if errors.Is(err, state.ErrUnknownType) {
		s.refuse(conn, state.ErrCodeUnknownType, err.Error())
		return
	}
	if err != nil {
		s.refuse(conn, state.ErrCodeBadMessage, err.Error())
		return
	}
	member := conn.member
	switch msg.Type {
	case state.ClientInput:
		if !conn.inputs.Allow() {
			s.refuse(conn, state.ErrCodeRateLimited, "too many inputs: slow down")
			return
		}
		err := member.Input(msg.Seq, msg.Payload)
		if errors.Is(err, rooms.ErrSpectator) {
			s.refuse(conn, state.ErrCodeSpectator, "spectators cannot send inputs")
		}
		if errors.Is(err, rooms.ErrRoomBusy) {
			s.metrics.refused.WithLabelValues(state.ErrCodeRoomBusy).Inc()
			conn.Send(state.EncodeError(state.ErrCodeRoomBusy, "room busy: input dropped"))
		}
	case state.ClientChat:
		if conn.chats == nil {
			conn.chats = rate.NewLimiter(rate.Limit(s.cfg.ChatRate), s.cfg.ChatBurst)
		}
		if !conn.chats.Allow() {
			s.refuse(conn, state.ErrCodeRateLimited, "too many chat messages: slow down")
			return
		}
		err := member.Chat(msg.Text, msg.To, msg.HasTo)
		if errors.Is(err, rooms.ErrSpectator) {
			s.refuse(conn, state.ErrCodeSpectator, "spectators cannot chat")
		}
		if errors.Is(err, rooms.ErrRoomBusy) {
			conn.Send(state.EncodeError(state.ErrCodeRoomBusy, "room busy: chat message dropped"))
		}
	case state.ClientPing:
		conn.Send(state.EncodePong(msg.ClientTime, member.Tick()))
	case state.ClientResync:
		_ = member.Resync() // busy: the client asks again on the next mismatch
	}
}

// refuse answers a refused message with an error and counts it; a
// connection that keeps sending refused messages is closed with 1008.
//
// Going over a rate limit is a matter of timing, not a broken client: the
// inputs of a good client held up by its network arrive in one burst. So
// rate_limited refusals count as one violation per rateViolationEvery at
// most: a burst costs one, and only a flood that goes on (about ten seconds
// with the default budget) is closed. Every other refusal counts. Rate-limit
// notices are sent at most once a second so that a flood cannot make the
// server flood back.
func (s *Server) refuse(conn *wsConn, code, text string) {
	s.metrics.refused.WithLabelValues(code).Inc()
	now := time.Now()
	counted := true
	if code == state.ErrCodeRateLimited {
		if now.Sub(conn.lastRateViolation) < rateViolationEvery {
			counted = false
		} else {
			conn.lastRateViolation = now
		}
	}
	if counted && conn.violations == nil {
		conn.violations = rate.NewLimiter(rate.Limit(s.cfg.ViolationRate), s.cfg.ViolationBurst)
	}
	if counted && !conn.violations.Allow() {
		s.log.Warn("closing session for repeated violations", "code", code)
		conn.Close(rooms.ClosePolicy, "policy violation: too many refused messages")
		return
	}
	if code == state.ErrCodeRateLimited {
		if now.Sub(conn.lastNotice) < time.Second {
			return
		}
		conn.lastNotice = now
	}
	conn.Send(state.EncodeError(code, text))
}

// rateViolationEvery is how often going over a rate limit can count as a
// violation (see refuse).
const rateViolationEvery = 100 * time.Millisecond
