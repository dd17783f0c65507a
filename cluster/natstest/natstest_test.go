package natstest_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickroom/tickroom/cluster/natstest"
)

// TestLeaseKeyExpiresWithAMarker is what the cluster's leases rest on: a
// key in a bucket with a TTL that nobody renews is removed by the server,
// and a watcher is told (a MaxAge marker reads as a purge).
func TestLeaseKeyExpiresWithAMarker(t *testing.T) {
	for _, n := range []int{1, 3} {
		c := natstest.Start(t, n)
		nc, err := nats.Connect(c.URL())
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "leases", TTL: time.Second, LimitMarkerTTL: time.Second, Replicas: c.Replicas()})
		if err != nil {
			t.Fatalf("%d servers: bucket: %v", n, err)
		}
		w, err := kv.WatchAll(ctx, jetstream.UpdatesOnly())
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := kv.Create(ctx, "node-a", []byte("x")); err != nil {
			t.Fatal(err)
		}
		var gone time.Duration
		for e := range w.Updates() {
			if e != nil && e.Operation() != jetstream.KeyValuePut {
				gone = time.Since(start)
				break
			}
		}
		if gone < time.Second {
			t.Fatalf("%d servers: the key went after %v, before its TTL", n, gone)
		}
		t.Logf("%d servers: key gone after %v", n, gone)
		if _, err := kv.Create(ctx, "node-a", []byte("y")); err != nil {
			t.Fatalf("%d servers: create after expiry: %v", n, err)
		}
	}
}
