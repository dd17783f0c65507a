package melody

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// wheel pings every session of a Melody once per PingPeriod and ends those
// that have sent nothing for PongWait, or whose close lingered past
// lingerTime, from one goroutine for all of them: no timer, ticker or
// goroutine per session. The sessions sit in n slots of a ring; each step
// (PingPeriod / n, at most 100 ms) handles one slot, so a session is seen
// once per PingPeriod. The goroutine runs only while there are sessions.
//
// The slots follow the clock, not the ticker: a wake-up handles every slot
// that has come due since the last one (a ticker drops ticks when its
// goroutine is late). Otherwise, on a starved machine, a turn of the wheel
// took longer than PongWait and sessions whose pong had arrived in time
// were ended as silent (seen with 19,000 idle connections at a load
// average of 20: thousands ended with 1006).
type wheel struct {
	m     *Melody
	step  time.Duration
	start time.Time

	mu       sync.Mutex
	slots    []*Session // heads of doubly linked lists
	cur      int
	due      int64 // wheel clock at which slot cur is due
	count    int
	closings []*Session
	running  bool
}

func newWheel(m *Melody) *wheel { return &wheel{m: m, start: time.Now()} }

// now is the wheel's clock: nanoseconds since the wheel was made
// (monotonic).
func (w *wheel) now() int64 { return int64(time.Since(w.start)) }

func (w *wheel) init() {
	if w.slots != nil {
		return
	}
	period := w.m.Config.PingPeriod
	w.step = min(max(period/10, 5*time.Millisecond), 100*time.Millisecond)
	n := max(int((period+w.step-1)/w.step), 1)
	w.slots = make([]*Session, n)
}

// add puts s in the slot handled last, a PingPeriod from now.
func (w *wheel) add(s *Session) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s.ended.Load() {
		return
	}
	w.init()
	i := (w.cur + len(w.slots) - 1) % len(w.slots)
	s.slot = int32(i)
	s.prev, s.next = nil, w.slots[i]
	if s.next != nil {
		s.next.prev = s
	}
	w.slots[i] = s
	w.count++
	w.startLocked()
}

func (w *wheel) remove(s *Session) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.slots == nil || (s.prev == nil && w.slots[s.slot] != s) {
		return // not in the wheel
	}
	if s.prev != nil {
		s.prev.next = s.next
	} else {
		w.slots[s.slot] = s.next
	}
	if s.next != nil {
		s.next.prev = s.prev
	}
	s.prev, s.next = nil, nil
	w.count--
}

// closing makes sure a closing session is ended lingerTime from now.
func (w *wheel) closing(s *Session) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.init()
	w.closings = append(w.closings, s)
	w.startLocked()
}

func (w *wheel) startLocked() {
	if !w.running {
		w.running = true
		w.due = w.now() + int64(w.step)
		go w.run()
	}
}

// dueSlotsLocked sorts the sessions of every slot due by now into those to
// ping and those silent for pongWait, and moves on past them. At most one
// turn is handled at once; a wheel more than a turn behind skips ahead.
func (w *wheel) dueSlotsLocked(now, pongWait int64, ping, kill []*Session) ([]*Session, []*Session) {
	for n := 0; now >= w.due && n < len(w.slots); n++ {
		for s := w.slots[w.cur]; s != nil; s = s.next {
			if now-s.lastRead.Load() > pongWait {
				kill = append(kill, s)
			} else {
				ping = append(ping, s)
			}
		}
		w.cur = (w.cur + 1) % len(w.slots)
		w.due += int64(w.step)
	}
	if now >= w.due {
		w.due = now + int64(w.step)
	}
	return ping, kill
}

func (w *wheel) run() {
	t := time.NewTicker(w.step)
	defer t.Stop()
	var ping, kill []*Session
	for range t.C {
		now := w.now()
		pongWait := int64(w.m.Config.PongWait)
		w.mu.Lock()
		ping, kill = w.dueSlotsLocked(now, pongWait, ping, kill)
		keep := w.closings[:0]
		for _, s := range w.closings {
			switch {
			case s.ended.Load():
			case now >= s.closeBy.Load():
				kill = append(kill, s)
			default:
				keep = append(keep, s)
			}
		}
		clear(w.closings[len(keep):])
		w.closings = keep
		idle := w.count == 0 && len(w.closings) == 0
		if idle {
			w.running = false
		}
		w.mu.Unlock()
		for _, s := range ping {
			if !s.closed() {
				_ = s.writeFrame(websocket.PingMessage, nil)
			}
		}
		for _, s := range kill {
			s.kill(errTimeout)
		}
		clear(ping)
		clear(kill)
		ping, kill = ping[:0], kill[:0]
		if idle {
			return
		}
	}
}
