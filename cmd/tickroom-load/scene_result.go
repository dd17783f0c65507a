package main

import (
	"context"
	"fmt"
	"os"
	"sort"
	"strings"
)

// sceneResult is everything a scene run reports; the JSON names say what
// each figure is and its unit.
type sceneResult struct {
	Mode           string  `json:"mode"`
	Type           string  `json:"type"`
	Views          *bool   `json:"views,omitempty"`
	Rooms          int     `json:"rooms"`
	ClientsPerRoom int     `json:"clients_per_room"`
	Clients        int     `json:"clients"`
	DurationS      float64 `json:"duration_s"`
	WarmupS        float64 `json:"warmup_s"`
	JoinS          float64 `json:"join_s"`
	JoinRetries    int64   `json:"join_retries"`
	CreateRetries  int64   `json:"create_retries"`
	Server         string  `json:"server"`
	ServerPID      int     `json:"server_pid"`
	LoadAvgStart   string  `json:"load_avg_start"`
	LoadAvgEnd     string  `json:"load_avg_end"`

	S2CBytesPerClientS        *float64 `json:"s2c_bytes_per_client_s"`
	S2CWireBytesPerClientS    *float64 `json:"s2c_wire_bytes_per_client_s"`
	S2CMsgsPerClientS         *float64 `json:"s2c_msgs_per_client_s"`
	ServerSentBytesPerClientS *float64 `json:"server_sent_bytes_per_client_s"`
	C2SBytesPerClientS        *float64 `json:"c2s_bytes_per_client_s"`
	C2SWireBytesPerClientS    *float64 `json:"c2s_wire_bytes_per_client_s"`
	C2SMsgsPerClientS         *float64 `json:"c2s_msgs_per_client_s"`
	PingBytesPerClientS       *float64 `json:"ping_pong_bytes_per_client_s"`

	ServerCPUSPerS        *float64 `json:"server_cpu_s_per_s"`
	ServerCPUMsPerClientS *float64 `json:"server_cpu_ms_per_client_s"`
	ServerPeakRSSBytes    *int64   `json:"server_peak_rss_bytes"`
	ServerRSSBytes        *int64   `json:"server_rss_bytes"`
	LoadgenCPUSPerS       *float64 `json:"loadgen_cpu_s_per_s"`
	LoadgenPeakRSSBytes   *int64   `json:"loadgen_peak_rss_bytes"`

	LatencyMethod         string   `json:"latency_method"`
	LatencyP50Ms          *float64 `json:"latency_p50_ms"`
	LatencyP99Ms          *float64 `json:"latency_p99_ms"`
	LatencyMaxMs          *float64 `json:"latency_max_ms"`
	SpreadP50Ms           *float64 `json:"fanout_spread_p50_ms"`
	SpreadP99Ms           *float64 `json:"fanout_spread_p99_ms"`
	SpreadMaxMs           *float64 `json:"fanout_spread_max_ms"`
	JitterP50Ms           *float64 `json:"interval_jitter_p50_ms"`
	JitterP99Ms           *float64 `json:"interval_jitter_p99_ms"`
	JitterMaxMs           *float64 `json:"interval_jitter_max_ms"`
	RTTP50Ms              *float64 `json:"ping_rtt_p50_ms"`
	RTTP99Ms              *float64 `json:"ping_rtt_p99_ms"`
	TicksPerRoomS         float64  `json:"ticks_per_room_s"`
	SkippedSlotsClientEst int      `json:"skipped_slots_client_est"`
	LateShareClientEst    *float64 `json:"late_ticks_share_client_est"`
	LateShare             *float64 `json:"late_ticks_share"`
	SkippedSlots          *float64 `json:"skipped_slots"`
	TickP99Ms             *float64 `json:"tick_p99_ms_bucket_bound"`
	TickMeanMs            *float64 `json:"tick_mean_ms"`
	// Checkpoints stored by every room on the server in the window, their
	// mean size, and periodic checkpoints dropped (the store was behind).
	Checkpoints        *float64 `json:"checkpoints"`
	CheckpointMeanB    *float64 `json:"checkpoint_mean_bytes"`
	CheckpointsSkipped *float64 `json:"checkpoints_skipped"`

	// field-bench: entities in a client's mirror (sampled at every state
	// message in the window), view changes (entities entering or leaving
	// the view) per client-second, the view granularity, and the server's
	// encodes per tick.
	EntitiesPerViewMean   *float64 `json:"entities_per_view_mean,omitempty"`
	EntitiesPerViewMax    *int     `json:"entities_per_view_max,omitempty"`
	ViewChangesPerClientS *float64 `json:"view_changes_per_client_s,omitempty"`
	ViewGranularity       string   `json:"view_granularity,omitempty"`
	EncodesPerTick        *float64 `json:"encodes_per_tick,omitempty"`
	MarginViolations      int      `json:"margin_violations"`

	Divergences         int      `json:"divergences"`
	DivergenceExamples  []string `json:"divergence_examples,omitempty"`
	MirrorsChecked      int      `json:"mirrors_checked"`
	MirrorsUnchecked    int      `json:"mirrors_unchecked"`
	Resyncs             int      `json:"resyncs"`
	DecodeErrors        int      `json:"decode_errors"`
	ServerErrorMessages int      `json:"server_error_messages"`
	ClientsLost         int      `json:"clients_lost"`
	// LostCloseCodes counts the lost clients by the close code their
	// connection ended with (-1: no close frame).
	LostCloseCodes    map[string]int `json:"lost_close_codes,omitempty"`
	ServerLogWarnings int            `json:"server_log_warnings"`
	Problems          []string       `json:"problems,omitempty"`

	// Cluster is set on a cluster (-cluster, -urls); the server figures
	// above are then every tickroom node's added up.
	Cluster *clusterFigures `json:"cluster,omitempty"`

	roomTicks float64 // the servers' ticks in the window, all rooms
}

