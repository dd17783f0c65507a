package server

import (
	"bufio"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// lingerTime is how long a closed WebSocket keeps reading before the socket
// really closes.
const lingerTime = time.Second

// sock is the server's side of one WebSocket's TCP connection. gorilla
// writes the handshake to it and melody (internal/melody) its control
// frames (pings, pongs, close); melody's event loop reads the descriptor
// (SyscallConn); the room writes data frames to it directly with
// SendBinary.
//
// Why not melody's write pump: sending through it costs, per member per
// tick, a channel send, waking the session's write goroutine, a write
// deadline (a timer) and a park, which is more CPU than the write itself
// (docs/BENCHMARKS.md). SendBinary instead writes the frame from the
// caller's goroutine with a non-blocking write(2). Only when the socket's
// buffer is full does the rest wait in a queue that a short-lived flusher
// goroutine writes out with the write deadline; while it runs, every data
// frame joins the queue behind it, so frames keep their order and none is
// ever interleaved with another. The handshake and control frames (Write)
// take the same way, and are never refused for a full data queue. A full
// queue refuses a data frame (SendBinary returns false: the room sends a
// snapshot next or closes the member).
//
// Each Write must carry whole frames: true for everything gorilla and
// melody write here (the handshake, one control frame a call), since data
// frames never go through them. Once a close frame has been written,
// nothing more is: data frames are refused and control frames dropped
// (RFC 6455 section 5.5.1).
//
// The queue is bounded: at most limit data frames and maxQueueBytes in
// all. A client that makes the server queue more than that without reading
// (pings answered with pongs, say) is cut off. The flusher's write deadline
// applies to each chunk of the queue it writes, so a slow but steady
// reader is not mistaken for a stuck one.
//
// Over TLS the descriptor's bytes are records, not frames. When the TCP
// connection under TLS is the server's own (nbTCP, from Server.Listener),
// its writes go through a second sock (under): the frame is written with
// crypto/tls from the caller's goroutine, which encrypts it and hands the
// records to under, which writes them without blocking and queues the rest
// (tlswrite.go). A data frame is refused while under holds limit data
// frames (however many records each took) or more than maxQueueBytes.
// Without it (a TLS connection made elsewhere), every frame goes through
// this sock's queue and a flusher goroutine. Either way melody reads a TLS
// connection from a goroutine of its own: TLS is better terminated in
// front of the server (docs/BENCHMARKS.md, issue 15).
//
// Close lingers: gorilla closes the socket right after a close frame; if the
// client is still sending (a flood being closed with 1008, say), unread
// bytes make the kernel answer with a reset, and the client's kernel throws
// away the close frame and the errors before it. So Close waits for the
// queue to drain, shuts only the write side (the client gets the close frame
// and then end-of-stream), lets reading go on for lingerTime, during which
// the read loop drains what the client sent and sees its close reply, and
// only then closes the socket. Guarded by TestFloodCloseCodeReachesTheClient.
//
// A write that fails closes the socket at once (fail) and tells melody
// (onFail), whose event loop would otherwise never hear of it: a closed
// descriptor leaves epoll without an event.
type sock struct {
	net.Conn
	raw       syscall.RawConn // nil when there is no descriptor to write to (TLS)
	fd        int32           // raw's descriptor, for the tick's io_uring submission; -1 without raw
	owner     *wsConn         // the WebSocket this is the connection of (connOf)
	under     *sock           // TLS over an nbTCP: the sock its records go through
	records   bool            // this sock carries TLS records, not WebSocket frames (an nbTCP's)
	writeWait time.Duration
	limit     int                     // most data frames waiting in the queue
	written   func(frames, bytes int) // data frames and their payload bytes, once written

	mu       sync.Mutex
	queue    []byte // bytes the flusher has still to write
	qFrames  int    // data frames in queue (for under: frames whose records are)
	qBytes   int    // their payload bytes
	inFlight int    // data frames the flusher is writing now
	flushing bool
	// Set on under by its TLS sock while crypto/tls writes one data
	// frame's records (sendTLS): the frame is counted once, when its first
	// record is queued, and was admitted whole, so its records are not
	// refused for the queue's size.
	dataFrame, frameQueued bool
	flushes                int         // flusher goroutines started, for tests
	closeSent              bool        // a close frame went into the stream: nothing follows it
	closed                 bool        // Close was called
	lingered               bool        // lingerClose ran
	err                    error       // the first write error; the connection is finished
	ending                 atomic.Bool // Close was called or a write failed; read without mu
	failed                 func(error) // told of the first write error (onFail)
}

var errQueueFull = errors.New("send queue full: the client is not reading")

// maxQueueBytes bounds one connection's queue (see sock); flushChunk is how
// much the flusher writes under one write deadline.
const (
	maxQueueBytes = 4 << 20
	flushChunk    = 64 << 10
)

func newSock(c net.Conn, writeWait time.Duration, limit int, written func(frames, bytes int)) *sock {
	s := new(sock)
	initSock(s, c, writeWait, limit, written)
	return s
}

// initSock sets up s in place (a WebSocket's sock lives inside its wsConn:
// one allocation a connection, not two). written may be nil when s.owner
// counts what is written.
func initSock(s *sock, c net.Conn, writeWait time.Duration, limit int, written func(frames, bytes int)) *sock {
	*s = sock{Conn: c, fd: -1, writeWait: writeWait, limit: limit, written: written}
	if sc, ok := c.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			_ = raw.Control(func(fd uintptr) { s.fd = int32(fd) })
			if s.fd >= 0 { // else it was closed already: the flusher finds out
				s.raw = raw
			}
		}
	}
	if tc, ok := c.(*tls.Conn); ok {
		if rw, ok := tc.NetConn().(recordWriter); ok {
			s.under = rw.nonBlocking(writeWait)
		}
	}
	return s
}

