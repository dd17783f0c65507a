package rooms

import (
	"sync/atomic"
	"time"
)

// TickBuckets are the upper bounds of the tick-time histogram.
var TickBuckets = []time.Duration{
	50 * time.Microsecond, 100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond,
}

// Histogram counts tick durations in TickBuckets (plus one overflow
// bucket) with atomics: the room goroutine observes, anyone reads.
type Histogram struct {
	counts [12]atomic.Uint64
	sum    atomic.Int64 // nanoseconds
}

// Observe records one duration.
func (h *Histogram) Observe(d time.Duration) {
	i := len(TickBuckets)
	for j, b := range TickBuckets {
		if d <= b {
			i = j
			break
		}
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// Snapshot returns the per-bucket counts (not cumulative), total count and sum.
func (h *Histogram) Snapshot() (counts []uint64, total uint64, sum time.Duration) {
	counts = make([]uint64, len(h.counts))
	for i := range h.counts {
		counts[i] = h.counts[i].Load()
		total += counts[i]
	}
	return counts, total, time.Duration(h.sum.Load())
}

// Quantile estimates the q-quantile (0..1) as the upper bound of the bucket
// it falls in; past the last bound it returns that bound.
func (h *Histogram) Quantile(q float64) time.Duration {
	counts, total, _ := h.Snapshot()
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank && i < len(TickBuckets) {
			return TickBuckets[i]
		}
	}
	return TickBuckets[len(TickBuckets)-1]
}