const latencyMethod = "receipt minus the tick's slot on the room's 20 Hz grid, the grid's phase estimated from the bulk of first receipts and re-aligned after skipped slots; includes a late tick start and the tick's work; understates by the fastest delivery (see docs/BENCHMARKS.md)"

// serverName says which server a run measured.
func serverName(t *target, f *serverFlags) string {
	switch {
	case t == nil:
		return "cluster"

	case f.url != "":
		return "running server at " + t.URL
	case f.bin != "":
		return "child " + f.bin
	}
	return "child " + f.kind
}

// measureEnd reads CPU and memory at the end of the window.
// On a cluster, CPU and memory are every node's added up.
func (res *sceneResult) measureEnd(srvs *sceneServers, srv, self *cpuMeter) {
	res.ServerCPUSPerS = srv.share()
	res.LoadgenCPUSPerS = self.share()
	if res.ServerCPUSPerS != nil && res.Clients > 0 {
		res.ServerCPUMsPerClientS = ptr(*res.ServerCPUSPerS * 1000 / float64(res.Clients))
	}
	var peak, rss int64
	known := false
	for _, pid := range srvs.pids() {
		if m, err := procMem(pid); err == nil {
			peak, rss, known = peak+m.Peak, rss+m.RSS, true
		}
	}
	if known {
		res.ServerPeakRSSBytes, res.ServerRSSBytes = &peak, &rss
	}
	if m, err := procMem(os.Getpid()); err == nil {
		res.LoadgenPeakRSSBytes = &m.Peak
	}
	res.LoadAvgEnd = loadAvg()
	// Counted now: members leaving all at once at the end make the server
	// log each other as slow consumers (a send to a closing connection).
	res.ServerLogWarnings = 0
	for _, t := range srvs.nodes() {
		n, _ := t.logWarnings(0)
		res.ServerLogWarnings += n
	}
}

