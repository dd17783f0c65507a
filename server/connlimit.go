package server

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Listener wraps ln, the listener HTTPServer's server is to serve on: it
// caps the TCP connections each client address holds at once
// (Config.ConnsPerIP), plain HTTP and WebSocket alike, since a WebSocket is
// the connection it was upgraded from; it keeps tickroom_tcp_connections;
// and its connections tell HTTPServer's hooks which timeout cut them.
//
// A connection over the cap is closed as soon as it is accepted, with a
// reset: it costs no goroutine, no buffer and no TIME_WAIT here. One log
// line sums the refusals up at most every refusalLogEvery; the metric
// counts every one.
func (s *Server) Listener(ln net.Listener) net.Listener {
	return &connLimiter{Listener: ln, max: s.cfg.ConnsPerIP, m: s.metrics, log: s.log, open: map[netip.Prefix]int{}}
}

// refusalLogEvery is how often the per-address cap may log.
const refusalLogEvery = 10 * time.Second

const reasonConnsPerIP = "conns_per_ip"

type connLimiter struct {
	net.Listener
	max int // negative: no cap (connections are still counted)
	m   *metrics
	log *slog.Logger

	mu       sync.Mutex
	open     map[netip.Prefix]int // open connections by client address
	lastLog  time.Time
	unlogged int // refusals since the last log line
}

func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc, ok := c.(*net.TCPConn)
		if !ok {
			return c, nil // only TCP has a client address to count
		}
		key := clientKey(tc.RemoteAddr())
		if l.take(key) {
			t := &trackedConn{nbTCP: &nbTCP{TCPConn: tc}, l: l, key: key}
			t.nbTCP.released = t.release
			return t, nil
		}
		l.refuse(tc, key)
	}
}

// clientKey is what the cap counts by: the IPv4 address, or the /64 of an
// IPv6 one (a single host is commonly handed a whole /64).
func clientKey(a net.Addr) netip.Prefix {
	ta, _ := a.(*net.TCPAddr)
	if ta == nil {
		return netip.Prefix{}
	}
	ip := ta.AddrPort().Addr().Unmap()
	if ip.Is4() {
		return netip.PrefixFrom(ip, 32)
	}
	p, _ := ip.Prefix(64) // cannot fail for a 128-bit address
	return p
}

func (l *connLimiter) take(key netip.Prefix) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max >= 0 && l.open[key] >= l.max {
		return false
	}
	l.open[key]++
	l.m.tcpConns.Inc()
	return true
}

func (l *connLimiter) release(key netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[key]--; l.open[key] <= 0 {
		delete(l.open, key)
	}
	l.m.tcpConns.Dec()
}

func (l *connLimiter) refuse(c *net.TCPConn, key netip.Prefix) {
	_ = c.SetLinger(0) // close with a reset; an error only means a plain close
	_ = c.Close()      // nothing was read or written: nothing to report
	l.m.connsRefused.WithLabelValues(reasonConnsPerIP).Inc()
	l.mu.Lock()
	l.unlogged++
	now := time.Now()
	if now.Sub(l.lastLog) < refusalLogEvery {
		l.mu.Unlock()
		return
	}
	n := l.unlogged
	l.unlogged, l.lastLog = 0, now
	l.mu.Unlock()
	l.log.Warn("refused TCP connections over the per-address cap (-conns-per-ip)",
		"refused", n, "since", "last such line", "latest", key.Addr().String(), "cap", l.max)
}

// trackedConn is an accepted TCP connection: it gives its slot back once,
// on the first Close, and classifies the read timeouts net/http sets.
// Embedding *net.TCPConn keeps what the write path needs of it (sock.go:
// SyscallConn, CloseWrite) and sendfile.
type trackedConn struct {
	*nbTCP
	l      *connLimiter
	key    netip.Prefix
	closed atomic.Bool

	// Set by HTTPServer's ConnState hook: the connection's HTTP state, and
	// whether anything arrived since it entered it.
	state    atomic.Int32 // http.ConnState
	heard    atomic.Bool
	timedOut atomic.Bool // counted already: net/http reads again after a timeout
}

func (c *trackedConn) Close() error {
	c.release()
	return c.nbTCP.Close()
}

// release gives the slot back, once.
func (c *trackedConn) release() {
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.key)
	}
}

// Read counts a read deadline that net/http set and that expired: in the
// new state the first request's headers were too slow; in the idle state
// either nothing came (the idle timeout) or the next request's headers
// were too slow. Body timeouts (the active state) are counted where the
// body is read (bodyDeadline). After the hijack deadlines are melody's.
func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.TCPConn.Read(p)
	st := http.ConnState(c.state.Load())
	if st != http.StateNew && st != http.StateIdle {
		return n, err
	}
	if n > 0 {
		c.heard.Store(true)
	}
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) && c.timedOut.CompareAndSwap(false, true) {
		phase := "headers"
		if st == http.StateIdle && !c.heard.Load() {
			phase = "idle"
		}
		c.l.m.httpTimeouts.WithLabelValues(phase).Inc()
	}
	return n, err
}

// setState is called by the ConnState hook, on the connection's goroutine,
// before net/http reads in the new state.
func (c *trackedConn) setState(st http.ConnState) {
	c.heard.Store(false)
	c.state.Store(int32(st))
}
