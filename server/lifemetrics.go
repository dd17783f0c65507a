package server

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickroom/tickroom/rooms"
)

// lifeCollector exports the rooms' lives: sleeping rooms, wakes, sleeps,
// checkpoints and the damage met on the way (docs/ARCHITECTURE.md, "The
// room's life").
type lifeCollector struct{ mgr *rooms.Manager }

var (
	descDormant     = prometheus.NewDesc("tickroom_rooms_dormant", "Rooms asleep in the directory (a join wakes them).", nil, nil)
	descWakes       = prometheus.NewDesc("tickroom_room_wakes_total", "Rooms woken from their stores.", nil, nil)
	descWakeFails   = prometheus.NewDesc("tickroom_room_wake_failures_total", "Wakes that failed (the room stays stored).", nil, nil)
	descWakeTime    = prometheus.NewDesc("tickroom_room_wake_duration_seconds", "Time to wake a room: checkpoint, log re-run, continue.", nil, nil)
	descSleeps      = prometheus.NewDesc("tickroom_room_sleeps_total", "Rooms that went to sleep.", nil, nil)
	descSleepFails  = prometheus.NewDesc("tickroom_room_sleep_failures_total", "Sleeps refused because nothing could be stored (the room stays live).", nil, nil)
	descExpired     = prometheus.NewDesc("tickroom_rooms_expired_total", "Sleeping rooms deleted by age.", nil, nil)
	descCheckpoints = prometheus.NewDesc("tickroom_checkpoints_total", "Room checkpoints stored.", nil, nil)
	descCpBytes     = prometheus.NewDesc("tickroom_checkpoint_bytes_total", "Bytes of room checkpoints stored.", nil, nil)
	descCpFails     = prometheus.NewDesc("tickroom_checkpoint_failures_total", "Checkpoints that could not be taken or stored.", nil, nil)
	descCpSkipped   = prometheus.NewDesc("tickroom_checkpoints_skipped_total", "Periodic checkpoints dropped because the store was behind.", nil, nil)
	descCpBad       = prometheus.NewDesc("tickroom_checkpoints_damaged_total", "Stored checkpoints refused on a wake as damaged.", nil, nil)
	descLogDamage   = prometheus.NewDesc("tickroom_log_damage_total", "Damaged room-log tails cut off on a wake.", nil, nil)
	descStoreFails  = prometheus.NewDesc("tickroom_directory_failures_total", "Room directory writes that failed.", nil, nil)
)

func (c *lifeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descDormant, descWakes, descWakeFails, descWakeTime, descSleeps, descSleepFails,
		descExpired, descCheckpoints, descCpBytes, descCpFails, descCpSkipped, descCpBad, descLogDamage, descStoreFails} {
		ch <- d
	}
}

func (c *lifeCollector) Collect(ch chan<- prometheus.Metric) {
	if n, err := c.mgr.Dormant(); err == nil && n >= 0 {
		ch <- prometheus.MustNewConstMetric(descDormant, prometheus.GaugeValue, float64(n))
	}
	k := c.mgr.Counters()
	for d, v := range map[*prometheus.Desc]uint64{
		descWakes: k.Wakes.Load(), descWakeFails: k.WakeFailures.Load(), descSleeps: k.Sleeps.Load(),
		descSleepFails: k.SleepFailures.Load(), descExpired: k.Expired.Load(), descCheckpoints: k.Checkpoints.Load(),
		descCpBytes: k.CheckpointBytes.Load(), descCpFails: k.CheckpointFailures.Load(), descCpSkipped: k.CheckpointsSkipped.Load(),
		descCpBad: k.BadCheckpoints.Load(), descLogDamage: k.LogDamage.Load(), descStoreFails: k.StoreFailures.Load(),
	} {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v))
	}
	counts, n, sum := k.WakeTime.Snapshot()
	buckets := make(map[float64]uint64, len(rooms.TickBuckets))
	var cum uint64
	for i, b := range rooms.TickBuckets {
		cum += counts[i]
		buckets[b.Seconds()] = cum
	}
	ch <- prometheus.MustNewConstHistogram(descWakeTime, n, sum.Seconds(), buckets)
}
