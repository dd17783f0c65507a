package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// The directory: one key per room in the PREFIX_rooms bucket, its value
// the row in MessagePack. Get reads the bucket (the truth); List, Count
// and HasLog read an index of every row that each node keeps in memory by
// following the bucket (a watch), so that the lobby costs no request.
// A node's own writes enter its index at once (read your writes); the
// others' arrive within the watch's delivery time.

// wireRow is a room's row as stored.
type wireRow struct {
	ID            string         `msgpack:"id"`
	Type          string         `msgpack:"type"`
	Options       map[string]any `msgpack:"options"`
	Public        bool           `msgpack:"public"`
	MaxPlayers    int            `msgpack:"maxPlayers"`
	Seed          uint64         `msgpack:"seed"`
	Secret        []byte         `msgpack:"secret"`
	State         string         `msgpack:"state"`
	CreatedAt     int64          `msgpack:"createdAt"`  // unix ms
	LastActive    int64          `msgpack:"lastActive"` // unix ms
	LogID         string         `msgpack:"logId"`
	Tick          uint64         `msgpack:"tick"`
	Players       int            `msgpack:"players"`
	MemberReserve uint32         `msgpack:"memberReserve"`
}

func encodeRow(r rooms.RoomRecord) ([]byte, error) {
	return msgpack.Marshal(&wireRow{ID: r.ID, Type: r.Type, Options: r.Options, Public: r.Public, MaxPlayers: r.MaxPlayers,
		Seed: r.Seed, Secret: r.Secret, State: string(r.State), CreatedAt: r.CreatedAt.UnixMilli(),
		LastActive: r.LastActive.UnixMilli(), LogID: r.LogID, Tick: r.Tick, Players: r.Players, MemberReserve: r.MemberReserve})
}

func decodeRow(b []byte) (rooms.RoomRecord, error) {
	var w wireRow
	if err := state.WellSized(b); err != nil {
		return rooms.RoomRecord{}, err
	}
	if err := msgpack.Unmarshal(b, &w); err != nil {
		return rooms.RoomRecord{}, err
	}
	return rooms.RoomRecord{ID: w.ID, Type: w.Type, Options: w.Options, Public: w.Public, MaxPlayers: w.MaxPlayers,
		Seed: w.Seed, Secret: w.Secret, State: rooms.RoomState(w.State), CreatedAt: time.UnixMilli(w.CreatedAt).UTC(),
		LastActive: time.UnixMilli(w.LastActive).UTC(), LogID: w.LogID, Tick: w.Tick, Players: w.Players,
		MemberReserve: w.MemberReserve}, nil
}

// directory is a node's index of the rooms bucket.
type directory struct {
	log  *slog.Logger
	mu   sync.RWMutex
	rows map[string]indexed
	sets int // since the last sweep of old tombstones
}

// tombstoneAge is how long a deleted row's tombstone is kept: long enough
// for any put from before the delete to have arrived through the watch.
const tombstoneAge = 10 * time.Minute

// indexed is a row at a revision; a deleted row stays as a tombstone
// (deleted) so that an older update arriving late cannot bring it back.
type indexed struct {
	rec     rooms.RoomRecord
	rev     uint64
	deleted bool
	at      time.Time // when a tombstone was made
}

// followDirectory loads every row (ctx bounds that) and follows the
// bucket until run ends.
func followDirectory(ctx, run context.Context, kv jetstream.KeyValue, log *slog.Logger) (*directory, error) {
	d := &directory{log: log, rows: make(map[string]indexed)}
	w, err := kv.WatchAll(run, jetstream.IncludeHistory())
	if err != nil {
		return nil, fmt.Errorf("jetstream: watch the directory: %w", err)
	}
	loaded := make(chan struct{})
	go func() {
		defer w.Stop()
		initial := true
		for e := range w.Updates() {
			if e == nil { // every row that existed is in
				if initial {
					initial = false
					close(loaded)
				}
				continue
			}
			d.apply(e)
		}
		if initial {
			close(loaded)
		}
	}()
	select {
	case <-loaded:
		return d, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("jetstream: load the directory: %w", ctx.Err())
	}
}

// apply enters a watched change into the index.
func (d *directory) apply(e jetstream.KeyValueEntry) {
	if e.Operation() != jetstream.KeyValuePut {
		d.set(e.Key(), indexed{rev: e.Revision(), deleted: true})
		return
	}
	rec, err := decodeRow(e.Value())
	if err != nil {
		d.log.Warn("directory row not readable: left out of listings", "room", e.Key(), "err", err)
		d.set(e.Key(), indexed{rev: e.Revision(), deleted: true})
		return
	}
	d.set(e.Key(), indexed{rec: rec, rev: e.Revision()})
}

