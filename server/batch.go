package server

import (
	"fmt"
	"sync/atomic"
	"syscall"
)

// ringEntries is the most sends one io_uring submission carries, and so
// the most socks a tick holds locked at once.
const ringEntries = 64

// ringBatch is a ring and the scratch space of one submission.
type ringBatch struct {
	r    *ring
	fds  []int32
	res  []int32
	held []*sock // locked, in the submission
	at   []int   // their index in the caller's slice
}

// ringPool hands out rings, one per goroutine writing a tick at a time;
// at most max exist. Once a ring cannot be made or breaks, no ring is made
// again (a broken one is dropped; one already made and free may still be
// used), and a tick that finds none takes write(2) (SendBinary).
type ringPool struct {
	free   chan *ringBatch
	made   atomic.Int32
	max    int32
	broken atomic.Bool
	failed func(error) // told once why io_uring is off
	// noRing makes batches without a ring: each held sock is written with
	// write(2), the frame still built once (BenchmarkTickWrites' write-once,
	// which tells what io_uring itself saves).
	noRing bool
}

func newRingPool(max int, failed func(error)) *ringPool {
	return &ringPool{free: make(chan *ringBatch, max), max: int32(max), failed: failed}
}

func (p *ringPool) get() *ringBatch {
	select {
	case b := <-p.free:
		return b
	default:
	}
	if p.broken.Load() {
		return nil
	}
	if p.made.Add(1) > p.max {
		p.made.Add(-1)
		return nil // every ring is in use: this tick writes the old way
	}
	var r *ring
	if !p.noRing {
		var err error
		if r, err = newRing(ringEntries); err != nil {
			p.made.Add(-1)
			p.breakWith(err)
			return nil
		}
	}
	return &ringBatch{
		r:    r,
		fds:  make([]int32, 0, ringEntries),
		res:  make([]int32, ringEntries),
		held: make([]*sock, 0, ringEntries),
		at:   make([]int, 0, ringEntries),
	}
}

func (p *ringPool) put(b *ringBatch) {
	p.free <- b // never full: at most max exist
}

func (p *ringPool) breakWith(err error) {
	if p.broken.CompareAndSwap(false, true) && p.failed != nil {
		p.failed(err)
	}
}

// sendEach sends payload as one data frame to each of socks (nil ones are
// skipped), with the result SendBinary would give in sent. The frame is
// built once; every sock that can take it directly (sock.direct) gets it
// through one io_uring submission per ringEntries socks, holding its lock
// from the check to the completion, as a direct write does; a short send
// or a full socket queues the rest behind the flusher as SendBinary does,
// so no frame is lost or overtaken. The others, and all of them when no
// ring can be had, go through SendBinary.
func (p *ringPool) sendEach(payload []byte, socks []*sock, sent []bool) {
	b := p.get()
	if b == nil {
		for i, s := range socks {
			if s != nil {
				sent[i] = s.SendBinary(payload)
			}
		}
		return
	}
	bp := framePool.Get().(*[]byte)
	frame := append(appendFrameHeader((*bp)[:0], len(payload)), payload...)
	var err error
	for i, s := range socks {
		if s == nil {
			continue
		}
		s.mu.Lock()
		if err != nil || !s.direct() {
			s.mu.Unlock()
			sent[i] = s.SendBinary(payload)
			continue
		}
		b.fds, b.held, b.at = append(b.fds, s.fd), append(b.held, s), append(b.at, i)
		if len(b.held) == ringEntries {
			err = b.submit(frame, len(payload), sent)
		}
	}
	if len(b.held) > 0 && err == nil {
		err = b.submit(frame, len(payload), sent)
	}
	if err != nil {
		// The kernel may still hold the frame: neither it nor the ring is
		// used again.
		p.breakWith(err)
		return
	}
	if cap(frame) <= flushChunk {
		*bp = frame[:0]
		framePool.Put(bp)
	}
	p.put(b)
}

// submit sends frame to the held socks and unlocks them.
func (b *ringBatch) submit(frame []byte, payload int, sent []bool) error {
	var err error
	if b.r != nil {
		err = b.r.sendAll(frame, b.fds, b.res)
	} else {
		for k := range b.held {
			b.res[k] = resUnsent
		}
	}
	for k, s := range b.held {
		res := b.res[k]
		var n int
		var werr error
		switch {
		case res == resUnsent: // the ring broke before taking it
			n, werr = s.writeDirect(frame)
		case res >= 0:
			n = int(res)
		case res == -int32(syscall.EAGAIN), res == -int32(syscall.EINTR):
			// The socket is full: all of it joins the queue.
		case res == -int32(syscall.EINVAL), res == -int32(syscall.EOPNOTSUPP):
			// The kernel sets a ring up but has no IORING_OP_SEND (5.4,
			// 5.5): the member takes write(2), and the ring is not used
			// again, rather than failing every member every tick.
			n, werr = s.writeDirect(frame)
			if err == nil {
				err = fmt.Errorf("io_uring send: %w", syscall.Errno(-res))
			}
		default:
			werr = syscall.Errno(-res)
		}
		sent[b.at[k]] = s.wrote(frame, payload, n, werr)
		s.mu.Unlock()
	}
	b.fds, b.held, b.at = b.fds[:0], b.held[:0], b.at[:0]
	return err
}
