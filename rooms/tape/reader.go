package tape

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"iter"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// Record is one record of a tape. Its byte slices are its own.
type Record struct {
	Offset int64  // file offset of the record's frame
	Size   int    // frame size in bytes, tag to checksum
	Tick   uint64 // the tick it belongs to (an event: the tick it followed)
	Kind   Kind
	// Data is the message exactly as the room broadcast it: the snapshot
	// (KindKeyframe), the delta (KindDelta, KindOps) or the event
	// (KindEvent). For KindEnd it is the footer map.
	Data []byte
	// Ops is, for KindOps, the tick's ops as msgpack []rooms.Op.
	Ops []byte
}

// DecodeOps decodes the record's ops; it returns nil for other kinds.
func (r Record) DecodeOps() ([]rooms.Op, error) {
	if r.Kind != KindOps {
		return nil, nil
	}
	var ops []rooms.Op
	if err := state.WellSized(r.Ops); err != nil {
		return nil, fmt.Errorf("tape: decode ops at tick %d: %w", r.Tick, err)
	}
	if err := msgpack.Unmarshal(r.Ops, &ops); err != nil {
		return nil, fmt.Errorf("tape: decode ops at tick %d: %w", r.Tick, err)
	}
	return ops, nil
}

// Info describes a tape: its header and what a scan (or its index) found.
type Info struct {
	Header
	Size      int64 // file size when opened
	ValidSize int64 // end of the last good frame: the bytes worth serving
	FirstTick uint64
	LastTick  uint64
	Duration  time.Duration // (LastTick - FirstTick) / TickRate
	Records   int           // records, the end record not counted
	Keyframes int
	Members   []string // names from join ops, in join order
	Clean     bool     // the tape has its end record: it was closed, not cut
	// Damage is where reading stopped early, or nil. A tape in progress or
	// cut by a crash between frames has none; one cut inside a frame has a
	// Truncated one.
	Damage *DamageError
}

// Reader reads a tape. Info, Keyframes, Seek and Frames are safe for
// concurrent use (each read has its own buffer); Next is not.
type Reader struct {
	ra        io.ReaderAt
	file      *os.File // the file Open opened, closed by Close; nil for NewReader
	hdr       Header
	hdrCRC    uint32
	dataStart int64
	sum       *summary
	damage    *DamageError
	schema    *state.Schema
	schemaErr error

	// Next's position.
	it    *frameReader
	n     int
	ended bool
	stuck *DamageError
}

// Open opens a tape and reads its header. It loads the seek index beside
// the tape (path + ".idx") when that describes this very file, and otherwise
// rebuilds it with a scan, writing it back for a cleanly closed tape. A tape
// that is still being written can be opened: it reads up to its last
// flushed frame.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("tape: open: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close() // the stat error is the one to report
		return nil, fmt.Errorf("tape: open: %w", err)
	}
	r, err := newReader(f, st.Size(), path+".idx")
	if err != nil {
		_ = f.Close() // the open error is the one to report
		return nil, err
	}
	r.file = f
	return r, nil
}

// NewReader reads a tape of size bytes through ra: a tape in memory (a
// bytes.Reader; the fuzzer reads this way), or one whose file someone else
// opened. It has no seek index file: it scans, and writes nothing. ra
// stays its caller's: Close does not close it.
func NewReader(ra io.ReaderAt, size int64) (*Reader, error) {
	return newReader(ra, size, "")
}

// newReader reads the header and the seek index at idxPath (none when
// empty), or scans ra to rebuild it.
func newReader(ra io.ReaderAt, size int64, idxPath string) (*Reader, error) {
	r := &Reader{ra: ra}
	var err error
	if r.hdr, r.hdrCRC, r.dataStart, err = readHeader(ra); err != nil {
		return nil, fmt.Errorf("tape: read header: %w", err)
	}
	var fromIndex bool
	if r.sum, r.damage, fromIndex, err = loadSummary(ra, idxPath, r.dataStart, &r.hdr, size, r.hdrCRC); err != nil {
		return nil, fmt.Errorf("tape: scan: %w", err)
	}
	if idxPath != "" && !fromIndex && r.sum.Clean && r.damage == nil {
		_ = writeIndex(idxPath, r.sum, true) // best effort: without it the next Open scans again
	}
	r.schema, r.schemaErr = state.SchemaFromWire(r.hdr.Schema)
	r.it = newFrameReader(ra, r.dataStart, r.hdr.StartTick)
	return r, nil
}

