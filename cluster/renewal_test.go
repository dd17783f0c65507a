package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestRenewalAppliedButUnanswered: a lease renewal that JetStream applied
// but whose reply the node never got (it timed out: a slow NATS under
// load) leaves the node with an old revision of its own key. The next
// renewal is refused with "wrong last sequence", which the node takes
// for its key having expired: every room of the node stops, and it
// cannot register again ("key exists") until its key, which nobody
// renews any more, expires. Seen in tickroom-load failover with
// -lease-ttl 1s: two of three nodes dropped every room at once, and a
// POST /api/rooms answered 500 ("this node holds no lease").
//
// Here the lost reply is simulated by updating the node's key from
// another connection, as the applied renewal did.
func TestRenewalAppliedButUnanswered(t *testing.T) {
	tc := newTestCluster(t, 1)
	a := tc.start("a", nodeOpts{leaseTTL: 2 * time.Second})
	room := a.create("arena")
	c := a.join(room, "m", "")

	nc, err := nats.Connect(tc.nats.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, tc.prefix+"_nodes")
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, a.node.ID())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Update(ctx, a.node.ID(), e.Value(), e.Revision()); err != nil { // the renewal JetStream applied
		t.Fatal(err)
	}
	// Three seconds of ticks (60 at 20 Hz, nine renewals) with the room
	// still running.
	for i := range 60 {
		if !c.next(2 * time.Second) {
			t.Fatalf("the member's connection closed after %d messages (%v): the node dropped its room although its key never expired", i, c.err)
		}
	}
}
