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
	// IdleTimeout closes a room that has had no seated member for this long
	// (default 60 s).
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
	// Recorder opens a recording for each new room that asks for one; nil
	// records nothing.
	Recorder RecorderFactory
	// KeyframeInterval is how often a recording stores a full snapshot, the
	// points a replay seeks from (default 5 s).
	KeyframeInterval time.Duration
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
	def(&c.ChatMaxLen, 500)
	def(&c.ChatHistory, 50)
	def(&c.NameMaxLen, 32)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
