package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
)

// TestUnwakeableOrphanIsRetriedLessAndLess: an orphaned live room that no
// node can wake (its checkpoints and log are gone) is tried again, less and
// less often; found in review, where it was tried every half lease and in
// bursts (every failed wake's release woke every node's loop).
func TestUnwakeableOrphanIsRetriedLessAndLess(t *testing.T) {
	tc := newTestCluster(t, 1)
	a := tc.start("a", nodeOpts{})
	room := a.create("board")
	var info rooms.RoomInfo
	a.api("GET", "/api/rooms/"+room, nil, &info)
	a.crash()
	b := tc.start("b", nodeOpts{})
	nc, err := nats.Connect(tc.nats.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Make the room unwakeable before b can take it: no checkpoints, no log.
	_ = b.node.Store().DeleteCheckpoints(room)
	s, err := js.Stream(ctx, tc.prefix+"_log")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSubject(tc.prefix+".log."+info.RecordingID)); err != nil {
		t.Fatal(err)
	}
	owners, err := js.Stream(ctx, "KV_"+tc.prefix+"_owners")
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * time.Second) // a's key expires, b starts trying
	i1, _ := owners.Info(ctx)
	time.Sleep(3 * time.Second)
	i2, _ := owners.Info(ctx)
	writes := i2.State.LastSeq - i1.State.LastSeq
	t.Logf("owner-key writes for one unwakeable room in 3 s: %d", writes)
	if writes > 6 {
		t.Errorf("%d owner-key writes in 3 s for a room that can never be woken: retried every TTL/2 (and in bursts) forever, by every capable node", writes)
	}
}

// TestTypelessNodeDoesNotRefuseForGoodDuringATakeover: the owner dies; a
// member sent back with 1012 reconnects through a node that lacks the
// room's type while a node that has it is alive: it is told to try again
// (1013), not that the room cannot open (4014, which the client takes as
// final).
func TestTypelessNodeDoesNotRefuseForGoodDuringATakeover(t *testing.T) {
	tc := newTestCluster(t, 1)
	a := tc.start("a", nodeOpts{})
	b := tc.start("b", nodeOpts{})
	noBoards := tc.start("arenas-only", nodeOpts{types: []*rooms.Type{arena.Type}})
	room := a.create("board")
	m := noBoards.join(room, "relayed", "")
	a.crash()
	if code := m.waitClose(); code != rooms.CloseRestart {
		t.Fatalf("closed with %d", code)
	}
	again, err := noBoards.dial(room, "relayed", m.welcome.Token)
	if err != nil {
		t.Fatal(err)
	}
	var code int
	for {
		if !again.next(15 * time.Second) {
			code = again.waitClose()
			break
		}
		if again.mirror != nil && again.mirror.Synced {
			break
		}
	}
	t.Logf("reconnect through the typeless node while b is alive: close code %d (b runs room: %v)", code, b.mgr.Get(room) != nil)
	if code == rooms.CloseTypeGone {
		t.Fatal("4014 (final for the client) while a node with the type is alive")
	}
}
