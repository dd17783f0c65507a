package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/server"
	"github.com/tickroom/tickroom/state"
)

// testEnv is a real server on a real socket.
type testEnv struct {
	t   *testing.T
	mgr *rooms.Manager
	srv *server.Server
	ts  *httptest.Server
}

func quietLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(&testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testLogWriter struct{ t *testing.T }

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newEnv starts a server with the built-in types plus extra ones.
func newEnv(t *testing.T, rc rooms.Config, sc server.Config, extra ...*rooms.Type) *testEnv {
	t.Helper()
	reg := rooms.NewRegistry()
	for _, ty := range append([]*rooms.Type{arena.Type, board.Type, arenabench.Type}, extra...) {
		if err := reg.Register(ty); err != nil {
			t.Fatalf("register %s: %v", ty.Name, err)
		}
	}
	log := quietLogger(t)
	rc.Logger, sc.Logger = log, log
	mgr := rooms.NewManager(reg, rc)
	srv := server.New(mgr, sc)
	ts := httptest.NewServer(srv)
	env := &testEnv{t: t, mgr: mgr, srv: srv, ts: ts}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := mgr.Shutdown(ctx, rooms.CloseGoingAway, "test over"); err != nil {
			t.Errorf("manager shutdown: %v", err)
		}
		if err := srv.CloseSessions(ctx, rooms.CloseGoingAway, "test over"); err != nil {
			t.Errorf("close sessions: %v", err)
		}
		ts.Close()
	})
	return env
}

// api sends a JSON request and decodes the JSON answer into out (if not nil).
func (e *testEnv) api(method, path string, body any, out any) int {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("marshal: %v", err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatalf("request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			e.t.Fatalf("%s %s: decode answer: %v", method, path, err)
		}
	}
	return res.StatusCode
}

type created struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	ShareURL string `json:"shareUrl"`
	WSURL    string `json:"wsUrl"`
}

// createRoom makes a room over HTTP and returns its id.
func (e *testEnv) createRoom(typ string, opts map[string]any) string {
	e.t.Helper()
	var c created
	if code := e.api("POST", "/api/rooms", map[string]any{"type": typ, "options": opts, "visibility": "public"}, &c); code != http.StatusCreated {
		e.t.Fatalf("create %s: status %d", typ, code)
	}
	return c.ID
}

func (e *testEnv) room(id string) *rooms.Room {
	e.t.Helper()
	r := e.mgr.Get(id)
	if r == nil {
		e.t.Fatalf("room %s not found", id)
	}
	return r
}

// wsClient is a test member: a real WebSocket, a reader goroutine, and a
// mirror applied from the messages as they are taken.
type wsClient struct {
	t        *testing.T
	conn     *websocket.Conn
	gate     sync.Mutex // held by pause(): the reader stops taking frames off the socket
	msgs     chan []byte
	closed   chan struct{}
	closeErr error

	welcome *state.Welcome
	mirror  *state.Mirror
	events  []state.Event
	errors  [][]any
	seq     uint64
	// deltas counts applied deltas, snapshots counts snapshots.
	deltas, snapshots int
	lastTag           int
	// onState, when set, sees every snapshot and delta (views too) after
	// it was applied, with its bytes.
	onState func(b []byte)
}

func (e *testEnv) dial(roomID, query string) (*wsClient, error) {
	u := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/ws/" + roomID
	if query != "" {
		u += "?" + query
	}
	conn, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		return nil, err
	}
	c := &wsClient{t: e.t, conn: conn, msgs: make(chan []byte, 4096), closed: make(chan struct{})}
	go c.read()
	e.t.Cleanup(func() { conn.Close() })
	return c, nil
}

// join dials and waits for the welcome and the first snapshot.
func (e *testEnv) join(roomID, name string) *wsClient {
	e.t.Helper()
	c, err := e.dial(roomID, "name="+url.QueryEscape(name))
	if err != nil {
		e.t.Fatalf("dial: %v", err)
	}
	c.waitSynced()
	return c
}

func (c *wsClient) read() {
	defer close(c.closed)
	for {
		c.gate.Lock()
		typ, b, err := c.conn.ReadMessage()
		c.gate.Unlock()
		if err != nil {
			c.closeErr = err
			return
		}
		if typ != websocket.BinaryMessage {
			c.closeErr = fmt.Errorf("server sent a non-binary frame %d", typ)
			return
		}
		c.msgs <- b
	}
}

// next takes one message and applies it; it fails the test on a gap.
func (c *wsClient) next(timeout time.Duration) (int, bool) {
	c.t.Helper()
	select {
	case b := <-c.msgs:
		c.handle(b)
		return c.lastTag, true
	case <-c.closed:
		select { // drain what was read before the close
		case b := <-c.msgs:
			c.handle(b)
			return c.lastTag, true
		default:
			return 0, false
		}
	case <-time.After(timeout):
		c.t.Fatalf("no message within %v", timeout)
	}
	return 0, false
}

