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

	skipsEst      int     // slots the rooms skipped in the window, as the grid estimate saw them
	roomTicks     int     // (room, tick) pairs seen in the window
	lateFirst     int     // of those, first receipt more than 5 ms after the slot
	ticksPerRoomS float64 // distinct ticks per room per second of window
}

// computeLatency turns the clients' receipt logs into distributions.
//
// The server does not put its clock on the wire, so each tick's start is
// estimated from the room's 20 Hz grid: tick n is due at
// anchor + (n + k(n))*period, where k(n) is the number of slots the room
// skipped before tick n (after an overrun the server moves to the next
// free slot instead of bursting). With o(n) the room's first receipt of
// tick n minus n*period:
//   - anchor is the smallest o(n) of the run (warm-up included): receipts
//     cannot precede their slot, so latency understates by at most the
//     fastest delivery seen; anchorGap bounds the other side (the room's
//     loop cannot start before its POST was sent);
//   - k(n) = floor((min over j >= n of o(j) - anchor + period/5) / period):
//     skips only ever add up, so the fastest delivery at or after n sits
//     less than a period above the slot grid of tick n, unless a whole
//     stretch up to the next skip never arrived within 40 ms (then that
//     stretch is read as one more skip and its latency understated by a
//     period). A delivery faster than the anchor's shows as a small
//     negative latency (at most period/5).
//
// Slot latency so measured includes a late tick start (up to a period) and
// the tick's work. Spread (receipt minus the room's first receipt of that
// tick) excludes both: a lower bound on the fan-out delay.
func computeLatency(f *fleet, window float64) latencyStats {
	var s latencyStats
	var slot, spread, jitter, rtt, gaps []int64
	distinct := 0
	for _, r := range f.rooms {
		var clients []*sceneClient
		lo, hi := uint64(math.MaxUint64), uint64(0)
		for _, c := range r.clients {
			if c == nil {
				continue
			}
			clients = append(clients, c)
			for _, x := range c.recvs {
				lo, hi = min(lo, x.tick), max(hi, x.tick)
			}
			rtt = append(rtt, c.rtts...)
		}
		if hi < lo {
			continue
		}
		first := make([]int64, hi-lo+1)
		for i := range first {
			first[i] = math.MaxInt64
		}
		for _, c := range clients {
			for _, x := range c.recvs {
				first[x.tick-lo] = min(first[x.tick-lo], x.at)
			}
		}
		grid := roomGrid(f.period, lo, first, clients)
		gaps = append(gaps, grid.anchor-r.postSent)
		s.skipsEst += grid.skips
		for _, c := range clients {
			for i, x := range c.recvs {
				slot = append(slot, x.at-grid.slot(x.tick))
				spread = append(spread, x.at-first[x.tick-lo])
				if i > 0 && c.recvs[i-1].tick+1 == x.tick {
					d := x.at - c.recvs[i-1].at - f.period
					jitter = append(jitter, max(d, -d))
				}
			}
		}
		for i, at := range first {
			if at == math.MaxInt64 {
				continue
			}
			distinct++
			s.roomTicks++
			if at-grid.slot(lo+uint64(i)) > 5e6 {
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

// slotGrid is a room's estimated tick schedule over the window.
type slotGrid struct {
	period int64
	anchor int64
	lo     uint64
	shift  []int64 // k(n) * period for tick lo+i
	skips  int
}

func (g slotGrid) slot(tick uint64) int64 {
	return g.anchor + int64(tick)*g.period + g.shift[tick-g.lo]
}

// roomGrid estimates a room's grid from its first receipts per tick (in the
// window, from tick lo) and the clients' run-long envelopes.
func roomGrid(period int64, lo uint64, first []int64, clients []*sceneClient) slotGrid {
	g := slotGrid{period: period, anchor: math.MaxInt64, lo: lo, shift: make([]int64, len(first))}
	for _, c := range clients {
		g.anchor = min(g.anchor, c.envMin)
	}
	suffix := int64(math.MaxInt64)
	for i := len(first) - 1; i >= 0; i-- {
		if first[i] != math.MaxInt64 {
			suffix = min(suffix, first[i]-int64(lo+uint64(i))*period)
		}
		if suffix != math.MaxInt64 {
			// The tolerance absorbs deliveries a little faster than the
			// anchor's (the anchor comes from one early receipt).
			g.shift[i] = (suffix - g.anchor + period/5) / period * period
		}
	}
	g.skips = int((g.shift[len(g.shift)-1] - g.shift[0]) / period)
	return g
}
