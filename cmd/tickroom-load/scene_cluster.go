package main

import (
	"context"
	"fmt"
	"strings"
)

// sceneServers is what a scene run drives: one server (a child or -url),
// or the nodes of a cluster (-cluster N children, or -urls).
type sceneServers struct {
	single *target
	cl     *tickCluster
}

func (s *sceneServers) nodes() []*target {
	if s.cl != nil {
		return s.cl.nodes
	}
	return []*target{s.single}
}

// pids are the tickroom processes whose CPU the run reads.
func (s *sceneServers) pids() []int {
	var out []int
	for _, t := range s.nodes() {
		if t.PID != 0 {
			out = append(out, t.PID)
		}
	}
	return out
}

// alive fails when a child exited during the run.
func (s *sceneServers) alive() error {
	if s.cl != nil {
		return s.cl.alive()
	}
	if s.single.PID != 0 && !s.single.Alive() {
		return fmt.Errorf("the server exited during the run:\n%s", s.single.logTail(20))
	}
	return nil
}

func (s *sceneServers) stop() {
	if s.cl != nil {
		s.cl.Stop()
	} else if s.single != nil {
		s.single.Stop()
	}
}

// fleetNodes makes a client side (API, dialer) for each node.
func (s *sceneServers) fleetNodes(srcAddrs int) ([]fleetNode, error) {
	var out []fleetNode
	for _, t := range s.nodes() {
		d, err := newDialer(t.URL, srcAddrs, 4096, 1024)
		if err != nil {
			return nil, err
		}
		out = append(out, fleetNode{api: newAPI(t.URL), dial: d, addr: strings.TrimPrefix(t.URL, "http://")})
	}
	return out, nil
}

// clusterFigures are what a scene run on a cluster adds: where the CPU
// goes (tickroom nodes, NATS servers), what the room logs append to
// JetStream, and what the relay costs and adds to latency.
type clusterFigures struct {
	Nodes       int     `json:"nodes"`
	NATSServers int     `json:"nats_servers"`
	LeaseTTLS   float64 `json:"lease_ttl_s"`

	// CPU over the window: every tickroom node and every nats-server.
	TickroomCPUSPerS      *float64 `json:"tickroom_cpu_s_per_s"`
	NATSCPUSPerS          *float64 `json:"nats_cpu_s_per_s"`
	TickroomCPUMsPerRoomS *float64 `json:"tickroom_cpu_ms_per_room_s"`
	NATSCPUMsPerRoomS     *float64 `json:"nats_cpu_ms_per_room_s"`
	TotalCPUMsPerClientS  *float64 `json:"tickroom_and_nats_cpu_ms_per_client_s"`

	// The log stream (PREFIX_log): growth over the window, as one replica
	// stores it (every replica stores as much), and appends acknowledged.
	LogStreamReplicas       int      `json:"log_stream_replicas"`
	LogBytesPerRoomS        *float64 `json:"log_stream_bytes_per_room_s"`
	LogMsgsPerRoomS         *float64 `json:"log_stream_msgs_per_room_s"`
	LogAppendsPerRoomS      *float64 `json:"log_appends_per_room_s"`
	LogAppendMeanMs         *float64 `json:"log_append_mean_ms"`
	CheckpointBytesPerRoomS *float64 `json:"checkpoint_bytes_per_room_s"`

	// The relay over the window: what owners published on NATS for
	// members on other nodes, per room-tick (a room-tick: one tick of one
	// room, from the nodes' tickroom_ticks_total).
	RoomTicks              float64   `json:"room_ticks"`
	RelayPublishesPerTick  *float64  `json:"relay_published_messages_per_room_tick"`
	RelayBytesPerTick      *float64  `json:"relay_published_bytes_per_room_tick"`
	RelayReceivedBytesPerS *float64  `json:"relay_received_bytes_per_s"`
	RelayResyncs           float64   `json:"relay_resyncs"`
	MembersRelayed         float64   `json:"members_relayed"`
	MembersRemote          float64   `json:"members_remote"`
	ClientsOnOwner         int       `json:"clients_on_owner"`
	ClientsRelayed         int       `json:"clients_relayed"`
	LatencyOwnerP50Ms      *float64  `json:"latency_on_owner_p50_ms"`
	LatencyOwnerP99Ms      *float64  `json:"latency_on_owner_p99_ms"`
	LatencyRelayedP50Ms    *float64  `json:"latency_relayed_p50_ms"`
	LatencyRelayedP99Ms    *float64  `json:"latency_relayed_p99_ms"`
	SpreadOwnerP50Ms       *float64  `json:"fanout_spread_on_owner_p50_ms"`
	SpreadOwnerP99Ms       *float64  `json:"fanout_spread_on_owner_p99_ms"`
	SpreadRelayedP50Ms     *float64  `json:"fanout_spread_relayed_p50_ms"`
	SpreadRelayedP99Ms     *float64  `json:"fanout_spread_relayed_p99_ms"`
	RelayAddedP99Ms        *float64  `json:"relay_added_latency_p99_ms"`
	RoomsOwnedPerNode      []float64 `json:"rooms_owned_per_node"`
}

