package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/tickroom/tickroom/rooms"
)

// metrics are the edge's own counters plus a collector that reads the
// rooms' counters at scrape time, so the room loop pays nothing for
// Prometheus beyond its own atomic counters.
type metrics struct {
	registry     *prometheus.Registry
	sessions     prometheus.Gauge
	bytesIn      prometheus.Counter
	msgsIn       prometheus.Counter
	bytesOut     prometheus.Counter
	msgsOut      prometheus.Counter
	refused      *prometheus.CounterVec // by reason
	closes       *prometheus.CounterVec // by close code sent
	httpErrors   *prometheus.CounterVec // by code
	tcpConns     prometheus.Gauge
	connsRefused *prometheus.CounterVec // by reason
	httpTimeouts *prometheus.CounterVec // by phase
}

func newMetrics(mgr *rooms.Manager, extra ...prometheus.Collector) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tickroom_sessions", Help: "Open WebSocket sessions."}),
		bytesIn:  prometheus.NewCounter(prometheus.CounterOpts{Name: "tickroom_ws_received_bytes_total", Help: "Payload bytes received from clients."}),
		msgsIn:   prometheus.NewCounter(prometheus.CounterOpts{Name: "tickroom_ws_received_messages_total", Help: "Messages received from clients."}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{Name: "tickroom_ws_sent_bytes_total", Help: "Payload bytes written to clients."}),
		msgsOut:  prometheus.NewCounter(prometheus.CounterOpts{Name: "tickroom_ws_sent_messages_total", Help: "Messages written to clients."}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tickroom_messages_refused_total",
			Help: "Client messages refused at the edge, by reason (bad_message, unknown_type, rate_limited, room_busy)."}, []string{"reason"}),
		closes: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tickroom_session_closes_total",
			Help: "Sessions closed by the server, by close code."}, []string{"code"}),
		httpErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tickroom_http_errors_total",
			Help: "API errors answered, by error code."}, []string{"code"}),
		tcpConns: prometheus.NewGauge(prometheus.GaugeOpts{Name: "tickroom_tcp_connections",
			Help: "TCP connections open (HTTP and WebSocket), as counted for the per-address cap."}),
		connsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tickroom_connections_refused_total",
			Help: "TCP connections closed as soon as they were accepted, by reason (conns_per_ip)."}, []string{"reason"}),
		httpTimeouts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tickroom_http_timeouts_total",
			Help: "HTTP connections cut by a timeout, by phase (headers: a request's headers too slow; body: its body too slow; idle: a kept-alive connection with no next request)."}, []string{"phase"}),
	}
	for _, phase := range []string{"headers", "body", "idle"} {
		m.httpTimeouts.WithLabelValues(phase) // exported at 0 before the first one
	}
	m.connsRefused.WithLabelValues(reasonConnsPerIP)
	reg.MustRegister(m.sessions, m.bytesIn, m.msgsIn, m.bytesOut, m.msgsOut, m.refused, m.closes, m.httpErrors,
		m.tcpConns, m.connsRefused, m.httpTimeouts,
		&roomCollector{mgr: mgr}, &lifeCollector{mgr: mgr},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, c := range extra {
		reg.MustRegister(c)
	}
	return m
}

// roomCollector exports the rooms' counters by room type.
type roomCollector struct{ mgr *rooms.Manager }

var (
	descRooms      = prometheus.NewDesc("tickroom_rooms", "Open rooms.", []string{"type"}, nil)
	descMembers    = prometheus.NewDesc("tickroom_members", "Seated members (online or holding a seat).", []string{"type"}, nil)
	descTicks      = prometheus.NewDesc("tickroom_ticks_total", "Ticks run.", []string{"type"}, nil)
	descLate       = prometheus.NewDesc("tickroom_late_ticks_total", "Ticks that started more than 5 ms after their slot.", []string{"type"}, nil)
	descSkipped    = prometheus.NewDesc("tickroom_skipped_tick_slots_total", "Tick slots skipped after an overrun (no catch-up bursts).", []string{"type"}, nil)
	descTickTime   = prometheus.NewDesc("tickroom_tick_duration_seconds", "Time spent in a tick: inputs, simulation, encode, broadcast.", []string{"type"}, nil)
	descDeltaBytes = prometheus.NewDesc("tickroom_delta_encoded_bytes_total", "Delta bytes encoded (once per tick, whatever the member count).", []string{"type"}, nil)
	descEncodes    = prometheus.NewDesc("tickroom_state_encodes_total", "Encodings of tick state: one delta a tick, or in a views room one segment per changed group plus each group snapshot.", []string{"type"}, nil)
	descSnapshots  = prometheus.NewDesc("tickroom_snapshots_sent_total", "Snapshots sent to members: joins, resyncs and slow-consumer recovery.", []string{"type"}, nil)
	descOverflows  = prometheus.NewDesc("tickroom_delta_overflows_total", "Deltas a member's full queue could not take (a snapshot follows).", []string{"type"}, nil)
	descSlow       = prometheus.NewDesc("tickroom_slow_consumer_disconnects_total", "Members closed with 4008 for not keeping up.", []string{"type"}, nil)
	descInputs     = prometheus.NewDesc("tickroom_inputs_total", "Inputs queued to rooms.", []string{"type"}, nil)
	descInputsRej  = prometheus.NewDesc("tickroom_inputs_rejected_total", "Inputs rejected by rooms, by reason.", []string{"type", "reason"}, nil)
)

func (c *roomCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRooms, descMembers, descTicks, descLate, descSkipped, descTickTime,
		descDeltaBytes, descEncodes, descSnapshots, descOverflows, descSlow, descInputs, descInputsRej} {
		ch <- d
	}
}

func (c *roomCollector) Collect(ch chan<- prometheus.Metric) {
	for typ, t := range c.mgr.TotalsByType() {
		gauge := func(d *prometheus.Desc, v int) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), typ)
		}
		counter := func(d *prometheus.Desc, v uint64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append([]string{typ}, labels...)...)
		}
		gauge(descRooms, t.Rooms)
		gauge(descMembers, t.Members)
		counter(descTicks, t.Ticks)
		counter(descLate, t.LateTicks)
		counter(descSkipped, t.SkippedSlots)
		counter(descDeltaBytes, t.BytesOut)
		counter(descSnapshots, t.Snapshots)
		counter(descEncodes, t.Encodes)
		counter(descOverflows, t.Overflows)
		counter(descSlow, t.SlowClosed)
		counter(descInputs, t.InputsIn)
		counter(descInputsRej, t.InputsBusy, "room_busy")
		counter(descInputsRej, t.Rejected, "bad_input")
		buckets := make(map[float64]uint64, len(rooms.TickBuckets))
		var cum uint64
		for i, b := range rooms.TickBuckets {
			cum += t.TickBuckets[i]
			buckets[b.Seconds()] = cum
		}
		ch <- prometheus.MustNewConstHistogram(descTickTime, t.TickCount, t.TickSum.Seconds(), buckets, typ)
	}
}
