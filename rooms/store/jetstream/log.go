package jetstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/tape"
)

// A room's log is a tape (docs/TAPE.md) whose bytes are the payloads of
// the messages on subject PREFIX.log.<log id>, in order: the tape header
// first, then each flush of the tape writer (whole frames, every
// FlushInterval) as one message, split only when it is larger than a
// message may be. Concatenated, they are exactly the tape file a single
// node would have written, and that is what a replay downloads.
//
// Each message says where it sits (headers below), so that continuing a
// log reads its first and last messages only, and reading it from a
// checkpoint's position finds its place by a binary search over the
// stream's sequence instead of reading the whole log.

// Message headers.
const (
	hdrOffset  = "Tickroom-Offset"  // the payload's offset in the tape
	hdrPrev    = "Tickroom-Prev"    // tick of the frame before the payload
	hdrLast    = "Tickroom-Last"    // tick of the payload's last frame
	hdrRecords = "Tickroom-Records" // records in the tape after the payload
	hdrFirst   = "Tickroom-First"   // the tape's first tick
	hdrPart    = "Tickroom-Part"    // "i/n" when a write is split over n messages
)

func (s *Store) subject(id string) string { return s.opts.Prefix + ".log." + id }

// Create starts the log of a new room (rooms.LogStore).
func (s *Store) Create(h rooms.RecordingHeader) (rooms.LogWriter, error) {
	id := uuid.NewString()
	out := s.newSink(id, 0)
	w, err := tape.NewWriter(out, id, h, tape.WriterOptions{FlushInterval: s.opts.FlushInterval})
	if err != nil {
		out.abort()
		return nil, fmt.Errorf("jetstream: new log: %w", err)
	}
	lw := &logWriter{Writer: w, s: s, sink: out}
	s.putSummary(lw, summaryOf(w, true, false))
	return lw, nil
}