// framePool holds scratch buffers for building a frame (header + payload)
// to hand to one write(2).
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// appendFrameHeader appends the header of an unmasked, final binary frame
// with an n-byte payload (RFC 6455 section 5.2).
func appendFrameHeader(b []byte, n int) []byte {
	switch {
	case n < 126:
		return append(b, 0x82, byte(n))
	case n < 1<<16:
		return append(b, 0x82, 126, byte(n>>8), byte(n))
	default:
		return append(b, 0x82, 127, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// SendBinary writes payload as one binary frame, or queues it behind what
// is already waiting. It returns false, writing nothing, when the
// connection is closed or failed, or its queue holds limit frames.
func (s *sock) SendBinary(payload []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.closeSent || s.err != nil || s.qFrames+s.inFlight >= s.limit || len(s.queue) > maxQueueBytes {
		return false
	}
	if s.under != nil && !s.flushing {
		return s.sendTLS(payload)
	}
	if s.flushing || s.raw == nil {
		s.queue = append(appendFrameHeader(s.queue, len(payload)), payload...)
		s.enqueued(len(payload))
		return true
	}
	bp := framePool.Get().(*[]byte)
	frame := append(appendFrameHeader((*bp)[:0], len(payload)), payload...)
	n, err := s.writeDirect(frame)
	ok := s.wrote(frame, len(payload), n, err)
	if cap(frame) <= flushChunk { // a rare huge frame is not kept for ever
		*bp = frame[:0]
		framePool.Put(bp)
	}
	return ok
}

// wrote finishes a data frame of which a direct write (write(2) or the
// tick's io_uring submission) put n bytes into the socket: the rest joins
// the queue, or err fails the connection. Called with mu held.
func (s *sock) wrote(frame []byte, payload, n int, err error) bool {
	switch {
	case err != nil:
		s.fail(err)
		return false
	case n == len(frame):
		s.count(1, payload)
	default:
		s.queue = append(s.queue, frame[n:]...)
		s.enqueued(payload)
	}
	return true
}

// direct reports whether a data frame may go straight into the socket
// now: plain TCP, nothing queued or being flushed (so that it cannot
// overtake bytes written before it), not closed or failed. Called with mu
// held; while mu stays held nothing else writes to the descriptor or
// closes it (every close goes through Close or fail).
func (s *sock) direct() bool {
	return s.fd >= 0 && s.under == nil && !s.flushing && !s.closed && !s.closeSent && s.err == nil &&
		s.qFrames+s.inFlight < s.limit
}

// Write is the way out for gorilla's handshake response and melody's
// control frames (pings from its wheel, pongs and close frames from its
// event loop or the room). It never blocks and is never refused for a full
// data queue: like a data frame, the bytes are written at once if the
// socket takes them and no flusher runs, and join the queue otherwise.
func (s *sock) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	if s.closed {
		return 0, net.ErrClosed
	}
	if s.closeSent {
		return len(p), nil // nothing may follow a close frame; gorilla need not know
	}
	if !s.records && len(p) > 0 && p[0] == 0x88 { // FIN + close; the handshake starts with 'H'
		s.closeSent = true
	}
	if len(s.queue) > maxQueueBytes && !s.dataFrame {
		s.fail(errQueueFull)
		return 0, errQueueFull
	}
	total := len(p)
	if !s.flushing && s.under != nil {
		if _, err := s.Conn.Write(p); err != nil { // never blocks: see sendTLS
			s.fail(err)
			return 0, err
		}
		return total, nil
	}
	if !s.flushing && s.raw != nil {
		n, err := s.writeDirect(p)
		if err != nil {
			s.fail(err)
			return 0, err
		}
		if n == len(p) {
			return n, nil
		}
		p = p[n:]
	}
	s.queue = append(s.queue, p...)
	if s.dataFrame && !s.frameQueued {
		s.frameQueued = true
		s.qFrames++
	}
	s.startFlush()
	return total, nil
}

// sendTLS writes a data frame through crypto/tls on the caller's goroutine;
// under takes the records without blocking. Called with mu held.
func (s *sock) sendTLS(payload []byte) bool {
	// The client is not reading: refused as by a full queue, with the
	// plain path's bounds (limit frames, or a queue already over
	// maxQueueBytes), whatever the number of records a frame takes.
	frames, queued, err := s.under.backlog()
	if err != nil { // the connection is gone, not slow
		s.fail(err)
		return false
	}
	if frames >= s.limit || queued > maxQueueBytes {
		return false
	}
	bp := framePool.Get().(*[]byte)
	frame := append(appendFrameHeader((*bp)[:0], len(payload)), payload...)
	s.under.frame(true)
	_, err = s.Conn.Write(frame)
	s.under.frame(false)
	if cap(frame) <= flushChunk {
		*bp = frame[:0]
		framePool.Put(bp)
	}
	if err != nil {
		s.fail(err)
		return false
	}
	s.count(1, len(payload)) // handed to under: written, or queued there
	return true
}

// SyscallConn gives melody's event loop the descriptor to read; there is
// none over TLS (melody then reads through Read, from a goroutine).
func (s *sock) SyscallConn() (syscall.RawConn, error) {
	if s.raw == nil {
		return nil, errNoDescriptor
	}
	return s.raw, nil
}

var errNoDescriptor = errors.New("no descriptor to read: the connection is not plain TCP")

// onFail sets what to tell of the first write error (at once if there
// was one already).
func (s *sock) onFail(f func(error)) {
	s.mu.Lock()
	err := s.err
	if err == nil {
		s.failed = f
	}
	s.mu.Unlock()
	if err != nil {
		f(err)
	}
}

// SetWriteDeadline is ignored: writes here never block, and the flusher
// sets its own deadline. (gorilla sets one before every write.)
func (s *sock) SetWriteDeadline(time.Time) error { return nil }

// SetDeadline sets only the read deadline, for the same reason.
func (s *sock) SetDeadline(t time.Time) error { return s.Conn.SetReadDeadline(t) }

// count tells of data frames written: their WebSocket's counters, or
// written.
func (s *sock) count(frames, bytes int) {
	if s.owner != nil {
		s.owner.written(frames, bytes)
	} else if s.written != nil {
		s.written(frames, bytes)
	}
}

func (s *sock) enqueued(payload int) {
	s.qFrames++
	s.qBytes += payload
	s.startFlush()
}

func (s *sock) startFlush() {
	if !s.flushing {
		s.flushing = true
		s.flushes++
		go s.flush()
	}
}

// writeDirect writes what the socket takes now, without waiting. Called
// with mu held and no flusher running, so nothing else writes to the
// descriptor meanwhile, and it stays open: every close goes through Close
// (which, once closed is set, lets no write through) or fail, both under
// mu. So the descriptor is written with write(2) itself, without Go's
// RawConn (whose callback had to be kept bound, with its arguments, in
// each sock).
func (s *sock) writeDirect(b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := syscall.Write(int(s.fd), b[n:])
		if k > 0 {
			n += k
		}
		switch {
		case err == syscall.EINTR:
		case err == syscall.EAGAIN:
			return n, nil // the rest goes to the queue
		case err != nil:
			return n, err
		case k == 0:
			return n, io.ErrUnexpectedEOF
		}
	}
	return n, nil
}

// flush writes the queue out, blocking with the write deadline, until it
// is empty; then it ends, and finishes a Close that waited for it.
func (s *sock) flush() {
	for {
		s.mu.Lock()
		if len(s.queue) == 0 || s.err != nil {
			s.flushing = false
			linger := s.closed && s.err == nil
			s.mu.Unlock()
			if linger {
				s.lingerClose()
			}
			return
		}
		b, frames, bytes := s.queue, s.qFrames, s.qBytes
		s.queue, s.qFrames, s.qBytes, s.inFlight = nil, 0, 0, frames
		s.mu.Unlock()

		var err error
		for rest := b; len(rest) > 0 && err == nil; {
			n := min(len(rest), flushChunk)
			_ = s.Conn.SetWriteDeadline(time.Now().Add(s.writeWait))
			_, err = s.Conn.Write(rest[:n])
			rest = rest[n:]
		}
		_ = s.Conn.SetWriteDeadline(time.Time{})

		s.mu.Lock()
		s.inFlight = 0
		if err != nil {
			s.fail(err)
		}
		s.mu.Unlock()
		if err == nil && frames > 0 {
			s.count(frames, bytes)
		}
	}
}

// fail records the first write error and closes the socket at once: the
// stream is broken mid-frame or the client is gone or stuck, so there is
// nothing to linger for. gorilla's read loop then ends the session. Called
// with mu held, so it closes the TCP connection itself, which never
// blocks: closing a TLS connection would first try to send close_notify
// into the full socket, for up to 5 s.
func (s *sock) fail(err error) {
	if s.err == nil {
		s.err = err
		s.ending.Store(true)
		s.queue, s.qFrames = nil, 0
		if s.under != nil { // close the TCP connection at once, not after under's queue
			s.under.mu.Lock()
			s.under.fail(err)
			s.under.mu.Unlock()
		}
		c := s.Conn
		if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
			c = tc.NetConn()
		}
		_ = c.Close()
		if s.failed != nil {
			s.failed(err)
		}
	}
}

