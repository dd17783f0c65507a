package cluster_test

import (
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
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/cluster"
	"github.com/tickroom/tickroom/cluster/natstest"
	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/server"
	"github.com/tickroom/tickroom/state"
)

var prefixes atomic.Int64

const adminToken = "test-admin"

// testCluster is in-process tickroom nodes on one NATS (a test's own
// prefix, so that tests sharing a NATS do not see each other's rooms).
type testCluster struct {
	t      *testing.T
	nats   *natstest.Cluster
	prefix string
}

func newTestCluster(t *testing.T, natsServers int) *testCluster {
	return &testCluster{t: t, nats: natstest.Start(t, natsServers), prefix: fmt.Sprintf("c%d", prefixes.Add(1))}
}

// testNode is one tickroom node: cluster node, rooms manager and server
// on a real socket.
type testNode struct {
	t    *testing.T
	node *cluster.Node
	mgr  *rooms.Manager
	srv  *server.Server
	ts   *httptest.Server
	addr string
	once atomic.Bool
}

func testLogger(t *testing.T, name string) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(&testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test-node", name)
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testLogWriter struct{ t *testing.T }

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// nodeOpts tunes a test node.
type nodeOpts struct {
	types    []*rooms.Type
	idle     time.Duration
	leaseTTL time.Duration
}

// start starts a node; it stops when the test ends (if not stopped before).
func (c *testCluster) start(name string, o nodeOpts) *testNode {
	t := c.t
	t.Helper()
	if o.types == nil {
		o.types = []*rooms.Type{arena.Type, board.Type, arenabench.Type}
	}
	if o.idle == 0 {
		o.idle = time.Minute
	}
	if o.leaseTTL == 0 {
		// A node stops its rooms when it has not renewed for 2/3 of this:
		// at 1.5 s, a renewal slowed past 1 s by a loaded machine under
		// -race (make test with other work) ended rooms of live nodes
		// ("close 1012: room moved to another node").
		o.leaseTTL = 3 * time.Second
	}
	reg := rooms.NewRegistry()
	var names []string
	for _, ty := range o.types {
		if err := reg.Register(ty); err != nil {
			t.Fatal(err)
		}
		names = append(names, ty.Name)
	}
	ts := httptest.NewUnstartedServer(nil)
	addr := ts.Listener.Addr().String()
	log := testLogger(t, name)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	node, err := cluster.Connect(ctx, cluster.Config{NATS: c.nats.URL(), Prefix: c.prefix, Replicas: c.nats.Replicas(),
		Addr: addr, Name: name, LeaseTTL: o.leaseTTL, Types: names, Logger: log})
	if err != nil {
		t.Fatalf("node %s: %v", name, err)
	}
	st := node.Store()
	mgr := rooms.NewManager(reg, rooms.Config{Directory: st, Checkpoints: st, Logs: st, Owner: node, Logger: log,
		IdleTimeout: o.idle, CheckpointInterval: 2 * time.Second, KeyframeInterval: time.Second})
	srv := server.New(mgr, server.Config{Cluster: node, Recordings: st.Recordings(), Logger: log, SessionsPerIP: -1, RoomCreateRate: -1,
		AdminToken: adminToken})
	ts.Config.Handler = srv
	ts.Start()
	node.Run(mgr)
	tn := &testNode{t: t, node: node, mgr: mgr, srv: srv, ts: ts, addr: addr}
	t.Cleanup(tn.stop)
	return tn
}

// stop stops the node as SIGTERM does: rooms stored and handed on, then
// the node leaves the cluster.
func (n *testNode) stop() {
	if n.once.Swap(true) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n.srv.Drain()
	if err := n.mgr.Shutdown(ctx, rooms.CloseRestart, "restarting"); err != nil {
		n.t.Errorf("manager shutdown: %v", err)
	}
	_ = n.srv.CloseSessions(ctx, rooms.CloseRestart, "restarting")
	_ = n.node.Close()
	n.ts.Close()
}

// api sends a JSON request and decodes the answer into out.
func (n *testNode) api(method, path string, body, out any) int {
	n.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, n.ts.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			n.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return res.StatusCode
}

// create makes a public room on the node and returns its id.
func (n *testNode) create(typ string) string {
	n.t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if code := n.api("POST", "/api/rooms", map[string]any{"type": typ, "visibility": "public"}, &out); code != http.StatusCreated {
		n.t.Fatalf("create %s: %d", typ, code)
	}
	return out.ID
}

// client is a test member on a real WebSocket, with a mirror of the room.
type client struct {
	t       *testing.T
	conn    *websocket.Conn
	msgs    chan []byte
	closed  chan struct{}
	err     error
	welcome *state.Welcome
	mirror  *state.Mirror
	seq     uint64
	deltas  int
	snaps   int
}

// join dials a node's /ws/{room} and waits for the welcome and snapshot.
func (n *testNode) join(room, name, token string) *client {
	n.t.Helper()
	c, err := n.dial(room, name, token)
	if err != nil {
		n.t.Fatalf("dial %s: %v", n.addr, err)
	}
	c.waitFor("welcome and snapshot", func() bool { return c.mirror != nil && c.mirror.Synced })
	return c
}

func (n *testNode) dial(room, name, token string) (*client, error) {
	q := url.Values{"name": {name}}
	if token != "" {
		q.Set("token", token)
	}
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+n.addr+"/ws/"+room+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	c := &client{t: n.t, conn: conn, msgs: make(chan []byte, 1<<14), closed: make(chan struct{})}
	go func() {
		defer close(c.closed)
		for {
			_, b, err := conn.ReadMessage()
			if err != nil {
				c.err = err
				return
			}
			c.msgs <- b
		}
	}()
	n.t.Cleanup(func() { conn.Close() })
	return c, nil
}

// next applies one message; false when the connection closed.
func (c *client) next(d time.Duration) bool {
	c.t.Helper()
	select {
	case b := <-c.msgs:
		c.apply(b)
		return true
	case <-c.closed:
		select {
		case b := <-c.msgs:
			c.apply(b)
			return true
		default:
			return false
		}
	case <-time.After(d):
		c.t.Fatalf("no message within %v", d)
		return false
	}
}

func (c *client) apply(b []byte) {
	c.t.Helper()
	typ, _, _, ok := state.Peek(b)
	if !ok {
		c.t.Fatalf("not a server message: % x", b)
	}
	switch typ {
	case state.MsgWelcome:
		w, s, err := state.DecodeWelcome(b)
		if err != nil {
			c.t.Fatalf("welcome: %v", err)
		}
		c.welcome, c.mirror = w, state.NewMirror(s)
	case state.MsgSnapshot, state.MsgDelta, state.MsgViewSnapshot, state.MsgViewDelta:
		if c.mirror == nil {
			c.t.Fatalf("state (%d) before the welcome", typ)
		}
		if _, err := c.mirror.Apply(b); err != nil {
			c.t.Fatalf("apply %d: %v (a gap in the stream)", typ, err)
		}
		if typ == state.MsgDelta || typ == state.MsgViewDelta {
			c.deltas++
		} else {
			c.snaps++
		}
	}
}

func (c *client) waitFor(what string, cond func() bool) {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		left := time.Until(deadline)
		if left <= 0 {
			c.t.Fatalf("timed out waiting for %s", what)
		}
		if !c.next(left) {
			c.t.Fatalf("connection closed (%v) while waiting for %s", c.err, what)
		}
	}
}

