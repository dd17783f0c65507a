package main

import (
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// echoServer accepts connections on loopback and echoes each one back
// until it ends; it stops with the test.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func startProxy(t *testing.T, up, down Shape) *Proxy {
	t.Helper()
	p, err := Listen("127.0.0.1:0", echoServer(t), up, down, 7)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func dial(t *testing.T, p *Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// With jitter larger than the gap between writes, chunks would overtake
// each other if the proxy did not keep order: every byte must come back
// intact and in order through both directions.
func TestJitterKeepsOrder(t *testing.T) {
	s := Shape{Latency: 5 * time.Millisecond, Jitter: 5 * time.Millisecond}
	p := startProxy(t, s, s)
	c := dial(t, p)
	const n = 200
	var sent bytes.Buffer
	go func() {
		for i := 0; i < n; i++ {
			var b [4]byte
			binary.BigEndian.PutUint32(b[:], uint32(i))
			c.Write(b[:])
			time.Sleep(200 * time.Microsecond) // separate reads, so separate chunks
		}
	}()
	for i := 0; i < n; i++ {
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], uint32(i))
		sent.Write(b[:])
	}
	got := make([]byte, sent.Len())
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, sent.Bytes()) {
		for i := 0; i < n; i++ {
			if v := binary.BigEndian.Uint32(got[4*i:]); v != uint32(i) {
				t.Fatalf("chunk %d came back as %d: reordered", i, v)
			}
		}
	}
}

// A round trip through the proxy to an echo server cannot take less than
// the two latencies minus the two jitters (a lower bound: a slow machine
// only adds to it).
func TestLatencyBothDirections(t *testing.T) {
	up := Shape{Latency: 40 * time.Millisecond, Jitter: 10 * time.Millisecond}
	down := Shape{Latency: 60 * time.Millisecond, Jitter: 10 * time.Millisecond}
	p := startProxy(t, up, down)
	c := dial(t, p)
	min := up.Latency - up.Jitter + down.Latency - down.Jitter
	for i := 0; i < 5; i++ {
		t0 := time.Now()
		if _, err := c.Write([]byte("ping")); err != nil {
			t.Fatal(err)
		}
		b := make([]byte, 4)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatal(err)
		}
		if rtt := time.Since(t0); rtt < min {
			t.Fatalf("round trip %v, under the %v the latencies allow", rtt, min)
		}
	}
}

// A freeze of the server-to-client direction holds the echo until its end,
// then delivers everything held, in order.
func TestFreezeHoldsThenBursts(t *testing.T) {
	down := Shape{FreezeAt: 50 * time.Millisecond, FreezeFor: 400 * time.Millisecond}
	p := startProxy(t, Shape{}, down)
	c := dial(t, p)
	// Written well inside the freeze: wait until 100 ms after the start.
	time.Sleep(time.Until(p.Start().Add(100 * time.Millisecond)))
	for i := byte(0); i < 10; i++ {
		c.Write([]byte{i})
		time.Sleep(5 * time.Millisecond)
	}
	got := make([]byte, 10)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if end := p.Start().Add(down.FreezeAt + down.FreezeFor); time.Now().Before(end) {
		t.Fatalf("echo arrived %v before the freeze ended", time.Until(end))
	}
	if !bytes.Equal(got, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) {
		t.Fatalf("burst out of order: %v", got)
	}
}

func TestRelease(t *testing.T) {
	ms := time.Millisecond
	s := Shape{StallEvery: 1000 * ms, StallFor: 250 * ms, FreezeAt: 3500 * ms, FreezeFor: 1000 * ms}
	for _, c := range []struct{ due, want time.Duration }{
		{0, 0},
		{999 * ms, 999 * ms},
		{1000 * ms, 1250 * ms}, // a stall starts
		{1100 * ms, 1250 * ms},
		{1250 * ms, 1250 * ms},
		{2300 * ms, 2300 * ms},
		{3600 * ms, 4500 * ms}, // the freeze
		{4499 * ms, 4500 * ms},
		{4000 * ms, 4500 * ms}, // a stall inside the freeze ends with it
		{5100 * ms, 5250 * ms},
	} {
		if got := s.release(c.due); got != c.want {
			t.Errorf("release(%v) = %v, want %v", c.due, got, c.want)
		}
	}
}

// When the client closes its side, the server sees the end of the stream,
// and the server's close ends the client's stream too.
func TestHalfCloseReachesBothEnds(t *testing.T) {
	p := startProxy(t, Shape{Latency: 5 * time.Millisecond}, Shape{Latency: 5 * time.Millisecond})
	c := dial(t, p)
	c.Write([]byte("bye"))
	c.(*net.TCPConn).CloseWrite()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "bye" {
		t.Fatalf("got %q", got)
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, c := range [][2]string{{"0.0.0.0:0", "127.0.0.1:1"}, {"127.0.0.1:0", "10.0.0.1:80"}, {"127.0.0.1:0", "example.com:80"}} {
		if p, err := Listen(c[0], c[1], Shape{}, Shape{}, 1); err == nil {
			p.Close()
			t.Errorf("Listen(%q, %q) accepted a non-loopback address", c[0], c[1])
		}
	}
	if _, err := Listen("127.0.0.1:0", "127.0.0.1:1", Shape{}, Shape{StallEvery: time.Second, StallFor: time.Second}, 1); err == nil {
		t.Error("a stall as long as its period was accepted")
	}
}

// Close ends proxied connections: the client's read returns.
func TestCloseEndsConnections(t *testing.T) {
	p, err := Listen("127.0.0.1:0", echoServer(t), Shape{}, Shape{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p)
	c.Write([]byte("x"))
	b := make([]byte, 1)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
	p.Close()
	if _, err := c.Read(b); err == nil {
		t.Fatal("read after Close succeeded")
	}
}

// Freeze holds what the server sends from the moment it is called.
func TestFreezeNow(t *testing.T) {
	p := startProxy(t, Shape{}, Shape{})
	c := dial(t, p)
	t0 := time.Now() // before the freeze begins: the echo cannot come sooner than its end
	p.Freeze(300 * time.Millisecond)
	c.Write([]byte("x"))
	b := make([]byte, 1)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, b); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Fatalf("echo after %v, inside the 300 ms freeze", d)
	}
}
