package state

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Client message type tags (docs/PROTOCOL.md).
const (
	ClientInput  = 1
	ClientChat   = 2
	ClientPing   = 3
	ClientResync = 4
)

// Error codes carried by error messages.
const (
	ErrCodeBadMessage   = "bad_message"
	ErrCodeUnknownType  = "unknown_type"
	ErrCodeBadInput     = "bad_input"
	ErrCodeRateLimited  = "rate_limited"
	ErrCodeTooLong      = "too_long"
	ErrCodeNoSuchMember = "no_such_member"
	ErrCodeRoomBusy     = "room_busy"
	ErrCodeSpectator    = "spectator"
)

// ErrBadMessage is wrapped by every client-message decoding error.
var ErrBadMessage = errors.New("bad message")

// ErrUnknownType is returned for a well-formed message with an unknown tag.
var ErrUnknownType = errors.New("unknown message type")

// ClientMessage is one decoded client-to-server message.
type ClientMessage struct {
	Type       int
	Seq        uint64             // input
	Payload    msgpack.RawMessage // input: room-type defined, validated by the room
	Text       string             // chat
	To         uint32             // chat: direct message target member, when HasTo
	HasTo      bool
	ClientTime float64 // ping
}

// DecodeClient decodes an untrusted client message strictly: the frame must
// be exactly one MessagePack array of the documented shape, nothing after it.
//
// Its lengths are checked first (WellSized): the pooled decoder grows its
// buffer toward whatever length a string or binary header claims and keeps
// it, so a hundred 8-byte frames each claiming a 2 GiB payload left 4.5 GiB
// in the pool and cost a minute of CPU (found by FuzzDecodeClient;
// TestDecodeClientIgnoresLyingLengths).
func DecodeClient(b []byte) (ClientMessage, error) {
	var msg ClientMessage
	if err := WellSized(b); err != nil {
		return msg, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	rd := bytes.NewReader(b)
	dec := msgpack.GetDecoder() // one per client frame: pooled, not allocated
	defer msgpack.PutDecoder(dec)
	dec.Reset(rd)
	n, err := arrayLen(dec)
	if err != nil {
		return msg, err
	}
	if n < 1 {
		return msg, fmt.Errorf("%w: empty array", ErrBadMessage)
	}
	tag, err := strictInt(dec, "type tag")
	if err != nil {
		return msg, err
	}
	msg.Type = int(tag)
	switch msg.Type {
	case ClientInput:
		if n != 3 {
			return msg, fmt.Errorf("%w: input has %d elements, want 3", ErrBadMessage, n)
		}
		seq, err := strictInt(dec, "input seq")
		if err != nil {
			return msg, err
		}
		if seq < 1 || seq > math.MaxUint32 {
			return msg, fmt.Errorf("%w: input seq %d, want an integer in 1..2^32-1", ErrBadMessage, seq)
		}
		msg.Seq = uint64(seq)
		if msg.Payload, err = dec.DecodeRaw(); err != nil {
			return msg, fmt.Errorf("%w: input payload: %v", ErrBadMessage, err)
		}
	case ClientChat:
		if n != 2 && n != 3 {
			return msg, fmt.Errorf("%w: chat has %d elements, want 2 or 3", ErrBadMessage, n)
		}
		if msg.Text, err = strictString(dec, "chat text"); err != nil {
			return msg, err
		}
		if n == 3 {
			to, err := strictInt(dec, "chat target")
			if err != nil {
				return msg, err
			}
			if to < 0 || to > 1<<32-1 {
				return msg, fmt.Errorf("%w: chat target %d out of range", ErrBadMessage, to)
			}
			msg.To, msg.HasTo = uint32(to), true
		}
	case ClientPing:
		if n != 2 {
			return msg, fmt.Errorf("%w: ping has %d elements, want 2", ErrBadMessage, n)
		}
		c, err := dec.PeekCode()
		if err != nil || !(msgpcode.IsFixedNum(c) || isIntCode(c) || c == msgpcode.Float || c == msgpcode.Double) {
			return msg, fmt.Errorf("%w: ping time is not a number", ErrBadMessage)
		}
		if msg.ClientTime, err = dec.DecodeFloat64(); err != nil {
			return msg, fmt.Errorf("%w: ping time: %v", ErrBadMessage, err)
		}
	case ClientResync:
		if n != 1 {
			return msg, fmt.Errorf("%w: resync has %d elements, want 1", ErrBadMessage, n)
		}
	default:
		// Skip the rest so that trailing-bytes checking still applies.
		for range n - 1 {
			if err := dec.Skip(); err != nil {
				return msg, fmt.Errorf("%w: %v", ErrBadMessage, err)
			}
		}
		if rd.Len() > 0 {
			return msg, fmt.Errorf("%w: %d bytes after the message", ErrBadMessage, rd.Len())
		}
		return msg, fmt.Errorf("%w %d", ErrUnknownType, msg.Type)
	}
	if rd.Len() > 0 {
		return msg, fmt.Errorf("%w: %d bytes after the message", ErrBadMessage, rd.Len())
	}
	return msg, nil
}

func arrayLen(dec *msgpack.Decoder) (int, error) {
	c, err := dec.PeekCode()
	if err != nil {
		return 0, fmt.Errorf("%w: empty frame", ErrBadMessage)
	}
	if !msgpcode.IsFixedArray(c) && c != msgpcode.Array16 && c != msgpcode.Array32 {
		return 0, fmt.Errorf("%w: not an array", ErrBadMessage)
	}
	n, err := dec.DecodeArrayLen()
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrBadMessage, err)
	}
	return n, nil
}

