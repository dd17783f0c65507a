package melody

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Session is one WebSocket connection. Its frames are read by the event
// loop (loop_linux.go) or, when the connection has no descriptor of its
// own (TLS), by a reader goroutine; what it writes (control frames, and
// data frames sent through Write/WriteBinary) goes straight to the
// connection, whose Write must not block for long (tickroom's sock queues).
type Session struct {
	Request *http.Request
	Keys    map[string]any

	conn   net.Conn
	raw    syscall.RawConn // nil: read by a goroutine (readBlocking)
	melody *Melody

	mu   sync.Mutex
	open bool // no close frame sent yet

	ended    atomic.Bool
	killed   atomic.Bool  // kill was called
	lastRead atomic.Int64 // wheel clock (ns) of the last bytes read
	closeBy  atomic.Int64 // wheel clock by which a closing session is ended (0: not closing)

	// Read state, used only by the reader (event loop or goroutine); nil
	// for an idle connection.
	pending []byte        // an incomplete frame's bytes
	msg     []byte        // a fragmented message's payload so far
	msgOp   byte          // its opcode (0: none in progress)
	id      atomic.Uint32 // the event loop's key for this session (0: not on the loop)

	// The wheel's list of sessions to ping (wheel.go), guarded by its mu.
	prev, next *Session
	slot       int32
}

var errTimeout = errors.New("melody: no frame from the client within PongWait, or no close reply within a second")

var errAborted = errors.New("melody: the session was aborted")

// lingerTime is how long a closing session keeps reading for the client's
// close reply before it is ended.
const lingerTime = time.Second

// writeFrame writes one unmasked, final frame.
func (s *Session) writeFrame(op byte, payload []byte) error {
	var b []byte
	bp := framePool.Get().(*[]byte)
	b = appendFrame((*bp)[:0], op, payload)
	_, err := s.conn.Write(b)
	if cap(b) <= 4096 {
		*bp = b[:0]
		framePool.Put(bp)
	}
	return err
}

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

func appendFrame(b []byte, op byte, p []byte) []byte {
	n := len(p)
	switch {
	case n < 126:
		b = append(b, 0x80|op, byte(n))
	case n < 1<<16:
		b = append(b, 0x80|op, 126, byte(n>>8), byte(n))
	default:
		b = append(b, 0x80|op, 127, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(b, p...)
}

func (s *Session) closed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.open
}

// Write writes a text message to the session.
func (s *Session) Write(msg []byte) error {
	if s.closed() {
		return ErrSessionClosed
	}
	return s.writeFrame(websocket.TextMessage, msg)
}

// WriteBinary writes a binary message to the session.
func (s *Session) WriteBinary(msg []byte) error {
	if s.closed() {
		return ErrSessionClosed
	}
	return s.writeFrame(websocket.BinaryMessage, msg)
}

// Close closes the session with an empty close frame.
func (s *Session) Close() error { return s.CloseWithMsg(nil) }

// CloseWithMsg writes a close frame with msg (see FormatCloseMessage) and
// closes the connection's write side (net.Conn.Close; tickroom's sock
// lingers). The session goes on reading until the client answers the close,
// the connection ends, or lingerTime passes; then it ends.
func (s *Session) CloseWithMsg(msg []byte) error {
	s.mu.Lock()
	if !s.open {
		s.mu.Unlock()
		return ErrSessionClosed
	}
	s.open = false
	s.mu.Unlock()
	_ = s.writeFrame(websocket.CloseMessage, msg)
	s.closeBy.Store(s.melody.wheel.now() + int64(lingerTime))
	s.melody.wheel.closing(s)
	_ = s.conn.Close()
	return nil
}

// IsClosed reports whether the session is closed.
func (s *Session) IsClosed() bool { return s.closed() || s.ended.Load() }

// Set stores a key/value pair for this session.
func (s *Session) Set(key string, value any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Keys == nil {
		s.Keys = make(map[string]any)
	}
	s.Keys[key] = value
}

// Get returns the value for the key.
func (s *Session) Get(key string) (value any, exists bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	value, exists = s.Keys[key]
	return
}

// LocalAddr returns the local address of the connection.
func (s *Session) LocalAddr() net.Addr { return s.conn.LocalAddr() }

// NetConn returns the connection the session reads and writes (not in
// upstream, whose sessions hide gorilla's Conn): its owner may keep its
// own state there instead of in Keys or the request.
func (s *Session) NetConn() net.Conn { return s.conn }

// RemoteAddr returns the remote address of the connection.
func (s *Session) RemoteAddr() net.Addr { return s.conn.RemoteAddr() }

// end finishes the session once: it leaves the reader, the wheel and the
// registry, closes the connection and calls the error and disconnect
// handlers. For a session on the event loop it runs on the loop.
func (s *Session) end(err error) {
	if !s.ended.CompareAndSwap(false, true) {
		return
	}
	if s.id.Load() != 0 {
		loop().remove(s)
	}
	s.pending, s.msg = nil, nil
	m := s.melody
	m.wheel.remove(s)
	if err != nil {
		m.errorHandler(s, err)
	}
	m.mu.Lock()
	delete(m.sessions, s)
	m.mu.Unlock()
	s.mu.Lock()
	s.open = false
	s.mu.Unlock()
	_ = s.conn.Close()
	m.disconnectHandler(s)
}

// kill asks for the session to end from any goroutine (the wheel: no pong
// in time, or a close that lingered long enough).
func (s *Session) kill(err error) {
	if s.ended.Load() {
		return
	}
	s.killed.Store(true) // seen by HandleRequest if the loop has not got s yet
	if s.id.Load() != 0 {
		loop().kill(s, err)
		return
	}
	// The reader goroutine ends it: its read fails at once.
	_ = s.conn.SetReadDeadline(time.Unix(1, 0))
}

// readBlocking is the reader for a connection without a descriptor of its
// own (TLS): a goroutine per connection, as upstream's read pump.
func (s *Session) readBlocking() {
	buf := make([]byte, 4096)
	for {
		if s.killed.Load() {
			s.end(errTimeout)
			return
		}
		if s.closeBy.Load() == 0 { // a closing connection keeps its linger deadline
			_ = s.conn.SetReadDeadline(time.Now().Add(s.melody.Config.PongWait))
		}
		n, err := s.conn.Read(buf)
		if n > 0 {
			s.lastRead.Store(s.melody.wheel.now())
			if s.feed(buf[:n]) {
				return
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = &websocket.CloseError{Code: CloseAbnormalClosure, Text: io.ErrUnexpectedEOF.Error()}
			}
			s.end(err)
			return
		}
	}
}

// Abort ends the session as soon as possible, from any goroutine, without
// a close frame: for a connection found broken by its writer (a write
// failed or timed out), which may have closed the descriptor already.
func (s *Session) Abort(err error) { s.kill(err) }
