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
	slot   dist // receipt - the tick's slot on the room's 20 Hz grid
	spread dist // receipt - the room's first receipt of the same tick
	jitter dist // |gap between a client's consecutive ticks - 50 ms|
	rtt    dist // ping round trips
	// slot and spread of members on their room's owner ([0]) and of
	// members relayed through another node of a cluster ([1])
	slotBy, spreadBy [2]dist

	skipsEst      int     // slots the rooms skipped in the window, as the grid estimate saw them
	roomTicks     int     // (room, tick) pairs seen in the window
	lateFirst     int     // of those, first receipt more than 5 ms after the slot
	ticksPerRoomS float64 // distinct ticks per room per second of window
}

// computeLatency turns the clients' receipt logs into distributions.
//
// The server does not put its clock on the wire, so each tick's start is
// estimated from the room's 20 Hz grid (see roomGrid). Slot latency so
// measured includes a late tick start and the tick's work, and understates
// by the fastest delivery seen. Spread (receipt minus the room's first
// receipt of that tick) excludes both: a lower bound on the fan-out delay.
func computeLatency(f *fleet, window float64) latencyStats {
	var s latencyStats
	var slot, spread, jitter, rtt []int64
	var slotBy, spreadBy [2][]int64
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
		grid := roomGrid(f.period, lo, first)
		s.skipsEst += grid.skips
		for _, c := range clients {
			k := 0
			if c.relayed {
				k = 1
			}
			for i, x := range c.recvs {
				slot = append(slot, x.at-grid.slot(x.tick))
				spread = append(spread, x.at-first[x.tick-lo])
				slotBy[k] = append(slotBy[k], x.at-grid.slot(x.tick))
				spreadBy[k] = append(spreadBy[k], x.at-first[x.tick-lo])
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
	s.slot, s.spread, s.jitter, s.rtt = newDist(slot), newDist(spread), newDist(jitter), newDist(rtt)
	for k := range slotBy {
		s.slotBy[k], s.spreadBy[k] = newDist(slotBy[k]), newDist(spreadBy[k])
	}
	if n := len(f.rooms); n > 0 && window > 0 {
		s.ticksPerRoomS = float64(distinct) / float64(n) / window
	}
	return s
}

// slotGrid is a room's estimated tick schedule over the window: tick n is
// due at phase + (n + shift[n-lo]) * period.
type slotGrid struct {
	period int64
	phase  int64
	lo     uint64
	shift  []int64 // slots skipped before tick lo+i, plus a constant
	skips  int
}

func (g slotGrid) slot(tick uint64) int64 {
	return g.phase + (int64(tick)+g.shift[tick-g.lo])*g.period
}

// roomGrid estimates a room's tick schedule from its first receipt of each
// tick (index i is tick lo+i; math.MaxInt64 where nobody received it).
//
// The server starts tick n at T0 + (n + k(n))*period, where k(n) counts the
// slots it skipped before tick n (after an overrun it moves to the next
// free slot instead of bursting). So first(n) - n*period modulo the period
// is T0's phase plus that tick's delivery time, and most deliveries are
// fast and alike: the phase is taken as the fastest first receipt within
// 5 ms before the mode of those residues. A tick's whole-period part then
// gives k(n) (plus a constant); as skips only add up, k is made
// non-decreasing with a suffix minimum, after a 5-tick median filter so
// that one stray tick cannot shift its predecessors. A first receipt more
// than 5 ms faster than the typical one is read as 45+ ms late; under
// heavy overload, where deliveries no longer bunch, the phase is unreliable
// and the server's own late-tick counter is the figure to trust.
func roomGrid(period int64, lo uint64, first []int64) slotGrid {
	g := slotGrid{period: period, lo: lo, shift: make([]int64, len(first))}
	const bins = 100
	binWidth := period / bins
	var hist [bins]int
	var res []int64
	for i, at := range first {
		if at != math.MaxInt64 {
			r := floorMod(at-int64(lo+uint64(i))*period, period)
			res = append(res, r)
			hist[min(bins-1, int(r/binWidth))]++
		}
	}
	if len(res) == 0 {
		return g
	}
	mode := 0
	for b := range hist {
		if hist[b] > hist[mode] {
			mode = b
		}
	}
	// The phase is the earliest residue within 5 ms before the mode bin's
	// end (the mode bin itself always holds one).
	modeEnd, earliest := int64(mode+1)*binWidth, int64(-1)
	for _, r := range res {
		if back := floorMod(modeEnd-r, period); back <= 5e6+binWidth && back > earliest {
			earliest, g.phase = back, r
		}
	}
	q := make([]int64, len(first))
	for i, at := range first {
		q[i] = math.MaxInt64
		if at != math.MaxInt64 {
			q[i] = floorDiv(at-int64(lo+uint64(i))*period-g.phase, period)
		}
	}
	filtered := medianFilter(q)
	suffix := int64(math.MaxInt64)
	for i := len(first) - 1; i >= 0; i-- {
		suffix = min(suffix, filtered[i])
		g.shift[i] = suffix
	}
	// Ticks after the last received one inherit the last known shift.
	for i := range g.shift {
		if g.shift[i] == math.MaxInt64 {
			g.shift[i] = g.shift[max(0, i-1)]
		}
	}
	g.skips = int(g.shift[len(g.shift)-1] - g.shift[0])
	return g
}

// medianFilter replaces each known value by the median of the known values
// among it and its two neighbours on each side.
func medianFilter(q []int64) []int64 {
	out := make([]int64, len(q))
	var w []int64
	for i := range q {
		if q[i] == math.MaxInt64 {
			out[i] = math.MaxInt64
			continue
		}
		w = w[:0]
		for j := max(0, i-2); j <= min(len(q)-1, i+2); j++ {
			if q[j] != math.MaxInt64 {
				w = append(w, q[j])
			}
		}
		slices.Sort(w)
		out[i] = w[len(w)/2]
	}
	return out
}

func floorMod(a, m int64) int64 {
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}

func floorDiv(a, m int64) int64 {
	return (a - floorMod(a, m)) / m
}
