// Package mem keeps rooms' directory, checkpoints and logs in memory: the
// stores of a durable room without a disk, for tests of the room's life
// (sleep, wake, stop) that need no files. It passes the same conformance
// suite (rooms/store/storetest) as the disk backends. Everything is lost
// with the process.
package mem

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/tickroom/tickroom/rooms"
)

// Store is a Directory, CheckpointStore and LogStore in memory. The zero
// value is not usable: call New.
type Store struct {
	mu   sync.Mutex
	rows map[string]rooms.RoomRecord
	cps  map[string][]checkpoint // newest first
	logs map[string]*memLog
	next int
}

type checkpoint struct {
	tick uint64
	data []byte
}

// memLog is one room's log: its records in order.
type memLog struct {
	header  rooms.RecordingHeader
	records []record
	ended   bool
	open    bool
}

type record struct {
	kind  byte // 'k' keyframe, 't' tick, 'e' event
	tick  uint64
	ops   []rooms.Op
	bytes []byte
}

var (
	_ rooms.Directory       = (*Store)(nil)
	_ rooms.CheckpointStore = (*Store)(nil)
	_ rooms.LogStore        = (*Store)(nil)
)

// New returns an empty store.
func New() *Store {
	return &Store{rows: make(map[string]rooms.RoomRecord), cps: make(map[string][]checkpoint), logs: make(map[string]*memLog)}
}

// Put implements rooms.Directory.
func (s *Store) Put(rec rooms.RoomRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec.Secret = slices.Clone(rec.Secret)
	s.rows[rec.ID] = rec
	return nil
}

// Get implements rooms.Directory.
func (s *Store) Get(id string) (rooms.RoomRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.rows[id]
	if !ok {
		return rooms.RoomRecord{}, fmt.Errorf("mem: room %s: %w", id, rooms.ErrNotFound)
	}
	return rec, nil
}

// Delete implements rooms.Directory.
func (s *Store) Delete(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.rows, id)
	return nil
}

// List implements rooms.Directory.
func (s *Store) List(q rooms.DirectoryQuery) ([]rooms.RoomRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []rooms.RoomRecord
	for _, rec := range s.rows {
		if (q.State == "" || rec.State == q.State) && (!q.PublicOnly || rec.Public) && (q.Type == "" || rec.Type == q.Type) &&
			(q.ActiveBefore.IsZero() || rec.LastActive.Before(q.ActiveBefore)) {
			out = append(out, rec)
		}
	}
	slices.SortFunc(out, func(a, b rooms.RoomRecord) int {
		if c := b.LastActive.Compare(a.LastActive); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	return out[:min(len(out), limit)], nil
}

// Count implements rooms.Directory.
func (s *Store) Count(state rooms.RoomState) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, rec := range s.rows {
		if state == "" || rec.State == state {
			n++
		}
	}
	return n, nil
}

// HasLog implements rooms.Directory.
func (s *Store) HasLog(id string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rec := range s.rows {
		if rec.LogID == id {
			return true, nil
		}
	}
	return false, nil
}

// keptCheckpoints is how many checkpoints per room the store keeps.
const keptCheckpoints = 2

// SaveCheckpoint implements rooms.CheckpointStore.
func (s *Store) SaveCheckpoint(room string, tick uint64, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cps := append(s.cps[room], checkpoint{tick, slices.Clone(data)})
	slices.SortStableFunc(cps, func(a, b checkpoint) int { return cmp.Compare(b.tick, a.tick) })
	s.cps[room] = cps[:min(len(cps), keptCheckpoints)]
	return nil
}

// LoadCheckpoints implements rooms.CheckpointStore.
func (s *Store) LoadCheckpoints(room string, fn func(uint64, []byte) bool) error {
	s.mu.Lock()
	cps := slices.Clone(s.cps[room])
	s.mu.Unlock()
	for _, c := range cps {
		if fn(c.tick, slices.Clone(c.data)) {
			return nil
		}
	}
	return nil
}

// DeleteCheckpoints implements rooms.CheckpointStore.
func (s *Store) DeleteCheckpoints(room string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.cps, room)
	return nil
}

