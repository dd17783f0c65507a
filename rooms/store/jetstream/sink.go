package jetstream

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/tape"
)

// sink appends a tape writer's flushes to the log's subject, in order, one
// at a time, from a goroutine of its own: the room's goroutine only
// copies the bytes into the queue. Each append names the subject's last
// sequence it expects (the fence) and carries a message id made of this
// writer's id and the offset (JetStream drops a retried append that had
// landed). A refused fence is final (rooms.ErrFenced); other failures are
// retried for appendTimeout. Sync waits until every queued byte is
// acknowledged. The queue is bounded (maxBacklog bytes): past it, writes
// fail, and the room stops recording rather than growing without end.
type sink struct {
	s       *Store
	id      string
	subject string
	writer  string // this writer's id, for message ids

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []pending
	backlog int
	acked   int64 // tape offset up to which appends are acknowledged
	queued  int64 // tape offset up to which bytes are queued
	lastSeq uint64
	err     error
	closed  bool
	done    chan struct{}
}

// pending is one write waiting to be appended.
type pending struct {
	data   []byte
	at     tape.FramePos
	queued time.Time
}

const maxBacklog = 32 << 20

// newSink starts the appender of log id, whose subject's last message has
// sequence lastSeq (0 for a new log).
func (s *Store) newSink(id string, lastSeq uint64) *sink {
	k := &sink{s: s, id: id, subject: s.subject(id), writer: uuid.NewString()[:8], lastSeq: lastSeq, done: make(chan struct{})}
	k.cond = sync.NewCond(&k.mu)
	go k.run()
	return k
}

// Write is for writers that do not say where their bytes sit; the tape
// writer always uses WriteFrames.
func (k *sink) Write(p []byte) (int, error) {
	return 0, errors.New("jetstream: log: write without a position")
}

// WriteFrames queues a tape writer's flush (tape.FrameSink).
func (k *sink) WriteFrames(p []byte, at tape.FramePos) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.err != nil:
		return k.err
	case k.closed:
		return tape.ErrClosed
	case k.backlog+len(p) > maxBacklog:
		k.err = fmt.Errorf("jetstream: log %s: %d bytes wait to be appended: %w", k.id, k.backlog, errBacklog)
		k.cond.Broadcast()
		return k.err
	}
	k.queue = append(k.queue, pending{data: append([]byte(nil), p...), at: at, queued: time.Now()})
	k.backlog += len(p)
	k.queued = at.Offset + int64(len(p))
	k.cond.Broadcast()
	return nil
}

var errBacklog = errors.New("appends are not keeping up")

// Sync waits until every queued byte is acknowledged by JetStream.
func (k *sink) Sync() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for k.err == nil && k.acked < k.queued {
		k.cond.Wait()
	}
	return k.err
}

// Close waits for the queue to be appended, then stops the appender.
func (k *sink) Close() error {
	err := k.Sync()
	k.mu.Lock()
	k.closed = true
	k.cond.Broadcast()
	k.mu.Unlock()
	<-k.done
	return err
}

// abort stops the appender without waiting for the queue.
func (k *sink) abort() {
	k.mu.Lock()
	if k.err == nil {
		k.err = tape.ErrClosed
	}
	k.closed = true
	k.cond.Broadcast()
	k.mu.Unlock()
	<-k.done
}

func (k *sink) run() {
	defer close(k.done)
	for {
		k.mu.Lock()
		for len(k.queue) == 0 && !k.closed && k.err == nil {
			k.cond.Wait()
		}
		if k.err != nil || len(k.queue) == 0 {
			k.mu.Unlock()
			return
		}
		p, lastSeq := k.queue[0], k.lastSeq
		k.mu.Unlock()

		seq, err := k.appendWrite(p, lastSeq)

		k.mu.Lock()
		if err != nil {
			k.err = err
			k.queue = nil
		} else {
			k.queue = k.queue[1:]
			k.backlog -= len(p.data)
			k.lastSeq = seq
			k.acked = p.at.Offset + int64(len(p.data))
			k.s.appends.observe(time.Since(p.queued))
		}
		k.cond.Broadcast()
		k.mu.Unlock()
	}
}

