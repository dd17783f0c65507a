package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/idlebench"
)

// BenchmarkBroadcastSessions sends one 237-byte message (arena-bench's mean
// delta) to N real WebSocket sessions through wsConn.Send, the path every
// tick's broadcast takes: the frame built and written to the socket with
// one write(2) from the sending goroutine (see sock). The N clients are
// gorilla connections in this process reading and discarding, so the CPU
// is both ends of a loopback connection. Sends are pipelined, at most 16
// per session in flight: half the send queue, so that the room's own
// once-a-second delta always fits and the member is never taken for a
// slow consumer. One op is one message delivered to all N sessions.
func BenchmarkBroadcastSessions(b *testing.B) {
	for _, n := range []int{8, 64, 512} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) { benchBroadcast(b, n) })
	}
}

// quietServer serves one idle-bench room (1 Hz, no entities, so the only
// traffic is the test's own) for up to n members over real
// loopback sockets (httptest) and returns the server, the room and its
// WebSocket URL; everything is shut down when tb ends.
func quietServer(tb testing.TB, n int) (*Server, *rooms.Room, string) {
	s, room, url, _ := quietServerOn(tb, n, "")
	return s, room, url
}

// quietServerOn is quietServer over plain TCP (mode ""), or over TLS with
// the server's own listener under it (mode "records": frames written
// through crypto/tls from the sender, see nbTCP) or httptest's (mode
// "flusher": no nbTCP, every frame queued for a flusher goroutine). It also
// returns the dialer for its URL.
func quietServerOn(tb testing.TB, n int, mode string) (*Server, *rooms.Room, string, *websocket.Dialer) {
	tb.Helper()
	reg := rooms.NewRegistry()
	if err := reg.Register(idlebench.Type); err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := rooms.NewManager(reg, rooms.Config{Logger: log})
	s := New(mgr, Config{Logger: log, SessionsPerIP: -1, ConnsPerIP: -1})
	ts := httptest.NewUnstartedServer(s)
	if mode == "records" {
		ts.Listener = s.Listener(ts.Listener)
	}
	d := websocket.DefaultDialer
	if mode == "" {
		ts.Start()
	} else {
		ts.StartTLS()
		d = &websocket.Dialer{TLSClientConfig: ts.Client().Transport.(*http.Transport).TLSClientConfig}
	}
	tb.Cleanup(func() {
		_ = mgr.Shutdown(context.Background(), rooms.CloseGoingAway, "test over")
		_ = s.CloseSessions(context.Background(), rooms.CloseGoingAway, "test over")
		ts.Close()
	})
	room, err := mgr.Create(rooms.CreateRequest{Type: idlebench.Type.Name, MaxPlayers: n})
	if err != nil {
		tb.Fatal(err)
	}
	return s, room, "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws/" + room.ID, d
}

// BenchmarkBroadcastSessionsTLS is BenchmarkBroadcastSessions over TLS:
// "records" is the server's own listener (a frame is encrypted and written
// by the sender, no goroutine), "flusher" the path a TLS connection made
// elsewhere takes (every frame queued, a flusher goroutine started for
// it). Each message goes to all sessions and is delivered before the next,
// as a tick's delta is (pipelined, the flusher would write many frames at
// once, which ticks 50 ms apart never give it). cpu-ns/session-msg is the process's CPU, both ends;
// flushers/session-msg the flusher goroutines started.
func BenchmarkBroadcastSessionsTLS(b *testing.B) {
	for _, mode := range []string{"flusher", "records"} {
		b.Run(mode+"/sessions=64", func(b *testing.B) { benchBroadcastTLS(b, 64, mode) })
	}
}

func benchBroadcast(b *testing.B, n int) {
	s, room, url, dialer := quietServerOn(b, n, "")
	marker := make([]byte, 237)
	marker[0], marker[1] = 0x92, 0x7f // a tag no server message uses
	var got atomic.Int64
	for range n {
		conn, _, err := dialer.Dial(url, nil)
		if err != nil {
			b.Fatalf("dial: %v", err)
		}
		b.Cleanup(func() { conn.Close() })
		// Take the welcome before the next member joins: a burst of joins
		// sends every member a join event each, past its send queue.
		if _, _, err := conn.ReadMessage(); err != nil {
			b.Fatalf("welcome: %v", err)
		}
		go func() {
			var hdr [2]byte
			for {
				_, rd, err := conn.NextReader()
				if err != nil {
					return
				}
				k, _ := io.ReadFull(rd, hdr[:])
				_, _ = io.Copy(io.Discard, rd) // the rest of a message we only count
				if k == 2 && hdr[1] == 0x7f {
					got.Add(1)
				}
			}
		}()
	}
	conns := waitConns(b, s, room, n)
	b.SetBytes(int64(len(marker) * n))
	b.ReportAllocs()
	b.ResetTimer()
	sent := int64(0)
	for b.Loop() {
		for _, c := range conns {
			for !c.Send(marker) {
				if c.closed.Load() {
					b.Fatal("a session closed during the benchmark")
				}
				runtime.Gosched() // queue full: wait for the flusher
			}
		}
		sent += int64(n)
		for sent-got.Load() > int64(16*n) {
			runtime.Gosched() // let the readers catch up
		}
	}
	for deadline := time.Now().Add(30 * time.Second); got.Load() < sent; {
		if time.Now().After(deadline) {
			b.Fatalf("delivered %d of %d messages", got.Load(), sent)
		}
		runtime.Gosched()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(sent), "ns/session-msg")
}

