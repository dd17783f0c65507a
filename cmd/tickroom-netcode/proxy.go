package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Shape is how one direction of the stream is delayed.
//
// Every chunk read is held for Latency plus a uniform jitter in [-Jitter,
// +Jitter] (never less than zero), and chunks leave in the order they came:
// a chunk is never written before the one read before it, as over TCP, so
// jitter delays the later chunks behind a slow one (head-of-line blocking).
//
// Stalls model loss on a TCP stream: a lost segment holds everything behind
// it until the retransmission, then it all arrives at once. Every StallEvery
// (from the proxy's start, first at StallEvery) the direction delivers
// nothing for StallFor; FreezeAt (from the start; 0 = never) does the same
// once for FreezeFor. Whatever was due inside a stall leaves at its end, in
// order, as a burst.
type Shape struct {
	Latency    time.Duration
	Jitter     time.Duration
	StallEvery time.Duration
	StallFor   time.Duration
	FreezeAt   time.Duration
	FreezeFor  time.Duration
}

// release is when a chunk due at `due` (an offset from the start) may leave:
// the end of the stall or freeze it falls in, else due itself.
func (s Shape) release(due time.Duration) time.Duration {
	if s.FreezeAt > 0 && s.FreezeFor > 0 && due >= s.FreezeAt && due < s.FreezeAt+s.FreezeFor {
		due = s.FreezeAt + s.FreezeFor
	}
	if s.StallEvery > 0 && s.StallFor > 0 && due >= s.StallEvery {
		k := due / s.StallEvery
		if start := k * s.StallEvery; due < start+s.StallFor {
			due = start + s.StallFor
		}
	}
	return due
}

// Limits bound the proxy's memory and lifetime.
const (
	chunkSize = 16 << 10
	// queueChunks is how many chunks a direction holds in flight; past it
	// the reader waits (backpressure), so a direction holds at most
	// chunkSize*queueChunks bytes.
	queueChunks = 256
	// maxConns is how many connections are proxied at once; more are refused.
	maxConns = 64
)

// Proxy forwards TCP connections from a loopback listener to a loopback
// target, delaying each direction by its Shape.
type Proxy struct {
	ln     net.Listener
	target string
	up     Shape // client -> target
	down   Shape // target -> client
	start  time.Time

	mu     sync.Mutex // guards up, down (Freeze changes them), rng, conns, closed
	rng    *rand.Rand
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// isLoopback tells whether host:port names a loopback address (127.0.0.0/8,
// ::1 or localhost).
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Listen starts a proxy on listen (a loopback host:port; port 0 picks one)
// forwarding to target (a loopback host:port). seed makes the jitter
// repeatable. The shapes' stall and freeze times count from now.
func Listen(listen, target string, up, down Shape, seed uint64) (*Proxy, error) {
	if !isLoopback(listen) || !isLoopback(target) {
		return nil, fmt.Errorf("tickroom-netcode: loopback addresses only (listen %q, target %q)", listen, target)
	}
	for _, s := range []Shape{up, down} {
		if s.Latency < 0 || s.Jitter < 0 || s.StallEvery < 0 || s.StallFor < 0 || s.FreezeAt < 0 || s.FreezeFor < 0 {
			return nil, errors.New("tickroom-netcode: negative duration")
		}
		if s.StallEvery > 0 && s.StallFor >= s.StallEvery {
			return nil, errors.New("tickroom-netcode: a stall must be shorter than its period")
		}
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target, up: up, down: down, start: time.Now(),
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the listening address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Start is when the stall and freeze schedules began.
func (p *Proxy) Start() time.Time { return p.start }

// Close stops listening, closes every proxied connection and waits for
// their goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.conns) >= maxConns {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// Freeze makes the server-to-client direction deliver nothing from now for
// d (the one freeze of its Shape), then burst.
func (p *Proxy) Freeze(d time.Duration) {
	p.mu.Lock()
	p.down.FreezeAt = time.Since(p.start)
	p.down.FreezeFor = d
	p.mu.Unlock()
}

func (p *Proxy) shape(up bool) Shape {
	p.mu.Lock()
	defer p.mu.Unlock()
	if up {
		return p.up
	}
	return p.down
}

func (p *Proxy) jitter(j time.Duration) time.Duration {
	if j <= 0 {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return time.Duration(p.rng.Int64N(int64(2*j)+1)) - j
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			c.Close()
			continue
		}
		p.wg.Add(1)
		go p.serve(c)
	}
}

func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	defer p.untrack(client)
	defer client.Close()
	server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		return
	}
	if !p.track(server) {
		server.Close()
		return
	}
	defer p.untrack(server)
	defer server.Close()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(client, server, true) }()
	go func() { defer wg.Done(); p.pipe(server, client, false) }()
	wg.Wait()
}

type chunk struct {
	data []byte
	at   time.Time // when it may be written
}

// pipe copies src to dst, each chunk held until its release time. When src
// ends, dst's write side is closed after the last chunk; when either side
// fails, both close.
func (p *Proxy) pipe(src, dst net.Conn, up bool) {
	q := make(chan chunk, queueChunks)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := range q {
			if d := time.Until(c.at); d > 0 {
				time.Sleep(d)
			}
			if _, err := dst.Write(c.data); err != nil {
				src.Close()
				dst.Close()
				for range q {
				}
				return
			}
		}
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		} else {
			dst.Close()
		}
	}()
	var last time.Duration
	for {
		buf := make([]byte, chunkSize)
		n, err := src.Read(buf)
		if n > 0 {
			s := p.shape(up)
			now := time.Since(p.start)
			due := now + s.Latency + p.jitter(s.Jitter)
			if due < now {
				due = now
			}
			due = s.release(due)
			if due < last {
				due = last // in order: never before the chunk read before
			}
			last = due
			q <- chunk{data: buf[:n], at: p.start.Add(due)}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				dst.Close()
			}
			break
		}
	}
	close(q)
	<-done
}
