package server

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// A tick sent through the io_uring submission keeps every member's stream
// whole and in order: a member whose socket fills mid-frame (a short send
// into small buffers) gets the rest queued, its later ticks join the queue
// behind it, a frame past its limit is refused, and the members that read
// get every tick; a closed member's send is refused.
func TestRingTickKeepsEveryStream(t *testing.T) {
	pool := newRingPool(1, func(err error) { t.Logf("io_uring off: %v", err) })
	if b := pool.get(); b == nil {
		t.Skip("io_uring cannot be set up here")
	} else {
		pool.put(b)
	}
	const limit = 4
	var socks []*sock
	var clients []net.Conn
	for range 3 {
		srv, cli := tcpPair(t)
		socks = append(socks, newSock(srv, time.Minute, limit, func(int, int) {}))
		clients = append(clients, cli)
	}
	stuck := socks[1]
	for _, c := range []net.Conn{stuck.Conn, clients[1]} {
		if err := c.(*net.TCPConn).SetWriteBuffer(4096); err != nil {
			t.Fatal(err)
		}
		if err := c.(*net.TCPConn).SetReadBuffer(4096); err != nil {
			t.Fatal(err)
		}
	}
	_ = socks[2].Close()

	// The reading member takes every tick as it comes.
	const ticks = 12
	readDone := make(chan error, 1)
	go func() {
		r := bufio.NewReader(clients[0])
		_ = clients[0].SetReadDeadline(time.Now().Add(20 * time.Second))
		for i := range ticks {
			op, p, err := readFrame(r)
			if err == nil && (op != 0x2 || binary.BigEndian.Uint32(p) != uint32(i) || len(p) != 20<<10) {
				err = fmt.Errorf("opcode %#x, %d bytes, number %d", op, len(p), binary.BigEndian.Uint32(p))
			}
			if err != nil {
				readDone <- fmt.Errorf("tick %d: %w", i, err)
				return
			}
		}
		readDone <- nil
	}()

	var stuckGot []int
	sent := make([]bool, len(socks))
	for i := range ticks {
		payload := make([]byte, 20<<10)
		binary.BigEndian.PutUint32(payload, uint32(i))
		clear(sent)
		pool.sendEach(payload, socks, sent)
		if !sent[0] {
			t.Fatalf("tick %d refused for the member that reads", i)
		}
		if sent[2] {
			t.Fatalf("tick %d accepted for a closed member", i)
		}
		if sent[1] {
			stuckGot = append(stuckGot, i)
		}
	}
	if err := <-readDone; err != nil {
		t.Fatal(err)
	}
	if len(stuckGot) == ticks || len(stuckGot) < limit {
		t.Fatalf("the member that does not read had %d of %d ticks accepted (limit %d): the queue was not exercised", len(stuckGot), ticks, limit)
	}
	stuck.mu.Lock()
	flushes := stuck.flushes
	stuck.mu.Unlock()
	if flushes == 0 {
		t.Fatal("nothing was queued for the member that does not read")
	}
	r := bufio.NewReader(clients[1])
	_ = clients[1].SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, want := range stuckGot {
		op, p, err := readFrame(r)
		if err != nil || op != 0x2 || len(p) != 20<<10 || binary.BigEndian.Uint32(p) != uint32(want) {
			t.Fatalf("want tick %d whole: opcode %#x, %d bytes, number %d, %v", want, op, len(p), binary.BigEndian.Uint32(p), err)
		}
	}
	if pool.made.Load() != 1 || pool.broken.Load() {
		t.Fatalf("rings made %d, broken %v: the ticks did not go through io_uring", pool.made.Load(), pool.broken.Load())
	}
}

// BenchmarkTickWrites: one tick's frame (237-byte payload) to each of N
// members over loopback TCP, as a room writes it. "write" is SendBinary
// per member (a write(2) each, building the frame each time: today's
// path); "write-once" builds the frame once and writes it with a write(2)
// per member (ringPool.sendEach without a ring); "uring" is
// ringPool.sendEach (one io_uring submission per 64 members). A reader goroutine per member
// reads and counts frames; every member has the tick before the next is
// sent (a tick's pattern; no queue builds up). cpu-ns/member-msg is the
// whole process's CPU (the readers' too) per member per tick;
// send-ns/member-msg the time spent in the sends.
func BenchmarkTickWrites(b *testing.B) {
	for _, n := range []int{8, 64, 400} {
		for _, mode := range []string{"write", "write-once", "uring"} {
			b.Run(fmt.Sprintf("members=%d/%s", n, mode), func(b *testing.B) { benchTickWrites(b, n, mode) })
		}
	}
}

func benchTickWrites(b *testing.B, n int, mode string) {
	payload := make([]byte, 237)
	frameLen := len(appendFrameHeader(nil, len(payload))) + len(payload)
	pool := newRingPool(1, nil)
	pool.noRing = mode == "write-once"
	if mode == "uring" {
		rb := pool.get()
		if rb == nil {
			b.Skip("io_uring cannot be set up here")
		}
		pool.put(rb)
	}
	socks := make([]*sock, n)
	var remaining atomic.Int64
	delivered := make(chan struct{}, 1)
	for i := range socks {
		srv, cli := tcpPair(b)
		socks[i] = newSock(srv, 5*time.Second, 128, func(int, int) {})
		go func() {
			buf := make([]byte, 64<<10)
			for have := 0; ; {
				k, err := cli.Read(buf)
				if err != nil {
					return
				}
				for have += k; have >= frameLen; have -= frameLen {
					if remaining.Add(-1) == 0 {
						delivered <- struct{}{}
					}
				}
			}
		}()
	}
	sent := make([]bool, n)
	var sendTime time.Duration
	b.ReportAllocs()
	cpu0 := processCPU()
	for b.Loop() {
		remaining.Store(int64(n))
		start := time.Now()
		if mode != "write" {
			pool.sendEach(payload, socks, sent)
		} else {
			for i, s := range socks {
				sent[i] = s.SendBinary(payload)
			}
		}
		sendTime += time.Since(start)
		for _, ok := range sent {
			if !ok {
				b.Fatal("a frame was refused")
			}
		}
		<-delivered
	}
	b.StopTimer()
	msgs := float64(b.N * n)
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/msgs, "cpu-ns/member-msg")
	b.ReportMetric(float64(sendTime.Nanoseconds())/msgs, "send-ns/member-msg")
	if mode == "uring" && pool.broken.Load() {
		b.Fatal("the ring broke during the benchmark")
	}
}