// Continue opens a room's log to append after its last good record
// (rooms.LogStore). A clean end is taken off (the room goes on); a damaged
// tail (a message that does not read) is deleted from the stream and
// reported in the LogEnd's Damage.
func (s *Store) Continue(id string) (rooms.LogWriter, rooms.LogEnd, error) {
	if !validKey(id) {
		return nil, rooms.LogEnd{}, fmt.Errorf("jetstream: continue %q: %w", id, rooms.ErrNotFound)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	var sc tape.Scan
	var lastSeq uint64
	for try := 0; ; try++ {
		last, err := s.log.GetLastMsgForSubject(ctx, s.subject(id))
		if err != nil {
			return nil, rooms.LogEnd{}, fmt.Errorf("jetstream: continue %s: %w", id, notFound(err))
		}
		if sc, lastSeq, err = s.tailOf(ctx, id, last); err != nil {
			return nil, rooms.LogEnd{}, fmt.Errorf("jetstream: continue %s: %w", id, err)
		}
		// Claim the log before anything else: an append of its previous
		// writer still on its way names the subject's last sequence as it
		// was, and the claim moves it on, so that append is refused (its
		// room stops) instead of landing after this writer read the log.
		seq, err := s.claim(ctx, id, sc, lastSeq)
		if err == nil {
			lastSeq = seq
			break
		}
		if !errors.Is(err, rooms.ErrFenced) || try == 3 {
			return nil, rooms.LogEnd{}, fmt.Errorf("jetstream: continue %s: %w", id, err)
		}
		// The old writer appended meanwhile: read the log's end again.
	}
	out := s.newSink(id, lastSeq)
	w := tape.Resume(out, id, sc, tape.WriterOptions{FlushInterval: s.opts.FlushInterval})
	lw := &logWriter{Writer: w, s: s, sink: out}
	s.putSummary(lw, summaryOf(w, true, false))
	return lw, sc.LogEnd(), nil
}

// claim appends an empty message at the log's end, fenced on its last
// sequence: the tape's bytes do not change, and the subject's last
// sequence becomes this writer's. rooms.ErrFenced when another writer
// appended after lastSeq.
func (s *Store) claim(ctx context.Context, id string, sc tape.Scan, lastSeq uint64) (uint64, error) {
	m := nats.NewMsg(s.subject(id))
	m.Header.Set(hdrOffset, strconv.FormatInt(sc.ValidSize, 10))
	m.Header.Set(hdrPrev, strconv.FormatUint(sc.LastTick, 10))
	m.Header.Set(hdrLast, strconv.FormatUint(sc.LastTick, 10))
	m.Header.Set(hdrRecords, strconv.Itoa(sc.Records))
	m.Header.Set(hdrFirst, strconv.FormatUint(sc.FirstTick, 10))
	ack, err := s.js.PublishMsg(ctx, m, jetstream.WithExpectLastSequencePerSubject(lastSeq))
	switch apiCode(err) {
	case jetstream.JSErrCodeStreamWrongLastSequence, jetstream.JSErrCodeStreamWrongLastSequenceConstant:
		return 0, fmt.Errorf("claim: %w", rooms.ErrFenced)
	}
	if err != nil {
		return 0, fmt.Errorf("claim: %w", err)
	}
	return ack.Sequence, nil
}

// tailOf works out where a log ends from its last message: its headers,
// checked by reading its frames. A clean end record (a message of its
// own) is deleted. Anything else that does not add up sends it to a scan
// of the whole log. It returns the scan and the sequence to append after.
func (s *Store) tailOf(ctx context.Context, id string, last *jetstream.RawStreamMsg) (tape.Scan, uint64, error) {
	hdr, err := s.header(ctx, id)
	if err != nil {
		return tape.Scan{}, 0, err
	}
	at, ok := posOf(last.Header)
	if ok && at.Offset == 0 {
		return hdr, last.Sequence, nil // the header alone: nothing recorded yet
	}
	if ok && last.Header.Get(hdrPart) == "" {
		lastTick, records, end, err := tape.ScanFrames(last.Data, at.Prev)
		if err == nil && lastTick == at.Last {
			sc := hdr
			sc.ValidSize, sc.LastTick, sc.Records, sc.FirstTick = at.Offset+int64(len(last.Data)), at.Last, at.Records, at.First
			if !end {
				return sc, last.Sequence, nil
			}
			if records == 0 { // the end record alone: take it off
				if err := s.log.DeleteMsg(ctx, last.Sequence); err != nil {
					return tape.Scan{}, 0, fmt.Errorf("take off the end record: %w", err)
				}
				sc.ValidSize = at.Offset
				prev, err := s.lastSeqBefore(ctx, id, last.Sequence)
				return sc, prev, err
			}
		}
	}
	return s.rescan(ctx, id)
}

// header reads a log's first write, its tape header (in parts, if it
// was split).
func (s *Store) header(ctx context.Context, id string) (tape.Scan, error) {
	subj := s.subject(id)
	var data []byte
	var seq uint64 = 1
	for parts := 1; parts > 0; parts-- {
		m, err := s.log.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subj))
		if err != nil {
			return tape.Scan{}, fmt.Errorf("header: %w", notFound(err))
		}
		if seq == 1 {
			if p := m.Header.Get(hdrPart); p != "" {
				n, err := strconv.Atoi(p[strings.IndexByte(p, '/')+1:])
				if err != nil || n < 1 {
					return tape.Scan{}, fmt.Errorf("header: %w: part %q", rooms.ErrLogDamaged, p)
				}
				parts = n
			}
		}
		data = append(data, m.Data...)
		seq = m.Sequence + 1
	}
	sc, err := tape.ScanTape(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return tape.Scan{}, fmt.Errorf("header: %w", err)
	}
	return sc, nil
}

// lastSeqBefore returns the sequence of the log's last message before seq.
func (s *Store) lastSeqBefore(ctx context.Context, id string, seq uint64) (uint64, error) {
	last, err := s.log.GetLastMsgForSubject(ctx, s.subject(id))
	if err != nil {
		return 0, err
	}
	if last.Sequence >= seq {
		return 0, fmt.Errorf("message %d still there", seq)
	}
	return last.Sequence, nil
}

