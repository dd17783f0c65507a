package jetstream

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms/tape"
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
