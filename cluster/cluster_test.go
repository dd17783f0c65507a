package cluster_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/tape"
	"github.com/tickroom/tickroom/state"
)

// shape draws a board shape through c.
func shape(c *client, x float64) {
	c.input(map[string]any{"op": "create", "shape": 0, "x": x, "y": 50, "w": 20, "h": 20, "color": 3})
}

// countShapes counts the entities of kind "shape" in a mirror.
func countShapes(m *state.Mirror) int {
	n := 0
	for _, e := range m.Entities {
		if e.Kind.Name == "shape" {
			n++
		}
	}
	return n
}

// TestAnyNodeServesAnyLink: a room made on one node is found, listed and
// joined through every node; members on the owner and members relayed by
// two other nodes mirror the same world, and an input sent through a
// relaying node reaches the room. On one NATS server, and on three (R3).
func TestAnyNodeServesAnyLink(t *testing.T) {
	for _, servers := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d NATS servers", servers), func(t *testing.T) { anyNodeServesAnyLink(t, servers) })
	}
}

func anyNodeServesAnyLink(t *testing.T, natsServers int) {
	tc := newTestCluster(t, natsServers)
	a, b, c := tc.start("a", nodeOpts{}), tc.start("b", nodeOpts{}), tc.start("c", nodeOpts{})
	room := a.create("board")
	for _, n := range []*testNode{b, c} {
		// Another node learns of the room's row and of its owner key from
		// two watches, which may arrive in either order (docs/CLUSTER.md):
		// wait for both, within the bound a user would notice.
		var info rooms.RoomInfo
		waitUntil(t, 5*time.Second, "the room to be known live on "+n.addr, func() bool {
			return n.api("GET", "/api/rooms/"+room, nil, &info) == http.StatusOK && info.State == rooms.StateLive
		})
		if info.State != rooms.StateLive || info.Owner != a.addr {
			t.Fatalf("GET /api/rooms/%s on %s: state %q owner %q; want live on %s", room, n.addr, info.State, info.Owner, a.addr)
		}
		var list []rooms.RoomInfo
		n.api("GET", "/api/rooms", nil, &list)
		if len(list) != 1 || list[0].ID != room || list[0].Owner != a.addr {
			t.Fatalf("GET /api/rooms on %s: %+v; want the room, owned by %s", n.addr, list, a.addr)
		}
	}
	ann := a.join(room, "ann", "")
	bob := b.join(room, "bob", "")
	cy := c.join(room, "cy", "")
	shape(bob, 100)
	shape(cy, 200)
	shape(ann, 300)
	tick := sameAsOwner(t, a, room, ann, bob, cy)
	for _, cl := range []*client{ann, bob, cy} {
		cl.waitFor("the three shapes", func() bool { return countShapes(cl.mirror) >= 7 }) // the board's 4 seed shapes and 3 drawn
	}
	sameAsOwner(t, a, room, ann, bob, cy)
	if bob.snaps != 1 || cy.snaps != 1 {
		t.Fatalf("relayed members took %d and %d snapshots after %d ticks; want only the first (no gap)", bob.snaps, cy.snaps, tick)
	}
	if b.mgr.Get(room) != nil || c.mgr.Get(room) != nil {
		t.Fatal("a relaying node runs the room too")
	}
	var apiErr struct{ Error, Message string }
	if code := b.api("POST", "/api/admin/rooms/"+room+"/close", nil, &apiErr); code != http.StatusConflict || !strings.Contains(apiErr.Message, a.addr) {
		t.Fatalf("admin close through a node that does not run the room: %d %+v; want 409 naming %s", code, apiErr, a.addr)
	}
	if code := b.api("DELETE", "/api/admin/rooms/"+room, nil, &apiErr); code != http.StatusConflict || !strings.Contains(apiErr.Message, a.addr) {
		t.Fatalf("admin delete through a node that does not run the room: %d %+v; want 409 naming %s", code, apiErr, a.addr)
	}
}

