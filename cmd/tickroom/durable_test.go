package main

import (
	"bufio"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/state"
)

// Rooms survive their process: the tests here start the real binary as a
// child process, stop it with SIGTERM or kill it with SIGKILL, start the
// next one on the same data directory and check that the rooms and seats
// are all there.

// child is a tickroom process started from this test binary.
type child struct {
	cmd   *exec.Cmd
	ready chan struct{}
	exit  chan error

	mu  sync.Mutex
	log []string // every line it logged
}

// logged reports whether a line the child logged contains every one of parts.
func (c *child) logged(parts ...string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, line := range c.log {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TICKROOM_TEST_CHILD=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, ready: make(chan struct{}), exit: make(chan error, 1)}
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			c.mu.Lock()
			c.log = append(c.log, sc.Text())
			c.mu.Unlock()
			if testing.Verbose() {
				t.Log("child:", sc.Text())
			}
			if !once && strings.Contains(sc.Text(), "tickroom listening") {
				once = true
				close(c.ready)
			}
		}
		c.exit <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); <-c.exit })
	select {
	case <-c.ready:
	case <-time.After(30 * time.Second):
		t.Fatal("child server did not start")
	}
	return c
}

// stop sends sig and waits for the process to end.
func (c *child) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-c.exit:
		c.exit <- err // for the cleanup
		if sig == syscall.SIGTERM && err != nil {
			t.Fatalf("process stopped with SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("process did not end after %v", sig)
	}
}

// freeAddr returns a loopback address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type member struct {
	conn    *websocket.Conn
	welcome state.Welcome
	mirror  *state.Mirror
}

// joinAt dials and reads until the welcome and the snapshot.
func joinAt(t *testing.T, base, room, query string) *member {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws/"+room+"?"+query, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	m := &member{conn: conn}
	t.Cleanup(func() { conn.Close() })
	for m.mirror == nil || !m.mirror.Synced {
		m.read(t)
	}
	return m
}

func (m *member) read(t *testing.T) int {
	t.Helper()
	_ = m.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := m.conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var head []msgpack.RawMessage
	_ = msgpack.Unmarshal(b, &head)
	var tag int
	_ = msgpack.Unmarshal(head[0], &tag)
	switch tag {
	case state.MsgWelcome:
		if err := msgpack.Unmarshal(head[1], &m.welcome); err != nil {
			t.Fatal(err)
		}
		s, _ := state.SchemaFromWire(m.welcome.Kinds)
		m.mirror = state.NewMirror(s)
	case state.MsgSnapshot, state.MsgDelta, state.MsgViewSnapshot, state.MsgViewDelta:
		if _, err := m.mirror.Apply(b); err != nil {
			t.Fatalf("apply: %v", err)
		}
	}
	return tag
}

// send sends one input and reads until a delta shows the tick after it.
func (m *member) send(t *testing.T, seq int, payload any) {
	t.Helper()
	in, _ := msgpack.Marshal([]any{1, seq, payload})
	if err := m.conn.WriteMessage(websocket.BinaryMessage, in); err != nil {
		t.Fatal(err)
	}
	m.ticks(t, 2)
}

// ticks reads until n more ticks were applied to the mirror.
func (m *member) ticks(t *testing.T, n uint64) {
	t.Helper()
	for until := m.mirror.Tick + n; m.mirror.Tick < until; {
		m.read(t)
	}
}

// until reads ticks until cond holds, for at most 100 ticks (5 s at 20 Hz),
// and leaves the verdict to the caller's check: after send's two ticks the
// mirror may still be reading frames the room sent before the input
// arrived (a loaded machine is slow to read them).
func (m *member) until(t *testing.T, cond func() bool) {
	t.Helper()
	for n := 0; !cond() && n < 100; n++ {
		m.ticks(t, 1)
	}
}

// closedWith reads until the close frame and checks its code.
func (m *member) closedWith(t *testing.T, code int) {
	t.Helper()
	for {
		_, _, err := m.conn.ReadMessage()
		if ce, ok := err.(*websocket.CloseError); ok {
			if ce.Code != code {
				t.Fatalf("close code %d (%s), want %d", ce.Code, ce.Text, code)
			}
			return
		} else if err != nil {
			return // a killed server: no close frame
		}
	}
}

