package melody

import (
	"bytes"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// echoServer runs a Melody that echoes binary and text messages back and
// counts connects and disconnects, on a real listener (TLS when tlsOn).
type echoServer struct {
	m                     *Melody
	ts                    *httptest.Server
	url                   string
	connects, disconnects atomic.Int32
	mu                    sync.Mutex
	closeCodes            []int
}

func newEchoServer(t *testing.T, tlsOn bool, cfg func(*Config)) *echoServer {
	t.Helper()
	e := &echoServer{m: New()}
	e.m.Config.MaxMessageSize = 1 << 16
	if cfg != nil {
		cfg(e.m.Config)
	}
	e.m.HandleConnect(func(*Session) { e.connects.Add(1) })
	e.m.HandleDisconnect(func(*Session) { e.disconnects.Add(1) })
	e.m.HandleMessageBinary(func(s *Session, b []byte) { _ = s.WriteBinary(bytes.Clone(b)) })
	e.m.HandleMessage(func(s *Session, b []byte) { _ = s.Write(bytes.Clone(b)) })
	e.m.HandleClose(func(s *Session, code int, _ string) error {
		e.mu.Lock()
		e.closeCodes = append(e.closeCodes, code)
		e.mu.Unlock()
		return s.CloseWithMsg(FormatCloseMessage(code, ""))
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _ = e.m.HandleRequest(w, r) })
	if tlsOn {
		e.ts = httptest.NewTLSServer(h)
		e.url = "wss" + strings.TrimPrefix(e.ts.URL, "https")
	} else {
		e.ts = httptest.NewServer(h)
		e.url = "ws" + strings.TrimPrefix(e.ts.URL, "http")
	}
	t.Cleanup(e.ts.Close)
	return e
}

func (e *echoServer) dial(t *testing.T) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	c, _, err := d.Dial(e.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestEchoOverTheEventLoopAndTLS: messages of every size class (7-bit,
// 16-bit and 64-bit lengths, and one sent in fragments) come back intact,
// over plain TCP (the event loop) and TLS (a reader goroutine).
func TestEchoOverTheEventLoopAndTLS(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		e := newEchoServer(t, tlsOn, nil)
		c := e.dial(t)
		for _, n := range []int{0, 1, 125, 126, 1000, 65535, 65536} {
			msg := bytes.Repeat([]byte{byte(n)}, n)
			for i := range msg {
				msg[i] = byte(i * 7)
			}
			if err := c.WriteMessage(websocket.BinaryMessage, msg); err != nil {
				t.Fatal(err)
			}
			typ, got, err := c.ReadMessage()
			if err != nil || typ != websocket.BinaryMessage || !bytes.Equal(got, msg) {
				t.Fatalf("tls=%v: %d-byte echo: type %d, %d bytes, err %v", tlsOn, n, typ, len(got), err)
			}
		}
		// One text message in three fragments (gorilla's NextWriter
		// writes a frame per Write once its buffer is flushed).
		w, err := c.NextWriter(websocket.TextMessage)
		if err != nil {
			t.Fatal(err)
		}
		part := strings.Repeat("x", 5000) // over gorilla's 4 KiB write buffer: several frames
		for range 3 {
			if _, err := w.Write([]byte(part)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		typ, got, err := c.ReadMessage()
		if err != nil || typ != websocket.TextMessage || string(got) != strings.Repeat(part, 3) {
			t.Fatalf("tls=%v: fragmented echo: type %d, %d bytes, err %v", tlsOn, typ, len(got), err)
		}
		// The close handshake: the handler sees the code, the client gets
		// its answer, the session ends once.
		if err := c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(4001, "bye")); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.ReadMessage(); !websocket.IsCloseError(err, 4001) {
			t.Fatalf("tls=%v: after the close: %v, want the close answered with 4001", tlsOn, err)
		}
		waitFor(t, "the disconnect", func() bool { return e.disconnects.Load() == 1 })
		e.mu.Lock()
		codes := e.closeCodes
		e.mu.Unlock()
		if len(codes) != 1 || codes[0] != 4001 {
			t.Fatalf("tls=%v: close handler saw %v, want [4001]", tlsOn, codes)
		}
	}
}

// TestBadFramesAreClosedAsGorillaDoes: frames gorilla refuses are closed
// with the same code (1002 for protocol errors, 1009 over the limit), and
// the session ends.
func TestBadFramesAreClosedAsGorillaDoes(t *testing.T) {
	mask := []byte{1, 2, 3, 4}
	cases := []struct {
		name  string
		frame []byte
		code  int
	}{
		{"unmasked", []byte{0x82, 1, 'x'}, CloseProtocolError},
		{"reserved bit", append([]byte{0xc2, 0x81}, append(mask, 'x')...), CloseProtocolError},
		{"unknown opcode", append([]byte{0x83, 0x81}, append(mask, 'x')...), CloseProtocolError},
		{"continuation first", append([]byte{0x80, 0x81}, append(mask, 'x')...), CloseProtocolError},
		{"fragmented ping", append([]byte{0x09, 0x81}, append(mask, 'x')...), CloseProtocolError},
		{"one-byte close", append([]byte{0x88, 0x81}, append(mask, 'x')...), CloseProtocolError},
		{"over the limit", append([]byte{0x82, 0xfe, 0x10, 0x00}, mask...), CloseMessageTooBig},
		{"64-bit length with the top bit", append([]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1}, mask...), CloseMessageTooBig},
	}
	e := newEchoServer(t, false, func(c *Config) { c.MaxMessageSize = 1024 })
	for i, tc := range cases {
		c := e.dial(t)
		if err := c.UnderlyingConn().(*net.TCPConn).SetNoDelay(true); err != nil {
			t.Fatal(err)
		}
		if _, err := c.UnderlyingConn().Write(tc.frame); err != nil {
			t.Fatal(err)
		}
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _, err := c.ReadMessage()
		if !websocket.IsCloseError(err, tc.code) {
			t.Fatalf("%s: got %v, want close %d", tc.name, err, tc.code)
		}
		waitFor(t, tc.name+": the disconnect", func() bool { return e.disconnects.Load() == int32(i+1) })
	}
}

// TestPingsFromTheWheel: a client that answers pings stays, one that
// does not is ended after PongWait, and a client's own ping is answered.
func TestPingsFromTheWheel(t *testing.T) {
	e := newEchoServer(t, false, func(c *Config) { c.PingPeriod, c.PongWait = 50*time.Millisecond, 300*time.Millisecond })
	answerer, silent := e.dial(t), e.dial(t)
	silent.SetPingHandler(func(string) error { return nil })
	var pings atomic.Int32
	answerer.SetPingHandler(func(d string) error {
		pings.Add(1)
		return answerer.WriteControl(websocket.PongMessage, []byte(d), time.Now().Add(time.Second))
	})
	pong := make(chan string, 1)
	answerer.SetPongHandler(func(d string) error { pong <- d; return nil })
	if err := answerer.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	silentDone, answererDone := make(chan error, 1), make(chan error, 1)
	go func() {
		for {
			if _, _, err := silent.ReadMessage(); err != nil {
				silentDone <- err
				return
			}
		}
	}()
	go func() {
		for {
			if _, _, err := answerer.ReadMessage(); err != nil {
				answererDone <- err
				return
			}
		}
	}()
	select {
	case d := <-pong:
		if d != "hi" {
			t.Fatalf("pong %q, want hi", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the client's ping was not answered")
	}
	select {
	case <-silentDone:
	case <-time.After(5 * time.Second):
		t.Fatal("a client that never answers pings is still connected")
	}
	select {
	case err := <-answererDone:
		t.Fatalf("the answerer was dropped: %v", err)
	case <-time.After(600 * time.Millisecond):
	}
	if pings.Load() < 3 {
		t.Fatalf("the answerer got %d pings, want one every 50 ms", pings.Load())
	}
}

// TestIdleSessionsHoldNoGoroutine: 200 open sessions on the event loop
// add no goroutine each (the loop and the wheel are shared).
func TestIdleSessionsHoldNoGoroutine(t *testing.T) {
	e := newEchoServer(t, false, nil)
	first := e.dial(t) // starts the loop and the wheel
	_ = first
	waitFor(t, "the first connect", func() bool { return e.connects.Load() == 1 })
	before := runtime.NumGoroutine()
	for range 200 {
		e.dial(t)
	}
	waitFor(t, "200 connects", func() bool { return e.connects.Load() == 201 })
	// net/http's connection goroutines end with the handlers; give them a moment.
	var after int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if after = runtime.NumGoroutine(); after-before < 200 {
			break
		}
	}
	// The test's own dialers hold a goroutine per client connection? No:
	// gorilla's client Conn has none. So 200 sessions must add far fewer
	// than 200 goroutines.
	if after-before >= 20 {
		t.Fatalf("%d goroutines for 200 idle sessions (before %d, after %d)", after-before, before, after)
	}
}

// TestWheelFollowsTheClock: a wheel woken late (its goroutine starved, its
// ticker's ticks dropped) handles every slot that came due meanwhile, so
// each session is still pinged once per PingPeriod of real time and none
// that answered is taken for silent; more than a turn late, it handles
// one turn and skips ahead. (Driven by hand: no goroutine, no sleeping.)
func TestWheelFollowsTheClock(t *testing.T) {
	m := New()
	m.Config.PingPeriod, m.Config.PongWait = time.Second, 1500*time.Millisecond
	w := newWheel(m)
	w.init() // 10 slots of 100 ms
	sessions := make([]*Session, 10)
	for i := range sessions {
		s := &Session{melody: m}
		s.slot = int32(i)
		s.next = w.slots[i]
		w.slots[i] = s
		sessions[i] = s
	}
	step, pongWait := int64(w.step), int64(m.Config.PongWait)
	w.due = step

	// 450 ms late: the four slots due at 100..400 ms are handled at once.
	for _, s := range sessions {
		s.lastRead.Store(0)
	}
	ping, kill := w.dueSlotsLocked(4*step+step/2, pongWait, nil, nil)
	if len(ping) != 4 || len(kill) != 0 || w.cur != 4 || w.due != 5*step {
		t.Fatalf("450 ms in: pinged %d, ended %d, at slot %d due %v; want 4, 0, slot 4 due 500ms", len(ping), len(kill), w.cur, time.Duration(w.due))
	}

	// Every session answered at 1 s; the wheel wakes 3 s late: one turn is
	// handled (each session once: all have answered within PongWait)
	// and the wheel skips ahead instead of going round again.
	for _, s := range sessions {
		s.lastRead.Store(int64(time.Second))
	}
	now := int64(2400 * time.Millisecond)
	ping, kill = w.dueSlotsLocked(now, pongWait, nil, nil)
	if len(ping) != 10 || len(kill) != 0 {
		t.Fatalf("a turn late: pinged %d, ended %d; want 10, 0", len(ping), len(kill))
	}
	if w.due != now+step {
		t.Fatalf("after a turn late: next slot due at %v, want %v", time.Duration(w.due), time.Duration(now+step))
	}
	// Silent since 1 s: at 2.55 s (1.55 s > PongWait) the due slot's session ends.
	ping, kill = w.dueSlotsLocked(now+step+step/2, pongWait, nil, nil)
	if len(ping) != 0 || len(kill) != 1 {
		t.Fatalf("silent for 1.55 s: pinged %d, ended %d; want 0, 1", len(ping), len(kill))
	}
}
