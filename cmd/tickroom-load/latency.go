package main

import (
	"math"
	"slices"
)

// dist is a sorted sample of durations in nanoseconds.
type dist []int64

func newDist(v []int64) dist {
	slices.Sort(v)
	return dist(v)
}

// q returns the q-quantile (nearest rank) in milliseconds, or nil when empty.
func (d dist) q(q float64) *float64 {
	if len(d) == 0 {
		return nil
	}
	i := int(math.Ceil(q*float64(len(d)))) - 1
	i = max(0, min(len(d)-1, i))
	return ms(d[i])
}

func (d dist) max() *float64 {
	if len(d) == 0 {
		return nil
	}
	return ms(d[len(d)-1])
}

func ms(ns int64) *float64 {
	v := float64(ns) / 1e6
	return &v
}

// latencyStats are what the receipt logs say about delivery.
type latencyStats struct {
	slot      dist // receipt - the tick's slot on the room's 20 Hz grid
	spread    dist // receipt - the room's first receipt of the same tick
	jitter    dist // |gap between a client's consecutive ticks - 50 ms|
	rtt       dist // ping round trips
	anchorGap dist // per room: grid anchor - POST sent (bound on how much slot latency may understate)

	roomTicks     int     // (room, tick) pairs seen in the window
	lateFirst     int     // of those, first receipt more than 5 ms after the slot
	ticksPerRoomS float64 // distinct ticks per room per second of window
}

// computeLatency turns the clients' receipt logs into distributions.
//
// The server does not put its clock on the wire, so the tick's start is
// estimated: a room's tick n is due at anchor + n*period, where the anchor
// is the earliest (receipt - n*period) any of the room's clients saw over
// the whole run (warm-up included). Receipts cannot precede their slot, so
// this anchor is at or after the true one and "slot" latency understates
// by at most the fastest delivery seen; anchorGap bounds the error from the
// other side (the room's loop cannot start before its POST was sent).
// Slot latency includes the tick starting late and its processing time;
// spread (receipt minus the room's first receipt of that tick) excludes
// both and is a lower bound on fan-out delay.
func computeLatency(f *fleet, window float64) latencyStats {
	var s latencyStats
	var slot, spread, jitter, rtt, gaps []int64
	distinct := 0
	for _, r := range f.rooms {
		anchor := int64(math.MaxInt64)
		lo, hi := uint64(math.MaxUint64), uint64(0)
		for _, c := range r.clients {
			if c == nil {
				continue
			}
			anchor = min(anchor, c.envMin)
			for _, x := range c.recvs {
				lo, hi = min(lo, x.tick), max(hi, x.tick)
			}
			rtt = append(rtt, c.rtts...)
		}
		if hi < lo {
			continue
		}
		gaps = append(gaps, anchor-r.postSent)
		first := make([]int64, hi-lo+1)
		for i := range first {
			first[i] = math.MaxInt64
		}
		for _, c := range r.clients {
			if c == nil {
				continue
			}
			for i, x := range c.recvs {
				first[x.tick-lo] = min(first[x.tick-lo], x.at)
				slot = append(slot, x.at-(anchor+int64(x.tick)*f.period))
				if i > 0 && c.recvs[i-1].tick+1 == x.tick {
					d := x.at - c.recvs[i-1].at - f.period
					jitter = append(jitter, max(d, -d))
				}
			}
		}
		for _, c := range r.clients {
			if c == nil {
				continue
			}
			for _, x := range c.recvs {
				spread = append(spread, x.at-first[x.tick-lo])
			}
		}
		for i, at := range first {
			if at == math.MaxInt64 {
				continue
			}
			distinct++
			s.roomTicks++
			if at-(anchor+int64(lo+uint64(i))*f.period) > 5e6 {
				s.lateFirst++
			}
		}
	}
	s.slot, s.spread, s.jitter, s.rtt, s.anchorGap = newDist(slot), newDist(spread), newDist(jitter), newDist(rtt), newDist(gaps)
	if n := len(f.rooms); n > 0 && window > 0 {
		s.ticksPerRoomS = float64(distinct) / float64(n) / window
	}
	return s
}
