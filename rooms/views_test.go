package rooms_test

import (
	"context"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/fieldbench"
	"github.com/tickroom/tickroom/state"
)

// A join or leave in a views room encodes no whole-world snapshot: nobody
// is sent the whole world between ticks (a member gets a view snapshot of
// its own groups at the next tick), so joins cost what the joiner sees,
// not the 1,025 groups of field-bench.
func TestViewsJoinEncodesOnlyTheJoinersGroups(t *testing.T) {
	reg := rooms.NewRegistry()
	if err := reg.Register(fieldbench.Type); err != nil {
		t.Fatal(err)
	}
	mgr := rooms.NewManager(reg, rooms.Config{})
	off := false
	r, err := mgr.Create(rooms.CreateRequest{Type: fieldbench.Type.Name, Record: &off})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	t.Cleanup(func() { _ = mgr.Shutdown(context.Background(), rooms.CloseGoingAway, "test over") }) // the test is over: its error is not the test's
	encoded := func() (n uint64, groups int) {
		t.Helper()
		if err := r.Inspect(func(w *state.World) { n, groups = w.GroupSnapshotsEncoded(), len(w.GroupIDs()) }, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		return n, groups
	}
	before, groups := encoded()
	var clients []*rooms.Client
	for _, name := range []string{"ann", "bo", "cy", "di", "ed", "flo"} {
		c, err := r.Join(&fakeConn{msgs: make(chan []byte, 4096)}, name, "")
		if err != nil {
			t.Fatalf("join: %v", err)
		}
		clients = append(clients, c)
	}
	for _, c := range clients {
		r.Leave(c, true)
	}
	after, _ := encoded()
	// Each joiner's first view snapshot takes the groups it sees (about 36
	// cells; each encoded at most once a tick, however many enter it).
	if got := after - before; got >= uint64(groups) {
		t.Fatalf("6 joins and 6 leaves encoded %d group snapshots, want fewer than the world's %d groups (no whole-world encode per join)", got, groups)
	}
}