func benchBroadcastTLS(b *testing.B, n int, mode string) {
	s, room, url, dialer := quietServerOn(b, n, mode)
	marker := make([]byte, 237)
	marker[0], marker[1] = 0x92, 0x7f // a tag no server message uses
	arrived := make(chan struct{}, n)
	for range n {
		conn, _, err := dialer.Dial(url, nil)
		if err != nil {
			b.Fatalf("dial: %v", err)
		}
		b.Cleanup(func() { conn.Close() })
		if _, _, err := conn.ReadMessage(); err != nil { // the welcome
			b.Fatalf("welcome: %v", err)
		}
		go func() {
			for {
				_, p, err := conn.ReadMessage()
				if err != nil {
					return
				}
				if len(p) == len(marker) && p[1] == 0x7f {
					arrived <- struct{}{}
				}
			}
		}()
	}
	conns := waitConns(b, s, room, n)
	b.ReportAllocs()
	flushes0 := flushesOf(conns)
	cpu0 := processCPU()
	b.ResetTimer()
	for b.Loop() {
		for _, c := range conns {
			if !c.Send(marker) {
				b.Fatal("a send was refused with one message in flight")
			}
		}
		for range n {
			select {
			case <-arrived:
			case <-time.After(30 * time.Second):
				b.Fatal("a message was not delivered in 30 s")
			}
		}
	}
	b.StopTimer()
	sent := float64(b.N * n)
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/sent, "cpu-ns/session-msg")
	b.ReportMetric(float64(flushesOf(conns)-flushes0)/sent, "flushers/session-msg")
}

// flushesOf counts the flusher goroutines the connections' socks started.
func flushesOf(conns []*wsConn) int {
	n := 0
	for _, c := range conns {
		c.sock.mu.Lock()
		n += c.sock.flushes
		c.sock.mu.Unlock()
	}
	return n
}

// waitConns returns the server's n connections once the room seated them
// all. A connection is in s.conns only after its session is set, which is
// all Send needs.
func waitConns(b *testing.B, s *Server, room *rooms.Room, n int) []*wsConn {
	deadline := time.Now().Add(30 * time.Second)
	for {
		var out []*wsConn
		s.conns.Range(func(k, _ any) bool {
			out = append(out, k.(*wsConn))
			return true
		})
		if len(out) == n && room.Players() == n {
			return out
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d sessions seated", len(out), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkLoopbackFloor is what any server pays for messages on loopback
// TCP, without WebSocket, rooms or codecs: 242-byte frames (an arena-bench
// delta with its header), each written with one write(2), read by a
// goroutine blocked in read(2) at the other end. cpu-ns/op is the
// process's user+system CPU per message, both ends and the kernel's
// loopback delivery included.
//   - pipelined: the writer does not wait, so the reader takes many frames
//     per read: close to the cost of the write(2) alone.
//   - lockstep: one frame at a time, the writer waiting for the reader:
//     every message wakes a parked goroutine, as each client's input does
//     on the server (a write, a netpoll wake-up, a read, and the reply's
//     wake-up).
//
// Per client per tick the server writes one delta and reads one input, so
// these bound its CPU on this machine from below (docs/BENCHMARKS.md).
func BenchmarkLoopbackFloor(b *testing.B) {
	for _, lockstep := range []bool{false, true} {
		name := map[bool]string{false: "pipelined", true: "lockstep"}[lockstep]
		b.Run(name, func(b *testing.B) { benchLoopback(b, lockstep) })
	}
}

func benchLoopback(b *testing.B, lockstep bool) {
	r, w := tcpPair(b)
	frame := make([]byte, 242)
	got := make(chan struct{}, 1)
	var frames atomic.Int64
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		buf := make([]byte, 64<<10)
		for n := 0; ; {
			k, err := r.Read(buf)
			if err != nil {
				return
			}
			for n += k; n >= len(frame); n -= len(frame) {
				frames.Add(1)
				if lockstep {
					got <- struct{}{}
				}
			}
		}
	}()
	cpu0 := processCPU()
	b.ResetTimer()
	for b.Loop() {
		if _, err := w.Write(frame); err != nil {
			b.Fatal(err)
		}
		if lockstep {
			<-got
		}
	}
	for frames.Load() < int64(b.N) {
		runtime.Gosched()
	}
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
	r.Close()
	<-readerDone
}

// processCPU is this process's user+system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
