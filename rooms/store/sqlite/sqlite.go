// Package sqlite keeps the room directory and rooms' checkpoints in one
// embedded SQLite database (modernc.org/sqlite: pure Go, so the binary
// stays cgo-free). Every write is a transaction, so a crash, a full disk
// or a read-only directory never leaves a half-written row or checkpoint
// visible. The database runs in WAL mode with synchronous=NORMAL: a
// process crash (kill -9) loses nothing that was committed; a power cut
// may lose the last commits, never the database.
//
// With 100,000 rooms asleep, finding one by id is one primary-key lookup
// and listing the lobby reads an index in order (docs/BENCHMARKS.md).
package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"

	"github.com/tickroom/tickroom/rooms"
)

// schemaVersion is the layout this package writes (PRAGMA user_version).
const schemaVersion = 1

const schema = `
CREATE TABLE IF NOT EXISTS rooms (
	id          TEXT PRIMARY KEY,
	type        TEXT NOT NULL,
	options     BLOB NOT NULL,   -- JSON, as the creator gave them
	public      INTEGER NOT NULL,
	max_players INTEGER NOT NULL,
	seed        INTEGER NOT NULL, -- the uint64's bits
	secret      BLOB NOT NULL,
	state       TEXT NOT NULL,
	created_at  INTEGER NOT NULL, -- unix ms
	last_active INTEGER NOT NULL, -- unix ms
	log_id      TEXT NOT NULL,
	tick        INTEGER NOT NULL,
	players     INTEGER NOT NULL,
	member_reserve INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rooms_by_activity ON rooms (last_active DESC, id);
CREATE INDEX IF NOT EXISTS rooms_public_by_activity ON rooms (public, last_active DESC, id);
CREATE INDEX IF NOT EXISTS rooms_by_state ON rooms (state, type, last_active);
CREATE INDEX IF NOT EXISTS rooms_by_log ON rooms (log_id);
CREATE TABLE IF NOT EXISTS checkpoints (
	room TEXT NOT NULL,
	tick INTEGER NOT NULL,
	data BLOB NOT NULL,
	PRIMARY KEY (room, tick)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value BLOB NOT NULL
) WITHOUT ROWID;
`

// keptCheckpoints is how many checkpoints per room are kept.
const keptCheckpoints = 2

// Store is the directory and checkpoint store in one SQLite file. Its
// methods are safe for concurrent use.
type Store struct {
	db   *sql.DB
	path string
}

var (
	_ rooms.Directory       = (*Store)(nil)
	_ rooms.CheckpointStore = (*Store)(nil)
)

// Open opens (creating if needed) the database at path. A file that is not
// a tickroom database, or one from a newer tickroom, is an error naming it.
func Open(path string) (*Store, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(NORMAL)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(4)
	s := &Store{db: db, path: path}
	if err := s.migrate(); err != nil {
		_ = db.Close() // the migration error is the one to report
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) migrate() error {
	var v int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("read the version (is it a database?): %w", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("layout version %d is newer than this build's %d", v, schemaVersion)
	}
	if _, err := s.db.Exec(schema); err != nil {
		return fmt.Errorf("create tables: %w", err)
	}
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion)); err != nil {
		return fmt.Errorf("set the version: %w", err)
	}
	return nil
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", s.path, err)
	}
	return nil
}

// Put implements rooms.Directory.
func (s *Store) Put(r rooms.RoomRecord) error {
	opts, err := json.Marshal(r.Options)
	if err != nil {
		return fmt.Errorf("sqlite: put %s: options: %w", r.ID, err)
	}
	_, err = s.db.Exec(`INSERT OR REPLACE INTO rooms
		(id, type, options, public, max_players, seed, secret, state, created_at, last_active, log_id, tick, players, member_reserve)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Type, opts, r.Public, r.MaxPlayers, int64(r.Seed), r.Secret, string(r.State),
		r.CreatedAt.UnixMilli(), r.LastActive.UnixMilli(), r.LogID, int64(r.Tick), r.Players, int64(r.MemberReserve))
	if err != nil {
		return fmt.Errorf("sqlite: put %s: %w", r.ID, err)
	}
	return nil
}

const columns = `id, type, options, public, max_players, seed, secret, state, created_at, last_active, log_id, tick, players, member_reserve`

type scanner interface{ Scan(dest ...any) error }

func scanRow(sc scanner) (rooms.RoomRecord, error) {
	var r rooms.RoomRecord
	var opts []byte
	var seed, created, active, tick, reserve int64
	var st string
	if err := sc.Scan(&r.ID, &r.Type, &opts, &r.Public, &r.MaxPlayers, &seed, &r.Secret, &st, &created, &active,
		&r.LogID, &tick, &r.Players, &reserve); err != nil {
		return r, err
	}
	r.MemberReserve = uint32(reserve)
	if err := json.Unmarshal(opts, &r.Options); err != nil {
		return r, fmt.Errorf("room %s: options: %w", r.ID, err)
	}
	r.Seed, r.Tick, r.State = uint64(seed), uint64(tick), rooms.RoomState(st)
	r.CreatedAt, r.LastActive = time.UnixMilli(created), time.UnixMilli(active)
	return r, nil
}

// Get implements rooms.Directory.
func (s *Store) Get(id string) (rooms.RoomRecord, error) {
	r, err := scanRow(s.db.QueryRow(`SELECT `+columns+` FROM rooms WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fmt.Errorf("sqlite: room %s: %w", id, rooms.ErrNotFound)
	}
	if err != nil {
		return r, fmt.Errorf("sqlite: get %s: %w", id, err)
	}
	return r, nil
}

