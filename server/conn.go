package server

import (
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/tickroom/tickroom/internal/melody"
	"golang.org/x/time/rate"

	"github.com/tickroom/tickroom/rooms"
)

// wsConn adapts a melody session to rooms.Conn. melody runs the session
// (upgrade, reads on its event loop, pings, close); data frames go out through the
// session's sock, written from the room's goroutine (see sock). A Send the
// sock refuses is reported to the room, which sends a snapshot next: no
// message is ever dropped silently.
type wsConn struct {
	s       *melody.Session
	sock    *sock        // set by the upgrade's Hijack, before the session starts: &sockMem
	sockMem sock         // the sock itself, allocated with the wsConn
	batch   *tickBatcher // the server's, with Config.IOUring; else nil

	// ready tells handleWS that the upgrade is done (nil) or failed; it is
	// sent to and dropped by the session goroutine, so an open connection
	// does not keep it.
	ready        chan error
	closed       atomic.Bool
	disconnected atomic.Bool // onDisconnect ran

	writeWait time.Duration
	limit     int

	metrics *metrics
	ip      string           // the client's address, for the per-address session count
	roomID  string           // the room the connection asked for
	member  rooms.Membership // set once the join is done: a room here, or relayed to its owner

	// Read-side limits, used only by melody's reader (its event loop); the
	// chat and violation limiters are made when first needed (most members
	// of a big room never chat or misbehave).
	inputs     *rate.Limiter
	chats      *rate.Limiter
	violations *rate.Limiter
	lastNotice time.Time
	// lastRateViolation is when going over a rate limit last counted.
	lastRateViolation time.Time

	closeCode atomic.Int32 // close code the client sent, if any
}

func newWSConn(cfg Config, m *metrics) *wsConn {
	return &wsConn{
		metrics:   m,
		writeWait: cfg.WriteWait,
		limit:     cfg.SendQueue,
		inputs:    rate.NewLimiter(rate.Limit(cfg.InputRate), cfg.InputBurst),
	}
}

// Send implements rooms.Conn.
func (c *wsConn) Send(msg []byte) bool {
	return !c.closed.Load() && c.sock.SendBinary(msg)
}

// Gone implements rooms.GoneConn: the connection is ending (the server
// closed it, the socket failed because the client vanished or stopped
// reading past the write deadline, or the read loop ended and closed it),
// so a refused Send says nothing about the client being slow.
func (c *wsConn) Gone() bool { return c.closed.Load() || c.sock.ending.Load() }

// written counts data frames once they are written.
func (c *wsConn) written(frames, bytes int) {
	c.metrics.msgsOut.Add(float64(frames))
	c.metrics.bytesOut.Add(float64(bytes))
}

// Close implements rooms.Conn: a close frame with the code and reason, once.
func (c *wsConn) Close(code int, reason string) {
	if !c.closed.CompareAndSwap(false, true) {
		return
	}
	c.metrics.closes.WithLabelValues(strconv.Itoa(code)).Inc()
	// The session may already be closed; then there is nobody to tell.
	_ = c.s.CloseWithMsg(melody.FormatCloseMessage(code, closeReason(reason)))
}

// closeReason cuts a reason to the 123 bytes a close frame can carry,
// without splitting a character.
func closeReason(s string) string {
	const maxLen = 123
	if len(s) <= maxLen {
		return s
	}
	s = s[:maxLen]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// signalReady hands handleWS the upgrade's outcome, once. Called only from
// the session goroutine.
func (c *wsConn) signalReady(err error) {
	if c.ready != nil {
		c.ready <- err
		c.ready = nil
	}
}
