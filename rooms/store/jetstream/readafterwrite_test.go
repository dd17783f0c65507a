package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tickroom/tickroom/cluster/natstest"
	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/store/jetstream"
)

// TestRowReadOnAnotherServerRightAfterPut: a row stored through one NATS
// server (the node that made the room) is read through another (the node
// a member's share link reaches) right after the Put returned, as a join
// through another node right after POST /api/rooms does. Every read must
// find it; a miss is a 4004 "room not found" for that member.
func TestRowReadOnAnotherServerRightAfterPut(t *testing.T) {
	c := natstest.Start(t, 3)
	urls := strings.Split(c.URL(), ",")
	prefix := fmt.Sprintf("raw%d", time.Now().UnixNano()%1e6)
	at := func(url string) *jetstream.Store {
		nc, err := nats.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s, err := jetstream.Open(ctx, nc, jetstream.Options{Prefix: prefix, Replicas: 3})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	a, b := at(urls[0]), at(urls[2])
	const n = 500
	misses := 0
	for i := range n {
		now := time.Now()
		rec := rooms.RoomRecord{ID: fmt.Sprintf("room%04d", i), Type: "arena", State: rooms.StateLive, CreatedAt: now, LastActive: now}
		if err := a.Put(rec); err != nil {
			t.Fatal(err)
		}
		_, err := b.Get(rec.ID)
		switch {
		case errors.Is(err, rooms.ErrNotFound):
			misses++
		case err != nil:
			t.Fatal(err)
		}
	}
	if misses > 0 {
		t.Fatalf("%d of %d rows not found through another server right after their Put", misses, n)
	}
}
