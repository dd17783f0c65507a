package tape

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// A tape is a room's log for the room's whole life: a room that sleeps, or
// whose process stops or dies, goes on in the same tape when it wakes, so
// its replay has no seam. Continue opens a tape to append to it again and
// ReadLog reads its ops back for a wake to re-run.

// Continue opens the tape at path to append after its last good frame. A
// damaged tail (a frame cut short by a crash, or corrupt bytes) is cut off
// and described in the LogEnd's Damage; an end record is cut off too (the
// room's life goes on). The seek index is rewritten at Pause or Close.
func Continue(path string, opts WriterOptions) (*Writer, rooms.LogEnd, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, rooms.LogEnd{}, fmt.Errorf("tape: continue: %w", notFound(err))
	}
	w, end, err := continueFile(path, f, opts)
	if err != nil {
		_ = f.Close() // the error above is the one to report
		return nil, rooms.LogEnd{}, fmt.Errorf("tape: continue %s: %w", path, err)
	}
	return w, end, nil
}

func continueFile(path string, f *os.File, opts WriterOptions) (*Writer, rooms.LogEnd, error) {
	hdr, hdrCRC, dataStart, err := readHeader(f)
	if err != nil {
		return nil, rooms.LogEnd{}, fmt.Errorf("read header: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		return nil, rooms.LogEnd{}, err
	}
	sum, damage, _, err := loadSummary(f, path+".idx", dataStart, &hdr, st.Size(), hdrCRC)
	if err == nil && sum.Clean && sum.EndOffset <= dataStart {
		// An index from before end offsets were kept: scan for it.
		sum, damage, _, err = loadSummary(f, "", dataStart, &hdr, st.Size(), hdrCRC)
	}
	if err != nil {
		return nil, rooms.LogEnd{}, fmt.Errorf("scan: %w", err)
	}
	size := sum.ValidSize
	if sum.Clean {
		size = sum.EndOffset
	}
	if size < st.Size() {
		if err := f.Truncate(size); err != nil {
			return nil, rooms.LogEnd{}, fmt.Errorf("cut the tail at %d: %w", size, err)
		}
	}
	if _, err := f.Seek(size, io.SeekStart); err != nil {
		return nil, rooms.LogEnd{}, err
	}
	w := newWriter(path, opts)
	w.hdr, w.hdrCRC, w.out = hdr, hdrCRC, f
	w.size, w.lastFlush = size, w.now()
	w.prev, w.first, w.records, w.flushed = sum.LastTick, sum.FirstTick, sum.Records, sum.LastTick
	w.keyframes, w.members = sum.Keyframes, sum.members
	// The index now describes the tape as far as it goes (no end record),
	// so that a crash before the next Position, Pause or Close costs a
	// scan of only what comes after.
	if err := writeIndex(path+".idx", w.summary(false), false); err != nil {
		return nil, rooms.LogEnd{}, err
	}
	end := rooms.LogEnd{LogPosition: rooms.LogPosition{Tick: sum.LastTick, Cursor: size}, Header: recordingHeader(hdr)}
	if damage != nil {
		end.Damage = damage
	}
	return w, end, nil
}

// recordingHeader is a tape header as rooms sees it.
func recordingHeader(h Header) rooms.RecordingHeader {
	return rooms.RecordingHeader{RoomID: h.RoomID, Type: h.Type, TickRate: h.TickRate, Seed: h.Seed,
		Options: h.Options, Schema: h.Schema, StartTick: h.StartTick, Views: h.Version >= versionViews}
}

// ReadLog calls fn with each tick and event record of the tape at path
// after from (the zero position is the tape's start), in order, until the
// end or fn's first error. A damaged frame ends it with an error wrapping
// rooms.ErrLogDamaged (and the *DamageError).
func ReadLog(path string, from rooms.LogPosition, fn func(rooms.LogRecord) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("tape: read log: %w", notFound(err))
	}
	defer f.Close()
	hdr, _, dataStart, err := readHeader(f)
	if err != nil {
		return fmt.Errorf("tape: read log %s: header: %w", path, err)
	}
	if from.Cursor <= 0 {
		from = rooms.LogPosition{Tick: hdr.StartTick, Cursor: dataStart}
	}
	if err := ReadRecords(f, from, fn); err != nil {
		return fmt.Errorf("tape: read log %s: %w", path, err)
	}
	return nil
}