// readHeader reads and checks the file header. It returns the header, its
// checksum and the offset of the first frame.
func readHeader(ra io.ReaderAt) (Header, uint32, int64, error) {
	fixed := make([]byte, fixedHeader)
	if n, err := ra.ReadAt(fixed, 0); n < fixedHeader {
		if !strings.HasPrefix(Magic, string(fixed[:min(n, len(Magic))])) {
			return Header{}, 0, 0, ErrNotTape
		}
		return Header{}, 0, 0, headerDamage(err, "file ends inside the header")
	}
	if string(fixed[:len(Magic)]) != Magic {
		return Header{}, 0, 0, ErrNotTape
	}
	v := binary.LittleEndian.Uint16(fixed[len(Magic):])
	if v < 1 || v > Version {
		return Header{}, 0, 0, fmt.Errorf("%w: %d", ErrVersion, v)
	}
	n := int(binary.LittleEndian.Uint32(fixed[len(Magic)+2:]))
	if n > maxHeader {
		return Header{}, 0, 0, &DamageError{Reason: fmt.Sprintf("header length %d over the limit", n)}
	}
	rest := make([]byte, n+crcSize)
	if got, err := ra.ReadAt(rest, int64(fixedHeader)); got < len(rest) {
		return Header{}, 0, 0, headerDamage(err, "file ends inside the header")
	}
	sum := crc32.Update(crc32.Checksum(fixed[len(Magic):], castagnoli), castagnoli, rest[:n])
	if sum != binary.LittleEndian.Uint32(rest[n:]) {
		return Header{}, 0, 0, &DamageError{Reason: "header checksum mismatch"}
	}
	h, err := decodeHeaderBody(rest[:n])
	if err != nil {
		return Header{}, 0, 0, &DamageError{Reason: "header map: " + err.Error()}
	}
	h.Version = v
	return h, sum, int64(fixedHeader + n + crcSize), nil
}

func headerDamage(err error, reason string) error {
	if err != nil && err != io.EOF {
		return err
	}
	return &DamageError{Reason: reason, Truncated: true}
}

// Info returns what the tape holds, as of Open.
func (r *Reader) Info() Info {
	s := r.sum
	in := Info{Header: r.hdr, Size: s.TapeSize, ValidSize: s.ValidSize, FirstTick: s.FirstTick, LastTick: s.LastTick,
		Records: s.Records, Keyframes: len(s.Keyframes), Members: slices.Clone(s.Members), Clean: s.Clean, Damage: r.damage}
	if s.LastTick > s.FirstTick {
		in.Duration = ticksDuration(s.LastTick-s.FirstTick, r.hdr.TickRate)
	}
	return in
}

// Keyframes returns the seek index: every keyframe's tick and offset, as of
// Open.
func (r *Reader) Keyframes() []Keyframe { return slices.Clone(r.sum.Keyframes) }

// Next returns the next record. At the end it returns io.EOF: after the end
// record, or where a tape in progress ends for now (call Next again after
// the writer flushed more). At a damaged frame it returns a *DamageError
// and never a record after it; a Truncated one may heal as a writer
// completes the frame, so Next tries again, while other damage is final.
func (r *Reader) Next() (Record, error) {
	if r.ended {
		return Record{}, io.EOF
	}
	if r.stuck != nil {
		return Record{}, r.stuck
	}
	f, err := r.it.read()
	if err != nil {
		r.it.seek(r.it.off, r.it.prev)
		var d *DamageError
		if errors.As(err, &d) {
			d.Records = r.n
			if !d.Truncated {
				r.stuck = d
			}
			return Record{}, d
		}
		if err == io.EOF {
			return Record{}, io.EOF
		}
		return Record{}, fmt.Errorf("tape: next: %w", err)
	}
	r.n++
	r.ended = f.kind == KindEnd
	return f.record(), nil
}

// record copies a frame into a Record.
func (f *frame) record() Record {
	rec := Record{Offset: f.off, Size: f.size, Tick: f.tick, Kind: f.kind}
	buf := slices.Clone(f.payload)
	rec.Data = buf[len(f.payload)-len(f.msg):]
	if f.kind == KindOps {
		start := len(f.payload) - len(f.msg) - len(f.ops)
		rec.Ops = buf[start : start+len(f.ops) : start+len(f.ops)]
	}
	return rec
}

// Frames iterates over the records from the keyframe at or before from (or
// the first record when from precedes every keyframe) through the last
// record of tick to. It stops at the first damaged frame after yielding its
// error. The first record's Offset and the last one's Offset+Size bound the
// raw bytes of the range, which begin with a keyframe's absolute tick and
// so decode on their own.
func (r *Reader) Frames(from, to uint64) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		fr := r.frameReaderAt(from)
		for {
			f, err := fr.read()
			if err == io.EOF {
				return
			}
			if err != nil {
				yield(Record{}, fmt.Errorf("tape: frames: %w", err))
				return
			}
			if f.tick > to || !yield(f.record(), nil) || f.kind == KindEnd {
				return
			}
		}
	}
}

// frameReaderAt returns a frame reader at the last keyframe at or before
// tick, or at the first frame.
func (r *Reader) frameReaderAt(tick uint64) *frameReader {
	if k, ok := r.keyframeAt(tick); ok {
		return newFrameReader(r.ra, k.Offset, k.Tick)
	}
	return newFrameReader(r.ra, r.dataStart, r.hdr.StartTick)
}

// keyframeAt returns the last keyframe at or before tick.
func (r *Reader) keyframeAt(tick uint64) (Keyframe, bool) {
	ks := r.sum.Keyframes
	i, _ := slices.BinarySearchFunc(ks, tick, func(k Keyframe, t uint64) int {
		if k.Tick <= t {
			return -1
		}
		return 1
	})
	if i == 0 {
		return Keyframe{}, false
	}
	return ks[i-1], true
}

// Close closes the file Open opened; for a NewReader it does nothing.
func (r *Reader) Close() error {
	if r.file == nil {
		return nil
	}
	if err := r.file.Close(); err != nil {
		return fmt.Errorf("tape: close reader: %w", err)
	}
	return nil
}