// rescan reads the whole log, deletes every message from the first one
// that does not read (and a clean end record), and returns where it ends.
func (s *Store) rescan(ctx context.Context, id string) (tape.Scan, uint64, error) {
	msgs, err := s.messages(ctx, id, 1)
	if err != nil {
		return tape.Scan{}, 0, err
	}
	var all []byte
	for _, m := range msgs {
		all = append(all, m.data...)
	}
	sc, err := tape.ScanTape(bytes.NewReader(all), int64(len(all)))
	if err != nil {
		return tape.Scan{}, 0, err
	}
	cut := sc.ValidSize // the end record's start when clean
	if sc.Damage != nil {
		cut = sc.Damage.Offset
	}
	// Keep the messages that end at or before the cut; a message the cut
	// falls inside goes, with every message after it.
	keep, lastSeq := 0, uint64(0)
	for i, m := range msgs {
		if m.off+int64(len(m.data)) > cut {
			break
		}
		keep, lastSeq = i+1, m.seq
	}
	for _, m := range msgs[keep:] {
		if err := s.log.DeleteMsg(ctx, m.seq); err != nil {
			return tape.Scan{}, 0, fmt.Errorf("cut the damaged tail: %w", err)
		}
	}
	if kept := msgs[keep-1]; kept.off+int64(len(kept.data)) < sc.ValidSize || sc.Damage != nil {
		// Good frames went with a damaged message: scan what is left.
		end := kept.off + int64(len(kept.data))
		damage := sc.Damage
		if sc, err = tape.ScanTape(bytes.NewReader(all[:end]), end); err != nil {
			return tape.Scan{}, 0, err
		}
		sc.Damage = damage
	}
	if sc.Clean {
		sc.Clean, sc.ValidSize = false, sc.EndOffset
	}
	return sc, lastSeq, nil
}

// message is one log message, with its offset in the tape.
type message struct {
	seq  uint64
	off  int64
	data []byte
}

// messages reads a log's messages from stream sequence from to the log's
// last message (as it was when the read began), in order.
func (s *Store) messages(ctx context.Context, id string, from uint64) ([]message, error) {
	subj := s.subject(id)
	last, err := s.log.GetLastMsgForSubject(ctx, subj)
	if err != nil {
		return nil, notFound(err)
	}
	cons, err := s.log.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subj}, DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: max(from, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("read: consumer: %w", err)
	}
	var out []message
	var off int64
	for {
		batch, err := fetch(ctx, cons, s.opts.Timeout)
		if err != nil {
			return nil, fmt.Errorf("read: %w", err)
		}
		for m := range batch.Messages() {
			md, err := m.Metadata()
			if err != nil {
				return nil, fmt.Errorf("read: %w", err)
			}
			if at, ok := posOf(m.Headers()); ok {
				off = at.Offset
			} else if v, err := strconv.ParseInt(m.Headers().Get(hdrOffset), 10, 64); err == nil {
				off = v // a later part of a split write
			}
			out = append(out, message{seq: md.Sequence.Stream, off: off, data: m.Data()})
			off += int64(len(m.Data()))
			if md.Sequence.Stream >= last.Sequence {
				return out, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, nats.ErrNoResponders) {
			return nil, fmt.Errorf("read: %w", err)
		}
	}
}

