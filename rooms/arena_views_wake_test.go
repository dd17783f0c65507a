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

// arenaBeforeViews is an arena room stored by a build whose arena had no
// views (its checkpoints hold no groups): ann steered it for 15 ticks and
// stood still, so the stored world is the one a wake must give back.
type arenaBeforeViews struct {
	st      *mem.Store
	oldType *rooms.Type
	oldReg  *rooms.Registry
	cfg     rooms.Config
	id      string
	welcome state.Welcome // ann's
}

func storeArenaBeforeViews(t *testing.T, record bool) arenaBeforeViews {
	t.Helper()
	oldArena := *arena.Type
	oldArena.Views = false
	a := arenaBeforeViews{st: mem.New(), oldType: &oldArena, oldReg: rooms.NewRegistry()}
	if err := a.oldReg.Register(&oldArena); err != nil {
		t.Fatal(err)
	}
	a.cfg = rooms.Config{Directory: a.st, Checkpoints: a.st, Logs: a.st, CheckpointInterval: 100 * time.Millisecond}
	before := rooms.NewManager(a.oldReg, a.cfg)
	r, err := before.Create(rooms.CreateRequest{Type: "arena", Record: &record,
		Options: map[string]any{"coins": 50, "width": 4000, "height": 3000, "speed": 40}})
	if err != nil {
		t.Fatal(err)
	}
	a.id = r.ID
	var ann *member
	ann, a.welcome = join(t, r, "ann", "")
	for i := range 15 {
		input(t, r, ann, uint64(i+1), map[string]any{"dx": 1, "dy": float64(i%3) - 1})
	}
	input(t, r, ann, 16, map[string]any{"dx": 0, "dy": 0}) // stands still: the world stays as stored
	if err := before.Shutdown(t.Context(), rooms.CloseRestart, "restart"); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestArenaStoredBeforeViewsWakesWithThem: an arena stored by a build
// whose arena had no views (its checkpoints hold no groups) wakes under
// one whose arena has them: the checkpoints are refused (counted, with the
// reason logged) and the log re-runs the room from its start, to the same
// world, now grouped; its member resumes its avatar.
func TestArenaStoredBeforeViewsWakesWithThem(t *testing.T) {
	a := storeArenaBeforeViews(t, true)
	stored := storedWorld(t, a.st, a.id, a.oldType)
	if stored.Views() {
		t.Fatal("the old build's checkpoint holds groups")
	}

	after := durableManager(t, a.st, nil)
	woken, err := after.Open(a.id)
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
	_, back := join(t, woken, "ann", a.welcome.Token)
	if !back.Resumed || *back.Entity != *a.welcome.Entity {
		t.Fatalf("resume after the switch: %+v", back)
	}
}

// TestUnrecordedArenaStoredBeforeViewsWakes: an arena room created with
// Record: false keeps only checkpoints, and those taken before the arena had
// views hold no groups. With no log to re-run (TestArenaStoredBeforeViews
// WakesWithThem re-runs one), the build with views wakes it from such a
// checkpoint with every entity in Everyone, instead of losing it as
// unrecoverable (found in review).
func TestUnrecordedArenaStoredBeforeViewsWakes(t *testing.T) {
	a := storeArenaBeforeViews(t, false)
	// Under the old build the room wakes from its checkpoint: it was durable.
	again := rooms.NewManager(a.oldReg, a.cfg)
	if _, err := again.Open(a.id); err != nil {
		t.Fatalf("the old build cannot wake its own unrecorded arena (test premise): %v", err)
	}
	if err := again.Shutdown(t.Context(), rooms.CloseRestart, "restart"); err != nil {
		t.Fatal(err)
	}
	stored := storedWorld(t, a.st, a.id, a.oldType)

	after := durableManager(t, a.st, nil)
	woken, err := after.Open(a.id)
	if err != nil {
		t.Fatalf("an unrecorded arena stored before views does not wake under the build with views: %v", err)
	}
	now := worldOf(t, woken)
	roomtest.SameWorld(t, stored, now)
	if !now.Views() {
		t.Fatal("the woken arena's world has no views")
	}
	if _, back := join(t, woken, "ann", a.welcome.Token); !back.Resumed {
		t.Fatalf("resume after the switch: %+v", back)
	}
}
