package jetstream

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/tape"
	"github.com/tickroom/tickroom/state"
)

// Recordings: what each log holds, for the replays list, in the
// PREFIX_recordings bucket (one key per log), written by the log's writer
// when its position is taken (every checkpoint) and when it pauses or
// ends. The log itself is the truth; this is a summary of it that any node
// lists without reading logs.

// summary is a log's entry in the recordings bucket.
type summary struct {
	ID         string   `msgpack:"id"`
	RoomID     string   `msgpack:"roomId"`
	Type       string   `msgpack:"type"`
	TickRate   int      `msgpack:"tickRate"`
	StartedAt  int64    `msgpack:"startedAt"` // unix ms
	FirstTick  uint64   `msgpack:"firstTick"`
	LastTick   uint64   `msgpack:"lastTick"`
	Records    int      `msgpack:"records"`
	Keyframes  int      `msgpack:"keyframes"`
	Members    []string `msgpack:"members"`
	Size       int64    `msgpack:"size"`
	InProgress bool     `msgpack:"inProgress"`
	Clean      bool     `msgpack:"clean"`
	UpdatedAt  int64    `msgpack:"updatedAt"` // unix ms
}

// summaryOf describes what w has written (keyframes and members counted
// since w began; putSummary adds the log's earlier ones).
func summaryOf(w *tape.Writer, inProgress, clean bool) summary {
	h, p := w.Header(), w.Progress()
	return summary{ID: w.ID(), RoomID: h.RoomID, Type: h.Type, TickRate: h.TickRate, StartedAt: h.StartedAt.UnixMilli(),
		FirstTick: p.FirstTick, LastTick: p.LastTick, Records: p.Records, Keyframes: p.Keyframes, Members: p.Members,
		Size: p.Written, InProgress: inProgress, Clean: clean, UpdatedAt: time.Now().UnixMilli()}
}

// summaries is a writer's share of its log's summary: what the log held
// before the writer began, and the newest summary waiting to be written.
type summaries struct {
	mu      sync.Mutex
	base    *summary // the log's summary when the writer began (nil: a new log)
	loaded  bool
	next    *summary
	writing bool
	idle    *sync.Cond
}

// putSummary writes w's summary to the bucket in the background, newest
// first: a slower older write never overwrites a newer one. With wait, it
// returns once the summary is written.
func (s *Store) putSummary(w *logWriter, sum summary) {
	ss := &w.sums
	ss.mu.Lock()
	if ss.idle == nil {
		ss.idle = sync.NewCond(&ss.mu)
	}
	if !ss.loaded {
		ss.loaded = true
		if old, err := s.summary(sum.ID); err == nil {
			ss.base = &old
		}
	}
	if b := ss.base; b != nil {
		sum.Keyframes += b.Keyframes
		sum.StartedAt = b.StartedAt
		for _, m := range b.Members {
			if !slices.Contains(sum.Members, m) {
				sum.Members = append(sum.Members, m)
			}
		}
		if b.Records > 0 {
			sum.FirstTick = b.FirstTick
		}
	}
	ss.next = &sum
	if ss.writing {
		ss.mu.Unlock()
		return
	}
	ss.writing = true
	ss.mu.Unlock()
	go func() {
		for {
			ss.mu.Lock()
			next := ss.next
			ss.next = nil
			if next == nil {
				ss.writing = false
				ss.idle.Broadcast()
				ss.mu.Unlock()
				return
			}
			ss.mu.Unlock()
			if err := s.writeSummary(*next); err != nil {
				s.opts.Logger.Warn("recording's summary not stored: the replays list shows an older one", "recording", next.ID, "err", err)
			}
		}
	}()
}

// waitSummary waits until w's summaries are written.
func (w *logWriter) waitSummary() {
	ss := &w.sums
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for ss.writing {
		ss.idle.Wait()
	}
}

func (s *Store) writeSummary(sum summary) error {
	b, err := msgpack.Marshal(&sum)
	if err != nil {
		return err
	}
	ctx, cancel := s.ctx()
	defer cancel()
	_, err = s.recs.Put(ctx, sum.ID, b)
	return err
}

// summary reads a log's summary.
func (s *Store) summary(id string) (summary, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	e, err := s.recs.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return summary{}, fmt.Errorf("jetstream: recording %s: %w", id, tape.ErrNotFound)
	}
	if err != nil {
		return summary{}, fmt.Errorf("jetstream: recording %s: %w", id, err)
	}
	var sum summary
	if err := msgpack.Unmarshal(e.Value(), &sum); err != nil {
		return summary{}, fmt.Errorf("jetstream: recording %s: %w", id, err)
	}
	return sum, nil
}

