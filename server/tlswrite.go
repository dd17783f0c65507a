package server

import (
	"net"
	"sync/atomic"
	"time"
)

// nbTCP is an accepted TCP connection whose writes can be handed to a sock
// of their own once it carries a TLS WebSocket (nonBlocking). The TLS
// WebSocket's sock then writes its frames through crypto/tls on the
// caller's goroutine, as a plain one does with write(2): TLS encrypts and
// hands the records to this connection, whose sock writes them without
// blocking and queues what the socket does not take behind its flusher. So
// a TLS member's tick costs no goroutine, only while its socket is full
// (issue 15; before, every TLS frame was queued and written by a flusher
// goroutine started for it).
//
// Until then, and for every connection that is not a TLS WebSocket, it is
// the TCP connection.
type nbTCP struct {
	*net.TCPConn
	under atomic.Pointer[sock]
	// released gives the connection's per-address slot back (the
	// connLimiter's trackedConn): over TLS the records' sock closes the
	// TCP connection itself, and trackedConn.Close is never called.
	released func()
}

// closeHook closes the TCP connection and then tells released.
type closeHook struct {
	*net.TCPConn
	released func()
}

func (c closeHook) Close() error {
	err := c.TCPConn.Close()
	c.released()
	return err
}

func (c *nbTCP) Write(p []byte) (int, error) {
	if s := c.under.Load(); s != nil {
		return s.Write(p)
	}
	return c.TCPConn.Write(p)
}

// Close closes at once, or, once writes go through the sock, after its
// queue has drained (the sock lingers: see sock.Close).
func (c *nbTCP) Close() error {
	if s := c.under.Load(); s != nil {
		return s.Close()
	}
	return c.TCPConn.Close()
}

// nonBlocking sends every later write through a sock on the TCP
// connection, and returns it. Called once, by the TLS WebSocket's sock,
// when the upgrade hijacks the connection: nothing else writes to it then.
func (c *nbTCP) nonBlocking(writeWait time.Duration) *sock {
	var conn net.Conn = c.TCPConn
	if c.released != nil {
		conn = closeHook{c.TCPConn, c.released}
	}
	s := newSock(conn, writeWait, 0, func(int, int) {})
	s.records = true
	c.under.Store(s)
	return s
}

// recordWriter is what a TLS connection's own connection offers when its
// writes can be made not to block (nbTCP).
type recordWriter interface {
	nonBlocking(writeWait time.Duration) *sock
}

// backlog is, for a TLS WebSocket's records sock, how many data frames
// have records waiting in the queue or being written by the flusher (a
// frame of 20 KiB is two records and counts once), the bytes waiting in
// the queue, and the error that failed the sock (its flusher's write timed
// out, say).
func (s *sock) backlog() (frames, queued int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.qFrames + s.inFlight, len(s.queue), s.err
}

// frame marks the start (true) and the end (false) of one data frame's
// records, written by crypto/tls between the two calls (sendTLS).
func (s *sock) frame(start bool) {
	s.mu.Lock()
	s.dataFrame, s.frameQueued = start, false
	s.mu.Unlock()
}

// SetWriteDeadline is ignored once writes go through the sock: they never
// block, and its flusher sets its own deadline. (crypto/tls sets one around
// its close_notify, which would otherwise cut the flusher's write short and
// lose what it was writing.)
func (c *nbTCP) SetWriteDeadline(t time.Time) error {
	if c.under.Load() != nil {
		return nil
	}
	return c.TCPConn.SetWriteDeadline(t)
}

// SetDeadline sets only the read deadline once writes go through the sock.
func (c *nbTCP) SetDeadline(t time.Time) error {
	if c.under.Load() != nil {
		return c.TCPConn.SetReadDeadline(t)
	}
	return c.TCPConn.SetDeadline(t)
}