// Close lingers (see sock), after the queue has drained.
func (s *sock) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.ending.Store(true)
	wait := s.flushing && s.err == nil
	failed := s.err != nil
	s.mu.Unlock()
	if !wait && !failed {
		if s.under != nil {
			s.closeTLS()
		} else {
			s.lingerClose()
		}
	}
	return nil
}

// closeTLS ends a TLS WebSocket whose records go through under: its
// close_notify joins under's queue behind the records, and under lingers
// (reads on for lingerTime) only once that queue has drained. Lingering
// here instead would stop the read loop while the close frame may still
// wait in under's queue, and the client's unread bytes then reset the
// connection before the close frame reaches it.
func (s *sock) closeTLS() {
	if hc, ok := s.Conn.(interface{ CloseWrite() error }); ok {
		_ = hc.CloseWrite() // queues close_notify; never blocks (under takes it)
	}
	_ = s.under.Close()
}

func (s *sock) lingerClose() {
	s.mu.Lock()
	if s.lingered {
		s.mu.Unlock()
		return
	}
	s.lingered = true
	s.mu.Unlock()
	hc, ok := s.Conn.(interface{ CloseWrite() error })
	if !ok || hc.CloseWrite() != nil {
		_ = s.Conn.Close() // no half-close here: plain close is all there is
		return
	}
	_ = s.Conn.SetReadDeadline(time.Now().Add(lingerTime)) // a dead peer cannot hold the read loop
	time.AfterFunc(lingerTime, func() { _ = s.Conn.Close() })
}

// sockWriter hands gorilla a sock, through the Hijack that the WebSocket
// upgrade uses, and gives it to the wsConn.
type sockWriter struct {
	http.ResponseWriter
	conn *wsConn
}

func (w sockWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	w.conn.sock = initSock(&w.conn.sockMem, c, w.conn.writeWait, w.conn.limit, nil)
	w.conn.sock.owner = w.conn
	return w.conn.sock, rw, nil
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w sockWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