// clusterMeter reads a cluster's counters at the window's edges.
type clusterMeter struct {
	cl        *tickCluster
	nats      *cpuMeter
	start     []map[string]float64
	stream0   streamStats
	streamErr error
}

const logStream = "tickroom_log" // the default -nats-prefix's log stream

func newClusterMeter(cl *tickCluster) *clusterMeter {
	return &clusterMeter{cl: cl, nats: newCPUMeterSum(cl.natsPIDs)}
}

func (m *clusterMeter) scrapeAll(ctx context.Context) []map[string]float64 {
	var out []map[string]float64
	for _, t := range m.cl.nodes {
		s, err := scrapeMetrics(ctx, newAPI(t.URL))
		if err != nil {
			s = map[string]float64{}
		}
		out = append(out, s)
	}
	return out
}

func (m *clusterMeter) readStream(ctx context.Context) (streamStats, error) {
	if m.cl.natsURL == "" {
		return streamStats{}, fmt.Errorf("no -nats-url")
	}
	return readStreamAt(ctx, m.cl.natsURL, logStream)
}

// begin reads the counters at the window's start.
func (m *clusterMeter) begin(ctx context.Context) {
	m.nats.reset()
	m.start = m.scrapeAll(ctx)
	m.stream0, m.streamErr = m.readStream(ctx)
}

// end fills res.Cluster from the counters at the window's end.
func (m *clusterMeter) end(ctx context.Context, res *sceneResult) {
	end := m.scrapeAll(ctx)
	c := &clusterFigures{Nodes: len(m.cl.nodes), NATSServers: len(m.cl.natsPIDs), LeaseTTLS: m.cl.ttl.Seconds()}
	res.Cluster = c
	w, rooms, clients := res.DurationS, float64(res.Rooms), float64(res.Clients)
	sum := func(name string) float64 {
		var s float64
		for i := range end {
			s += end[i][name] - m.start[i][name]
		}
		return s
	}
	gauge := func(name string) float64 {
		var s float64
		for i := range end {
			s += end[i][name]
		}
		return s
	}
	c.TickroomCPUSPerS = res.ServerCPUSPerS
	c.NATSCPUSPerS = m.nats.share()
	if c.TickroomCPUSPerS != nil {
		c.TickroomCPUMsPerRoomS = ptr(*c.TickroomCPUSPerS * 1000 / rooms)
	}
	if c.NATSCPUSPerS != nil {
		c.NATSCPUMsPerRoomS = ptr(*c.NATSCPUSPerS * 1000 / rooms)
		if c.TickroomCPUSPerS != nil {
			c.TotalCPUMsPerClientS = ptr((*c.TickroomCPUSPerS + *c.NATSCPUSPerS) * 1000 / clients)
		}
	}
	if m.streamErr == nil {
		if s1, err := m.readStream(ctx); err == nil {
			c.LogStreamReplicas = s1.Replicas
			c.LogBytesPerRoomS = ptr(float64(s1.Bytes-m.stream0.Bytes) / rooms / w)
			c.LogMsgsPerRoomS = ptr(float64(s1.Msgs-m.stream0.Msgs) / rooms / w)
		} else {
			res.Problems = append(res.Problems, "log stream: "+err.Error())
		}
	} else {
		res.Problems = append(res.Problems, "log stream: "+m.streamErr.Error())
	}
	if n := sum("tickroom_log_append_duration_seconds_count"); n > 0 {
		c.LogAppendsPerRoomS = ptr(n / rooms / w)
		c.LogAppendMeanMs = ptr(sum("tickroom_log_append_duration_seconds_sum") / n * 1000)
	}
	c.CheckpointBytesPerRoomS = ptr(sum("tickroom_checkpoint_bytes_total") / rooms / w)
	c.RoomTicks = res.roomTicks
	if c.RoomTicks > 0 {
		c.RelayPublishesPerTick = ptr(sum("tickroom_relay_published_messages_total") / c.RoomTicks)
		c.RelayBytesPerTick = ptr(sum("tickroom_relay_published_bytes_total") / c.RoomTicks)
	}
	c.RelayReceivedBytesPerS = ptr(sum("tickroom_relay_received_bytes_total") / w)
	c.RelayResyncs = sum("tickroom_relay_resyncs_total")
	c.MembersRelayed, c.MembersRemote = gauge("tickroom_members_relayed"), gauge("tickroom_members_remote")
	for i := range end {
		c.RoomsOwnedPerNode = append(c.RoomsOwnedPerNode, end[i]["tickroom_rooms_owned"])
	}
}

