package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/rooms/fieldbench"
	"github.com/tickroom/tickroom/state"
)

// clock is the run's time base: nanoseconds on the monotonic clock since the
// run began. Server and clients share the machine, so one clock serves both.
type clock struct{ base time.Time }

func (c clock) now() int64 { return int64(time.Since(c.base)) }

// window is the measured interval in clock nanoseconds; zero until set.
// Readers and senders count a message when its time falls inside it.
type window struct{ start, end atomic.Int64 }

func (w *window) has(t int64) bool {
	s := w.start.Load()
	return s != 0 && t >= s && t < w.end.Load()
}

// recv is one state message a client received: its tick and arrival time.
type recv struct {
	tick uint64
	at   int64
}

// sceneClient is one simulated player: a WebSocket, a reader goroutine that
// applies every message to its own Mirror, and an input stream sent by its
// room's sender.
//
// Ownership: fields under "reader" belong to the reader goroutine until it
// closes captured (or done); fields under "sender" to the room's sender
// until it returns. The coordinator reads them only after that.
type sceneClient struct {
	room    *sceneRoom
	idx     int // 0-based within the room: the c of the input formula
	conn    *websocket.Conn
	node    int  // the node it joined through
	relayed bool // that node does not own its room: a cluster relays its messages

	synced   chan struct{} // closed at the first snapshot
	captured chan struct{} // closed when the end-of-run capture is taken (or the reader ended)
	done     chan struct{} // closed when the reader returns

	needResync atomic.Bool
	benchIdx   atomic.Int32 // field-bench: the spec's c, the member number less one
	lastTick   atomic.Uint64
	closed     atomic.Bool
	lost       bool // set by the coordinator: the connection ended before the run did

	// reader
	buf          []byte
	mirror       *state.Mirror
	welcome      state.Welcome
	syncedAt     int64
	winS2CBytes  int64
	winS2CWire   int64
	winS2CMsgs   int64
	winPongBytes int64
	recvs        []recv
	rtts         []int64
	resyncs      int
	decodeErrs   int
	serverErrs   int
	events       int
	firstProblem string
	snap         *capture
	// field-bench (reader): mirror sizes sampled in the window, view
	// changes in the window, entities seen beyond the view margin.
	viewSum, viewN, viewChanges int64
	viewMax                     int
	marginViolations            int
	lastViewCount               uint64
	fsnap                       *fieldCapture
	readErr                     error
	capturedClose               sync.Once

	// sender
	seq        uint64
	winC2SMsgs int64
	winC2S     int64
	winC2SWire int64
	winPing    int64
	writeErr   error
}

func newSceneClient(r *sceneRoom, idx int, conn *websocket.Conn, expectTicks int) *sceneClient {
	return &sceneClient{
		room: r, idx: idx, conn: conn,
		synced: make(chan struct{}), captured: make(chan struct{}), done: make(chan struct{}),
		buf:   make([]byte, 0, 4096),
		recvs: make([]recv, 0, expectTicks),
	}
}

func (c *sceneClient) problem(format string, args ...any) {
	if c.firstProblem == "" {
		c.firstProblem = fmt.Sprintf(format, args...)
	}
}

func (c *sceneClient) markCaptured() { c.capturedClose.Do(func() { close(c.captured) }) }

// read is the reader goroutine: it takes every message off the socket,
// applies it, and records what the run measures.
func (c *sceneClient) read(f *fleet) {
	defer close(c.done)
	defer c.markCaptured()
	for {
		typ, rd, err := c.conn.NextReader()
		if err != nil {
			c.readErr = err
			c.closed.Store(true)
			return
		}
		if c.buf, err = readInto(c.buf[:0], rd); err != nil {
			c.readErr = fmt.Errorf("read message: %w", err)
			c.closed.Store(true)
			return
		}
		at := f.clock.now()
		n := int64(len(c.buf))
		f.liveS2C.Add(n)
		if typ != websocket.BinaryMessage {
			c.decodeErrs++
			c.problem("server sent a non-binary frame")
			continue
		}
		tag := c.handle(f, at)
		if !f.win.has(at) {
			continue
		}
		if tag == state.MsgPong {
			c.winPongBytes += n
			continue
		}
		c.winS2CBytes += n
		c.winS2CWire += n + wsHeader(n, false)
		c.winS2CMsgs++
	}
}