// set enters a row at its revision unless the index has a newer one.
func (d *directory) set(id string, x indexed) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.rows[id]; ok && old.rev >= x.rev {
		return
	}
	if x.deleted {
		x.at = time.Now()
	}
	d.rows[id] = x
	if d.sets++; d.sets >= 4096 {
		d.sets = 0
		cutoff := time.Now().Add(-tombstoneAge)
		for k, v := range d.rows {
			if v.deleted && v.at.Before(cutoff) {
				delete(d.rows, k)
			}
		}
	}
}

// Put stores a room's row (rooms.Directory).
func (s *Store) Put(rec rooms.RoomRecord) error {
	if !validKey(rec.ID) {
		return fmt.Errorf("jetstream: put row %q: not a valid room id", rec.ID)
	}
	b, err := encodeRow(rec)
	if err != nil {
		return fmt.Errorf("jetstream: put row %s: %w", rec.ID, err)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	rev, err := s.rows.Put(ctx, rec.ID, b)
	if err != nil {
		return fmt.Errorf("jetstream: put row %s: %w", rec.ID, err)
	}
	s.dir.set(rec.ID, indexed{rec: rec, rev: rev})
	return nil
}

// Get reads a room's row from the bucket (rooms.Directory).
func (s *Store) Get(id string) (rooms.RoomRecord, error) {
	if !validKey(id) {
		return rooms.RoomRecord{}, fmt.Errorf("jetstream: row %q: %w", id, rooms.ErrNotFound)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	// From the bucket's leader: a replica may not have a row just put yet.
	v, rev, found, err := KVGet(ctx, s.nc, s.opts.Prefix+"_rooms", id)
	if err != nil {
		return rooms.RoomRecord{}, fmt.Errorf("jetstream: row %s: %w", id, err)
	}
	if !found {
		return rooms.RoomRecord{}, fmt.Errorf("jetstream: row %s: %w", id, rooms.ErrNotFound)
	}
	rec, err := decodeRow(v)
	if err != nil {
		return rooms.RoomRecord{}, fmt.Errorf("jetstream: row %s: %w", id, err)
	}
	s.dir.set(id, indexed{rec: rec, rev: rev})
	return rec, nil
}

// Delete removes a room's row (rooms.Directory).
func (s *Store) Delete(id string) error {
	if !validKey(id) {
		return nil
	}
	ctx, cancel := s.ctx()
	defer cancel()
	e, err := s.rows.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrKeyDeleted) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("jetstream: delete row %s: %w", id, err)
	}
	if err := s.rows.Delete(ctx, id); err != nil {
		return fmt.Errorf("jetstream: delete row %s: %w", id, err)
	}
	// The delete's own revision is above the put it deletes: a tombstone
	// one above keeps that put (arriving late through the watch) out of
	// the index, and lets the watched delete and anything newer in.
	s.dir.set(id, indexed{rev: e.Revision() + 1, deleted: true})
	return nil
}

// List returns the rows that match q, most recently active first, from
// the node's index (rooms.Directory).
func (s *Store) List(q rooms.DirectoryQuery) ([]rooms.RoomRecord, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	var out []rooms.RoomRecord
	s.dir.mu.RLock()
	for _, x := range s.dir.rows {
		r := x.rec
		if x.deleted || (q.State != "" && r.State != q.State) || (q.PublicOnly && !r.Public) ||
			(q.Type != "" && r.Type != q.Type) || (!q.ActiveBefore.IsZero() && !r.LastActive.Before(q.ActiveBefore)) {
			continue
		}
		out = append(out, r)
	}
	s.dir.mu.RUnlock()
	slices.SortFunc(out, func(a, b rooms.RoomRecord) int {
		if c := b.LastActive.Compare(a.LastActive); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// Count returns how many rooms are in a state ("" for all) (rooms.Directory).
func (s *Store) Count(st rooms.RoomState) (int, error) {
	s.dir.mu.RLock()
	defer s.dir.mu.RUnlock()
	n := 0
	for _, x := range s.dir.rows {
		if !x.deleted && (st == "" || x.rec.State == st) {
			n++
		}
	}
	return n, nil
}

// HasLog reports whether some room's row names the log (rooms.Directory).
func (s *Store) HasLog(logID string) (bool, error) {
	s.dir.mu.RLock()
	defer s.dir.mu.RUnlock()
	for _, x := range s.dir.rows {
		if !x.deleted && x.rec.LogID == logID {
			return true, nil
		}
	}
	return false, nil
}

// validKey reports whether id can be a key of a bucket (and a part of a
// subject): room ids and log ids always are.
func validKey(id string) bool {
	if id == "" || len(id) > 200 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

var _ rooms.Directory = (*Store)(nil)