func strictInt(dec *msgpack.Decoder, what string) (int64, error) {
	c, err := dec.PeekCode()
	if err != nil {
		return 0, fmt.Errorf("%w: %s missing", ErrBadMessage, what)
	}
	if !msgpcode.IsFixedNum(c) && !isIntCode(c) {
		return 0, fmt.Errorf("%w: %s is not an integer", ErrBadMessage, what)
	}
	v, err := dec.DecodeInt64()
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %v", ErrBadMessage, what, err)
	}
	return v, nil
}

func strictString(dec *msgpack.Decoder, what string) (string, error) {
	c, err := dec.PeekCode()
	if err != nil {
		return "", fmt.Errorf("%w: %s missing", ErrBadMessage, what)
	}
	if !msgpcode.IsString(c) {
		return "", fmt.Errorf("%w: %s is not a string", ErrBadMessage, what)
	}
	s, err := dec.DecodeString()
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", ErrBadMessage, what, err)
	}
	return s, nil
}

// Welcome is the first message of every connection.
type Welcome struct {
	V       int       `msgpack:"v"`
	Room    string    `msgpack:"room"`
	Type    string    `msgpack:"type"`
	Session string    `msgpack:"session"`
	Member  uint32    `msgpack:"member"`
	Entity  *EntityID `msgpack:"entity"` // nil when the room gives members no entity
	Token   string    `msgpack:"token"`
	Resumed bool      `msgpack:"resumed"`
	// Spectator is true for a view-only connection: no member, no entity.
	Spectator bool           `msgpack:"spectator,omitempty"`
	TickRate  int            `msgpack:"tickRate"`
	Kinds     []WireKind     `msgpack:"kinds"`
	Members   []MemberInfo   `msgpack:"members"`
	Chat      []Event        `msgpack:"chat"`
	Options   map[string]any `msgpack:"options"`
}

// ProtocolVersion is the version the welcome announces.
const ProtocolVersion = 1

// MemberInfo is one member in the welcome's member list.
type MemberInfo struct {
	Member uint32    `msgpack:"member" json:"member"`
	Name   string    `msgpack:"name" json:"name"`
	Entity *EntityID `msgpack:"entity" json:"entity"`
	Online bool      `msgpack:"online" json:"online"`
}

