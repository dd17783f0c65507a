package server

import (
	"strconv"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/olahol/melody"
	"golang.org/x/time/rate"

	"github.com/tickroom/tickroom/rooms"
)

// wsConn adapts a melody session to rooms.Conn.
//
// melody drops a message silently when a session's buffer is full. wsConn
// never lets that happen: it counts messages queued but not yet written
// (written ones are counted back by melody's sent handler) and refuses a
// Send past its limit, so the room knows and sends a snapshot next. The
// session buffer is two slots larger than the limit, so a close frame
// always fits.
type wsConn struct {
	s       *melody.Session
	limit   int32
	pending atomic.Int32
	closed  atomic.Bool

	metrics *metrics
	room    *rooms.Room   // nil when the id named no room
	client  *rooms.Client // set once the join is queued

	// Read-side limits, used only by the session's read goroutine.
	inputs     *rate.Limiter
	chats      *rate.Limiter
	violations *rate.Limiter
	lastNotice time.Time

	closeCode atomic.Int32 // close code the client sent, if any
}

func newWSConn(room *rooms.Room, cfg Config, m *metrics) *wsConn {
	return &wsConn{
		metrics:    m,
		room:       room,
		limit:      int32(cfg.SendQueue),
		inputs:     rate.NewLimiter(rate.Limit(cfg.InputRate), cfg.InputBurst),
		chats:      rate.NewLimiter(rate.Limit(cfg.ChatRate), cfg.ChatBurst),
		violations: rate.NewLimiter(rate.Limit(cfg.ViolationRate), cfg.ViolationBurst),
	}
}

// Send implements rooms.Conn.
func (c *wsConn) Send(msg []byte) bool {
	for {
		n := c.pending.Load()
		if n >= c.limit || c.closed.Load() {
			return false
		}
		if c.pending.CompareAndSwap(n, n+1) {
			break
		}
	}
	if err := c.s.WriteBinary(msg); err != nil {
		c.pending.Add(-1)
		return false
	}
	return true
}

// sent is called by melody after a binary message was written.
func (c *wsConn) sent(n int) {
	c.pending.Add(-1)
	c.metrics.msgsOut.Inc()
	c.metrics.bytesOut.Add(float64(n))
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