// TestRoomSurvivesItsOwnersLoss: the owner node is cut off (its key
// expires); the member relayed by another node is closed with 1012,
// comes back with its token through the same node, which has rebuilt the
// room from its log in JetStream: the same seat, every shape drawn up to
// the last log flush, and the room runs there now.
func TestRoomSurvivesItsOwnersLoss(t *testing.T) {
	tc := newTestCluster(t, 1)
	a, b := tc.start("a", nodeOpts{}), tc.start("b", nodeOpts{})
	room := a.create("board")
	ann := a.join(room, "ann", "")
	bob := b.join(room, "bob", "")
	shape(ann, 100)
	shape(bob, 200)
	for _, c := range []*client{ann, bob} {
		c.waitFor("both shapes", func() bool { return countShapes(c.mirror) == 6 })
	}
	tick := sameAsOwner(t, a, room, ann, bob)
	var info rooms.RoomInfo
	a.api("GET", "/api/rooms/"+room, nil, &info)
	waitUntil(t, 5*time.Second, "the log to hold the shapes' ticks", func() bool {
		ticks := logTicks(t, b, info.RecordingID)
		return len(ticks) > 0 && ticks[len(ticks)-1] >= tick
	})
	token, member := bob.welcome.Token, bob.welcome.Member
	lost := time.Now()
	a.crash()
	if code := bob.waitClose(); code != rooms.CloseRestart {
		t.Fatalf("the relayed member was closed with %d, want %d", code, rooms.CloseRestart)
	}
	again := b.join(room, "bob", token)
	t.Logf("owner lost -> the member back in the room on the new owner: %v", time.Since(lost).Round(time.Millisecond))
	if again.welcome.Member != member || !again.welcome.Resumed {
		t.Fatalf("after the takeover bob is member %d (resumed %v), want %d resumed", again.welcome.Member, again.welcome.Resumed, member)
	}
	if n := countShapes(again.mirror); n != 6 {
		t.Fatalf("after the takeover the board has %d shapes, want 6", n)
	}
	if b.mgr.Get(room) == nil {
		t.Fatal("the room does not run on the node that took it over")
	}
	again.seq = bob.seq // a client numbers its inputs on across reconnects
	shape(again, 300)
	again.waitFor("a shape drawn after the takeover", func() bool { return countShapes(again.mirror) == 7 })
	sameAsOwner(t, b, room, again)
	ticks := logTicks(t, b, info.RecordingID)
	for i := 1; i < len(ticks); i++ {
		if ticks[i] != ticks[i-1]+1 {
			t.Fatalf("the log's ticks go from %d to %d: one room, one log, no tick twice", ticks[i-1], ticks[i])
		}
	}
}

// TestRollingRestartKeepsEveryShape: every node of three is stopped in
// turn (as SIGTERM stops one: rooms stored and handed on) and a fresh one
// started in its place, the room's owner each time; the members come back
// through the nodes that are up, with their tokens, and after every step
// the board holds every shape ever drawn on it.
func TestRollingRestartKeepsEveryShape(t *testing.T) {
	tc := newTestCluster(t, 1)
	nodes := []*testNode{tc.start("n0", nodeOpts{}), tc.start("n1", nodeOpts{}), tc.start("n2", nodeOpts{})}
	room := nodes[0].create("board")
	type who struct {
		name  string
		token string
		seq   uint64
		c     *client
	}
	people := []*who{{name: "ann"}, {name: "bob"}}
	want := 4 // the board's seed shapes
	owner := func() int {
		for i, n := range nodes {
			if n.mgr.Get(room) != nil {
				return i
			}
		}
		return -1
	}
	for step := range 4 {
		own := owner()
		if own < 0 {
			waitUntil(t, 10*time.Second, "a node to run the room", func() bool { return owner() >= 0 })
			own = owner()
		}
		for i, p := range people {
			via := nodes[(own+1+i)%len(nodes)] // never the owner: they are relayed
			p.c = via.join(room, p.name, p.token)
			p.c.seq = p.seq
			if p.token != "" && !p.c.welcome.Resumed {
				t.Fatalf("step %d: %s did not get its seat back", step, p.name)
			}
			p.token = p.c.welcome.Token
			if got := countShapes(p.c.mirror); got != want {
				t.Fatalf("step %d: %s sees %d shapes on joining through %s, want %d", step, p.name, got, via.addr, want)
			}
		}
		for i, p := range people {
			shape(p.c, float64(100*step+10*i))
			want++
		}
		for _, p := range people {
			p.c.waitFor("every shape", func() bool { return countShapes(p.c.mirror) == want })
			p.seq = p.c.seq
		}
		sameAsOwner(t, nodes[own], room, people[0].c, people[1].c)
		nodes[own].stop()
		for _, p := range people {
			if code := p.c.waitClose(); code != rooms.CloseRestart {
				t.Fatalf("step %d: %s was closed with %d, want %d", step, p.name, code, rooms.CloseRestart)
			}
		}
		nodes[own] = tc.start(fmt.Sprintf("n%d-%d", own, step+1), nodeOpts{})
	}
}

