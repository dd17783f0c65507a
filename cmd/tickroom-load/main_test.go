package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/rooms/fieldbench"
	"github.com/tickroom/tickroom/server"
)

// TestSceneSmoke runs the scene subcommand against an in-process server
// for one room of two clients and checks the report: the mirrors agree
// with the scene formula and bytes flowed. No timing is asserted.
func TestSceneSmoke(t *testing.T) {
	reg := rooms.NewRegistry()
	if err := reg.Register(arenabench.Type); err != nil {
		t.Fatalf("register: %v", err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := rooms.NewManager(reg, rooms.Config{Logger: log})
	srv := server.New(mgr, server.Config{Logger: log})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = mgr.Shutdown(ctx, rooms.CloseGoingAway, "test over") // a slow shutdown is not what this test checks
		_ = srv.CloseSessions(ctx, rooms.CloseGoingAway, "test over")
		ts.Close()
	})

	var stdout, stderr bytes.Buffer
	args := []string{"scene", "-url", ts.URL, "-rooms", "1", "-clients", "2",
		"-warmup", "500ms", "-duration", "2s", "-ping", "200ms", "-json", "-quiet"}
	if err := run(t.Context(), args, &stdout, &stderr); err != nil {
		t.Fatalf("scene: %v\nstderr:\n%s\nstdout:\n%s", err, stderr.String(), stdout.String())
	}
	var got struct {
		Divergences    *int     `json:"divergences"`
		MirrorsChecked int      `json:"mirrors_checked"`
		S2C            *float64 `json:"s2c_bytes_per_client_s"`
		C2S            *float64 `json:"c2s_bytes_per_client_s"`
		Clients        int      `json:"clients"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("decode report: %v\n%s", err, stdout.String())
	}
	if got.Divergences == nil || *got.Divergences != 0 {
		t.Errorf("divergences = %v, want 0\n%s", got.Divergences, stdout.String())
	}
	if got.MirrorsChecked != 2 || got.Clients != 2 {
		t.Errorf("mirrors checked %d of %d clients, want 2 of 2", got.MirrorsChecked, got.Clients)
	}
	if got.S2C == nil || *got.S2C <= 0 {
		t.Errorf("s2c_bytes_per_client_s = %v, want > 0", got.S2C)
	}
	if got.C2S == nil || *got.C2S <= 0 {
		t.Errorf("c2s_bytes_per_client_s = %v, want > 0", got.C2S)
	}
}

// TestFieldSceneSmoke runs field-bench with views on and off, side by side
// on one server: both with no divergence and nothing beyond a view's
// margin, and views sending far fewer bytes per client than the whole world.
func TestFieldSceneSmoke(t *testing.T) {
	reg := rooms.NewRegistry()
	for _, ty := range []*rooms.Type{fieldbench.Type, fieldbench.TypeNoViews} {
		if err := reg.Register(ty); err != nil {
			t.Fatalf("register: %v", err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := rooms.NewManager(reg, rooms.Config{Logger: log})
	srv := server.New(mgr, server.Config{Logger: log})
	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = mgr.Shutdown(ctx, rooms.CloseGoingAway, "test over") // a slow shutdown is not what this test checks
		_ = srv.CloseSessions(ctx, rooms.CloseGoingAway, "test over")
		ts.Close()
	})
	type report struct {
		Divergences      *int     `json:"divergences"`
		MarginViolations *int     `json:"margin_violations"`
		MirrorsChecked   int      `json:"mirrors_checked"`
		S2C              *float64 `json:"s2c_bytes_per_client_s"`
		EntitiesMean     *float64 `json:"entities_per_view_mean"`
		ViewChanges      *float64 `json:"view_changes_per_client_s"`
	}
	runOne := func(views bool) report {
		var stdout, stderr bytes.Buffer
		args := []string{"scene", "-type", "field-bench", fmt.Sprintf("-views=%v", views), "-url", ts.URL, "-rooms", "1", "-clients", "4",
			"-warmup", "500ms", "-duration", "2s", "-ping", "0", "-json", "-quiet"}
		if err := run(t.Context(), args, &stdout, &stderr); err != nil {
			t.Fatalf("scene views=%v: %v\nstderr:\n%s\nstdout:\n%s", views, err, stderr.String(), stdout.String())
		}
		var got report
		if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
			t.Fatalf("decode report: %v\n%s", err, stdout.String())
		}
		if got.Divergences == nil || *got.Divergences != 0 || got.MarginViolations == nil || *got.MarginViolations != 0 {
			t.Errorf("views=%v: divergences %v, margin violations %v; want 0 and 0\n%s", views, got.Divergences, got.MarginViolations, stdout.String())
		}
		if got.MirrorsChecked != 4 || got.S2C == nil || got.EntitiesMean == nil {
			t.Fatalf("views=%v: %d mirrors checked, s2c %v, entities per view %v\n%s", views, got.MirrorsChecked, got.S2C, got.EntitiesMean, stdout.String())
		}
		return got
	}
	on, off := runOne(true), runOne(false)
	// A view holds about 135 of the 4100 entities: a tenth of the whole
	// world's bytes is a loose bound that still fails without views.
	if ratio := *on.S2C / *off.S2C; ratio > 0.1 {
		t.Errorf("views on send %.0f B/client/s, off %.0f: ratio %.3f, want <= 0.1", *on.S2C, *off.S2C, ratio)
	}
	if *on.EntitiesMean > 300 || *off.EntitiesMean < fieldbench.Props {
		t.Errorf("entities per view: on %.0f (want a view's worth), off %.0f (want the whole world)", *on.EntitiesMean, *off.EntitiesMean)
	}
	if on.ViewChanges == nil || *on.ViewChanges <= 0 {
		t.Errorf("view changes per client-second with views on: %v, want > 0 (players wander across cells)", on.ViewChanges)
	}
}

// TestPropFormulaMatchesScene checks the load generator's independent
// recomputation of the props against the scene code it is meant to verify,
// over enough ticks to cover every hp change of several props.
func TestPropFormulaMatchesScene(t *testing.T) {
	s := arenabench.NewScene()
	props := s.World.Entities()
	for tick := uint64(1); tick <= 4100; tick++ {
		s.Step(tick)
		if tick%97 != 0 && tick%2000 != 0 {
			continue
		}
		for i := range arenabench.Props {
			e := props[i]
			got := entitySnap{kind: "prop",
				x: e.Float(arenabench.FieldX), y: e.Float(arenabench.FieldY), angle: e.Float(arenabench.FieldAngle),
				hp: e.Int(arenabench.FieldHP), color: e.Int(arenabench.FieldColor), label: e.String(arenabench.FieldLabel)}
			if d := diffProp(propAt(i, tick), got); d != "" {
				t.Fatalf("tick %d prop %d: scene and formula differ: %s", tick, i, d)
			}
		}
	}
}

// TestDiffPropCatchesAnError makes sure the check can fail.
func TestDiffPropCatchesAnError(t *testing.T) {
	want := propAt(7, 123)
	got := want
	got.x += 0.02 // beyond the 1/128 tolerance of a position
	if diffProp(want, got) == "" {
		t.Fatal("a 0.02 error in x passed the check")
	}
	got = want
	got.angle += 2 * 3.141592653589793 // a full turn is the same angle
	if d := diffProp(want, got); d != "" {
		t.Fatalf("a full turn failed the check: %s", d)
	}
}

func TestParseSample(t *testing.T) {
	name, labels, v, ok := parseSample(`tickroom_tick_duration_seconds_bucket{type="arena-bench",le="0.0005"} 42`)
	if !ok || name != "tickroom_tick_duration_seconds_bucket" || labels["type"] != "arena-bench" || labels["le"] != "0.0005" || v != 42 {
		t.Fatalf("got %q %v %v %v", name, labels, v, ok)
	}
}

// TestRoomGridFollowsSkips checks the latency grid: a room that skipped
// one slot after tick 20 keeps its latency on both sides of the skip, a
// single slow tick (70 ms: past the next slot) stays slow, and one stray
// tick faster than the rest does not shift its predecessors.
func TestRoomGridFollowsSkips(t *testing.T) {
	const period = int64(50e6)
	const base = int64(7e6) // the room's phase: ticks are due at base + n*period
	lat := func(tick int) int64 {
		switch tick {
		case 9:
			return 70e6
		case 30:
			return 0 // faster than the 1 ms the others take
		}
		return 1e6
	}
	first := make([]int64, 40) // ticks 1..40
	for i := range first {
		tick := i + 1
		skipped := int64(0)
		if tick > 20 {
			skipped = 1
		}
		first[i] = base + (int64(tick)+skipped)*period + lat(tick)
	}
	g := roomGrid(period, 1, first)
	for i, at := range first {
		// The grid's phase is the fastest delivery near the bulk (tick 30's,
		// which took 0 ns), so every latency reads true.
		if got, want := at-g.slot(uint64(i+1)), lat(i+1); got != want {
			t.Errorf("tick %d: latency %d ns, want %d", i+1, got, want)
		}
	}
	if g.skips != 1 {
		t.Errorf("skips = %d, want 1", g.skips)
	}
}

// TestDormantRoomsDoNotExpire: dormant stores up to a million rooms and
// times an expiry pass that must delete none, so every room's last
// activity is younger than the shortest max age of the types it stores
// (one second apart, rooms past 86,400 were older than arena's 24 hours).
func TestDormantRoomsDoNotExpire(t *testing.T) {
	now := time.Now()
	youngest := min(arena.Type.DormantMaxAge, board.Type.DormantMaxAge)
	for _, n := range []int{1, 1000, 100000, 1_000_000} {
		for _, i := range []int{0, n / 2, n - 1} {
			la := dormantLastActive(now, i, n)
			if la.After(now) || !la.After(now.Add(-youngest)) {
				t.Errorf("rooms %d: room %d last active %v before now, want within %v", n, i, now.Sub(la), youngest)
			}
		}
	}
}

// TestCheckpointCounters: the scene reads the server's checkpoint counters
// at both edges of the window, as it reads the tick counters.
func TestCheckpointCounters(t *testing.T) {
	page := func(cps, bytes, skipped int) string {
		return fmt.Sprintf("# TYPE tickroom_ticks_total counter\ntickroom_ticks_total{type=\"arena-bench\"} 100\n"+
			"tickroom_checkpoints_total %d\ntickroom_checkpoint_bytes_total %d\ntickroom_checkpoints_skipped_total %d\n", cps, bytes, skipped)
	}
	var body atomic.Value
	body.Store(page(10, 30000, 0))
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, body.Load().(string))
	}))
	defer ts.Close()
	a := newAPI(ts.URL)
	start, ok, err := readTickMetrics(t.Context(), a, "arena-bench")
	if !ok || err != nil {
		t.Fatalf("read: ok %v, %v", ok, err)
	}
	body.Store(page(60, 180000, 2))
	end, _, _ := readTickMetrics(t.Context(), a, "arena-bench")
	w := end.diff(start)
	if w.checkpoints != 50 || w.checkpointBytes != 150000 || w.checkpointsSkipped != 2 {
		t.Errorf("window: %v checkpoints, %v bytes, %v skipped; want 50, 150000, 2", w.checkpoints, w.checkpointBytes, w.checkpointsSkipped)
	}
}
