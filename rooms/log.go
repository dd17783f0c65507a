package rooms

import (
	"errors"
	"time"
)

// A room is its log; memory is a cache of it. Three stores hold a durable
// room, each an interface here with its backends in their own packages
// (docs/ARCHITECTURE.md, "The room's life"):
//
//   - LogStore: the room's log, the ops of every tick in order beside the
//     broadcast stream (the recording). tape.Store keeps it in tape files.
//   - CheckpointStore: checkpoints of the room's state, so that a wake
//     re-runs only the log after the newest one. store/sqlite keeps them.
//   - Directory: one row per room (type, options, visibility, state, times),
//     to find, list, wake and expire rooms without loading them.
//     store/sqlite keeps it.
//
// Every backend passes the conformance suite in rooms/store/storetest.

// Errors a store returns, for errors.Is.
var (
	// ErrNotFound: no room (or log, or checkpoint) with this id.
	ErrNotFound = errors.New("not found")
	// ErrLogDamaged: a log's records stop being readable before its end.
	ErrLogDamaged = errors.New("room log damaged")
	// ErrFenced: a log refused an append because someone else appended
	// since this writer's last (another node took the room over): the
	// writer's room must stop at once.
	ErrFenced = errors.New("room log taken over by another writer")
)

// LogPosition is a place in a room's log: just after the record of Tick.
// Cursor is the backend's own position (a tape's byte offset, a stream's
// sequence number); the zero LogPosition is the start of the log.
type LogPosition struct {
	Tick   uint64 `msgpack:"t"`
	Cursor int64  `msgpack:"c"`
}

// LogRecord is one record of a log as a wake re-runs it: a tick (Ops are
// the ops applied during it, in order; none for a quiet tick) or an event
// message that followed Tick.
type LogRecord struct {
	Tick   uint64
	IsTick bool
	Ops    []Op
	Event  []byte
}

// LogWriter appends to one room's log. The room calls it on its own
// goroutine only.
type LogWriter interface {
	Recorder
	// ID names the log (GET /api/recordings/{id}).
	ID() string
	// Position writes out what is buffered and returns where the log ends:
	// a checkpoint taken now names it, and a wake re-runs from there.
	Position() (LogPosition, error)
	// Sync makes what Position last returned durable (fsync); it may be
	// called from another goroutine than the room's, and fails harmlessly
	// on a writer that was paused or closed since.
	Sync() error
	// Pause writes out, syncs and closes the writer without ending the log:
	// the room sleeps or its process stops, and LogStore.Continue picks the
	// log up again. Close, in contrast, ends the log with the room's life.
	Pause() error
}

// LogStore keeps rooms' logs.
type LogStore interface {
	// Create starts the log of a new room.
	Create(h RecordingHeader) (LogWriter, error)
	// Continue opens an existing log for appending after its last good
	// record. A damaged tail (a crash cut a record, or the bytes are
	// corrupt) is cut off and reported in LogEnd.Damage; nothing before it
	// is touched. ErrNotFound when there is no such log.
	Continue(id string) (LogWriter, LogEnd, error)
	// Read calls fn with every record after from, in order, until the end
	// of the log or fn's first error. A damaged record ends the read with
	// an error wrapping ErrLogDamaged, after every good record before it.
	Read(id string, from LogPosition, fn func(LogRecord) error) error
}

// LogEnd is where a continued log ends.
type LogEnd struct {
	LogPosition
	// Header is the log's header.
	Header RecordingHeader
	// Damage describes the tail that was cut off, or is nil.
	Damage error
}

// CheckpointStore keeps checkpoints of rooms' state.
type CheckpointStore interface {
	// SaveCheckpoint stores a room's checkpoint (EncodeCheckpoint's bytes)
	// taken at tick. It is atomic: a reader sees all of it or none, even
	// after a crash or on a full disk. The store keeps at least the two
	// newest, so that a damaged newest one still leaves one to wake from.
	SaveCheckpoint(room string, tick uint64, data []byte) error
	// LoadCheckpoints calls fn with the room's checkpoints, newest first,
	// until fn returns true (it found a good one) or they run out.
	LoadCheckpoints(room string, fn func(tick uint64, data []byte) (done bool)) error
	// DeleteCheckpoints forgets every checkpoint of a room.
	DeleteCheckpoints(room string) error
}

// RoomState is where a room is in its life.
type RoomState string

// Room states (docs/ARCHITECTURE.md, "The room's life").
const (
	// StateLive: the room runs (or ran, when its process stopped or died:
	// the next process wakes it at start).
	StateLive RoomState = "live"
	// StateDormant: the room sleeps: no goroutine, no memory, only its
	// stores. A join wakes it.
	StateDormant RoomState = "dormant"
	// StateFailed: the room stopped because its handler panicked in a
	// tick. It is kept as it was before that tick and not woken by joins
	// (a re-run would fail the same way); the next process (a fixed build)
	// tries to wake it at start.
	StateFailed RoomState = "failed"
)

// RoomRecord is a room's row in the directory.
type RoomRecord struct {
	ID         string
	Type       string
	Options    map[string]any // as the creator gave them
	Public     bool
	MaxPlayers int
	Seed       uint64
	// Secret derives the room's resume tokens (seatToken); it never
	// leaves the server.
	Secret     []byte
	State      RoomState
	CreatedAt  time.Time
	LastActive time.Time // when the room last had a member (or was created)
	LogID      string    // the room's log, "" when it is not recorded
	Tick       uint64    // the last tick known to the directory
	Players    int       // seats at the last update (a dormant room has none)
	// MemberReserve is the highest member number the room may have given
	// out: a wake starts numbering above it, so that a number given out in
	// a log tail a crash lost is never given to someone else (the resume
	// token is derived from the number).
	MemberReserve uint32
}

// DirectoryQuery selects rooms to list.
type DirectoryQuery struct {
	State      RoomState // "" for any
	PublicOnly bool
	// Type, when not empty, selects one room type.
	Type string
	// ActiveBefore, when not zero, selects rooms last active before it.
	ActiveBefore time.Time
	// Limit is the most rows returned (0: the store's default, 100).
	Limit int
}

// Directory is the durable list of rooms.
type Directory interface {
	// Put inserts or replaces a room's row.
	Put(rec RoomRecord) error
	// Get returns a room's row, or an error wrapping ErrNotFound.
	Get(id string) (RoomRecord, error)
	// Delete removes a room's row (nothing happens if there is none).
	Delete(id string) error
	// List returns the rows that match q, most recently active first.
	List(q DirectoryQuery) ([]RoomRecord, error)
	// Count returns how many rooms are in a state ("" for all).
	Count(state RoomState) (int, error)
	// HasLog reports whether some room's row names the log: its recording
	// must not be deleted while the room exists.
	HasLog(logID string) (bool, error)
}
