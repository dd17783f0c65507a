// Package tape is tickroom's recording file format and its library: a
// Writer that implements rooms.Recorder, a Reader that iterates, inspects and
// seeks a tape, and a Store that keeps a directory of tapes with a retention
// policy. docs/TAPE.md is the format's specification.
//
// A tape is a header followed by frames. Each frame holds one record (a
// keyframe, a delta, a tick's ops with its delta, an event, members' views
// in a views room's tape, or the end footer) and ends with a CRC32C, so a reader stops at the first damaged
// frame and returns everything before it.
package tape

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/state"
)

// Magic opens every tape file.
const Magic = "TICKTAPE"

// Version is the newest format version this package writes and reads.
// Version 2 adds the views record; a tape is written as version 2 only
// for a views room (RecordingHeader.Views), so every other room's tape is
// byte for byte what version 1 wrote. Both versions read.
const Version = 2

// versionViews is the first version with views records.
const versionViews = 2

// Kind is what a record holds.
type Kind uint8

// Record kinds. Their values are the low three bits of a frame's tag byte;
// 0 and 7 are invalid so that zeroed or random bytes are rejected early.
// Only a version 2 tape holds views records (a version 1 reader rejects
// kind 6 as corrupt, which is why such tapes say version 2).
const (
	KindKeyframe Kind = 1 // a snapshot message, as broadcast
	KindDelta    Kind = 2 // a delta message, as broadcast
	KindOps      Kind = 3 // a tick's ops (msgpack []rooms.Op) and its delta message
	KindEvent    Kind = 4 // an event message, as broadcast or delivered
	KindEnd      Kind = 5 // the footer of a cleanly closed tape
	KindViews    Kind = 6 // members' views (version 2: views rooms only)
)

var kindNames = [...]string{KindKeyframe: "keyframe", KindDelta: "delta", KindOps: "ops", KindEvent: "event", KindEnd: "end", KindViews: "views"}

// String returns the kind's name as docs/TAPE.md spells it.
func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k >= KindKeyframe && k <= KindViews }