func (c *client) waitTick(tick uint64) {
	c.t.Helper()
	c.waitFor(fmt.Sprintf("tick %d", tick), func() bool { return c.mirror.Tick >= tick })
}

// waitClose takes messages until the connection closes; it returns the
// close code.
func (c *client) waitClose() int {
	c.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if !c.next(time.Until(deadline)) {
			var ce *websocket.CloseError
			if errors.As(c.err, &ce) {
				return ce.Code
			}
			return -1
		}
	}
	c.t.Fatal("the connection did not close")
	return 0
}

// leave closes the connection with 1000, as a member leaving on purpose:
// its seat goes at once.
func (c *client) leave() {
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	_ = c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)) // the test checks what follows
}

func (c *client) input(payload any) {
	c.t.Helper()
	c.seq++
	b, _ := msgpack.Marshal([]any{state.ClientInput, c.seq, payload})
	if err := c.conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// worldOf reads a room's world on its owner at its last published tick.
func worldOf(t *testing.T, n *testNode, room string, fn func(w *state.World)) {
	t.Helper()
	r := n.mgr.Get(room)
	if r == nil {
		t.Fatalf("room %s does not run on %s", room, n.addr)
	}
	if err := r.Inspect(fn, 5*time.Second); err != nil {
		t.Fatalf("inspect: %v", err)
	}
}

// sameAsOwner brings each client's mirror to the owner's tick and
// compares it with the owner's world.
func sameAsOwner(t *testing.T, owner *testNode, room string, cs ...*client) uint64 {
	t.Helper()
	var tick uint64
	worldOf(t, owner, room, func(w *state.World) {
		tick = w.Tick()
		for i, c := range cs {
			c.waitTick(tick)
			if c.mirror.Tick != tick {
				t.Fatalf("client %d's mirror at %d, the room at %d", i, c.mirror.Tick, tick)
			}
			var d *state.Divergence
			if w.Views() && !c.welcome.Spectator {
				d = state.CompareHeld(w, c.mirror) // a member of a views room (the arena) holds what is near it
			} else {
				d = state.Compare(w, c.mirror)
			}
			if d != nil {
				t.Fatalf("client %d's mirror diverged at tick %d: %v", i, tick, d)
			}
		}
	})
	return tick
}

// waitUntil polls cond.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// crash stops a node the way a lost machine does, as far as one process
// can: its NATS connection and its sockets are cut at once, nothing is
// stored or handed on, its key is left to expire. Its rooms stop by
// themselves when their lease lapses.
func (n *testNode) crash() {
	if n.once.Swap(true) {
		return
	}
	n.node.Disconnect()
	n.ts.CloseClientConnections()
	n.ts.Close()
	n.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = n.mgr.Shutdown(ctx, rooms.CloseGoingAway, "test over") // its rooms have stopped on their lost leases
		_ = n.node.Close()
	})
}

// logTicks reads a room's log from the cluster's store: its ticks in order.
func logTicks(t *testing.T, n *testNode, logID string) []uint64 {
	t.Helper()
	var ticks []uint64
	err := n.node.Store().Read(logID, rooms.LogPosition{}, func(r rooms.LogRecord) error {
		if r.IsTick {
			ticks = append(ticks, r.Tick)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read log %s: %v", logID, err)
	}
	return ticks
}