// handle applies one message and returns its type tag.
func (c *sceneClient) handle(f *fleet, at int64) int {
	msg := c.buf
	tag, err := messageTag(msg)
	if err != nil {
		c.decodeErrs++
		c.problem("message header: %v", err)
		return 0
	}
	switch tag {
	case state.MsgWelcome:
		c.onWelcome(msg)
	case state.MsgSnapshot, state.MsgDelta, state.MsgViewSnapshot, state.MsgViewDelta:
		c.onState(f, msg, at)
	case state.MsgPong:
		var p []float64
		if err := msgpack.Unmarshal(msg, &p); err == nil && len(p) >= 2 && f.win.has(at) {
			c.rtts = append(c.rtts, at-int64(p[1]))
		}
	case state.MsgEvent:
		c.events++
	case state.MsgError:
		c.serverErrs++
		var e []any
		_ = msgpack.Unmarshal(msg, &e) // only for the message below
		c.problem("server error message: %v", e)
	default:
		c.decodeErrs++
		c.problem("unknown message tag %d", tag)
	}
	return tag
}

func (c *sceneClient) onWelcome(msg []byte) {
	w, s, err := state.DecodeWelcome(msg)
	if err != nil {
		c.decodeErrs++
		c.problem("%v", err)
		return
	}
	c.welcome = *w
	want := arenabench.Schema
	if c.room.field {
		want = fieldbench.Schema
		if w.Member > 0 {
			c.benchIdx.Store(int32(w.Member - 1))
		}
	}
	if !reflect.DeepEqual(c.welcome.Kinds, want.Wire()) {
		c.decodeErrs++
		c.problem("welcome schema is not the scene's (version 1)")
	}
	c.mirror = state.NewMirror(s)
}

func (c *sceneClient) onState(f *fleet, msg []byte, at int64) {
	if c.mirror == nil {
		c.decodeErrs++
		c.problem("state before the welcome")
		return
	}
	if _, err := c.mirror.Apply(msg); err != nil {
		if errors.Is(err, state.ErrBaseMismatch) || errors.Is(err, state.ErrNotSynced) {
			c.resyncs++
			c.needResync.Store(true)
			return
		}
		c.decodeErrs++
		c.problem("apply: %v", err)
		return
	}
	tick := c.mirror.Tick
	c.lastTick.Store(tick)
	if c.syncedAt == 0 {
		c.syncedAt = at
		close(c.synced)
	}
	if f.win.has(at) && len(c.recvs) < cap(c.recvs) {
		c.recvs = append(c.recvs, recv{tick, at})
	}
	if c.room.field {
		c.onFieldState(f.win.has(at))
	}
	if c.snap == nil && c.fsnap == nil {
		if ct := c.room.checkTick.Load(); ct != 0 && tick >= ct {
			if c.room.field {
				c.fsnap = captureField(c.mirror, c.welcome)
			} else {
				c.snap = captureMirror(c.mirror, c.welcome)
			}
			c.markCaptured()
		}
	}
}

// readInto appends everything rd holds to buf.
func readInto(buf []byte, rd io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// messageTag reads the type tag of a server message: a MessagePack array
// whose first element is a small integer.
func messageTag(b []byte) (int, error) {
	if len(b) >= 2 && b[0]&0xf0 == 0x90 && b[1] < 0x80 {
		return int(b[1]), nil // fixarray, positive fixint: every message today
	}
	var head []msgpack.RawMessage
	if err := msgpack.Unmarshal(b, &head); err != nil || len(head) == 0 {
		return 0, fmt.Errorf("not a MessagePack array (% x)", b[:min(len(b), 8)])
	}
	var tag int
	if err := msgpack.Unmarshal(head[0], &tag); err != nil {
		return 0, fmt.Errorf("type tag: %w", err)
	}
	return tag, nil
}

// wsHeader is the WebSocket frame header size for a payload of n bytes;
// client frames carry a 4-byte mask key.
func wsHeader(n int64, masked bool) int64 {
	h := int64(2)
	switch {
	case n >= 1<<16:
		h += 8
	case n >= 126:
		h += 2
	}
	if masked {
		h += 4
	}
	return h
}

// appendInput encodes [1, seq, {"dx": dx, "dy": dy}] with float64 values, as
// the browser client's MessagePack encoder writes non-integer numbers.
func appendInput(b []byte, seq uint64, in arenabench.Input) []byte {
	b = append(b, 0x93, state.ClientInput)
	b = state.AppendUint(b, seq)
	b = append(b, 0x82, 0xa2, 'd', 'x', 0xcb)
	b = binary.BigEndian.AppendUint64(b, math.Float64bits(in.DX))
	b = append(b, 0xa2, 'd', 'y', 0xcb)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(in.DY))
}

// appendPing encodes [3, clientTime] with a float64 time.
func appendPing(b []byte, t float64) []byte {
	b = append(b, 0x92, state.ClientPing, 0xcb)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(t))
}

var resyncMsg = []byte{0x91, state.ClientResync}
