package server_test

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/server"
	"github.com/tickroom/tickroom/state"
)

// scrape returns the value of one sample of /metrics, matched by its full
// name and labels, or fails the test.
func scrape(t *testing.T, env *testEnv, sample string) float64 {
	t.Helper()
	res, err := http.Get(env.ts.URL + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` (\S+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("/metrics has no sample %s", sample)
	}
	v, err := strconv.ParseFloat(string(m[1]), 64)
	if err != nil {
		t.Fatalf("sample %s: %v", sample, err)
	}
	return v
}

func TestMetricsMoveUnderLoad(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	id := env.createRoom("arena-bench", nil)
	a := env.join(id, "a")
	if got := scrape(t, env, `tickroom_rooms{type="arena-bench"}`); got != 1 {
		t.Fatalf("rooms: got %v, want 1", got)
	}
	ticks0 := scrape(t, env, `tickroom_ticks_total{type="arena-bench"}`)
	for range 5 {
		a.input(map[string]any{"dx": 1, "dy": 0})
	}
	a.sendRaw([]byte{0xc1}) // one refused message
	a.waitFor("bad_message error", func() bool { return a.hasError(state.ErrCodeBadMessage) })
	a.waitTick(a.mirror.Tick + 5)

	checks := []struct {
		sample string
		min    float64
	}{
		{`tickroom_ticks_total{type="arena-bench"}`, ticks0 + 5},
		{`tickroom_members{type="arena-bench"}`, 1},
		{`tickroom_sessions`, 1},
		{`tickroom_inputs_total{type="arena-bench"}`, 5},
		{`tickroom_ws_received_messages_total`, 6},
		{`tickroom_ws_sent_messages_total`, 10},
		{`tickroom_delta_encoded_bytes_total{type="arena-bench"}`, 1},
		{`tickroom_snapshots_sent_total{type="arena-bench"}`, 1},
		{`tickroom_messages_refused_total{reason="bad_message"}`, 1},
		{`tickroom_tick_duration_seconds_count{type="arena-bench"}`, ticks0 + 5},
	}
	for _, c := range checks {
		// Counters like "sent" move just after the client sees the message:
		// poll briefly rather than race the write pump.
		deadline := time.Now().Add(5 * time.Second)
		got := scrape(t, env, c.sample)
		for got < c.min && time.Now().Before(deadline) {
			<-time.After(10 * time.Millisecond)
			got = scrape(t, env, c.sample)
		}
		if got < c.min {
			t.Errorf("%s: got %v, want >= %v", c.sample, got, c.min)
		}
	}
	// Counters survive their room: close it and the ticks stay counted.
	before := scrape(t, env, `tickroom_ticks_total{type="arena-bench"}`)
	r := env.room(id)
	r.Close(rooms.CloseRoomClosed, "test")
	<-r.Done()
	if got := scrape(t, env, `tickroom_ticks_total{type="arena-bench"}`); got < before {
		t.Fatalf("ticks_total went backwards after the room closed: %v -> %v", before, got)
	}
	if got := scrape(t, env, `tickroom_rooms{type="arena-bench"}`); got != 0 {
		t.Fatalf("rooms after close: got %v, want 0", got)
	}
}

func TestReadyzAndDraining(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	if code := env.api("GET", "/readyz", nil, nil); code != http.StatusOK {
		t.Fatalf("readyz: %d, want 200", code)
	}
	env.srv.Drain()
	if code := env.api("GET", "/readyz", nil, nil); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz while draining: %d, want 503", code)
	}
	var e struct{ Code string }
	if code := env.api("POST", "/api/rooms", map[string]any{"type": "arena"}, &e); code != http.StatusServiceUnavailable || e.Code != "shutting_down" {
		t.Fatalf("create while draining: %d %q, want 503 shutting_down", code, e.Code)
	}
}

func TestPprofOnlyWhenEnabled(t *testing.T) {
	off := newEnv(t, rooms.Config{}, server.Config{})
	if code := off.api("GET", "/debug/pprof/", nil, nil); code != http.StatusNotFound {
		t.Fatalf("pprof without the flag: %d, want 404", code)
	}
	on := newEnv(t, rooms.Config{}, server.Config{Pprof: true})
	if code := on.api("GET", "/debug/pprof/", nil, nil); code != http.StatusOK {
		t.Fatalf("pprof with the flag: %d, want 200", code)
	}
}
