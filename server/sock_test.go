package server

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// tcpPair returns both ends of a real loopback TCP connection.
func tcpPair(t testing.TB) (server, client net.Conn) {
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

// noDescriptor hides the TCP connection's descriptor, as a TLS connection
// does: the sock must then write everything through its flusher.
type noDescriptor struct{ net.Conn }

// A reader that does not read makes the socket buffer fill: the frames
// written directly, the ones queued behind them and the control frames
// written meanwhile all arrive whole and in order, and the queue refuses
// data frames past its limit without losing any it accepted. The same
// holds without a descriptor (TLS), where every frame is queued.
func TestSockKeepsOrderThroughTheQueue(t *testing.T) {
	for _, mode := range []string{"direct", "no-descriptor", "tls-records"} {
		t.Run(mode, func(t *testing.T) { testSockOrder(t, mode) })
	}
}

// tlsPair returns both ends of a TLS connection over loopback TCP whose
// server end runs over an nbTCP, as Server.Listener's connections do.
func tlsPair(t *testing.T) (server *tls.Conn, client *tls.Conn) {
	t.Helper()
	srv, cli := tcpPair(t)
	return tlsOver(t, srv, cli)
}

// tlsOver runs a TLS handshake over the loopback pair srv, cli, the
// server end over an nbTCP (as Server.Listener's connections are).
func tlsOver(t *testing.T, srv, cli net.Conn) (server *tls.Conn, client *tls.Conn) {
	t.Helper()
	return tlsHandshake(t, &nbTCP{TCPConn: srv.(*net.TCPConn)}, cli)
}

// tlsHandshake runs a TLS handshake with srv as the server's connection,
// as it is (tlsOver puts an nbTCP under it).
func tlsHandshake(t *testing.T, srv, cli net.Conn) (server *tls.Conn, client *tls.Conn) {
	t.Helper()
	cert := selfSigned(t)
	ts := tls.Server(srv, &tls.Config{Certificates: []tls.Certificate{cert}})
	tc := tls.Client(cli, &tls.Config{InsecureSkipVerify: true})
	hs := make(chan error, 1)
	go func() { hs <- tc.Handshake() }()
	if err := ts.Handshake(); err != nil {
		t.Fatal(err)
	}
	if err := <-hs; err != nil {
		t.Fatal(err)
	}
	return ts, tc
}

func testSockOrder(t *testing.T, mode string) {
	var conn, cli net.Conn
	switch mode {
	case "tls-records":
		conn, cli = tlsPair(t)
	case "no-descriptor":
		var srv net.Conn
		srv, cli = tcpPair(t)
		conn = noDescriptor{srv}
	default:
		conn, cli = tcpPair(t)
	}
	var writtenFrames, writtenBytes atomic.Int64
	const limit = 16
	s := newSock(conn, 5*time.Second, limit, func(f, b int) {
		writtenFrames.Add(int64(f))
		writtenBytes.Add(int64(b))
	})
	if direct := mode == "direct"; (s.raw != nil) != direct {
		t.Fatalf("raw descriptor: got %v, want %v", s.raw != nil, direct)
	}
	if records := mode == "tls-records"; (s.under != nil) != records {
		t.Fatalf("TLS records written without blocking: got %v, want %v", s.under != nil, records)
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
	if mode == "tls-records" {
		s.mu.Lock()
		flushes := s.flushes
		s.mu.Unlock()
		if flushes != 0 {
			t.Fatalf("TLS frames went through %d flusher goroutines of the WebSocket's sock, want none", flushes)
		}
		if s.under.flushes == 0 {
			t.Fatal("the records' sock never queued: the test does not test its queue")
		}
	}
}

// Close waits for the queue: everything accepted before it arrives, then
// end-of-stream. Over TLS the records' queue is waited for the same way.
func TestSockCloseDrainsTheQueueFirst(t *testing.T) {
	for _, tlsRecords := range []bool{false, true} {
		t.Run(map[bool]string{false: "tcp", true: "tls-records"}[tlsRecords], func(t *testing.T) {
			testSockCloseDrains(t, tlsRecords)
		})
	}
}

func testSockCloseDrains(t *testing.T, tlsRecords bool) {
	var srv, cli net.Conn
	if tlsRecords {
		srv, cli = tlsPair(t)
	} else {
		srv, cli = tcpPair(t)
	}
	s := newSock(srv, 5*time.Second, 1000, func(int, int) {})
	n := 0
	for ; n < 100; n++ {
		if !s.SendBinary(payloadOf(4)) { // 65 KiB each: the kernel buffer fills
			if !tlsRecords || n < 10 {
				t.Fatalf("frame %d refused", n)
			}
			break // the records' queue holds 4 MiB (with TLS's overhead): full
		}
	}
	q := s
	if tlsRecords {
		q = s.under
	}
	q.mu.Lock()
	queued := q.flushing
	q.mu.Unlock()
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

// Over TLS too (the records' sock): once its flusher's write times out,
// the next frame finds the connection failed, not full, so the member is
// gone rather than slow.
func TestSockTLSStuckReaderFails(t *testing.T) {
	ts, _ := tlsPair(t)
	s := newSock(ts, 200*time.Millisecond, 4, func(int, int) {})
	big := make([]byte, 1<<20)
	deadline := time.Now().Add(10 * time.Second)
	for !s.ending.Load() {
		if time.Now().After(deadline) {
			t.Fatal("a TLS reader that never reads is not cut off after 10 s")
		}
		s.SendBinary(big)
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
		// Read only once the socket is full and the flusher running, so
		// that the writers race it.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			s.mu.Lock()
			running := s.flushes > 0
			s.mu.Unlock()
			if running {
				break
			}
		}
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
				if s.SendBinary(payloadOf(i)) { // up to 70 KB: the socket fills, the flusher runs
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
	s.mu.Lock()
	flushes := s.flushes
	s.mu.Unlock()
	s.Close()
	if got := <-done; int64(got) != sent.Load() {
		t.Fatalf("reader got %d whole frames, %d were accepted", got, sent.Load())
	}
	if flushes == 0 {
		t.Fatal("the flusher never ran: the test did not race writers against it")
	}
}

// After a close frame nothing follows it on the wire: data frames are
// refused, control frames (a ping from the timer) dropped.
func TestSockNothingAfterTheCloseFrame(t *testing.T) {
	srv, cli := tcpPair(t)
	s := newSock(srv, 5*time.Second, 16, func(int, int) {})
	if !s.SendBinary([]byte{1, 2, 3}) {
		t.Fatal("frame refused")
	}
	if _, err := s.Write([]byte{0x88, 2, 0x03, 0xe8}); err != nil {
		t.Fatal(err)
	}
	if s.SendBinary([]byte{4}) {
		t.Fatal("a data frame was accepted after the close frame")
	}
	if _, err := s.Write([]byte{0x89, 0}); err != nil {
		t.Fatalf("a ping after the close frame: %v, want it dropped quietly", err)
	}
	s.Close()
	r := bufio.NewReader(cli)
	if op, _, err := readFrame(r); err != nil || op != 0x2 {
		t.Fatalf("first frame: opcode %#x, %v", op, err)
	}
	if op, _, err := readFrame(r); err != nil || op != 0x8 {
		t.Fatalf("second frame: opcode %#x, %v; want the close frame", op, err)
	}
	if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the close frame: %v, want end of stream", err)
	}
}

// A client that never reads cannot make the server queue without bound
// through control frames (every ping it sends is answered with a pong):
// past maxQueueBytes the connection is cut off.
func TestSockControlFramesAreBounded(t *testing.T) {
	srv, _ := tcpPair(t)
	s := newSock(srv, time.Minute, 16, func(int, int) {})
	pong := append([]byte{0x8a, 125}, make([]byte, 125)...)
	for i := 0; ; i++ {
		if _, err := s.Write(pong); err != nil {
			if !errors.Is(err, errQueueFull) {
				t.Fatalf("write %d: %v, want %v", i, err, errQueueFull)
			}
			break
		}
		if i > 10*maxQueueBytes/len(pong) {
			t.Fatalf("%d pongs (%d MB) taken from a client that never reads", i, i*len(pong)>>20)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil || s.queue != nil {
		t.Fatalf("the connection should have failed and let go of its queue (err %v, %d bytes queued)", s.err, len(s.queue))
	}
}

// Over TLS (no descriptor: every frame goes through the flusher), a client
// that stops reading is cut off once the queue is full, no write waits for
// it, and the flusher blocked in its write ends with the connection. (The
// sock closes the TCP connection under the TLS one, so that no close_notify
// is attempted into a full socket.)
func TestSockTLSStuckReaderDoesNotBlockWriters(t *testing.T) {
	for _, records := range []bool{false, true} {
		t.Run(map[bool]string{false: "flusher", true: "tls-records"}[records], func(t *testing.T) {
			testSockTLSStuckReader(t, records)
		})
	}
}

func testSockTLSStuckReader(t *testing.T, records bool) {
	var ts *tls.Conn
	if records {
		ts, _ = tlsPair(t)
	} else {
		srv, cli := tcpPair(t)
		ts, _ = tlsHandshake(t, srv, cli)
	}
	s := newSock(ts, time.Minute, 1<<20, func(int, int) {})
	if s.raw != nil {
		t.Fatal("a TLS connection has no descriptor to write to directly")
	}
	if (s.under != nil) != records {
		t.Fatalf("TLS records written without blocking: got %v, want %v", s.under != nil, records)
	}
	pong := append([]byte{0x8a, 125}, make([]byte, 125)...)
	var slowest time.Duration
	var err error
	for i := 0; err == nil; i++ {
		if i > 10*maxQueueBytes/len(pong) {
			t.Fatalf("%d pongs taken from a TLS client that never reads", i)
		}
		start := time.Now()
		_, err = s.Write(pong)
		slowest = max(slowest, time.Since(start))
	}
	if !errors.Is(err, errQueueFull) {
		t.Fatalf("got %v, want %v", err, errQueueFull)
	}
	if slowest > 2*time.Second {
		t.Fatalf("a Write took %v: a stuck TLS client held up its writer", slowest)
	}
	// The flusher, blocked in a write with a minute's deadline, ends too.
	q := s
	if records {
		q = s.under
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		q.mu.Lock()
		flushing := q.flushing
		q.mu.Unlock()
		if !flushing {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the flusher is still blocked 5 s after the connection failed")
		}
	}
}

// selfSigned makes a throwaway certificate for 127.0.0.1.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Close goes on reading until lingerTime after the queue drained, over TLS
// records too: there the queue is under's, and lingering from Close itself
// stopped the read loop while the close frame still waited in it (the
// client's unread bytes then reset the connection, losing the close frame).
func TestCloseKeepsReadingUntilTheQueueDrained(t *testing.T) {
	for _, records := range []bool{false, true} {
		t.Run(map[bool]string{false: "tcp", true: "tls-records"}[records], func(t *testing.T) {
			var srv, cli net.Conn
			if records {
				srv, cli = tlsPair(t)
			} else {
				srv, cli = tcpPair(t)
			}
			s := newSock(srv, 10*time.Second, 1000, func(int, int) {})
			q := s
			if records {
				q = s.under
			}
			for range 200 { // the kernel's buffers fill, then about 1 MB queues
				q.mu.Lock()
				queued := len(q.queue)
				q.mu.Unlock()
				if queued > 1<<20 || !s.SendBinary(payloadOf(4)) {
					break
				}
			}
			readEnded := make(chan time.Time, 1)
			go func() { // melody's read loop: read until an error
				buf := make([]byte, 4096)
				for {
					if _, err := s.Read(buf); err != nil {
						readEnded <- time.Now()
						return
					}
				}
			}()
			q.mu.Lock()
			queued := len(q.queue)
			q.mu.Unlock()
			if queued == 0 {
				t.Fatal("nothing queued: the test would not test the queue")
			}
			if _, err := s.Write([]byte{0x88, 2, 0x03, 0xe8}); err != nil {
				t.Fatal(err)
			}
			s.Close()
			time.Sleep(2 * lingerTime) // a client stalled for 2 s, then reading everything
			r := bufio.NewReader(cli)
			_ = cli.SetReadDeadline(time.Now().Add(10 * time.Second))
			var drained time.Time
			for {
				op, _, err := readFrame(r)
				if err != nil {
					t.Fatalf("client: %v", err)
				}
				if op == 0x8 {
					drained = time.Now()
					break
				}
			}
			select {
			case ended := <-readEnded:
				t.Fatalf("the server stopped reading %v before the client got the close frame (it must read until lingerTime after the queue drained)", drained.Sub(ended).Round(time.Millisecond))
			case <-time.After(lingerTime / 2):
			}
		})
	}
}

// The send queue's limit counts frames over TLS as over plain TCP, however
// many TLS records a frame takes. With small socket buffers and a client
// that does not read, the socket takes less than one 20 KiB frame, so the
// sock accepts about limit frames before it refuses one; it accepted
// limit/2 over TLS when the limit counted records (two per frame). Every
// accepted frame then arrives, whole and in order.
func TestSockLimitCountsFramesNotRecords(t *testing.T) {
	for _, mode := range []string{"direct", "tls-records"} {
		t.Run(mode, func(t *testing.T) {
			srv, cli := tcpPair(t)
			for _, c := range []net.Conn{srv, cli} {
				tc := c.(*net.TCPConn)
				if err := tc.SetWriteBuffer(4096); err != nil {
					t.Fatal(err)
				}
				if err := tc.SetReadBuffer(4096); err != nil {
					t.Fatal(err)
				}
			}
			var conn net.Conn = srv
			if mode == "tls-records" {
				conn, cli = tlsOver(t, srv, cli) // the server side over an nbTCP
			}
			const limit = 8
			s := newSock(conn, time.Minute, limit, func(int, int) {})
			if (s.under != nil) != (mode == "tls-records") {
				t.Fatalf("TLS records written without blocking: got %v", s.under != nil)
			}
			frame := func(i int) []byte {
				p := make([]byte, 20<<10)
				binary.BigEndian.PutUint32(p, uint32(i))
				return p
			}
			accepted := 0
			for s.SendBinary(frame(accepted)) {
				accepted++
				if accepted > 1000 {
					t.Fatalf("a client that never reads had 1000 frames of 20 KiB accepted (limit %d)", limit)
				}
			}
			if accepted < limit || accepted > limit+2 {
				t.Fatalf("%d frames accepted before the first refusal, want %d to %d (the socket takes less than one)", accepted, limit, limit+2)
			}
			r := bufio.NewReader(cli)
			_ = cli.SetReadDeadline(time.Now().Add(10 * time.Second))
			for i := range accepted {
				op, p, err := readFrame(r)
				if err != nil {
					t.Fatalf("frame %d of %d: %v", i, accepted, err)
				}
				if op != 0x2 || len(p) != 20<<10 || binary.BigEndian.Uint32(p) != uint32(i) {
					t.Fatalf("frame %d: opcode %#x, %d bytes, number %d", i, op, len(p), binary.BigEndian.Uint32(p))
				}
			}
		})
	}
}

// A frame larger than maxQueueBytes goes out over TLS as over plain TCP:
// the queue's byte bound refuses a frame only when the queue already holds
// more than that. (Over TLS it was refused whatever the queue held, since
// the frame and its records could never fit under the bound.)
func TestSockSendsAFrameOverTheQueueBound(t *testing.T) {
	for _, mode := range []string{"direct", "tls-records"} {
		t.Run(mode, func(t *testing.T) {
			var conn, cli net.Conn
			if mode == "tls-records" {
				conn, cli = tlsPair(t)
			} else {
				conn, cli = tcpPair(t)
			}
			s := newSock(conn, 10*time.Second, 4, func(int, int) {})
			big := make([]byte, maxQueueBytes+1<<20)
			for i := range big {
				big[i] = byte(i / 7)
			}
			type result struct {
				op  byte
				p   []byte
				err error
			}
			got := make(chan result, 1)
			go func() {
				_ = cli.SetReadDeadline(time.Now().Add(20 * time.Second))
				op, p, err := readFrame(bufio.NewReader(cli))
				got <- result{op, p, err}
			}()
			if !s.SendBinary(big) {
				t.Fatalf("a %d-byte frame was refused by an empty queue", len(big))
			}
			res := <-got
			if res.err != nil || res.op != 0x2 {
				t.Fatalf("reading it: opcode %#x, %v", res.op, res.err)
			}
			if string(res.p) != string(big) {
				t.Fatalf("it arrived damaged: %d bytes, want %d", len(res.p), len(big))
			}
		})
	}
}
