package cluster

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Stats are the node's counters, read at scrape time.
type Stats struct {
	Owned          atomic.Int64  // rooms this node holds leases on
	Takeovers      atomic.Uint64 // rooms taken from a node that was gone
	LeasesLost     atomic.Uint64 // times the node's own lease lapsed under it
	RelayBytesIn   atomic.Uint64 // bytes of room frames received from owners for relayed members
	RelayBytesOut  atomic.Uint64 // bytes of room frames this node published for other nodes
	RelayPublishes atomic.Uint64 // room frames this node published for other nodes
	RelayResyncs   atomic.Uint64 // snapshots asked for on behalf of relayed members (a gap or a full socket)
	RelayDropped   atomic.Uint64 // messages for other nodes not published: the outbox was full, or NATS refused them
	TakeoverTime   histogram     // wake time of rooms taken over
}

// histogram is a small fixed-bucket histogram of durations in seconds.
type histogram struct {
	counts [11]atomic.Uint64 // takeoverBuckets and the overflow
	sum    atomic.Int64      // nanoseconds
}

var takeoverBuckets = []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

func (h *histogram) Observe(d interface{ Seconds() float64 }) {
	s := d.Seconds()
	i := len(takeoverBuckets)
	for j, b := range takeoverBuckets {
		if s <= b {
			i = j
			break
		}
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(s * 1e9))
}

var (
	descOwned      = prometheus.NewDesc("tickroom_rooms_owned", "Rooms this node runs as their owner (holds the lease of).", nil, nil)
	descNodes      = prometheus.NewDesc("tickroom_cluster_nodes", "Nodes this node sees alive, itself included.", nil, nil)
	descLeaseOK    = prometheus.NewDesc("tickroom_cluster_lease_valid", "1 while this node's lease holds (it may run rooms), else 0.", nil, nil)
	descRenewals   = prometheus.NewDesc("tickroom_cluster_lease_renewals_total", "Renewals of this node's lease.", nil, nil)
	descRenewFails = prometheus.NewDesc("tickroom_cluster_lease_renewal_failures_total", "Renewals of this node's lease that failed.", nil, nil)
	descLost       = prometheus.NewDesc("tickroom_cluster_leases_lost_total", "Times this node's lease lapsed under it (its rooms stopped).", nil, nil)
	descTakeovers  = prometheus.NewDesc("tickroom_cluster_takeovers_total", "Rooms this node took from a node that was gone.", nil, nil)
	descTakeTime   = prometheus.NewDesc("tickroom_cluster_takeover_duration_seconds", "Time to rebuild a room taken over.", nil, nil)
	descRelayed    = prometheus.NewDesc("tickroom_members_relayed", "Members connected to this node whose room runs on another node.", nil, nil)
	descRemote     = prometheus.NewDesc("tickroom_members_remote", "Members of rooms this node runs, connected through other nodes.", nil, nil)
	descRelayIn    = prometheus.NewDesc("tickroom_relay_received_bytes_total", "Bytes of room frames received from other nodes for relayed members.", nil, nil)
	descRelayOut   = prometheus.NewDesc("tickroom_relay_published_bytes_total", "Bytes of room frames published for members on other nodes.", nil, nil)
	descRelayPubs  = prometheus.NewDesc("tickroom_relay_published_messages_total", "Room frames published for members on other nodes (one per room per tick, not per member).", nil, nil)
	descResyncs    = prometheus.NewDesc("tickroom_relay_resyncs_total", "Snapshots asked of an owner for relayed members that missed a frame.", nil, nil)
	descDropped    = prometheus.NewDesc("tickroom_relay_dropped_total", "Messages for other nodes not published (the outbox full, or NATS away): relaying nodes see the gap and ask for snapshots.", nil, nil)
	descAppend     = prometheus.NewDesc("tickroom_log_append_duration_seconds", "Time from a room log's flush to its acknowledgement by JetStream.", nil, nil)
)

// Collector exports the node's metrics.
func (n *Node) Collector() prometheus.Collector { return &collector{n} }

type collector struct{ n *Node }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOwned, descNodes, descLeaseOK, descRenewals, descRenewFails, descLost, descTakeovers,
		descTakeTime, descRelayed, descRemote, descRelayIn, descRelayOut, descRelayPubs, descResyncs, descDropped, descAppend} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	n, s := c.n, &c.n.stats
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter := func(d *prometheus.Desc, v uint64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	gauge(descOwned, float64(s.Owned.Load()))
	gauge(descNodes, float64(n.NodeCount()))
	ok := 0.0
	if n.Valid() {
		ok = 1
	}
	gauge(descLeaseOK, ok)
	counter(descRenewals, n.renewals.Load())
	counter(descRenewFails, n.renewFails.Load())
	counter(descLost, s.LeasesLost.Load())
	counter(descTakeovers, s.Takeovers.Load())
	relayed, remote := n.memberCounts()
	gauge(descRelayed, float64(relayed))
	gauge(descRemote, float64(remote))
	counter(descRelayIn, s.RelayBytesIn.Load())
	counter(descRelayOut, s.RelayBytesOut.Load())
	counter(descRelayPubs, s.RelayPublishes.Load())
	counter(descResyncs, s.RelayResyncs.Load())
	counter(descDropped, s.RelayDropped.Load())
	ch <- constHistogram(descTakeTime, &s.TakeoverTime, takeoverBuckets)
	counts, total, sum := n.store.AppendTimes()
	ch <- prometheus.MustNewConstHistogram(descAppend, total, sum, cumulative(counts, n.store.AppendBuckets()))
}

// memberCounts counts the members relayed here and the members of rooms
// here connected through other nodes.
func (n *Node) memberCounts() (relayed, remote int) {
	n.relayConns.Range(func(_, _ any) bool { relayed++; return true })
	n.mu.RLock()
	rrs := make([]*remoteRoom, 0, len(n.remotes))
	for _, rr := range n.remotes {
		rrs = append(rrs, rr)
	}
	n.mu.RUnlock()
	for _, rr := range rrs {
		rr.mu.Lock()
		remote += len(rr.conns)
		rr.mu.Unlock()
	}
	return relayed, remote
}

func constHistogram(d *prometheus.Desc, h *histogram, bounds []float64) prometheus.Metric {
	counts := make([]uint64, len(h.counts))
	var total uint64
	for i := range h.counts {
		counts[i] = h.counts[i].Load()
		total += counts[i]
	}
	return prometheus.MustNewConstHistogram(d, total, float64(h.sum.Load())/1e9, cumulative(counts, bounds))
}

// cumulative turns per-bucket counts (the last one the overflow) into
// Prometheus' cumulative buckets.
func cumulative(counts []uint64, bounds []float64) map[float64]uint64 {
	out := make(map[float64]uint64, len(bounds))
	var run uint64
	for i, b := range bounds {
		if i < len(counts) {
			run += counts[i]
		}
		out[b] = run
	}
	return out
}