// Event is the body of an event message; which keys are set depends on Type.
type Event struct {
	Type   string         `msgpack:"type"`
	Member uint32         `msgpack:"member,omitempty"`
	Name   string         `msgpack:"name,omitempty"`
	Entity *EntityID      `msgpack:"entity,omitempty"`
	Reason string         `msgpack:"reason,omitempty"`
	From   uint32         `msgpack:"from,omitempty"`
	To     *uint32        `msgpack:"to,omitempty"`
	Text   string         `msgpack:"text,omitempty"`
	Tick   uint64         `msgpack:"tick,omitempty"`
	Data   map[string]any `msgpack:"data,omitempty"`
}

// marshalCompact encodes v with every integer in its shortest form, as the
// protocol promises (msgpack.Marshal writes sized Go ints at full width).
func marshalCompact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.UseCompactInts(true)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// EncodeWelcome encodes [1, welcome].
func EncodeWelcome(w *Welcome) ([]byte, error) {
	b, err := marshalCompact([]any{MsgWelcome, w})
	if err != nil {
		return nil, fmt.Errorf("state: encode welcome: %w", err)
	}
	return b, nil
}

// DecodeWelcome decodes a welcome message, [1, welcome], as a client does,
// and builds the schema its kinds describe, which the client's mirror
// decodes everything after it with. Whatever the bytes, it returns an error
// or a valid schema, never a panic (FuzzDecodeWelcome): a client cannot
// trust the server it was pointed at.
func DecodeWelcome(msg []byte) (*Welcome, *Schema, error) {
	if err := WellSized(msg); err != nil {
		return nil, nil, fmt.Errorf("state: welcome: %w", err)
	}
	var head []msgpack.RawMessage
	if err := msgpack.Unmarshal(msg, &head); err != nil {
		return nil, nil, fmt.Errorf("state: welcome: %w", err)
	}
	if len(head) != 2 {
		return nil, nil, fmt.Errorf("state: welcome: %d elements, want [%d, welcome]", len(head), MsgWelcome)
	}
	var tag int
	if err := msgpack.Unmarshal(head[0], &tag); err != nil || tag != MsgWelcome {
		return nil, nil, fmt.Errorf("state: welcome: type tag is not %d", MsgWelcome)
	}
	var w Welcome
	if err := msgpack.Unmarshal(head[1], &w); err != nil {
		return nil, nil, fmt.Errorf("state: welcome body: %w", err)
	}
	s, err := SchemaFromWire(w.Kinds)
	if err != nil {
		return nil, nil, fmt.Errorf("state: welcome schema: %w", err)
	}
	return &w, s, nil
}

// EncodeEvent encodes [4, event].
func EncodeEvent(ev *Event) ([]byte, error) {
	b, err := marshalCompact([]any{MsgEvent, ev})
	if err != nil {
		return nil, fmt.Errorf("state: encode event: %w", err)
	}
	return b, nil
}

// EncodeError encodes [5, code, message].
func EncodeError(code, message string) []byte {
	b, err := msgpack.Marshal([]any{MsgError, code, message})
	if err != nil { // strings and ints always encode
		panic(err)
	}
	return b
}

// EncodePong encodes [6, clientTime, tick].
func EncodePong(clientTime float64, tick uint64) []byte {
	b, err := msgpack.Marshal([]any{MsgPong, clientTime, tick})
	if err != nil { // numbers always encode
		panic(err)
	}
	return b
}

func isIntCode(c byte) bool {
	switch c {
	case msgpcode.Uint8, msgpcode.Uint16, msgpcode.Uint32, msgpcode.Uint64,
		msgpcode.Int8, msgpcode.Int16, msgpcode.Int32, msgpcode.Int64:
		return true
	}
	return false
}
