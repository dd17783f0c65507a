package jetstream_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/tickroom/tickroom/cluster/natstest"
	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/store/jetstream"
	"github.com/tickroom/tickroom/rooms/store/storetest"
)

var prefixes atomic.Int64

// open connects to c and opens a store under a prefix of its own, so that
// each subtest starts empty.
func open(t *testing.T, c *natstest.Cluster, opts jetstream.Options) *jetstream.Store {
	t.Helper()
	nc, err := nats.Connect(c.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	if opts.Prefix == "" {
		opts.Prefix = fmt.Sprintf("t%d", prefixes.Add(1))
	}
	if os.Getenv("JS_DEBUG") != "" {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if opts.Replicas == 0 {
		opts.Replicas = c.Replicas()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := jetstream.Open(ctx, nc, opts)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d servers", n), func(t *testing.T) {
			c := natstest.Start(t, n)
			storetest.Directory(t, func(t *testing.T) rooms.Directory { return open(t, c, jetstream.Options{}) })
			storetest.Checkpoints(t, func(t *testing.T) rooms.CheckpointStore { return open(t, c, jetstream.Options{}) })
			storetest.Logs(t, func(t *testing.T) rooms.LogStore { return open(t, c, jetstream.Options{}) })
			// Tiny messages: every flush is split into parts.
			storetest.Logs(t, func(t *testing.T) rooms.LogStore { return open(t, c, jetstream.Options{MaxMessage: 7}) })
		})
	}
}

// writeTicks appends ticks from..to (a quiet delta each).
func writeTicks(t *testing.T, w rooms.LogWriter, from, to uint64) {
	t.Helper()
	for tick := from; tick <= to; tick++ {
		if err := w.Tick(tick, []rooms.Op{{Kind: rooms.OpInput, Member: 1, Seq: tick, Payload: []byte{0x80}}}, []byte{3, byte(tick)}); err != nil {
			t.Fatalf("tick %d: %v", tick, err)
		}
	}
}

// ticksOf reads a log and returns its ticks in order.
func ticksOf(t *testing.T, s rooms.LogStore, id string) []uint64 {
	t.Helper()
	var ticks []uint64
	err := s.Read(id, rooms.LogPosition{}, func(r rooms.LogRecord) error {
		if r.IsTick {
			ticks = append(ticks, r.Tick)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return ticks
}

// TestStaleWriterIsFenced: a node that continued a log (it took the room
// over) makes the old writer's next append fail with ErrFenced, and the
// log holds only the new writer's ticks after the takeover.
func TestStaleWriterIsFenced(t *testing.T) {
	c := natstest.Start(t, 1)
	s := open(t, c, jetstream.Options{})
	old, err := s.Create(rooms.RecordingHeader{RoomID: "r", Type: "x", TickRate: 20})
	if err != nil {
		t.Fatal(err)
	}
	writeTicks(t, old, 1, 10)
	if _, err := old.Position(); err != nil { // flushed
		t.Fatal(err)
	}
	if err := old.Sync(); err != nil {
		t.Fatal(err)
	}
	other := open(t, c, jetstream.Options{Prefix: prefixOf(t, s)})
	taker, end, err := other.Continue(old.ID())
	if err != nil || end.Tick != 10 {
		t.Fatalf("continue: %+v, %v; want tick 10", end, err)
	}
	writeTicks(t, taker, 11, 12)
	if err := taker.Pause(); err != nil {
		t.Fatal(err)
	}
	writeTicks(t, old, 11, 15)
	_, err = old.Position()
	if err == nil {
		err = old.Sync()
	}
	if !errors.Is(err, rooms.ErrFenced) {
		t.Fatalf("the stale writer's append: got %v, want ErrFenced", err)
	}
	if got := ticksOf(t, s, old.ID()); len(got) != 12 || got[11] != 12 {
		t.Fatalf("the log's ticks: got %v, want 1..12 (the taker's)", got)
	}
}

func prefixOf(t *testing.T, s *jetstream.Store) string {
	t.Helper()
	return s.Prefix()
}

// TestContinueCutsADamagedMessage: a message on a log's subject that is
// not a run of good frames (written by hand, or damaged) is cut off by
// Continue, which reports the damage; the room goes on from the last good
// tick and the log reads whole.
func TestContinueCutsADamagedMessage(t *testing.T) {
	c := natstest.Start(t, 1)
	s := open(t, c, jetstream.Options{})
	w, err := s.Create(rooms.RecordingHeader{RoomID: "r", Type: "x", TickRate: 20})
	if err != nil {
		t.Fatal(err)
	}
	writeTicks(t, w, 1, 20)
	if err := w.Pause(); err != nil {
		t.Fatal(err)
	}
	nc, _ := nats.Connect(c.URL())
	defer nc.Close()
	js, _ := natsjs.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m := nats.NewMsg(s.Prefix() + ".log." + w.ID())
	m.Data = []byte{0x0b, 0x05, 1, 2, 3, 4, 5, 0, 0, 0, 0} // a frame with a wrong checksum
	m.Header.Set("Tickroom-Offset", "999999")
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatal(err)
	}
	w2, end, err := s.Continue(w.ID())
	if err != nil {
		t.Fatalf("continue: %v", err)
	}
	if end.Tick != 20 || end.Damage == nil {
		t.Fatalf("continue's end: %+v; want tick 20 with the damage described", end)
	}
	writeTicks(t, w2, 21, 22)
	if err := w2.Close(); err != nil {
		t.Fatal(err)
	}
	if got := ticksOf(t, s, w.ID()); len(got) != 22 || got[21] != 22 {
		t.Fatalf("ticks after the cut: %v", got)
	}
}