// TestNATSLostStopsRoomsThenTheyComeBack: with NATS gone, a room goes on
// for its members until the node's lease would lapse, then stops cleanly
// (1012, nothing written: no split brain is possible); when NATS is back
// the node registers again and the room is woken from its log, and the
// member resumes its seat.
func TestNATSLostStopsRoomsThenTheyComeBack(t *testing.T) {
	tc := newTestCluster(t, 1)
	a := tc.start("a", nodeOpts{})
	room := a.create("board")
	ann := a.join(room, "ann", "")
	shape(ann, 100)
	ann.waitFor("the shape", func() bool { return countShapes(ann.mirror) == 5 })
	tick := sameAsOwner(t, a, room, ann)
	var info rooms.RoomInfo
	a.api("GET", "/api/rooms/"+room, nil, &info)
	waitUntil(t, 5*time.Second, "the log to hold the shape", func() bool {
		ticks := logTicks(t, a, info.RecordingID)
		return len(ticks) > 0 && ticks[len(ticks)-1] >= tick
	})
	lost := time.Now()
	tc.nats.Kill(0)
	if code := ann.waitClose(); code != rooms.CloseRestart {
		t.Fatalf("the member was closed with %d, want %d", code, rooms.CloseRestart)
	}
	if held := time.Since(lost); held < 500*time.Millisecond {
		t.Fatalf("the room stopped %v after NATS went: it should run on while the lease holds", held)
	}
	waitUntil(t, 5*time.Second, "the room to stop", func() bool { return a.mgr.Get(room) == nil })
	tc.nats.Restart(0)
	waitUntil(t, 20*time.Second, "the room to be woken again", func() bool { return a.mgr.Get(room) != nil })
	back := a.join(room, "ann", ann.welcome.Token)
	if !back.welcome.Resumed || back.welcome.Member != ann.welcome.Member || countShapes(back.mirror) != 5 {
		t.Fatalf("after NATS came back: member %d resumed %v, %d shapes; want member %d resumed with 5 shapes",
			back.welcome.Member, back.welcome.Resumed, countShapes(back.mirror), ann.welcome.Member)
	}
}

// TestNodeNeverTakesATypeItLacks: a node without a room's type does not
// take the room over when its owner dies (joins through it are told the
// type is not there); a node that has the type does.
func TestNodeNeverTakesATypeItLacks(t *testing.T) {
	tc := newTestCluster(t, 1)
	a := tc.start("a", nodeOpts{})
	noBoards := tc.start("arenas-only", nodeOpts{types: []*rooms.Type{arena.Type}})
	room := a.create("board")
	noBoards.join(room, "relayed", "") // a live owner is joined through it all the same
	a.crash()
	// Once the owner is known gone, nothing runs the room: a join through
	// the node without the type is told so (4014), and it never wakes it.
	waitUntil(t, 15*time.Second, "a join through the node without boards to be refused", func() bool {
		c, err := noBoards.dial(room, "x", "")
		return err == nil && c.waitClose() == rooms.CloseTypeGone
	})
	if noBoards.mgr.Get(room) != nil {
		t.Fatal("a node without the board type took a board over")
	}
	b := tc.start("b", nodeOpts{})
	waitUntil(t, 10*time.Second, "a node with the type to take the room", func() bool { return b.mgr.Get(room) != nil })
	if noBoards.mgr.Get(room) != nil {
		t.Fatal("a node without the board type runs the board")
	}
	noBoards.join(room, "relayed again", "")
}

// TestReplayFromANodeThatNeverRanTheRoom: a room's recording is listed and
// downloaded through a node that never ran it, and reads as the tape the
// owner recorded.
func TestReplayFromANodeThatNeverRanTheRoom(t *testing.T) {
	tc := newTestCluster(t, 1)
	a, b := tc.start("a", nodeOpts{idle: 300 * time.Millisecond}), tc.start("b", nodeOpts{})
	room := a.create("board")
	ann := a.join(room, "ann", "")
	shape(ann, 100)
	ann.waitFor("the shape", func() bool { return countShapes(ann.mirror) == 5 })
	ann.leave()
	waitUntil(t, 10*time.Second, "the room to sleep", func() bool { return a.mgr.Get(room) == nil })
	var list []struct {
		ID, RoomID string
		Members    []string
		InProgress bool
	}
	b.api("GET", "/api/recordings", nil, &list)
	if len(list) != 1 || list[0].RoomID != room || list[0].InProgress || len(list[0].Members) != 1 || list[0].Members[0] != "ann" {
		t.Fatalf("recordings on b: %+v; want the room's, paused, with ann", list)
	}
	res, err := http.Get(b.ts.URL + "/api/recordings/" + list[0].ID + "/tape")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	r, err := tape.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("the tape from b: %v", err)
	}
	if h := r.Info().Header; h.RoomID != room || h.Type != "board" {
		t.Fatalf("the tape's header: %+v", h)
	}
	ops := 0
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		if rec.Kind == tape.KindOps {
			ops++
		}
	}
	if ops < 2 { // ann's join and her shape
		t.Fatalf("the tape holds %d ops records, want at least the join and the shape", ops)
	}
}
