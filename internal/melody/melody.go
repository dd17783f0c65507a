// Package melody is tickroom's fork of github.com/olahol/melody v1.1.4
// (BSD-2-Clause, LICENSE): the same session layer (a Melody with
// connect, message, close, pong, error and disconnect callbacks; Sessions
// with keys; close with a code), with the I/O beneath it made event-driven.
// README.md says what changed and why.
package melody

import (
	"errors"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// Close codes defined in RFC 6455, section 11.7 (as upstream).
const (
	CloseNormalClosure           = 1000
	CloseGoingAway               = 1001
	CloseProtocolError           = 1002
	CloseUnsupportedData         = 1003
	CloseNoStatusReceived        = 1005
	CloseAbnormalClosure         = 1006
	CloseInvalidFramePayloadData = 1007
	ClosePolicyViolation         = 1008
	CloseMessageTooBig           = 1009
	CloseMandatoryExtension      = 1010
	CloseInternalServerErr       = 1011
	CloseServiceRestart          = 1012
	CloseTryAgainLater           = 1013
	CloseTLSHandshake            = 1015
)

var (
	ErrClosed        = errors.New("melody instance is closed")
	ErrSessionClosed = errors.New("session is closed")
	ErrWriteClosed   = errors.New("tried to write to closed a session")
)

// Config is melody's configuration (MessageBufferSize is gone with the
// write pump: writes go straight to the connection).
type Config struct {
	WriteWait      time.Duration // kept for the connection's own flusher (the caller's net.Conn); unused here
	PongWait       time.Duration // a session that sends nothing (pongs included) for this long is ended
	PingPeriod     time.Duration // how often each session is pinged
	MaxMessageSize int64         // the largest message accepted; larger ones are closed with 1009
}

func newConfig() *Config {
	return &Config{
		WriteWait:      10 * time.Second,
		PongWait:       60 * time.Second,
		PingPeriod:     (60 * time.Second * 9) / 10,
		MaxMessageSize: 512,
	}
}

type handleMessageFunc func(*Session, []byte)
type handleErrorFunc func(*Session, error)
type handleCloseFunc func(*Session, int, string) error
type handleSessionFunc func(*Session)

// Melody is a WebSocket session manager.
type Melody struct {
	Config   *Config
	Upgrader *websocket.Upgrader

	messageHandler       handleMessageFunc
	messageHandlerBinary handleMessageFunc
	errorHandler         handleErrorFunc
	closeHandler         handleCloseFunc
	connectHandler       handleSessionFunc
	disconnectHandler    handleSessionFunc
	pongHandler          handleSessionFunc

	mu       sync.Mutex
	sessions map[*Session]struct{}
	closed   bool
	wheel    *wheel
}

// New makes a Melody with upstream's defaults.
func New() *Melody {
	m := &Melody{
		Config: newConfig(),
		Upgrader: &websocket.Upgrader{
			ReadBufferSize:  1024,
			WriteBufferSize: 1024,
			CheckOrigin:     func(r *http.Request) bool { return true },
		},
		messageHandler:       func(*Session, []byte) {},
		messageHandlerBinary: func(*Session, []byte) {},
		errorHandler:         func(*Session, error) {},
		connectHandler:       func(*Session) {},
		disconnectHandler:    func(*Session) {},
		pongHandler:          func(*Session) {},
		sessions:             make(map[*Session]struct{}),
	}
	m.wheel = newWheel(m)
	return m
}

// HandleConnect fires fn when a session connects, on the goroutine that
// called HandleRequest, before any of its messages is read.
func (m *Melody) HandleConnect(fn func(*Session)) { m.connectHandler = fn }

// HandleDisconnect fires fn once when a session ends.
func (m *Melody) HandleDisconnect(fn func(*Session)) { m.disconnectHandler = fn }

// HandlePong fires fn when a pong is received from a session.
func (m *Melody) HandlePong(fn func(*Session)) { m.pongHandler = fn }

// HandleMessage fires fn when a text message comes in. data is only valid
// during the call (it may sit in the event loop's read buffer).
func (m *Melody) HandleMessage(fn func(*Session, []byte)) { m.messageHandler = fn }

// HandleMessageBinary fires fn when a binary message comes in. data is
// only valid during the call.
func (m *Melody) HandleMessageBinary(fn func(*Session, []byte)) { m.messageHandlerBinary = fn }

// HandleError fires fn when a session has an error (the one that ended it).
func (m *Melody) HandleError(fn func(*Session, error)) { m.errorHandler = fn }

// HandleClose sets the handler for close frames the client sends. Without
// one, the close frame is answered with the same code.
func (m *Melody) HandleClose(fn func(*Session, int, string) error) {
	if fn != nil {
		m.closeHandler = fn
	}
}

// HandleRequest upgrades r to a WebSocket session. Unlike upstream, it does
// not run the session: it returns once the connect handler has run and the
// connection is handed to the event loop (or, for a connection without a
// descriptor such as TLS, to a reader goroutine). It returns nil exactly
// when the connect handler ran; the disconnect handler then runs once,
// later, on another goroutine.
func (m *Melody) HandleRequest(w http.ResponseWriter, r *http.Request) error {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return ErrClosed
	}
	ws, err := m.Upgrader.Upgrade(w, r, w.Header())
	if err != nil {
		return err
	}
	// gorilla did the handshake; from here the session reads and writes
	// frames itself (its Conn and buffers are dropped).
	s := &Session{Request: r, conn: ws.NetConn(), melody: m, open: true}
	if sc, ok := s.conn.(syscall.Conn); ok { // not a *tls.Conn: its bytes are not the frames

		if raw, err := sc.SyscallConn(); err == nil {
			s.raw = raw
		}
	}
	s.lastRead.Store(m.wheel.now())
	m.mu.Lock()
	m.sessions[s] = struct{}{}
	m.mu.Unlock()
	m.connectHandler(s)
	m.wheel.add(s)
	if s.raw != nil && loop().add(s) {
		if s.killed.Load() { // killed before the loop had it
			s.kill(errAborted)
		}
	} else {
		go s.readBlocking()
	}
	return nil
}

// Sessions returns the open sessions.
func (m *Melody) Sessions() ([]*Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	out := make([]*Session, 0, len(m.sessions))
	for s := range m.sessions {
		out = append(out, s)
	}
	return out, nil
}

// Len returns the number of open sessions.
func (m *Melody) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// CloseWithMsg closes every session with msg (a close frame's payload) and
// refuses new ones.
func (m *Melody) CloseWithMsg(msg []byte) error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	m.closed = true
	all := make([]*Session, 0, len(m.sessions))
	for s := range m.sessions {
		all = append(all, s)
	}
	m.mu.Unlock()
	for _, s := range all {
		_ = s.CloseWithMsg(msg)
	}
	return nil
}

// Close closes every session with an empty close frame.
func (m *Melody) Close() error { return m.CloseWithMsg(nil) }

// IsClosed reports whether Close was called.
func (m *Melody) IsClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// FormatCloseMessage formats closeCode and text as a WebSocket close message.
func FormatCloseMessage(closeCode int, text string) []byte {
	return websocket.FormatCloseMessage(closeCode, text)
}
