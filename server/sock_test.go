package server

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tcpPair returns both ends of a real loopback TCP connection.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- c
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	return server, client
}

// readFrame reads one unmasked frame and returns its opcode and payload.
func readFrame(r *bufio.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	p := make([]byte, n)
	_, err := io.ReadFull(r, p)
	return h[0] & 0x0f, p, err
}

// payloadOf is a numbered payload of a size that varies with i, crossing
// the 126-byte and 64 KiB header boundaries.
func payloadOf(i int) []byte {
	size := []int{4, 125, 126, 300, 65535, 65536, 70000}[i%7]
	p := make([]byte, size)
	binary.BigEndian.PutUint32(p, uint32(i))
	for j := 4; j < size; j++ {
		p[j] = byte(i + j)
	}
	return p
}

// A reader that does not read makes the socket buffer fill: the frames
// written directly, the ones queued behind them and the control frames
// written meanwhile all arrive whole and in order, and the queue refuses
// data frames past its limit without losing any it accepted.
func TestSockKeepsOrderThroughTheQueue(t *testing.T) {
	srv, cli := tcpPair(t)
	var writtenFrames, writtenBytes atomic.Int64
	const limit = 16
	s := newSock(srv, 5*time.Second, limit, func(f, b int) {
		writtenFrames.Add(int64(f))
		writtenBytes.Add(int64(b))
	})
	if s.raw == nil {
		t.Fatal("a TCP connection should be written directly")
	}

	var accepted []int
	var acceptedBytes int
	ping := []byte{0x89, 0} // an empty ping, as gorilla writes it
	refused := 0
	for i := 0; i < 400; i++ {
		p := payloadOf(i)
		if s.SendBinary(p) {
			accepted = append(accepted, i)
			acceptedBytes += len(p)
		} else {
			refused++
		}
		if i%50 == 0 {
			if _, err := s.Write(ping); err != nil {
				t.Fatalf("control frame refused: %v", err)
			}
		}
	}
	if refused == 0 {
		t.Fatalf("the queue never filled: %d frames accepted with nobody reading", len(accepted))
	}

	r := bufio.NewReader(cli)
	var got []int
	pings := 0
	cli.SetReadDeadline(time.Now().Add(10 * time.Second))
	for len(got) < len(accepted) || pings < 8 {
		op, p, err := readFrame(r)
		if err != nil {
			t.Fatalf("after %d frames: %v", len(got), err)
		}
		switch op {
		case 0x9:
			pings++
		case 0x2:
			if len(got) == len(accepted) {
				t.Fatalf("more data frames arrived than were accepted")
			}
			i := int(binary.BigEndian.Uint32(p))
			if want := payloadOf(i); string(p) != string(want) {
				t.Fatalf("frame %d arrived damaged (%d bytes, want %d)", i, len(p), len(want))
			}
			got = append(got, i)
		default:
			t.Fatalf("unexpected opcode %#x", op)
		}
	}
	for k := range accepted {
		if got[k] != accepted[k] {
			t.Fatalf("frame %d arrived as number %d: %v", accepted[k], k, got[:k+1])
		}
	}
	// The counters catch up once the flusher has written everything.
	deadline := time.Now().Add(5 * time.Second)
	for writtenFrames.Load() != int64(len(accepted)) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if f, b := writtenFrames.Load(), writtenBytes.Load(); f != int64(len(accepted)) || b != int64(acceptedBytes) {
		t.Fatalf("counted %d frames / %d bytes written, want %d / %d", f, b, len(accepted), acceptedBytes)
	}
}

// Close waits for the queue: everything accepted before it arrives, then
// end-of-stream.
func TestSockCloseDrainsTheQueueFirst(t *testing.T) {
	srv, cli := tcpPair(t)
	s := newSock(srv, 5*time.Second, 1000, func(int, int) {})
	n := 0
	for ; n < 100; n++ {
		if !s.SendBinary(payloadOf(4)) { // 65 KiB each: the kernel buffer fills
			t.Fatalf("frame %d refused", n)
		}
	}
	s.mu.Lock()
	queued := s.flushing
	s.mu.Unlock()
	if !queued {
		t.Fatal("6.5 MB went out without queueing: the test does not test the queue")
	}
	if _, err := s.Write([]byte{0x88, 2, 0x03, 0xe8}); err != nil { // close 1000
		t.Fatal(err)
	}
	s.Close()
	if s.SendBinary([]byte{1}) {
		t.Fatal("a closed sock accepted a frame")
	}
	r := bufio.NewReader(cli)
	for i := 0; i < n; i++ {
		if op, _, err := readFrame(r); err != nil || op != 0x2 {
			t.Fatalf("frame %d: opcode %#x, %v", i, op, err)
		}
	}
	if op, p, err := readFrame(r); err != nil || op != 0x8 || binary.BigEndian.Uint16(p) != 1000 {
		t.Fatalf("close frame: opcode %#x payload %v, %v", op, p, err)
	}
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the close frame: %v, want end of stream", err)
	}
}

// A client that never reads is cut off after the write deadline, and the
// sock refuses everything after that.
func TestSockStuckReaderFails(t *testing.T) {
	srv, _ := tcpPair(t)
	s := newSock(srv, 200*time.Millisecond, 1<<20, func(int, int) {})
	big := make([]byte, 1<<20)
	deadline := time.Now().Add(10 * time.Second)
	for s.SendBinary(big) {
		if time.Now().After(deadline) {
			t.Fatal("a reader that never reads still takes frames after 10 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := s.Write([]byte{0x89, 0}); err == nil {
		t.Fatal("a failed sock accepted a control frame")
	}
}

// Concurrent writers (the room, gorilla's pings, a closing goroutine) under
// the race detector.
func TestSockConcurrentWriters(t *testing.T) {
	srv, cli := tcpPair(t)
	s := newSock(srv, 5*time.Second, 64, func(int, int) {})
	done := make(chan int)
	go func() {
		r := bufio.NewReader(cli)
		n := 0
		for {
			if _, _, err := readFrame(r); err != nil {
				done <- n
				return
			}
			n++
		}
	}()
	var wg sync.WaitGroup
	var sent atomic.Int64
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if s.SendBinary(payloadOf(i % 4)) {
					sent.Add(1)
				}
				if i%100 == 0 {
					if _, err := s.Write([]byte{0x89, 0}); err == nil {
						sent.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	s.Close()
	if got := <-done; int64(got) != sent.Load() {
		t.Fatalf("reader got %d whole frames, %d were accepted", got, sent.Load())
	}
}