// finish adds up the clients' counters and checks their mirrors.
func (res *sceneResult) finish(fl *fleet, window float64, lost int) {
	res.DurationS = window
	var s2c, s2cWire, s2cMsgs, c2s, c2sWire, c2sMsgs, ping int64
	var viewSum, viewN, viewChanges int64
	viewMax := 0
	for _, c := range fl.all() {
		viewSum, viewN, viewChanges = viewSum+c.viewSum, viewN+c.viewN, viewChanges+c.viewChanges
		viewMax = max(viewMax, c.viewMax)
		res.MarginViolations += c.marginViolations
		s2c += c.winS2CBytes
		s2cWire += c.winS2CWire
		s2cMsgs += c.winS2CMsgs
		c2s += c.winC2S
		c2sWire += c.winC2SWire
		c2sMsgs += c.winC2SMsgs
		ping += c.winPing + c.winPongBytes
		res.Resyncs += c.resyncs
		res.DecodeErrors += c.decodeErrs
		res.ServerErrorMessages += c.serverErrs
		if c.firstProblem != "" && len(res.Problems) < 10 {
			res.Problems = append(res.Problems, fmt.Sprintf("room %d client %d: %s", c.room.index, c.idx, c.firstProblem))
		}
	}
	n := res.Clients
	res.S2CBytesPerClientS = perSecond(s2c, n, window)
	res.S2CWireBytesPerClientS = perSecond(s2cWire, n, window)
	res.S2CMsgsPerClientS = perSecond(s2cMsgs, n, window)
	res.C2SBytesPerClientS = perSecond(c2s, n, window)
	res.C2SWireBytesPerClientS = perSecond(c2sWire, n, window)
	res.C2SMsgsPerClientS = perSecond(c2sMsgs, n, window)
	res.PingBytesPerClientS = perSecond(ping, n, window)

	l := computeLatency(fl, window)
	res.LatencyMethod = latencyMethod
	res.LatencyP50Ms, res.LatencyP99Ms, res.LatencyMaxMs = l.slot.q(0.5), l.slot.q(0.99), l.slot.max()
	res.SpreadP50Ms, res.SpreadP99Ms, res.SpreadMaxMs = l.spread.q(0.5), l.spread.q(0.99), l.spread.max()
	res.JitterP50Ms, res.JitterP99Ms, res.JitterMaxMs = l.jitter.q(0.5), l.jitter.q(0.99), l.jitter.max()
	res.RTTP50Ms, res.RTTP99Ms = l.rtt.q(0.5), l.rtt.q(0.99)
	res.TicksPerRoomS, res.SkippedSlotsClientEst = l.ticksPerRoomS, l.skipsEst
	if res.Cluster != nil {
		res.Cluster.latency(fl, l)
	}
	if l.roomTicks > 0 {
		res.LateShareClientEst = ptr(float64(l.lateFirst) / float64(l.roomTicks))
	}

	if fl.cfg.field {
		if viewN > 0 {
			res.EntitiesPerViewMean = ptr(float64(viewSum) / float64(viewN))
			res.EntitiesPerViewMax = &viewMax
		}
		res.ViewChangesPerClientS = perSecond(viewChanges, n, window)
	}
	v := verifyRooms(fl)
	v.divergences += res.MarginViolations
	res.Divergences, res.DivergenceExamples = v.divergences, v.examples
	res.MirrorsChecked, res.MirrorsUnchecked = v.checked, res.Clients-v.checked
	res.ClientsLost = lost
}

func (res *sceneResult) rows() []row {
	rows := res.sceneRows()
	if res.Cluster != nil {
		rows = append(rows, res.Cluster.rows()...)
	}
	return rows
}