// shapes returns the ids of the board's shapes in a mirror.
func shapes(m *state.Mirror) []state.EntityID {
	var ids []state.EntityID
	for id, e := range m.Entities {
		if e.Kind.Name == "shape" {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func createRoom(t *testing.T, base, body string) string {
	t.Helper()
	res, err := http.Post(base+"/api/rooms", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var room struct{ ID string }
	if err := json.NewDecoder(res.Body).Decode(&room); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("create %s: %d %v", body, res.StatusCode, err)
	}
	return room.ID
}

// roomState is GET /api/rooms/{id}'s status and "state".
func roomState(t *testing.T, base, id string) (int, string) {
	t.Helper()
	res, err := http.Get(base + "/api/rooms/" + id)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var info struct{ State string }
	_ = json.NewDecoder(res.Body).Decode(&info)
	return res.StatusCode, info.State
}

// TestBoardKeepsEveryShapeThroughRestartsAndKills is the regression of the
// handoff era, where each restart forgot the segment before it: a board
// restarted three times (SIGTERM) and killed twice (SIGKILL), with a shape
// drawn between each, keeps every shape ever drawn, each under the id it
// got, and never gives an id out twice. Between the processes the room
// answers GET /api/rooms/{id} before anyone joins.
func TestBoardKeepsEveryShapeThroughRestartsAndKills(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	args := []string{"-addr", addr, "-data-dir", filepath.Join(t.TempDir(), "data"), "-recording-flush", "50ms",
		"-log-format", "json", "-shutdown-grace", "10s", "-seat-grace", "2s"}
	proc := startChild(t, args...)
	id := createRoom(t, base, `{"type":"board","visibility":"unlisted"}`)
	m := joinAt(t, base, id, "name=ann")
	want := shapes(m.mirror) // the seed shapes
	seq := 0
	for round, stop := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL, syscall.SIGTERM, syscall.SIGKILL, syscall.SIGTERM, 0} {
		seq++
		m.send(t, seq, map[string]any{"op": "create", "shape": round % 2, "x": 100 + 50*round, "y": 100, "w": 30, "h": 30, "color": 0x123456})
		m.until(t, func() bool { return len(shapes(m.mirror)) != len(want) })
		got := shapes(m.mirror)
		if len(got) != len(want)+1 {
			t.Fatalf("round %d: %d shapes after drawing one, want %d", round, len(got), len(want)+1)
		}
		drawn := got[len(got)-1]
		if slices.Contains(want, drawn) || (len(want) > 0 && drawn <= want[len(want)-1]) {
			t.Fatalf("round %d: the new shape took id %d, already given out (ids so far %v)", round, drawn, want)
		}
		want = got
		if stop == 0 {
			break
		}
		m.ticks(t, 6) // past two 50 ms flushes: the shape is on disk
		proc.stop(t, stop)
		if stop == syscall.SIGTERM {
			m.closedWith(t, rooms.CloseRestart)
		}
		proc = startChild(t, args...)
		if code, st := roomState(t, base, id); code != http.StatusOK || (st != "live" && st != "dormant") {
			t.Fatalf("round %d: after the restart GET /api/rooms/%s answers %d %q", round, id, code, st)
		}
		back := joinAt(t, base, id, url.Values{"name": {"ann"}, "token": {m.welcome.Token}}.Encode())
		if !back.welcome.Resumed || back.welcome.Member != m.welcome.Member {
			t.Fatalf("round %d (%v): rejoined as member %d (resumed %v), want member %d resumed", round, stop, back.welcome.Member, back.welcome.Resumed, m.welcome.Member)
		}
		if got := shapes(back.mirror); !slices.Equal(got, want) {
			t.Fatalf("round %d (after %v): shapes %v, want %v", round, stop, got, want)
		}
		m = back
	}
	t.Logf("%d shapes (4 seeded) through 3 SIGTERMs and 2 SIGKILLs: %v", len(want), want)
}

// TestArenaMatchSurvivesKill9: an arena match killed mid-game comes back in
// the next process with the same scores, and the member resumes its own
// avatar with its token.
func TestArenaMatchSurvivesKill9(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	args := []string{"-addr", addr, "-data-dir", filepath.Join(t.TempDir(), "data"), "-recording-flush", "50ms", "-log-format", "json"}
	proc := startChild(t, args...)
	id := createRoom(t, base, `{"type":"arena","options":{"coins":60,"width":300,"height":200}}`)
	m := joinAt(t, base, id, "name=ann")
	own := *m.welcome.Entity
	score := func(mm *member) int64 {
		for mm.mirror.Entities[own] == nil { // a joiner's own avatar comes in the delta after its snapshot
			mm.read(t)
		}
		return mm.mirror.Entities[own].Int(arena.FieldScore)
	}
	seq := 0
	for dir := 0; score(m) == 0 || seq < 40; dir++ {
		seq++
		m.send(t, seq, map[string]float64{"dx": []float64{1, 0, -1, 0}[dir/10%4], "dy": []float64{0, 1, 0, -1}[dir/10%4]})
		if seq > 400 {
			t.Fatal("no coin picked up in 400 inputs")
		}
	}
	seq++
	m.send(t, seq, map[string]float64{"dx": 0, "dy": 0}) // stand still: the score stays put
	m.ticks(t, 6)
	before := score(m)
	proc.stop(t, syscall.SIGKILL)

	startChild(t, args...)
	if code, st := roomState(t, base, id); code != http.StatusOK || st != "live" {
		t.Fatalf("after the crash GET /api/rooms/%s answers %d %q, want 200 live (it had a member)", id, code, st)
	}
	back := joinAt(t, base, id, url.Values{"name": {"ann"}, "token": {m.welcome.Token}}.Encode())
	if !back.welcome.Resumed || *back.welcome.Entity != own {
		t.Fatalf("resume after kill -9: resumed %v entity %v, want entity %d", back.welcome.Resumed, back.welcome.Entity, own)
	}
	if got := score(back); got != before {
		t.Fatalf("score after kill -9: %d, want %d", got, before)
	}
	t.Logf("score %d kept through kill -9 after %d inputs", before, seq)
}

// TestOneProcessPerDataDir: a second process on a data directory in use
// stops with a clear error; after the first is killed, one starts.
func TestOneProcessPerDataDir(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	first := startChild(t, "-addr", freeAddr(t), "-data-dir", data)
	cmd := exec.Command(os.Args[0], "-addr", freeAddr(t), "-data-dir", data)
	cmd.Env = append(os.Environ(), "TICKROOM_TEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "in use by another tickroom process") {
		t.Fatalf("second process on the same data dir: %v\n%s", err, out)
	}
	first.stop(t, syscall.SIGKILL)
	startChild(t, "-addr", freeAddr(t), "-data-dir", data)
}

// TestArenaViewsWakeFromACheckpointAfterKill9: an arena on a field far
// larger than a view, killed with SIGKILL, wakes in the next process from
// its checkpoint (taken every 100 ms) and the log after it; its members
// resume their own avatars where they stood, and each member's mirror
// holds the world near its avatar, equal to a spectator's (who sees every
// coin), and no coin beyond its view and a cell.
func TestArenaViewsWakeFromACheckpointAfterKill9(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	args := []string{"-addr", addr, "-data-dir", filepath.Join(t.TempDir(), "data"), "-recording-flush", "50ms",
		"-checkpoint-interval", "100ms", "-log-format", "json"}
	proc := startChild(t, args...)
	res, err := http.Post(base+"/api/rooms", "application/json",
		strings.NewReader(`{"type":"arena","options":{"coins":150,"width":6000,"height":4000,"speed":40}}`))
	if err != nil {
		t.Fatal(err)
	}
	var room struct{ ID, SpectateURL string }
	if err := json.NewDecoder(res.Body).Decode(&room); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %v", res.StatusCode, err)
	}
	res.Body.Close()
	_, query, _ := strings.Cut(room.SpectateURL, "?")
	ann, bo := joinAt(t, base, room.ID, "name=ann"), joinAt(t, base, room.ID, "name=bo")
	for seq := 1; seq <= 15; seq++ { // apart, across cells: 40 units a tick
		ann.send(t, seq, map[string]float64{"dx": 1, "dy": 0.5})
		bo.send(t, seq, map[string]float64{"dx": -1, "dy": -0.5})
	}
	ann.send(t, 16, map[string]float64{"dx": 0, "dy": 0})
	bo.send(t, 16, map[string]float64{"dx": 0, "dy": 0})
	ann.ticks(t, 20) // a second standing still: checkpoints of the standing room
	own := func(m *member) (float64, float64) {
		e := m.mirror.Entities[*m.welcome.Entity]
		if e == nil {
			t.Fatal("a member's own avatar is not in its mirror")
		}
		return e.Float(arena.FieldX), e.Float(arena.FieldY)
	}
	annX, annY := own(ann)
	proc.stop(t, syscall.SIGKILL)

	next := startChild(t, args...)
	ann = joinAt(t, base, room.ID, url.Values{"name": {"ann"}, "token": {ann.welcome.Token}}.Encode())
	bo = joinAt(t, base, room.ID, url.Values{"name": {"bo"}, "token": {bo.welcome.Token}}.Encode())
	if !next.logged(`"room loaded from its checkpoint"`, room.ID) {
		t.Fatal("the room did not wake from a checkpoint")
	}
	spec := joinAt(t, base, room.ID, query)
	at := max(ann.mirror.Tick, bo.mirror.Tick, spec.mirror.Tick) + 2
	for _, m := range []*member{ann, bo, spec} {
		for m.mirror.Tick < at {
			m.read(t)
		}
		if m.mirror.Tick != at {
			t.Fatalf("a mirror skipped from tick %d to %d", at-1, m.mirror.Tick)
		}
	}
	if x, y := own(ann); x != annX || y != annY {
		t.Fatalf("ann stood at (%v, %v) before the kill, at (%v, %v) after it", annX, annY, x, y)
	}
	for _, m := range []*member{ann, bo} {
		ax, ay := own(m)
		coins, held := 0, 0
		for id, se := range spec.mirror.Entities {
			me := m.mirror.Entities[id]
			if se.Kind.Name == "avatar" {
				if me == nil {
					t.Fatalf("avatar %d is missing from a member's mirror", id)
				}
				continue
			}
			coins++
			dx, dy := math.Abs(se.Float(arena.FieldX)-ax), math.Abs(se.Float(arena.FieldY)-ay)
			switch {
			case dx <= arena.ViewWidth/2 && dy <= arena.ViewHeight/2 && me == nil:
				t.Fatalf("coin %d (%v, %v from its avatar) is in the member's view but not in its mirror", id, dx, dy)
			case (dx > arena.ViewWidth/2+arena.CellSize || dy > arena.ViewHeight/2+arena.CellSize) && me != nil:
				t.Fatalf("coin %d (%v, %v from its avatar) is beyond the member's view but in its mirror", id, dx, dy)
			case me != nil:
				held++
				if me.Float(arena.FieldX) != se.Float(arena.FieldX) || me.Float(arena.FieldY) != se.Float(arena.FieldY) {
					t.Fatalf("coin %d: the member has it at (%v, %v), the spectator at (%v, %v)", id,
						me.Float(arena.FieldX), me.Float(arena.FieldY), se.Float(arena.FieldX), se.Float(arena.FieldY))
				}
			}
		}
		for id := range m.mirror.Entities {
			if spec.mirror.Entities[id] == nil {
				t.Fatalf("entity %d is in a member's mirror and not in the spectator's", id)
			}
		}
		if held == 0 || held >= coins {
			t.Fatalf("a member holds %d of %d coins: want the ones near it, not none or all", held, coins)
		}
		t.Logf("after the wake a member holds %d of %d coins", held, coins)
	}
}
