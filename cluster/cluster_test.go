package cluster_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
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
// relaying node reaches the room.
func TestAnyNodeServesAnyLink(t *testing.T) {
	tc := newTestCluster(t, 1)
	a, b, c := tc.start("a", nodeOpts{}), tc.start("b", nodeOpts{}), tc.start("c", nodeOpts{})
	room := a.create("board")
	for _, n := range []*testNode{b, c} {
		var info rooms.RoomInfo
		waitUntil(t, 5*time.Second, "the room to be known on "+n.addr, func() bool {
			return n.api("GET", "/api/rooms/"+room, nil, &info) == http.StatusOK
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
}