// Delete implements rooms.Directory.
func (s *Store) Delete(id string) error {
	if _, err := s.db.Exec(`DELETE FROM rooms WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: delete %s: %w", id, err)
	}
	return nil
}

// List implements rooms.Directory.
func (s *Store) List(q rooms.DirectoryQuery) ([]rooms.RoomRecord, error) {
	var where []string
	var args []any
	if q.State != "" {
		where, args = append(where, "state = ?"), append(args, string(q.State))
	}
	if q.PublicOnly {
		where = append(where, "public = 1")
	}
	if q.Type != "" {
		where, args = append(where, "type = ?"), append(args, q.Type)
	}
	if !q.ActiveBefore.IsZero() {
		where, args = append(where, "last_active < ?"), append(args, q.ActiveBefore.UnixMilli())
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	query := `SELECT ` + columns + ` FROM rooms`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY last_active DESC, id LIMIT ?"
	rows, err := s.db.Query(query, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list: %w", err)
	}
	defer rows.Close()
	var out []rooms.RoomRecord
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list: %w", err)
	}
	return out, nil
}

// Count implements rooms.Directory.
func (s *Store) Count(st rooms.RoomState) (int, error) {
	var n int
	var err error
	if st == "" {
		err = s.db.QueryRow(`SELECT count(*) FROM rooms`).Scan(&n)
	} else {
		err = s.db.QueryRow(`SELECT count(*) FROM rooms WHERE state = ?`, string(st)).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: count: %w", err)
	}
	return n, nil
}

// HasLog implements rooms.Directory.
func (s *Store) HasLog(logID string) (bool, error) {
	var one int
	err := s.db.QueryRow(`SELECT 1 FROM rooms WHERE log_id = ? LIMIT 1`, logID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("sqlite: has log %s: %w", logID, err)
	}
	return true, nil
}

// SaveCheckpoint implements rooms.CheckpointStore: the new checkpoint and
// the pruning of older ones are one transaction.
func (s *Store) SaveCheckpoint(room string, tick uint64, data []byte) error {
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("sqlite: checkpoint %s: %w", room, err)
	}
	defer func() { _ = tx.Rollback() }() // after Commit: a no-op
	if _, err := tx.Exec(`INSERT OR REPLACE INTO checkpoints (room, tick, data) VALUES (?, ?, ?)`, room, int64(tick), data); err != nil {
		return fmt.Errorf("sqlite: checkpoint %s at %d: %w", room, tick, err)
	}
	if _, err := tx.Exec(`DELETE FROM checkpoints WHERE room = ? AND tick NOT IN
		(SELECT tick FROM checkpoints WHERE room = ? ORDER BY tick DESC LIMIT ?)`, room, room, keptCheckpoints); err != nil {
		return fmt.Errorf("sqlite: checkpoint %s: prune: %w", room, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: checkpoint %s at %d: commit: %w", room, tick, err)
	}
	return nil
}

// LoadCheckpoints implements rooms.CheckpointStore.
func (s *Store) LoadCheckpoints(room string, fn func(uint64, []byte) bool) error {
	rows, err := s.db.Query(`SELECT tick, data FROM checkpoints WHERE room = ? ORDER BY tick DESC`, room)
	if err != nil {
		return fmt.Errorf("sqlite: load checkpoints %s: %w", room, err)
	}
	type cp struct {
		tick int64
		data []byte
	}
	var all []cp
	for rows.Next() {
		var c cp
		if err := rows.Scan(&c.tick, &c.data); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: load checkpoints %s: %w", room, err)
		}
		all = append(all, c)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return fmt.Errorf("sqlite: load checkpoints %s: %w", room, err)
	}
	rows.Close() // before fn runs: it may take a while, and holds nothing of ours
	for _, c := range all {
		if fn(uint64(c.tick), c.data) {
			return nil
		}
	}
	return nil
}

// DeleteCheckpoints implements rooms.CheckpointStore.
func (s *Store) DeleteCheckpoints(room string) error {
	if _, err := s.db.Exec(`DELETE FROM checkpoints WHERE room = ?`, room); err != nil {
		return fmt.Errorf("sqlite: delete checkpoints %s: %w", room, err)
	}
	return nil
}

// Meta returns the value stored under key, creating it with make when
// there is none (the node's persistent secrets).
func (s *Store) Meta(key string, make func() []byte) ([]byte, error) {
	var v []byte
	err := s.db.QueryRow(`SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: meta %s: %w", key, err)
	}
	v = make()
	if _, err := s.db.Exec(`INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)`, key, v); err != nil {
		return nil, fmt.Errorf("sqlite: meta %s: %w", key, err)
	}
	return s.Meta(key, make)
}
