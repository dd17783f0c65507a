package rooms_test

import (
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
	"github.com/tickroom/tickroom/rooms/store/mem"
	"github.com/tickroom/tickroom/state"
)

// TestArenaStoredBeforeViewsWakesWithThem: an arena stored by a build
// whose arena had no views (its checkpoints hold no groups) wakes under
// one whose arena has them: the checkpoints are refused (counted, with the
// reason logged) and the log re-runs the room from its start, to the same
// world, now grouped; its member resumes its avatar.
func TestArenaStoredBeforeViewsWakesWithThem(t *testing.T) {
	oldArena := *arena.Type
	oldArena.Views = false
	oldReg := rooms.NewRegistry()
	if err := oldReg.Register(&oldArena); err != nil {
		t.Fatal(err)
	}
	st := mem.New()
	cfg := rooms.Config{Directory: st, Checkpoints: st, Logs: st, CheckpointInterval: 100 * time.Millisecond}
	before := rooms.NewManager(oldReg, cfg)
	r, err := before.Create(rooms.CreateRequest{Type: "arena", Options: map[string]any{"coins": 50, "width": 4000, "height": 3000, "speed": 40}})
	if err != nil {
		t.Fatal(err)
	}
	ann, wa := join(t, r, "ann", "")
	for i := range 15 {
		input(t, r, ann, uint64(i+1), map[string]any{"dx": 1, "dy": float64(i%3) - 1})
	}
	input(t, r, ann, 16, map[string]any{"dx": 0, "dy": 0}) // stands still: the world stays as stored
	if err := before.Shutdown(t.Context(), rooms.CloseRestart, "restart"); err != nil {
		t.Fatal(err)
	}
	stored := storedWorld(t, st, r.ID, &oldArena)
	if stored.Views() {
		t.Fatal("the old build's checkpoint holds groups")
	}

	after := durableManager(t, st, nil)
	woken, err := after.Open(r.ID)
	if err != nil {
		t.Fatalf("wake under the build with views: %v", err)
	}
	if after.Counters().BadCheckpoints.Load() == 0 {
		t.Fatal("a checkpoint without groups was loaded into the arena with views")
	}
	w := worldOf(t, woken)
	if !w.Views() {
		t.Fatal("the woken arena has no views")
	}
	roomtest.SameWorld(t, stored, w)
	grouped := 0
	for _, e := range w.Entities() {
		if e.Kind() == arena.CoinKind && e.Group() != state.Everyone {
			grouped++
		}
	}
	if grouped == 0 {
		t.Fatal("no coin of the woken arena is in a cell's group")
	}
	_, back := join(t, woken, "ann", wa.Token)
	if !back.Resumed || *back.Entity != *wa.Entity {
		t.Fatalf("resume after the switch: %+v", back)
	}
}
