package main

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWokenTicks reads the tick a node woke a room at from its log, as
// rooms logs it (text format, the room's attributes first).
func TestWokenTicks(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil)).With("node", "n1-1-abc123")
	log.With("room", "r1", "type", "arena").Info("room woken", "tick", 120, "seats", 2, "took", 3*time.Millisecond)
	log.With("room", "r2", "type", "arena").Info("room woken", "tick", 7, "seats", 1, "took", time.Millisecond)
	log.With("room", "r1", "type", "arena").Info("room woken", "tick", 480, "seats", 2, "took", time.Millisecond) // woken again: the last counts
	log.With("room", "r3", "type", "arena").Info("room created")
	path := filepath.Join(t.TempDir(), "server.log")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	got := wokenTicks(path)
	if len(got) != 2 || got["r1"] != 480 || got["r2"] != 7 {
		t.Fatalf("woken ticks %v from\n%s", got, buf.String())
	}
}

// TestFailoverSummary: the distributions are over every client of every
// kill, the worst-client figure over kills, and a client that never came
// back is counted.
func TestFailoverSummary(t *testing.T) {
	res := &failoverResult{ClientsPerRoom: 2, TicksLostHist: map[string]int{}, InputsLostHist: map[string]int{}}
	for k := range 20 {
		res.PerKill = append(res.PerKill, killRecord{Kill: k, Rooms: []string{"a"},
			FirstDelta: []float64{1000 + float64(k), 2000 + float64(k)}, Closed: []float64{900, 900}, Snapshot: []float64{950, 950},
			TicksLost: []int64{int64(k % 3)}, InputsLost: []int64{1, 2}})
	}
	res.PerKill[3].FirstDelta = res.PerKill[3].FirstDelta[:1] // one client not back
	res.summarize()
	if res.Samples != 39 || res.ClientsLost != 1 {
		t.Fatalf("samples %d, lost %d; want 39, 1", res.Samples, res.ClientsLost)
	}
	if *res.FirstDeltaMaxMs != 2019 || *res.WorstPerKillP50 != 2009 {
		t.Fatalf("max %v, worst-per-kill p50 %v", *res.FirstDeltaMaxMs, *res.WorstPerKillP50)
	}
	if *res.TicksLostMax != 2 || res.TicksLostHist["0"] != 7 || res.TicksLostHist["2"] != 6 || res.InputsLostHist["2"] != 20 {
		t.Fatalf("ticks lost max %v hist %v, inputs %v", *res.TicksLostMax, res.TicksLostHist, res.InputsLostHist)
	}
	rows := res.rows()
	if !strings.Contains(rows[5].value, "0: 7, 1: 7, 2: 6") {
		t.Fatalf("ticks lost row %q", rows[5].value)
	}
}

// TestNATSConfig: a server of a three-server cluster listens on loopback
// and routes to the two others; a lone server has no cluster block.
func TestNATSConfig(t *testing.T) {
	c := natsConfig("nats-1", 4223, 6223, []int{6222, 6224}, "/tmp/x/nats-1")
	for _, want := range []string{`listen: "127.0.0.1:4223"`, `store_dir: "/tmp/x/nats-1"`, `listen: "127.0.0.1:6223"`,
		`routes: ["nats://127.0.0.1:6222", "nats://127.0.0.1:6224"]`} {
		if !strings.Contains(c, want) {
			t.Errorf("config lacks %s:\n%s", want, c)
		}
	}
	if one := natsConfig("nats-0", 4222, 0, nil, "/tmp/x"); strings.Contains(one, "cluster") {
		t.Errorf("a lone server has a cluster block:\n%s", one)
	}
}

// TestTickMetricsAdd: a cluster's counters are its nodes' added up.
func TestTickMetricsAdd(t *testing.T) {
	var sum tickMetrics
	sum.add(tickMetrics{ticks: 10, late: 1, tickCount: 10, tickSum: 0.01, buckets: map[float64]float64{0.001: 9, 0.01: 10}})
	sum.add(tickMetrics{ticks: 20, late: 2, tickCount: 20, tickSum: 0.02, buckets: map[float64]float64{0.001: 20, 0.01: 20}})
	if sum.ticks != 30 || sum.late != 3 || sum.buckets[0.001] != 29 || sum.buckets[0.01] != 30 {
		t.Fatalf("sum %+v", sum)
	}
	w := sum.diff(tickMetrics{buckets: map[float64]float64{}})
	if *w.lateShare != 0.1 || *w.p99UpperMs != 10 {
		t.Fatalf("late %v, p99 bound %v", *w.lateShare, *w.p99UpperMs)
	}
}

// TestClusterFleetSpread: room i is made on node i mod N and its client c
// joins through node (i + c) mod N.
func TestClusterFleetSpread(t *testing.T) {
	fl := newClusterFleet(fleetConfig{rooms: 3, clients: 8}, clock{}, []fleetNode{{addr: "a"}, {addr: "b"}, {addr: "c"}})
	if fl.nodeIndex("b") != 1 || fl.nodeIndex("d") != -1 {
		t.Fatal("nodeIndex")
	}
	for room := range 3 {
		per := make([]int, 3)
		for c := range 8 {
			per[clientNode(room, c, 3)]++
		}
		if per[room%3] != 3 || per[(room+1)%3] != 3 || per[(room+2)%3] != 2 {
			t.Fatalf("room %d (owner %d): clients per node %v", room, room%3, per)
		}
	}
	if clientNode(5, 3, 1) != 0 {
		t.Fatal("one node: every client on it")
	}
}

// TestParsePIDs: -pids and -nats-pids.
func TestParsePIDs(t *testing.T) {
	got, err := parsePIDs(" 12, 34,")
	if err != nil || len(got) != 2 || got[0] != 12 || got[1] != 34 {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := parsePIDs("12,x"); err == nil {
		t.Fatal("a bad pid passed")
	}
}