// Frame layout limits.
const (
	// tickAbsolute in a tag's tick code means an absolute uvarint tick
	// follows the tag; codes 0..30 are the advance over the previous frame.
	tickAbsolute = 31
	maxAdvance   = 30
	// maxPayload bounds a frame's payload, so that a corrupt length cannot
	// make a reader allocate without limit.
	maxPayload = 64 << 20
	// maxHeader bounds the header map for the same reason.
	maxHeader = 16 << 20
	// fixedHeader is magic, version (u16) and map length (u32).
	fixedHeader = len(Magic) + 2 + 4
	crcSize     = 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors a caller can branch on with errors.Is.
var (
	ErrNotTape      = errors.New("tape: not a tape file")
	ErrVersion      = errors.New("tape: unsupported format version")
	ErrClosed       = errors.New("tape: writer closed")
	ErrTickNotFound = errors.New("tape: tick not in tape")
	ErrTooLarge     = errors.New("tape: record too large")
)

// DamageError reports where a tape stops being readable: a frame that is
// cut short (a crash, or a tape still being written) or whose checksum or
// layout is wrong. Every record before Offset was returned intact.
type DamageError struct {
	Offset    int64  // file offset of the first frame that could not be read
	Records   int    // good records before it
	Reason    string // what was wrong, for people
	Truncated bool   // the file ends inside the frame (not corrupt, just short)
}

// Error says where the tape is damaged and why.
func (e *DamageError) Error() string {
	return fmt.Sprintf("tape: damaged at offset %d after %d good records: %s", e.Offset, e.Records, e.Reason)
}

// Header is what a tape knows about its room from the start.
type Header struct {
	RoomID    string
	Type      string
	TickRate  int
	Seed      uint64
	Options   map[string]any
	Schema    []state.WireKind
	StartTick uint64    // tick of the first keyframe
	StartedAt time.Time // wall clock at Create, millisecond precision
	// Version is the tape's format version: 2 for a views room's tape
	// (it may hold views records), 1 otherwise.
	Version uint16
}

// wireHeader is the header map as stored.
type wireHeader struct {
	RoomID    string           `msgpack:"roomId"`
	Type      string           `msgpack:"type"`
	TickRate  int              `msgpack:"tickRate"`
	Seed      uint64           `msgpack:"seed"`
	Options   map[string]any   `msgpack:"options"`
	Schema    []state.WireKind `msgpack:"schema"`
	StartTick uint64           `msgpack:"startTick"`
	StartedAt int64            `msgpack:"startedAt"`
}

// encodeHeader returns the complete file header: magic, version, length,
// map and CRC32C.
func encodeHeader(h Header) ([]byte, error) {
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	var body sliceWriter
	enc.Reset(&body)
	enc.SetSortMapKeys(true) // the same header encodes to the same bytes
	err := enc.Encode(&wireHeader{RoomID: h.RoomID, Type: h.Type, TickRate: h.TickRate, Seed: h.Seed,
		Options: h.Options, Schema: h.Schema, StartTick: h.StartTick, StartedAt: h.StartedAt.UnixMilli()})
	if err != nil {
		return nil, fmt.Errorf("encode header: %w", err)
	}
	if len(body.b) > maxHeader {
		return nil, fmt.Errorf("encode header: %w: %d bytes", ErrTooLarge, len(body.b))
	}
	out := make([]byte, 0, fixedHeader+len(body.b)+crcSize)
	out = append(out, Magic...)
	out = binary.LittleEndian.AppendUint16(out, max(h.Version, 1))
	out = binary.LittleEndian.AppendUint32(out, uint32(len(body.b)))
	out = append(out, body.b...)
	return binary.LittleEndian.AppendUint32(out, crc32.Checksum(out[len(Magic):], castagnoli)), nil
}

// decodeHeaderBody decodes the header map.
func decodeHeaderBody(b []byte) (Header, error) {
	var w wireHeader
	if err := state.WellSized(b); err != nil { // before the decoder believes its lengths
		return Header{}, err
	}
	if err := msgpack.Unmarshal(b, &w); err != nil {
		return Header{}, err
	}
	return Header{RoomID: w.RoomID, Type: w.Type, TickRate: w.TickRate, Seed: w.Seed, Options: w.Options,
		Schema: w.Schema, StartTick: w.StartTick, StartedAt: time.UnixMilli(w.StartedAt)}, nil
}

// appendFrameHead appends a frame's tag, tick and payload length. The tick
// is absolute when forced (keyframes), when it goes backwards, or when it
// advances by more than maxAdvance; otherwise the tag carries the advance.
func appendFrameHead(dst []byte, k Kind, tick, prev uint64, absolute bool, n int) []byte {
	if !absolute && tick >= prev && tick-prev <= maxAdvance {
		dst = append(dst, byte(k)|byte(tick-prev)<<3)
	} else {
		dst = append(dst, byte(k)|tickAbsolute<<3)
		dst = binary.AppendUvarint(dst, tick)
	}
	return binary.AppendUvarint(dst, uint64(n))
}

// appendCRC appends the CRC32C of frame (the frame so far) to dst, which
// must end with frame.
func appendCRC(dst, frame []byte) []byte {
	return binary.LittleEndian.AppendUint32(dst, crc32.Checksum(frame, castagnoli))
}

// footer is the payload of the end record.
type footer struct {
	Records int   `msgpack:"records"` // records before the end record
	EndedAt int64 `msgpack:"endedAt"` // unix ms at Close
}

// sliceWriter lets a msgpack encoder append to a byte slice without
// allocating.
type sliceWriter struct{ b []byte }

func (s *sliceWriter) Write(p []byte) (int, error) { s.b = append(s.b, p...); return len(p), nil }
func (s *sliceWriter) WriteByte(c byte) error      { s.b = append(s.b, c); return nil }