// latency fills the figures that split the clients' receipts by whether
// their node owns their room.
func (c *clusterFigures) latency(fl *fleet, lat latencyStats) {
	for _, cl := range fl.all() {
		if cl.relayed {
			c.ClientsRelayed++
		} else {
			c.ClientsOnOwner++
		}
	}
	c.LatencyOwnerP50Ms, c.LatencyOwnerP99Ms = lat.slotBy[0].q(0.5), lat.slotBy[0].q(0.99)
	c.LatencyRelayedP50Ms, c.LatencyRelayedP99Ms = lat.slotBy[1].q(0.5), lat.slotBy[1].q(0.99)
	c.SpreadOwnerP50Ms, c.SpreadOwnerP99Ms = lat.spreadBy[0].q(0.5), lat.spreadBy[0].q(0.99)
	c.SpreadRelayedP50Ms, c.SpreadRelayedP99Ms = lat.spreadBy[1].q(0.5), lat.spreadBy[1].q(0.99)
	if c.LatencyOwnerP99Ms != nil && c.LatencyRelayedP99Ms != nil {
		c.RelayAddedP99Ms = ptr(*c.LatencyRelayedP99Ms - *c.LatencyOwnerP99Ms)
	}
}

func (c *clusterFigures) rows() []row {
	f1, f2, f3 := "%.1f", "%.2f", "%.3f"
	pair := func(a, b *float64) string { return num(a, f2) + " / " + num(b, f2) }
	return []row{
		{"cluster: tickroom nodes / nats-servers", fmt.Sprintf("%d / %d (lease TTL %.0f s)", c.Nodes, c.NATSServers, c.LeaseTTLS), ""},
		{"cluster: tickroom CPU s / s (all nodes)", num(c.TickroomCPUSPerS, f3), ""},
		{"cluster: nats-server CPU s / s (all servers)", num(c.NATSCPUSPerS, f3), ""},
		{"cluster: tickroom CPU ms / room / s", num(c.TickroomCPUMsPerRoomS, f3), ""},
		{"cluster: nats-server CPU ms / room / s", num(c.NATSCPUMsPerRoomS, f3), ""},
		{"cluster: tickroom + nats CPU ms / client / s", num(c.TotalCPUMsPerClientS, f3), ""},
		{"cluster: log stream bytes / room / s (one replica)", num(c.LogBytesPerRoomS, f1) + fmt.Sprintf(" (x%d replicas)", c.LogStreamReplicas), ""},
		{"cluster: log stream messages / room / s", num(c.LogMsgsPerRoomS, f2), ""},
		{"cluster: log appends / room / s, mean append ms", num(c.LogAppendsPerRoomS, f2) + ", " + num(c.LogAppendMeanMs, f2), ""},
		{"cluster: checkpoint bytes / room / s", num(c.CheckpointBytesPerRoomS, f1), ""},
		{"cluster: relay publishes / room-tick", num(c.RelayPublishesPerTick, f3), "1 (one per room per tick)"},
		{"cluster: relay bytes published / room-tick", num(c.RelayBytesPerTick, f1), ""},
		{"cluster: relay bytes received / s (all nodes)", num(c.RelayReceivedBytesPerS, "%.0f"), ""},
		{"cluster: relay resyncs in the window", fmt.Sprintf("%.0f", c.RelayResyncs), "0"},
		{"cluster: clients on the owner / relayed (members relayed / remote, gauges)", fmt.Sprintf("%d / %d (%.0f / %.0f)", c.ClientsOnOwner, c.ClientsRelayed, c.MembersRelayed, c.MembersRemote), ""},
		{"cluster: latency from tick slot p50/p99 ms, on the owner", pair(c.LatencyOwnerP50Ms, c.LatencyOwnerP99Ms), ""},
		{"cluster: latency from tick slot p50/p99 ms, relayed", pair(c.LatencyRelayedP50Ms, c.LatencyRelayedP99Ms), ""},
		{"cluster: fan-out spread p50/p99 ms, on the owner", pair(c.SpreadOwnerP50Ms, c.SpreadOwnerP99Ms), ""},
		{"cluster: fan-out spread p50/p99 ms, relayed", pair(c.SpreadRelayedP50Ms, c.SpreadRelayedP99Ms), ""},
		{"cluster: latency p99 added by the relay ms", num(c.RelayAddedP99Ms, f2), ""},
		{"cluster: rooms owned per node", fmt.Sprint(c.RoomsOwnedPerNode), ""},
	}
}