// appendWrite appends one write (in parts if it is larger than a message
// may be), each part fenced on the one before, and returns the last
// part's sequence.
func (k *sink) appendWrite(p pending, lastSeq uint64) (uint64, error) {
	max := k.s.opts.MaxMessage
	n := (len(p.data) + max - 1) / max
	if n == 0 {
		n = 1
	}
	for i := range n {
		part := p.data[i*max : min(len(p.data), (i+1)*max)]
		off := p.at.Offset + int64(i*max)
		m := nats.NewMsg(k.subject)
		m.Data = part
		m.Header.Set(hdrOffset, strconv.FormatInt(off, 10))
		if i == 0 {
			m.Header.Set(hdrPrev, strconv.FormatUint(p.at.Prev, 10))
			m.Header.Set(hdrLast, strconv.FormatUint(p.at.Last, 10))
			m.Header.Set(hdrRecords, strconv.Itoa(p.at.Records))
			m.Header.Set(hdrFirst, strconv.FormatUint(p.at.First, 10))
		}
		if n > 1 {
			m.Header.Set(hdrPart, strconv.Itoa(i+1)+"/"+strconv.Itoa(n))
		}
		seq, err := k.publish(m, k.writer+"-"+strconv.FormatInt(off, 10), lastSeq)
		if err != nil {
			return 0, err
		}
		lastSeq = seq
	}
	return lastSeq, nil
}

// publish appends one message, retrying what may pass for appendTimeout.
func (k *sink) publish(m *nats.Msg, msgID string, lastSeq uint64) (uint64, error) {
	deadline := time.Now().Add(appendTimeout)
	backoff := 50 * time.Millisecond
	for {
		ctx, cancel := k.s.ctx()
		ack, err := k.s.js.PublishMsg(ctx, m, jetstream.WithMsgID(msgID), jetstream.WithExpectLastSequencePerSubject(lastSeq))
		cancel()
		if err == nil {
			return ack.Sequence, nil
		}
		switch apiCode(err) {
		case jetstream.JSErrCodeStreamWrongLastSequence, jetstream.JSErrCodeStreamWrongLastSequenceConstant:
			// A retry of an append that landed meets its own message as
			// the subject's last (a replicated stream checks the fence
			// before it drops duplicates): that is a success. And a
			// replicated stream's leader may refuse an append whose
			// predecessor it has acknowledged but not yet applied (seen
			// with nats-server 2.15 under load): the subject's last is then
			// the one expected, and the append is tried again.
			switch last, lerr := k.last(); {
			case lerr != nil:
			case last.Header.Get(jetstream.MsgIDHeader) == msgID:
				return last.Sequence, nil
			case last.Sequence == lastSeq:
				k.s.opts.Logger.Debug("log append refused although its predecessor is the last: trying again", "log", k.id, "seq", lastSeq)
				if time.Now().After(deadline) {
					return 0, fmt.Errorf("jetstream: log %s: append: %w", k.id, err)
				}
				time.Sleep(5 * time.Millisecond)
				continue
			default:
				return 0, fmt.Errorf("jetstream: log %s: %w: its last append was %d, the log's last is now %d",
					k.id, rooms.ErrFenced, lastSeq, last.Sequence)
			}
			return 0, fmt.Errorf("jetstream: log %s: %w: %v", k.id, rooms.ErrFenced, err)
		case jetstream.JSErrCodeStreamMessageExceedsMaximum:
			return 0, fmt.Errorf("jetstream: log %s: %w", k.id, err)
		}
		k.mu.Lock()
		closed := k.closed && k.err != nil
		k.mu.Unlock()
		k.s.opts.Logger.Debug("log append failed: trying again", "log", k.id, "err", err)
		if closed || time.Now().After(deadline) || errors.Is(err, nats.ErrConnectionClosed) {
			return 0, fmt.Errorf("jetstream: log %s: append: %w", k.id, err)
		}
		time.Sleep(backoff)
		backoff = min(2*backoff, time.Second)
	}
}

// last reads the subject's last message.
func (k *sink) last() (*jetstream.RawStreamMsg, error) {
	ctx, cancel := k.s.ctx()
	defer cancel()
	return k.s.log.GetLastMsgForSubject(ctx, k.subject)
}

var _ tape.FrameSink = (*sink)(nil)
