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

// recordingMetrics exports the store's size on /metrics, reading the store
// once per scrape.
func recordingMetrics(store *tape.Store) []prometheus.Collector {
	return []prometheus.Collector{storeCollector{store}}
}

var (
	descRecBytes = prometheus.NewDesc("tickroom_recordings_bytes", "Bytes of recordings on disk, those in progress included.", nil, nil)
	descRecs     = prometheus.NewDesc("tickroom_recordings", "Recordings on disk.", nil, nil)
	descRecLive  = prometheus.NewDesc("tickroom_recordings_in_progress", "Recordings being written.", nil, nil)
)

type storeCollector struct{ store *tape.Store }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descRecBytes
	ch <- descRecs
	ch <- descRecLive
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	all, err := c.store.List()
	if err != nil {
		return // an unreadable directory shows as missing samples, and in the logs of the retention loop
	}
	var bytes int64
	live := 0
	for _, e := range all {
		bytes += e.Size
		if e.InProgress {
			live++
		}
	}
	ch <- prometheus.MustNewConstMetric(descRecBytes, prometheus.GaugeValue, float64(bytes))
	ch <- prometheus.MustNewConstMetric(descRecs, prometheus.GaugeValue, float64(len(all)))
	ch <- prometheus.MustNewConstMetric(descRecLive, prometheus.GaugeValue, float64(live))
}