func (res *sceneResult) sceneRows() []row {
	f1, f2, f3 := "%.1f", "%.2f", "%.3f"
	i64 := func(p *int64) string {
		if p == nil {
			return "n/a"
		}
		return mib(*p)
	}
	share := func(p *float64) string {
		if p == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.2f%%", *p*100)
	}
	return []row{
		{"s2c payload bytes / client / s", num(res.S2CBytesPerClientS, f1), "<= 5600"},
		{"s2c wire bytes (with ws headers) / client / s", num(res.S2CWireBytesPerClientS, f1), ""},
		{"s2c messages / client / s", num(res.S2CMsgsPerClientS, f2), "20"},
		{"server-counted sent bytes / client / s", num(res.ServerSentBytesPerClientS, f1), "(cross-check)"},
		{"c2s payload bytes / client / s", num(res.C2SBytesPerClientS, f1), ""},
		{"c2s messages / client / s", num(res.C2SMsgsPerClientS, f2), "20"},
		{"server CPU s / s", num(res.ServerCPUSPerS, f3), ""},
		{"server CPU ms / client / s", num(res.ServerCPUMsPerClientS, f3), "<= 0.25 at R=50"},
		{"server peak RSS (VmHWM)", i64(res.ServerPeakRSSBytes), ""},
		{"server RSS at window end", i64(res.ServerRSSBytes), ""},
		{"load generator CPU s / s", num(res.LoadgenCPUSPerS, f3), ""},
		{"load generator peak RSS", i64(res.LoadgenPeakRSSBytes), ""},
		{"latency from tick slot p50 ms", num(res.LatencyP50Ms, f2), ""},
		{"latency from tick slot p99 ms", num(res.LatencyP99Ms, f2), "<= 50 at R=500"},
		{"latency from tick slot max ms", num(res.LatencyMaxMs, f2), ""},
		{"fan-out spread in room p50/p99 ms", num(res.SpreadP50Ms, f2) + " / " + num(res.SpreadP99Ms, f2), ""},
		{"interval jitter p50/p99 ms", num(res.JitterP50Ms, f2) + " / " + num(res.JitterP99Ms, f2), ""},
		{"ping RTT p50/p99 ms", num(res.RTTP50Ms, f2) + " / " + num(res.RTTP99Ms, f2), ""},
		{"ticks / room / s seen", fmt.Sprintf("%.2f", res.TicksPerRoomS), "20"},
		{"ticks first received > 5 ms after slot", share(res.LateShareClientEst), "< 1% (upper bound on late starts)"},
		{"late ticks (server: started > 5 ms after slot)", share(res.LateShare), "< 1% at R=500"},
		{"skipped tick slots (server / client estimate)", num(res.SkippedSlots, "%.0f") + " / " + fmt.Sprint(res.SkippedSlotsClientEst), "0"},
		{"tick time p99 ms (server, bucket upper bound)", num(res.TickP99Ms, f3), ""},
		{"tick time mean ms (server)", num(res.TickMeanMs, f3), ""},
		{"checkpoints stored / skipped in the window (server)", num(res.Checkpoints, "%.0f") + " / " + num(res.CheckpointsSkipped, "%.0f"), ""},
		{"checkpoint mean bytes (server)", num(res.CheckpointMeanB, "%.0f"), ""},
		{"entities per view mean / max", num(res.EntitiesPerViewMean, f1) + " / " + numInt(res.EntitiesPerViewMax), "field-bench: about 92 props + players"},
		{"view changes (enters + leaves) / client / s", num(res.ViewChangesPerClientS, f1), ""},
		{"view granularity", res.ViewGranularity, ""},
		{"encodes / tick (server)", num(res.EncodesPerTick, f2), ""},
		{"margin violations (entity beyond the view margin)", fmt.Sprint(res.MarginViolations), "0"},
		{"divergences", fmt.Sprint(res.Divergences), "0"},
		{"mirrors checked / unchecked", fmt.Sprintf("%d / %d", res.MirrorsChecked, res.MirrorsUnchecked), ""},
		{"resyncs / decode errors / server errors", fmt.Sprintf("%d / %d / %d", res.Resyncs, res.DecodeErrors, res.ServerErrorMessages), "0 / 0 / 0"},
		{"clients lost (by close code)", fmt.Sprint(res.ClientsLost) + lostCodes(res.LostCloseCodes), "0"},
		{"join retries (a dial that failed, or 1013 before the snapshot)", fmt.Sprint(res.JoinRetries), ""},
		{"room creations retried (503: not stored, try again later)", fmt.Sprint(res.CreateRetries), ""},
		{"server log warnings", fmt.Sprint(res.ServerLogWarnings), ""},
		{"load average start / end", res.LoadAvgStart + " / " + res.LoadAvgEnd, ""},
	}
}

// serverTicks reads the server's tick counters at both edges of the window.
// On a cluster, every node's counters are added up.
type serverTicks struct {
	typ   string // the room type whose counters count
	as    []*api
	start tickMetrics
	ok    bool
}

func (s *serverTicks) read(ctx context.Context) (tickMetrics, bool) {
	var sum tickMetrics
	for _, a := range s.as {
		m, ok, err := readTickMetrics(ctx, a, s.typ)
		if !ok || err != nil {
			return sum, false
		}
		sum.add(m)
	}
	return sum, true
}

func (s *serverTicks) begin(ctx context.Context) {
	s.start, s.ok = s.read(ctx)
}

// end fills the server-side tick figures when the server publishes them.
func (s *serverTicks) end(ctx context.Context, res *sceneResult) {
	if !s.ok {
		return
	}
	m, ok := s.read(ctx)
	if !ok {
		return
	}
	w := m.diff(s.start)
	res.roomTicks = m.ticks - s.start.ticks
	res.LateShare, res.SkippedSlots = w.lateShare, w.skipped
	res.EncodesPerTick = w.encodesPerTick
	res.TickP99Ms, res.TickMeanMs = w.p99UpperMs, w.meanMs
	res.Checkpoints, res.CheckpointsSkipped = ptr(w.checkpoints), ptr(w.checkpointsSkipped)
	if w.checkpoints > 0 {
		res.CheckpointMeanB = ptr(w.checkpointBytes / w.checkpoints)
	}
	if res.Clients > 0 && res.DurationS > 0 {
		res.ServerSentBytesPerClientS = ptr(w.sentBytes / float64(res.Clients) / res.DurationS)
	}
}

func numInt(p *int) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprint(*p)
}

// lostCodes formats the close codes of lost clients: " (4008: 3, -1: 1)".
func lostCodes(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for code, n := range m {
		parts = append(parts, fmt.Sprintf("%s: %d", code, n))
	}
	sort.Strings(parts)
	return " (" + strings.Join(parts, ", ") + ")"
}
