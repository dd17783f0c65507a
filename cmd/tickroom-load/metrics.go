package main

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// tickMetrics are the server's tick counters for one room type, read from
// its Prometheus /metrics (tickroom_ticks_total, tickroom_late_ticks_total,
// tickroom_skipped_tick_slots_total, tickroom_tick_duration_seconds), plus
// the edge's sent-bytes counter. Counters cover every room of the type on
// the server, so a run against a shared server sees others' rooms too.
type tickMetrics struct {
	ticks, late, skipped float64
	tickCount, tickSum   float64
	buckets              map[float64]float64 // le -> cumulative count
	sentBytes, sentMsgs  float64
	// Checkpoints stored, their bytes and those dropped because the store
	// was behind (tickroom_checkpoints_total, ..._bytes_total,
	// ..._skipped_total): every room on the server.
	checkpoints, checkpointBytes, checkpointsSkipped float64
	// encodes: tickroom_state_encodes_total of the type (a delta a tick,
	// or per changed group and group snapshot in a views room).
	encodes float64
}

// readTickMetrics scrapes base/metrics; ok is false when the server has no
// such endpoint or no counters for the type.
func readTickMetrics(ctx context.Context, a *api, typ string) (m tickMetrics, ok bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/metrics", nil)
	if err != nil {
		return m, false, fmt.Errorf("metrics: %w", err)
	}
	res, err := a.http.Do(req)
	if err != nil {
		return m, false, fmt.Errorf("metrics: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return m, false, nil
	}
	m.buckets = map[float64]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, labels, v, good := parseSample(sc.Text())
		if !good {
			continue
		}
		switch name {
		case "tickroom_ws_sent_bytes_total":
			m.sentBytes = v
		case "tickroom_ws_sent_messages_total":
			m.sentMsgs = v
		case "tickroom_checkpoints_total":
			m.checkpoints = v
		case "tickroom_checkpoint_bytes_total":
			m.checkpointBytes = v
		case "tickroom_checkpoints_skipped_total":
			m.checkpointsSkipped = v
		}
		if labels["type"] != typ {
			continue
		}
		switch name {
		case "tickroom_ticks_total":
			m.ticks, ok = v, true
		case "tickroom_state_encodes_total":
			m.encodes = v
		case "tickroom_late_ticks_total":
			m.late = v
		case "tickroom_skipped_tick_slots_total":
			m.skipped = v
		case "tickroom_tick_duration_seconds_count":
			m.tickCount = v
		case "tickroom_tick_duration_seconds_sum":
			m.tickSum = v
		case "tickroom_tick_duration_seconds_bucket":
			le, err := strconv.ParseFloat(labels["le"], 64) // "+Inf" parses as +Inf
			if err == nil {
				m.buckets[le] = v
			}
		}
	}
	if err := sc.Err(); err != nil {
		return m, false, fmt.Errorf("metrics: read: %w", err)
	}
	return m, ok, nil
}

// add adds another server's counters (the nodes of a cluster).
func (m *tickMetrics) add(o tickMetrics) {
	m.ticks += o.ticks
	m.encodes += o.encodes
	m.late += o.late
	m.skipped += o.skipped
	m.tickCount += o.tickCount
	m.tickSum += o.tickSum
	if m.buckets == nil {
		m.buckets = map[float64]float64{}
	}
	for le, v := range o.buckets {
		m.buckets[le] += v
	}
	m.sentBytes += o.sentBytes
	m.sentMsgs += o.sentMsgs
	m.checkpoints += o.checkpoints
	m.checkpointBytes += o.checkpointBytes
	m.checkpointsSkipped += o.checkpointsSkipped
}

// parseSample parses one line of the Prometheus text format:
// name{k="v",...} value.
func parseSample(line string) (name string, labels map[string]string, v float64, ok bool) {
	if line == "" || line[0] == '#' {
		return "", nil, 0, false
	}
	rest := line
	labels = map[string]string{}
	if i := strings.IndexByte(line, '{'); i >= 0 {
		j := strings.LastIndexByte(line, '}')
		if j < i {
			return "", nil, 0, false
		}
		name, rest = line[:i], line[j+1:]
		for _, kv := range strings.Split(line[i+1:j], ",") {
			k, val, found := strings.Cut(kv, "=")
			if found {
				labels[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(val), `"`)
			}
		}
	} else {
		sp := strings.IndexByte(line, ' ')
		if sp < 0 {
			return "", nil, 0, false
		}
		name, rest = line[:sp], line[sp:]
	}
	f := strings.Fields(rest)
	if len(f) == 0 {
		return "", nil, 0, false
	}
	v, err := strconv.ParseFloat(f[0], 64)
	return name, labels, v, err == nil
}

// tickWindow is what the server's counters say about the measured window.
type tickWindow struct {
	lateShare      *float64
	skipped        *float64
	p99UpperMs     *float64 // upper bound of the histogram bucket holding the p99
	meanMs         *float64
	sentBytes      float64
	sentMessages   float64
	encodesPerTick *float64
	// checkpoints stored in the window, their bytes, and those skipped
	checkpoints, checkpointBytes, checkpointsSkipped float64
}

// diff turns counters read at both edges of the window into figures.
func (end tickMetrics) diff(start tickMetrics) tickWindow {
	var w tickWindow
	ticks := end.ticks - start.ticks
	if ticks > 0 {
		w.lateShare = ptr((end.late - start.late) / ticks)
		if end.encodes > 0 {
			w.encodesPerTick = ptr((end.encodes - start.encodes) / ticks)
		}
	}
	w.skipped = ptr(end.skipped - start.skipped)
	w.sentBytes, w.sentMessages = end.sentBytes-start.sentBytes, end.sentMsgs-start.sentMsgs
	w.checkpoints, w.checkpointBytes = end.checkpoints-start.checkpoints, end.checkpointBytes-start.checkpointBytes
	w.checkpointsSkipped = end.checkpointsSkipped - start.checkpointsSkipped
	n := end.tickCount - start.tickCount
	if n <= 0 {
		return w
	}
	w.meanMs = ptr((end.tickSum - start.tickSum) / n * 1000)
	les := make([]float64, 0, len(end.buckets))
	for le := range end.buckets {
		les = append(les, le)
	}
	sort.Float64s(les)
	for _, le := range les {
		if end.buckets[le]-start.buckets[le] >= 0.99*n {
			if !math.IsInf(le, 1) {
				w.p99UpperMs = ptr(le * 1000)
			}
			break
		}
	}
	return w
}
