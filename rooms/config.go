package rooms

import (
	"log/slog"
	"time"
)

// Config holds the runtime's limits. The zero value of every field means
// the default written next to it.
type Config struct {
	// MaxRooms is the most rooms open at once on this node (default 1000).
	MaxRooms int
	// IdleTimeout is how long a room stays empty (no seat, no spectator)
	// before it goes to sleep, or closes when it cannot sleep (default 60 s).
	IdleTimeout time.Duration
	// SeatGrace is how long a dropped member's seat and entity are held for
	// a reconnect with the resume token (default 30 s).
	SeatGrace time.Duration
	// SlowConsumerGrace is how long a member may stay unable to take a
	// snapshot before it is closed with 4008 (default 2 s).
	SlowConsumerGrace time.Duration
	// InputQueue is the room's input queue length; an input arriving when it
	// is full is refused with room_busy (default 64 per max player, at least 256).
	InputQueue int
	// ControlQueue is the queue for joins, leaves, chat and resyncs (default 256).
	ControlQueue int
	// ChatMaxLen is the longest chat message in characters (default 500).
	ChatMaxLen int
	// ChatHistory is how many recent chat messages a welcome carries (default 50).
	ChatHistory int
	// NameMaxLen is the longest display name in characters (default 32).
	NameMaxLen int
	// Logs keeps the log (the recording) of each room that is recorded;
	// nil records nothing.
	Logs LogStore
	// Directory makes rooms durable: a room that empties goes to sleep
	// instead of closing, and wakes on the next join; a room whose process
	// stops or dies wakes in the next process. nil: rooms close when idle
	// and die with their process. A room is durable when its type has
	// checkpoints (and Checkpoints is set), or is deterministic and recorded.
	Directory Directory
	// Checkpoints keeps checkpoints of rooms whose handler implements
	// Checkpointer; nil keeps none, and a wake re-runs the room's whole log.
	Checkpoints CheckpointStore
	// CheckpointInterval is how often a running durable room stores a
	// checkpoint (default 30 s): a wake after a crash re-runs at most this
	// much of the log, and a room without a log loses at most this much.
	CheckpointInterval time.Duration
	// DormantMaxAge is how long a sleeping room is kept after its last
	// activity, by type name, "*" for every type; 0 keeps it for ever. A
	// type in neither takes its Type.DormantMaxAge.
	DormantMaxAge map[string]time.Duration
	// KeyframeInterval is how often a recording stores a full snapshot, the
	// points a replay seeks from (default 5 s).
	KeyframeInterval time.Duration
	// Owner grants the leases by which a node runs rooms in a cluster (see
	// owner.go); nil: this node runs every room it has.
	Owner Owner
	// Logger receives room lifecycle logs (default slog.Default()).
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxRooms, 1000)
	defDur(&c.IdleTimeout, 60*time.Second)
	defDur(&c.SeatGrace, 30*time.Second)
	defDur(&c.SlowConsumerGrace, 2*time.Second)
	def(&c.ControlQueue, 256)
	defDur(&c.KeyframeInterval, 5*time.Second)
	defDur(&c.CheckpointInterval, 30*time.Second)
	def(&c.ChatMaxLen, 500)
	def(&c.ChatHistory, 50)
	def(&c.NameMaxLen, 32)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