// fetch asks an ordered consumer for its next messages. Right after the
// consumer is made, a cluster may not route its pulls yet ("no
// responders"): that is tried again until ctx ends.
func fetch(ctx context.Context, cons jetstream.Consumer, wait time.Duration) (jetstream.MessageBatch, error) {
	for {
		b, err := cons.Fetch(512, jetstream.FetchMaxWait(wait))
		if !errors.Is(err, nats.ErrNoResponders) {
			return b, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Read calls fn with every record of a log after from (rooms.LogStore).
func (s *Store) Read(id string, from rooms.LogPosition, fn func(rooms.LogRecord) error) error {
	if !validKey(id) {
		return fmt.Errorf("jetstream: read %q: %w", id, rooms.ErrNotFound)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*s.opts.Timeout)
	defer cancel()
	start := uint64(1)
	if from.Cursor > 0 {
		seq, found, err := s.seek(ctx, id, from.Cursor)
		if err != nil {
			return fmt.Errorf("jetstream: read %s: %w", id, err)
		}
		if !found {
			return nil // from is the log's end
		}
		start = seq
	}
	msgs, err := s.messages(ctx, id, start)
	if err != nil {
		return fmt.Errorf("jetstream: read %s: %w", id, err)
	}
	var buf []byte
	for _, m := range msgs {
		buf = append(buf, m.data...)
	}
	if from.Cursor <= 0 {
		h, start, err := tape.ReadHeader(bytes.NewReader(buf))
		if err != nil {
			return fmt.Errorf("jetstream: read %s: %w", id, err)
		}
		from = rooms.LogPosition{Tick: h.StartTick, Cursor: start}
	} else {
		if msgs[0].off != from.Cursor {
			return fmt.Errorf("jetstream: read %s: %w: no message starts at offset %d", id, rooms.ErrLogDamaged, from.Cursor)
		}
		from.Cursor = 0
	}
	if err := tape.ReadRecords(bytes.NewReader(buf), from, fn); err != nil {
		return fmt.Errorf("jetstream: read %s: %w", id, err)
	}
	return nil
}

// seek finds the message that starts at a tape offset: a binary search
// over the stream's sequence numbers, each step one direct get of the
// subject's next message at or after a sequence.
func (s *Store) seek(ctx context.Context, id string, off int64) (uint64, bool, error) {
	subj := s.subject(id)
	last, err := s.log.GetLastMsgForSubject(ctx, subj)
	if err != nil {
		return 0, false, notFound(err)
	}
	lo, hi := uint64(1), last.Sequence
	for lo <= hi {
		mid := lo + (hi-lo)/2
		m, err := s.log.GetMsg(ctx, mid, jetstream.WithGetMsgSubject(subj))
		if err != nil {
			return 0, false, err
		}
		o, err := strconv.ParseInt(m.Header.Get(hdrOffset), 10, 64)
		if err != nil {
			return 0, false, fmt.Errorf("%w: message %d has no offset", rooms.ErrLogDamaged, m.Sequence)
		}
		switch {
		case o == off && firstPart(m.Header):
			return m.Sequence, true, nil
		case o <= off:
			lo = m.Sequence + 1
		default:
			hi = mid - 1
		}
	}
	return 0, false, nil
}

// firstPart reports whether a message starts a write: it is whole, or
// the first part of a split one.
func firstPart(h nats.Header) bool {
	p := h.Get(hdrPart)
	return p == "" || strings.HasPrefix(p, "1/")
}

// posOf reads a message's position headers (not on a later part).
func posOf(h nats.Header) (tape.FramePos, bool) {
	var at tape.FramePos
	var err error
	get := func(k string) uint64 {
		if err != nil {
			return 0
		}
		var v uint64
		v, err = strconv.ParseUint(h.Get(k), 10, 64)
		return v
	}
	if !firstPart(h) {
		return at, false
	}
	at.Offset, at.Prev, at.Last, at.Records, at.First = int64(get(hdrOffset)), get(hdrPrev), get(hdrLast), int(get(hdrRecords)), get(hdrFirst)
	return at, err == nil
}

// notFound maps JetStream's "no message" to rooms.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, jetstream.ErrMsgNotFound) || apiCode(err) == jetstream.JSErrCodeMessageNotFound {
		return fmt.Errorf("%w: %w", rooms.ErrNotFound, err)
	}
	return err
}

// logWriter is a tape writer on a sink, which also keeps the log's
// summary (for listings) up to date when its position is taken and when
// it pauses or ends.
type logWriter struct {
	*tape.Writer
	s    *Store
	sink *sink
	sums summaries
}

func (w *logWriter) Position() (rooms.LogPosition, error) {
	pos, err := w.Writer.Position()
	if err == nil {
		w.s.putSummary(w, summaryOf(w.Writer, true, false))
	}
	return pos, err
}

func (w *logWriter) Pause() error {
	err := w.Writer.Pause()
	if err == nil {
		w.s.putSummary(w, summaryOf(w.Writer, false, false))
		w.waitSummary()
	}
	return err
}

func (w *logWriter) Close() error {
	err := w.Writer.Close()
	if err == nil {
		w.s.putSummary(w, summaryOf(w.Writer, false, true))
		w.waitSummary()
	}
	return err
}

var _ rooms.LogStore = (*Store)(nil)

// appendTimeout is how long a sink keeps retrying one append (with the
// same message id, so that a retry of an append that did land is not
// stored twice) before it gives up and fails the log.
const appendTimeout = 30 * time.Second