// ReadRecords calls fn with each tick and event record of a tape's bytes
// from the frame at from.Cursor (whose predecessor had tick from.Tick), in
// order, until the end or fn's first error. A damaged frame ends it with
// an error wrapping rooms.ErrLogDamaged (and the *DamageError).
func ReadRecords(ra io.ReaderAt, from rooms.LogPosition, fn func(rooms.LogRecord) error) error {
	fr := newFrameReader(ra, from.Cursor, from.Tick)
	for {
		fm, err := fr.read()
		if err == io.EOF {
			return nil
		}
		var d *DamageError
		if errors.As(err, &d) {
			return fmt.Errorf("%w: %w", rooms.ErrLogDamaged, d)
		} else if err != nil {
			return err
		}
		var rec rooms.LogRecord
		switch fm.kind {
		case KindEnd:
			return nil
		case KindKeyframe, KindViews:
			continue // a re-run rebuilds both
		case KindDelta:
			rec = rooms.LogRecord{Tick: fm.tick, IsTick: true}
		case KindOps:
			rec = rooms.LogRecord{Tick: fm.tick, IsTick: true}
			if err := state.WellSized(fm.ops); err != nil {
				return fmt.Errorf("%w: ops at tick %d: %v", rooms.ErrLogDamaged, fm.tick, err)
			}
			if err := msgpack.Unmarshal(fm.ops, &rec.Ops); err != nil {
				return fmt.Errorf("%w: ops at tick %d: %v", rooms.ErrLogDamaged, fm.tick, err)
			}
		case KindEvent:
			rec = rooms.LogRecord{Tick: fm.tick, Event: slices.Clone(fm.msg)}
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
}

// Scan is what a scan of a tape's bytes found.
type Scan struct {
	Header    Header
	HeaderCRC uint32
	// DataStart is the offset of the first frame.
	DataStart int64
	// ValidSize is where the last good frame ends (the end record's start
	// when the tape is clean).
	ValidSize int64
	FirstTick uint64
	LastTick  uint64
	Records   int
	Keyframes []Keyframe
	Members   []string
	// Clean: the tape ends with an end record, at EndOffset.
	Clean     bool
	EndOffset int64
	// Damage describes the frame reading stopped at, or is nil.
	Damage *DamageError
}

// ReadHeader reads a tape's header from the start of its bytes; it
// returns the header and the offset of the first frame.
func ReadHeader(ra io.ReaderAt) (Header, int64, error) {
	h, _, start, err := readHeader(ra)
	if err != nil {
		return Header{}, 0, fmt.Errorf("tape: header: %w", err)
	}
	return h, start, nil
}

// ScanTape reads a tape's bytes (size of them) from its header to its last
// good frame. The error is for a tape whose header cannot be read.
func ScanTape(ra io.ReaderAt, size int64) (Scan, error) {
	hdr, hdrCRC, dataStart, err := readHeader(ra)
	if err != nil {
		return Scan{}, fmt.Errorf("tape: scan: header: %w", err)
	}
	sum, damage, _, err := loadSummary(ra, "", dataStart, &hdr, size, hdrCRC)
	if err != nil {
		return Scan{}, fmt.Errorf("tape: scan: %w", err)
	}
	sc := Scan{Header: hdr, HeaderCRC: hdrCRC, DataStart: dataStart, ValidSize: sum.ValidSize, FirstTick: sum.FirstTick,
		LastTick: sum.LastTick, Records: sum.Records, Keyframes: sum.Keyframes, Members: sum.Members,
		Clean: sum.Clean, EndOffset: sum.EndOffset, Damage: damage}
	if sc.Clean {
		sc.ValidSize = sc.EndOffset
	}
	return sc, nil
}

// Resume returns a Writer that appends to a tape with id in out after what
// sc describes (a tape that is not a file, like NewWriter's; the caller has
// cut off whatever comes after sc.ValidSize, the end record included).
// Keyframes and members before the resume are not known to it.
func Resume(out Sink, id string, sc Scan, opts WriterOptions) *Writer {
	w := newWriter("", opts)
	w.id, w.out, w.hdr, w.hdrCRC = id, out, sc.Header, sc.HeaderCRC
	w.size, w.lastFlush = sc.ValidSize, w.now()
	w.prev, w.first, w.records, w.flushed = sc.LastTick, sc.FirstTick, sc.Records, sc.LastTick
	return w
}

// ScanFrames reads a run of whole frames (a FrameSink's write), whose
// first frame's predecessor had tick prev. It returns the tick of the
// last frame, how many records it holds (an end record is none), and
// whether it ends with an end record; a frame that cannot be read is an
// error wrapping rooms.ErrLogDamaged.
func ScanFrames(b []byte, prev uint64) (last uint64, records int, end bool, err error) {
	fr := newFrameReader(bytes.NewReader(b), 0, prev)
	last = prev
	for {
		f, err := fr.read()
		if err == io.EOF {
			return last, records, end, nil
		}
		if err != nil {
			return last, records, end, fmt.Errorf("%w: %w", rooms.ErrLogDamaged, err)
		}
		if end {
			return last, records, end, fmt.Errorf("%w: data after the end record", rooms.ErrLogDamaged)
		}
		last = f.tick
		if f.kind == KindEnd {
			end = true
			continue
		}
		records++
	}
}

// LogEnd is where a tape that sc describes ends, as rooms sees it.
func (sc Scan) LogEnd() rooms.LogEnd {
	end := rooms.LogEnd{LogPosition: rooms.LogPosition{Tick: sc.LastTick, Cursor: sc.ValidSize}, Header: recordingHeader(sc.Header)}
	if sc.Damage != nil {
		end.Damage = sc.Damage
	}
	return end
}

// newWriter returns a writer for path with the options' defaults filled
// in, not yet attached to a file.
func newWriter(path string, opts WriterOptions) *Writer {
	w := &Writer{path: path, interval: opts.FlushInterval, bufSize: opts.BufferSize, now: opts.Now}
	if w.interval <= 0 {
		w.interval = time.Second
	}
	if w.bufSize <= 0 {
		w.bufSize = 64 << 10
	}
	if w.now == nil {
		w.now = time.Now
	}
	return w
}
