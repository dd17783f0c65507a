package jetstream_test

import (
	"errors"
	"testing"

	"github.com/tickroom/tickroom/cluster/natstest"
	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/store/jetstream"
)

// TestContinueClaimsTheLog: the new owner continues the log (it rebuilt
// the room from ticks 1..10 and starts ticking 11..) but has not appended
// yet when the old owner's append that was on its way (a retry, or a
// publish held while its NATS connection was down) arrives: Continue has
// claimed the log, so the stale append is refused and the new owner's go
// on. (Found in review: without the claim the stale writer won and the new
// owner, which had already broadcast its own ticks 11.., was fenced.)
func TestContinueClaimsTheLog(t *testing.T) {
	c := natstest.Start(t, 1)
	s := open(t, c, jetstream.Options{})
	old, err := s.Create(rooms.RecordingHeader{RoomID: "r", Type: "x", TickRate: 20})
	if err != nil {
		t.Fatal(err)
	}
	writeTicks(t, old, 1, 10)
	if _, err := old.Position(); err != nil {
		t.Fatal(err)
	}
	if err := old.Sync(); err != nil {
		t.Fatal(err)
	}
	other := open(t, c, jetstream.Options{Prefix: s.Prefix()})
	taker, end, err := other.Continue(old.ID())
	if err != nil || end.Tick != 10 {
		t.Fatalf("continue: %+v, %v", end, err)
	}
	// The old owner's last flush, on its way when its lease lapsed.
	writeTicks(t, old, 11, 15)
	_, err = old.Position()
	if err == nil {
		err = old.Sync()
	}
	oldErr := err
	// The new owner ticks 11.. from the state at 10.
	writeTicks(t, taker, 11, 12)
	_, err = taker.Position()
	if err == nil {
		err = taker.Sync()
	}
	if !errors.Is(oldErr, rooms.ErrFenced) {
		t.Fatalf("the stale writer's append after the takeover: %v, want ErrFenced", oldErr)
	}
	if err != nil {
		t.Fatalf("the new owner's append: %v", err)
	}
	if got := ticksOf(t, s, old.ID()); len(got) != 12 || got[10] != 11 || got[11] != 12 {
		t.Fatalf("the log's ticks: %v, want 1..12 (the new owner's 11 and 12)", got)
	}
}