// Clone returns a copy of the store as it is now, as a crash would leave
// it for the next process: every log is closed where it ends.
func (s *Store) Clone() *Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := New()
	c.next = s.next
	for id, r := range s.rows {
		r.Secret = slices.Clone(r.Secret)
		c.rows[id] = r
	}
	for id, cps := range s.cps {
		c.cps[id] = slices.Clone(cps)
	}
	for id, l := range s.logs {
		cl := *l
		cl.records, cl.open = slices.Clone(l.records), false
		c.logs[id] = &cl
	}
	return c
}

// Damage replaces the bytes of a room's newest checkpoint, as a disk
// might: for tests of a wake that must skip it.
func (s *Store) Damage(room string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cps := s.cps[room]; len(cps) > 0 {
		cps[0].data = data
	}
}

// Create implements rooms.LogStore.
func (s *Store) Create(h rooms.RecordingHeader) (rooms.LogWriter, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	id := "mem-" + strconv.Itoa(s.next)
	s.logs[id] = &memLog{header: h, open: true}
	return &writer{s: s, id: id}, nil
}

// Continue implements rooms.LogStore.
func (s *Store) Continue(id string) (rooms.LogWriter, rooms.LogEnd, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.logs[id]
	switch {
	case !ok:
		return nil, rooms.LogEnd{}, fmt.Errorf("mem: log %s: %w", id, rooms.ErrNotFound)
	case l.open:
		return nil, rooms.LogEnd{}, fmt.Errorf("mem: log %s is being written", id)
	}
	l.open, l.ended = true, false
	return &writer{s: s, id: id}, rooms.LogEnd{LogPosition: l.end(), Header: l.header}, nil
}

// Read implements rooms.LogStore.
func (s *Store) Read(id string, from rooms.LogPosition, fn func(rooms.LogRecord) error) error {
	s.mu.Lock()
	l, ok := s.logs[id]
	var recs []record
	if ok {
		recs = slices.Clone(l.records[min(int(from.Cursor), len(l.records)):])
	}
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("mem: log %s: %w", id, rooms.ErrNotFound)
	}
	for _, r := range recs {
		var lr rooms.LogRecord
		switch r.kind {
		case 't':
			lr = rooms.LogRecord{Tick: r.tick, IsTick: true, Ops: slices.Clone(r.ops)}
		case 'e':
			lr = rooms.LogRecord{Tick: r.tick, Event: slices.Clone(r.bytes)}
		default:
			continue
		}
		if err := fn(lr); err != nil {
			return err
		}
	}
	return nil
}

// Ended reports whether a log has its end (the room's life ended).
func (s *Store) Ended(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.logs[id]
	return l != nil && l.ended
}

func (l *memLog) end() rooms.LogPosition {
	pos := rooms.LogPosition{Tick: l.header.StartTick, Cursor: int64(len(l.records))}
	if n := len(l.records); n > 0 {
		pos.Tick = l.records[n-1].tick
	}
	return pos
}

// writer appends to a memLog.
type writer struct {
	s      *Store
	id     string
	closed bool
}

func (w *writer) add(r record) error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.closed {
		return fmt.Errorf("mem: log %s: writer closed", w.id)
	}
	l := w.s.logs[w.id]
	l.records = append(l.records, r)
	return nil
}

func (w *writer) Keyframe(tick uint64, snap []byte) error {
	return w.add(record{kind: 'k', tick: tick, bytes: slices.Clone(snap)})
}

func (w *writer) Tick(tick uint64, ops []rooms.Op, delta []byte) error {
	cp := make([]rooms.Op, len(ops))
	for i, op := range ops {
		op.Payload = slices.Clone(op.Payload)
		cp[i] = op
	}
	return w.add(record{kind: 't', tick: tick, ops: cp, bytes: slices.Clone(delta)})
}

func (w *writer) Event(tick uint64, ev []byte) error {
	return w.add(record{kind: 'e', tick: tick, bytes: slices.Clone(ev)})
}

func (w *writer) ID() string { return w.id }

func (w *writer) Position() (rooms.LogPosition, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.logs[w.id].end(), nil
}

func (w *writer) Sync() error  { return nil }
func (w *writer) Pause() error { return w.finish(false) }
func (w *writer) Close() error { return w.finish(true) }

func (w *writer) finish(end bool) error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.closed {
		return nil
	}
	w.closed = true
	l := w.s.logs[w.id]
	l.open, l.ended = false, end
	return nil
}
