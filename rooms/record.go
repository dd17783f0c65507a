package rooms

// OpKind says what a recorded operation did to a room.
type OpKind uint8

// Operation kinds, in the order a room may apply them within one tick.
const (
	OpJoin  OpKind = 1 // a new member was seated: Member, Name
	OpLeave OpKind = 2 // a member left for good: Member
	OpInput OpKind = 3 // an input was applied: Member, Seq, Payload
)

// Op is one operation a room applied to its handler. The ops of a tick, in
// the order they ran, plus the room's seed and options, are all a
// deterministic room type needs to re-run the room exactly (tickroom verify).
type Op struct {
	Kind    OpKind `msgpack:"k"`
	Member  uint32 `msgpack:"m"`
	Name    string `msgpack:"n,omitempty"`
	Seq     uint64 `msgpack:"s,omitempty"`
	Payload []byte `msgpack:"p,omitempty"` // MessagePack, as the client sent it
}

// RecordingHeader is what a recording knows about its room from the start.
type RecordingHeader struct {
	RoomID   string
	Type     string
	TickRate int
	Seed     uint64
	// Options are the options the creator asked for (Type.New makes the
	// same handler from them again), not the effective ones.
	Options map[string]any
	// Schema is the room's schema in its welcome form (state.WireKind list,
	// encoded by the recorder as it likes).
	Schema any
	// StartTick is the tick of the first Keyframe (0 for a new room).
	StartTick uint64
}

// Recorder receives a room's broadcast stream, on the room's goroutine.
// Implementations must not block for long: buffer, and flush elsewhere or
// periodically. An error stops recording for that room (logged), never the
// room itself.
type Recorder interface {
	// Keyframe records a full snapshot message (as sent to members) at tick.
	Keyframe(tick uint64, snapshot []byte) error
	// Tick records one tick: the ops applied during it in order, and the
	// delta message exactly as broadcast.
	Tick(tick uint64, ops []Op, delta []byte) error
	// Event records an event message (join, leave, chat, custom) as broadcast
	// or, for direct messages, as delivered; tick is the tick it followed.
	Event(tick uint64, event []byte) error
	// Close flushes and closes the recording; the room is gone.
	Close() error
}

// RecorderFactory opens a recorder for a new room, or returns nil, nil when
// this room is not to be recorded.
type RecorderFactory func(h RecordingHeader) (Recorder, error)
