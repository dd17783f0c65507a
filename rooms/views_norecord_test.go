package rooms_test

import (
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/rooms/store/mem"
)

// TestUnrecordedArenaStoredBeforeViewsWakes: an arena room created with
// Record: false keeps only checkpoints, and those taken before the arena had
// views hold no groups. With no log to re-run (TestArenaStoredBeforeViews
// WakesWithThem re-runs one), the build with views wakes it from such a
// checkpoint with every entity in Everyone, instead of losing it as
// unrecoverable (found in review).
func TestUnrecordedArenaStoredBeforeViewsWakes(t *testing.T) {
	oldArena := *arena.Type
	oldArena.Views = false
	oldReg := rooms.NewRegistry()
	if err := oldReg.Register(&oldArena); err != nil {
		t.Fatal(err)
	}
	st := mem.New()
	cfg := rooms.Config{Directory: st, Checkpoints: st, Logs: st, CheckpointInterval: 100 * time.Millisecond}
	before := rooms.NewManager(oldReg, cfg)
	no := false
	r, err := before.Create(rooms.CreateRequest{Type: "arena", Record: &no,
		Options: map[string]any{"coins": 50, "width": 4000, "height": 3000, "speed": 40}})
	if err != nil {
		t.Fatal(err)
	}
	ann, wa := join(t, r, "ann", "")
	for i := range 15 {
		input(t, r, ann, uint64(i+1), map[string]any{"dx": 1, "dy": float64(i%3) - 1})
	}
	input(t, r, ann, 16, map[string]any{"dx": 0, "dy": 0})
	if err := before.Shutdown(t.Context(), rooms.CloseRestart, "restart"); err != nil {
		t.Fatal(err)
	}
	// Under the old build the room wakes from its checkpoint: it was durable.
	again := rooms.NewManager(oldReg, cfg)
	if _, err := again.Open(r.ID); err != nil {
		t.Fatalf("the old build cannot wake its own unrecorded arena (test premise): %v", err)
	}
	if err := again.Shutdown(t.Context(), rooms.CloseRestart, "restart"); err != nil {
		t.Fatal(err)
	}
	stored := storedWorld(t, st, r.ID, &oldArena)

	after := durableManager(t, st, nil)
	woken, err := after.Open(r.ID)
	if err != nil {
		t.Fatalf("an unrecorded arena stored before views does not wake under the build with views: %v", err)
	}
	now := worldOf(t, woken)
	roomtest.SameWorld(t, stored, now)
	if !now.Views() {
		t.Fatal("the woken arena's world has no views")
	}
	if _, back := join(t, woken, "ann", wa.Token); !back.Resumed {
		t.Fatalf("resume after the switch: %+v", back)
	}
}
