package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickroom/tickroom/rooms/tape"
)

// enforceRetention applies the store's size and age limits once a minute
// until ctx ends.
func enforceRetention(ctx context.Context, store *tape.Store, log *slog.Logger) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if deleted, err := store.Enforce(); err != nil {
			log.Error("recordings retention", "err", err)
		} else if len(deleted) > 0 {
			log.Info("recordings deleted by retention", "count", len(deleted))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// recordingMetrics exports the store's size on /metrics.
func recordingMetrics(store *tape.Store) []prometheus.Collector {
	sizes := func() (n int, bytes int64, live int) {
		all, err := store.List()
		if err != nil {
			return 0, 0, 0
		}
		for _, e := range all {
			bytes += e.Size
			if e.InProgress {
				live++
			}
		}
		return len(all), bytes, live
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tickroom_recordings_bytes", Help: "Bytes of recordings on disk, those in progress included."},
			func() float64 { _, b, _ := sizes(); return float64(b) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tickroom_recordings", Help: "Recordings on disk."},
			func() float64 { n, _, _ := sizes(); return float64(n) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "tickroom_recordings_in_progress", Help: "Recordings being written."},
			func() float64 { _, _, l := sizes(); return float64(l) }),
	}
}
