package server

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// perIP holds one token bucket per client address for room creation, and a
// count of open sessions per address. Idle entries are pruned so that the
// maps stay bounded by the addresses seen in the last few minutes.
type perIP struct {
	mu        sync.Mutex
	creates   map[string]*ipBucket
	sessions  map[string]int
	rate      rate.Limit
	burst     int
	lastPrune time.Time
}

type ipBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newPerIP(perMinute float64, burst int) *perIP {
	return &perIP{creates: map[string]*ipBucket{}, sessions: map[string]int{},
		rate: rate.Limit(perMinute / 60), burst: burst}
}

// allowCreate takes a room-creation token for ip; a zero rate means no limit.
func (p *perIP) allowCreate(ip string, now time.Time) bool {
	if p.rate <= 0 {
		return true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.lastPrune) > time.Minute {
		for k, b := range p.creates {
			if now.Sub(b.seen) > 10*time.Minute {
				delete(p.creates, k)
			}
		}
		p.lastPrune = now
	}
	b := p.creates[ip]
	if b == nil {
		b = &ipBucket{lim: rate.NewLimiter(p.rate, p.burst)}
		p.creates[ip] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

// openSession counts a session for ip unless it already has max (0: no limit).
func (p *perIP) openSession(ip string, max int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if max > 0 && p.sessions[ip] >= max {
		return false
	}
	p.sessions[ip]++
	return true
}

func (p *perIP) closeSession(ip string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.sessions[ip]--; p.sessions[ip] <= 0 {
		delete(p.sessions, ip)
	}
}