// entryOf is a summary as the recordings API shows it.
func entryOf(sum summary) tape.Entry {
	started := time.UnixMilli(sum.StartedAt).UTC()
	var dur time.Duration
	if sum.TickRate > 0 && sum.LastTick >= sum.FirstTick {
		dur = time.Duration(sum.LastTick-sum.FirstTick) * time.Second / time.Duration(sum.TickRate)
	}
	return tape.Entry{ID: sum.ID, RoomID: sum.RoomID, Type: sum.Type, TickRate: sum.TickRate, StartedAt: started,
		FirstTick: sum.FirstTick, LastTick: sum.LastTick, Duration: dur, Size: sum.Size, ValidSize: sum.Size,
		Members: sum.Members, Keyframes: sum.Keyframes, InProgress: sum.InProgress, Clean: sum.Clean}
}

// ListRecordings returns every recording in the cluster, newest first.
func (s *Store) ListRecordings() ([]tape.Entry, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	w, err := s.recs.WatchAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("jetstream: list recordings: %w", err)
	}
	defer w.Stop()
	var out []tape.Entry
	for e := range w.Updates() {
		if e == nil {
			break
		}
		if e.Operation() != jetstream.KeyValuePut {
			continue
		}
		var sum summary
		if state.WellSized(e.Value()) != nil || msgpack.Unmarshal(e.Value(), &sum) != nil {
			continue
		}
		out = append(out, entryOf(sum))
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("jetstream: list recordings: %w", ctx.Err())
	}
	slices.SortFunc(out, func(a, b tape.Entry) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// GetRecording describes one recording.
func (s *Store) GetRecording(id string) (tape.Entry, error) {
	if !validKey(id) {
		return tape.Entry{}, fmt.Errorf("jetstream: recording %q: %w", id, tape.ErrNotFound)
	}
	sum, err := s.summary(id)
	if err != nil {
		return tape.Entry{}, err
	}
	return entryOf(sum), nil
}

// Tape reads a recording's bytes: the log's messages, in order, as the
// tape file they make together.
func (s *Store) Tape(id string) (io.ReadSeekCloser, int64, error) {
	if !validKey(id) {
		return nil, 0, fmt.Errorf("jetstream: recording %q: %w", id, tape.ErrNotFound)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*s.opts.Timeout)
	defer cancel()
	msgs, err := s.messages(ctx, id, 1)
	if errors.Is(err, rooms.ErrNotFound) {
		return nil, 0, fmt.Errorf("jetstream: recording %s: %w", id, tape.ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("jetstream: recording %s: %w", id, err)
	}
	var b []byte
	for _, m := range msgs {
		b = append(b, m.data...)
	}
	return nopCloser{bytes.NewReader(b)}, int64(len(b)), nil
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// DeleteRecording deletes a finished recording: its log and its summary.
func (s *Store) DeleteRecording(id string) error {
	sum, err := s.summary(id)
	if err != nil {
		return err
	}
	if sum.InProgress {
		return tape.ErrInProgress
	}
	if used, _ := s.HasLog(id); used {
		return tape.ErrInUse
	}
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.log.Purge(ctx, jetstream.WithPurgeSubject(s.subject(id))); err != nil {
		return fmt.Errorf("jetstream: delete recording %s: %w", id, err)
	}
	if err := s.recs.Delete(ctx, id); err != nil {
		return fmt.Errorf("jetstream: delete recording %s: %w", id, err)
	}
	return nil
}

// Recordings is the store as the recordings API reads it (its Get and
// Delete are the directory's, so the API's are renamed here).
func (s *Store) Recordings() RecordingStore { return RecordingStore{s} }

// RecordingStore is a Store's recordings (server.Recordings).
type RecordingStore struct{ s *Store }

func (r RecordingStore) List() ([]tape.Entry, error)                      { return r.s.ListRecordings() }
func (r RecordingStore) Get(id string) (tape.Entry, error)                { return r.s.GetRecording(id) }
func (r RecordingStore) Delete(id string) error                           { return r.s.DeleteRecording(id) }
func (r RecordingStore) Tape(id string) (io.ReadSeekCloser, int64, error) { return r.s.Tape(id) }