func (c *wsClient) handle(b []byte) {
	c.t.Helper()
	var head []msgpack.RawMessage
	if err := msgpack.Unmarshal(b, &head); err != nil || len(head) == 0 {
		c.t.Fatalf("server message is not an array: %v (% x)", err, b)
	}
	var tag int
	if err := msgpack.Unmarshal(head[0], &tag); err != nil {
		c.t.Fatalf("type tag: %v", err)
	}
	c.lastTag = tag
	switch tag {
	case state.MsgWelcome:
		var w state.Welcome
		if err := msgpack.Unmarshal(head[1], &w); err != nil {
			c.t.Fatalf("welcome: %v", err)
		}
		s, err := state.SchemaFromWire(w.Kinds)
		if err != nil {
			c.t.Fatalf("welcome schema: %v", err)
		}
		c.welcome, c.mirror = &w, state.NewMirror(s)
	case state.MsgSnapshot, state.MsgDelta, state.MsgViewSnapshot, state.MsgViewDelta:
		if c.mirror == nil {
			c.t.Fatalf("state message %d before the welcome", tag)
		}
		if _, err := c.mirror.Apply(b); err != nil {
			c.t.Fatalf("apply message %d: %v", tag, err)
		}
		if tag == state.MsgDelta || tag == state.MsgViewDelta {
			c.deltas++
		} else {
			c.snapshots++
		}
		if c.onState != nil {
			c.onState(b)
		}
	case state.MsgEvent:
		var ev state.Event
		if err := msgpack.Unmarshal(head[1], &ev); err != nil {
			c.t.Fatalf("event: %v", err)
		}
		c.events = append(c.events, ev)
	case state.MsgError:
		var all []any
		if err := msgpack.Unmarshal(b, &all); err != nil {
			c.t.Fatalf("error message: %v", err)
		}
		c.errors = append(c.errors, all)
	case state.MsgPong:
	default:
		c.t.Fatalf("unknown server message tag %d", tag)
	}
}

func (c *wsClient) waitSynced() {
	c.t.Helper()
	c.waitFor("welcome and snapshot", func() bool { return c.mirror != nil && c.mirror.Synced })
}

// waitFor takes messages until cond holds.
func (c *wsClient) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		left := time.Until(deadline)
		if left <= 0 {
			c.t.Fatalf("timed out waiting for %s", what)
		}
		if _, ok := c.next(left); !ok {
			c.t.Fatalf("connection closed (%v) while waiting for %s", c.closeErr, what)
		}
	}
}

// waitTick takes messages until the mirror reaches tick.
func (c *wsClient) waitTick(tick uint64) {
	c.t.Helper()
	c.waitFor(fmt.Sprintf("tick %d", tick), func() bool { return c.mirror.Tick >= tick })
}

// waitClose takes messages until the connection closes and returns the
// close error.
func (c *wsClient) waitClose() *websocket.CloseError {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, ok := c.next(time.Until(deadline)); !ok {
			var ce *websocket.CloseError
			if errors.As(c.closeErr, &ce) {
				return ce
			}
			c.t.Fatalf("connection ended without a close frame: %v", c.closeErr)
		}
	}
	c.t.Fatalf("connection did not close")
	return nil
}

func (c *wsClient) send(v any) {
	c.t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		c.t.Fatalf("marshal: %v", err)
	}
	c.sendRaw(b)
}

func (c *wsClient) sendRaw(b []byte) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsClient) input(payload any) {
	c.t.Helper()
	c.seq++
	c.send([]any{state.ClientInput, c.seq, payload})
}

// errorCodes returns the codes of the error messages received so far.
func (c *wsClient) errorCodes() []string {
	var out []string
	for _, e := range c.errors {
		if len(e) > 1 {
			out = append(out, fmt.Sprint(e[1]))
		}
	}
	return out
}

func (c *wsClient) hasError(code string) bool {
	for _, x := range c.errorCodes() {
		if x == code {
			return true
		}
	}
	return false
}

// checkMirror stops the room between ticks, brings the client's mirror to
// the server's tick, and compares them: the invariant "a client mirror
// equals server state" over a real socket.
func (e *testEnv) checkMirror(roomID string, c *wsClient) uint64 {
	e.t.Helper()
	var tick uint64
	var div *state.Divergence
	err := e.room(roomID).Inspect(func(w *state.World) {
		tick = w.Tick()
		c.waitTick(tick)
		if w.Views() && !c.welcome.Spectator {
			div = state.CompareHeld(w, c.mirror) // a member of a views room (the arena) holds what is near it
		} else {
			div = state.Compare(w, c.mirror)
		}
	}, 5*time.Second)
	if err != nil {
		e.t.Fatalf("inspect: %v", err)
	}
	if c.mirror.Tick != tick {
		e.t.Fatalf("mirror at tick %d, server at %d", c.mirror.Tick, tick)
	}
	if div != nil {
		e.t.Fatalf("mirror diverged at tick %d: %v", tick, div)
	}
	return tick
}

func (c *wsClient) eventsOf(typ string) []state.Event {
	var out []state.Event
	for _, ev := range c.events {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}

// closeNormally sends a 1000 close frame, as a client leaving on purpose does.
func closeNormally(t *testing.T, c *wsClient) {
	t.Helper()
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	if err := c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// pause stops the client reading from its socket (after the frame it may be
// reading now), so that the server's writes back up; resume undoes it.
func (c *wsClient) pause()  { c.gate.Lock() }
func (c *wsClient) resume() { c.gate.Unlock() }
