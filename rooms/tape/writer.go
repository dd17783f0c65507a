package tape

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// WriterOptions tunes a Writer. The zero value is ready to use.
type WriterOptions struct {
	// FlushInterval is how long records may wait in memory: every call
	// flushes once this much time has passed since the last flush. Zero
	// means one second. There is no timer: a room ticks many times a
	// second, and Flush and Close write whatever is left.
	FlushInterval time.Duration
	// BufferSize is the number of buffered bytes that triggers a write
	// before the interval is up; zero means 64 KiB.
	BufferSize int
	// Now is the clock for flush timing and the header's start time; nil
	// means time.Now.
	Now func() time.Time
}

// Writer records a room to a tape file. It implements rooms.Recorder.
//
// Records are appended to an in-memory buffer and written with one write
// per flush, always ending on a frame boundary: a reader of the growing
// file, or of the file a crash left, sees whole frames followed at worst by
// one torn frame, never a frame split by a buffer edge. Methods are safe for
// concurrent use (the room calls the Recorder methods, a Store reads
// Progress).
//
// Invariant (a crash loses at most the unflushed tail, never the file):
// guarded by TestKilledWriter, TestTruncated and TestCorrupted.
type Writer struct {
	path     string // the tape's file; "" for a tape in another Sink (no seek index)
	id       string // the log's id when it is not a file's
	interval time.Duration
	bufSize  int
	now      func() time.Time
	hdr      Header
	hdrCRC   uint32
	onClose  func() // set by a Store: forget the recording in progress

	mu        sync.Mutex
	out       Sink
	buf       []byte // whole frames not yet written
	size      int64  // bytes written to the file
	lastFlush time.Time
	prev      uint64 // tick of the last frame
	flushed   uint64 // tick of the last frame written out
	first     uint64 // tick of the first record
	records   int
	keyframes []Keyframe
	members   []member
	err       error // sticky: the first write failure
	closed    bool

	ops []byte // the current tick's ops, encoded
}

// member is a member number and the name it joined with.
type member struct {
	num  uint32
	name string
}

var _ rooms.LogWriter = (*Writer)(nil)

// Sink is where a Writer's bytes go: a tape file, or another backend's
// append-only log (a JetStream stream). Each Write carries whole frames
// (the header first), so a Sink that stores each Write as one message
// keeps messages on frame boundaries; Close ends the Writer's use of it.
type Sink interface {
	Write(p []byte) (int, error)
	// Sync makes everything written so far durable.
	Sync() error
	Close() error
}

// FrameSink is a Sink that is told where each write sits in its tape: a
// backend that stores each write as a message keeps this beside it, so
// that a log can be continued, or read from a position, without reading
// it all.
type FrameSink interface {
	Sink
	WriteFrames(p []byte, at FramePos) error
}

// FramePos is where a write of whole frames sits in its tape.
type FramePos struct {
	Offset  int64  // of the write's first byte (0: the header)
	Prev    uint64 // tick of the frame before the write's first
	Last    uint64 // tick of the write's last frame
	Records int    // records in the tape after the write (the end record is none)
	First   uint64 // the tape's first tick
}

// Create creates a new tape at path (it must not exist) and writes its
// header. The header's Schema must be a []state.WireKind or a
// *state.Schema.
func Create(path string, h rooms.RecordingHeader, opts WriterOptions) (*Writer, error) {
	w := newWriter(path, opts)
	hdr, err := w.header(h)
	if err != nil {
		return nil, fmt.Errorf("tape: create: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("tape: create: %w", err)
	}
	if err := w.start(f, hdr); err != nil {
		_ = f.Close()       // the write error is the one to report
		_ = os.Remove(path) // a header-less file is of no use to anyone
		return nil, fmt.Errorf("tape: create: %w", err)
	}
	return w, nil
}

// NewWriter starts a new tape with id in out (not a file: no seek index is
// kept), writing its header as out's first Write.
func NewWriter(out Sink, id string, h rooms.RecordingHeader, opts WriterOptions) (*Writer, error) {
	w := newWriter("", opts)
	w.id = id
	hdr, err := w.header(h)
	if err != nil {
		return nil, fmt.Errorf("tape: new writer: %w", err)
	}
	if err := w.start(out, hdr); err != nil {
		return nil, fmt.Errorf("tape: new writer: %w", err)
	}
	return w, nil
}

// header sets the writer's header from h and returns its bytes.
func (w *Writer) header(h rooms.RecordingHeader) ([]byte, error) {
	var schema []state.WireKind
	switch s := h.Schema.(type) {
	case []state.WireKind:
		schema = s
	case *state.Schema:
		schema = s.Wire()
	case nil:
	default:
		return nil, fmt.Errorf("schema is a %T, want []state.WireKind or *state.Schema", h.Schema)
	}
	w.hdr = Header{RoomID: h.RoomID, Type: h.Type, TickRate: h.TickRate, Seed: h.Seed,
		Options: h.Options, Schema: schema, StartTick: h.StartTick, StartedAt: w.now().Truncate(time.Millisecond), Version: 1}
	if h.Views {
		w.hdr.Version = versionViews
	}
	return encodeHeader(w.hdr)
}

// start writes the header bytes to out and makes it the writer's sink.
func (w *Writer) start(out Sink, hdr []byte) error {
	st := w.hdr.StartTick
	if err := writeTo(out, hdr, FramePos{Prev: st, Last: st, First: st}); err != nil {
		return fmt.Errorf("write header: %w", err)
	}
	w.flushed = st
	w.out, w.size, w.lastFlush = out, int64(len(hdr)), w.now()
	w.hdrCRC = binary.LittleEndian.Uint32(hdr[len(hdr)-crcSize:])
	w.prev, w.first = w.hdr.StartTick, w.hdr.StartTick
	return nil
}

// Path returns the tape's file name.
func (w *Writer) Path() string { return w.path }

// Header returns the tape's header.
func (w *Writer) Header() Header { return w.hdr }

// Keyframe records a full snapshot message at tick.
func (w *Writer) Keyframe(tick uint64, snapshot []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return fmt.Errorf("tape: keyframe %d: %w", tick, err)
	}
	off := w.size + int64(len(w.buf))
	if err := w.appendFrame(KindKeyframe, tick, nil, snapshot); err != nil {
		return fmt.Errorf("tape: keyframe %d: %w", tick, err)
	}
	w.keyframes = append(w.keyframes, Keyframe{Tick: tick, Offset: off})
	if len(w.keyframes) == 1 {
		// The first keyframe goes to disk at once: from then on a tape in
		// progress can be replayed, even a second after its room opened.
		if err := w.flush(w.now()); err != nil {
			return fmt.Errorf("tape: keyframe %d: %w", tick, err)
		}
		return nil
	}
	return w.maybeFlush("keyframe", tick)
}

// Tick records one tick's ops and delta message. With no ops the record is
// a delta record; with ops it is one ops record that carries both.
func (w *Writer) Tick(tick uint64, ops []rooms.Op, delta []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return fmt.Errorf("tape: tick %d: %w", tick, err)
	}
	kind := KindDelta
	w.ops = w.ops[:0]
	if len(ops) > 0 {
		kind = KindOps
		w.ops = appendOps(w.ops, ops)
		w.noteJoins(ops)
	}
	if err := w.appendFrame(kind, tick, w.ops, delta); err != nil {
		return fmt.Errorf("tape: tick %d: %w", tick, err)
	}
	return w.maybeFlush("tick", tick)
}

// Event records an event message that followed tick.
func (w *Writer) Event(tick uint64, event []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return fmt.Errorf("tape: event at %d: %w", tick, err)
	}
	if err := w.appendFrame(KindEvent, tick, nil, event); err != nil {
		return fmt.Errorf("tape: event at %d: %w", tick, err)
	}
	return w.maybeFlush("event", tick)
}

// Flush writes the buffered records to the file (no fsync).
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return fmt.Errorf("tape: flush: %w", err)
	}
	if err := w.flush(w.now()); err != nil {
		return fmt.Errorf("tape: flush: %w", err)
	}
	return nil
}

// ID returns the tape's id: its file name without the extension (in a
// Store, the recording's id).
func (w *Writer) ID() string {
	if w.path == "" {
		return w.id
	}
	return strings.TrimSuffix(filepath.Base(w.path), Ext)
}

// Position writes out the buffered records and returns where the tape
// ends: the tick of its last record and the file offset after it. It also
// refreshes the seek index (not fsynced), so that after a crash Open and
// Continue scan only what was written since.
func (w *Writer) Position() (rooms.LogPosition, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return rooms.LogPosition{}, fmt.Errorf("tape: position: %w", err)
	}
	if err := w.flush(w.now()); err != nil {
		return rooms.LogPosition{}, fmt.Errorf("tape: position: %w", err)
	}
	if w.path != "" {
		_ = writeIndex(w.path+".idx", w.summary(false), false) // best effort: without it a crash costs a longer scan
	}
	return rooms.LogPosition{Tick: w.prev, Cursor: w.size}, nil
}

// Sync fsyncs what the writer has written out (Position, Flush). It may be
// called from another goroutine; on a writer closed since, it fails
// harmlessly.
func (w *Writer) Sync() error {
	w.mu.Lock()
	out, closed := w.out, w.closed
	w.mu.Unlock()
	if closed {
		return fmt.Errorf("tape: sync: %w", ErrClosed)
	}
	if err := out.Sync(); err != nil {
		return fmt.Errorf("tape: sync: %w", err)
	}
	return nil
}

// Pause writes out the buffered records, fsyncs and closes the file and
// writes the seek index, without an end record: the room goes on later
// (Continue). After a failed write it only closes the file and returns
// that failure.
func (w *Writer) Pause() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	err := w.pause()
	onClose := w.onClose
	w.mu.Unlock()
	if onClose != nil {
		onClose()
	}
	return err
}

func (w *Writer) pause() error {
	if w.err != nil {
		_ = w.out.Close() // the write failure is the error worth reporting
		return fmt.Errorf("tape: pause: %w", w.err)
	}
	if err := w.flush(w.now()); err != nil {
		_ = w.out.Close() // as above
		return fmt.Errorf("tape: pause: %w", err)
	}
	if err := w.out.Sync(); err != nil {
		_ = w.out.Close() // as above
		return fmt.Errorf("tape: pause: sync: %w", err)
	}
	if err := w.out.Close(); err != nil {
		return fmt.Errorf("tape: pause: %w", err)
	}
	if w.path == "" {
		return nil
	}
	if err := writeIndex(w.path+".idx", w.summary(false), true); err != nil {
		return fmt.Errorf("tape: pause: %w", err)
	}
	syncDir(filepath.Dir(w.path))
	return nil
}

// Close writes the end record, flushes, fsyncs and closes the file, then
// writes the seek index beside it (path + ".idx"). Closing again does
// nothing. After a failed write Close only closes the file and returns that
// failure: the tape stays readable up to its last good frame.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	err := w.finish()
	onClose := w.onClose
	w.mu.Unlock()
	if onClose != nil {
		onClose()
	}
	return err
}

func (w *Writer) finish() error {
	if w.err != nil {
		_ = w.out.Close() // the write failure is the error worth reporting
		return fmt.Errorf("tape: close: %w", w.err)
	}
	now := w.now()
	foot, err := msgpack.Marshal(&footer{Records: w.records, EndedAt: now.UnixMilli()})
	if err != nil {
		_ = w.out.Close() // the encoding failure is the error worth reporting
		return fmt.Errorf("tape: close: encode footer: %w", err)
	}
	// The records go out before the end record, which is a write of its
	// own: a Sink that keeps writes as messages can drop the end record
	// alone when the log goes on (Continue).
	if err := w.flush(now); err != nil {
		_ = w.out.Close() // as above
		return fmt.Errorf("tape: close: %w", err)
	}
	records, endOffset := w.records, w.size+int64(len(w.buf))
	if err := w.appendFrame(KindEnd, w.prev, nil, foot); err != nil {
		_ = w.out.Close() // as above
		return fmt.Errorf("tape: close: end record: %w", err)
	}
	w.records = records // the footer is not a record of the room
	if err := w.flush(now); err != nil {
		_ = w.out.Close() // as above
		return fmt.Errorf("tape: close: %w", err)
	}
	if err := w.out.Sync(); err != nil {
		_ = w.out.Close() // as above
		return fmt.Errorf("tape: close: sync: %w", err)
	}
	if err := w.out.Close(); err != nil {
		return fmt.Errorf("tape: close: %w", err)
	}
	if w.path == "" {
		return nil
	}
	sum := w.summary(true)
	sum.EndOffset = endOffset
	if err := writeIndex(w.path+".idx", sum, true); err != nil {
		return fmt.Errorf("tape: close: %w", err)
	}
	syncDir(filepath.Dir(w.path))
	return nil
}

// Progress is what a Writer has recorded so far.
type Progress struct {
	FirstTick, LastTick uint64
	Records             int
	Keyframes           int
	Members             []string // names from join ops, in join order
	Written             int64    // bytes in the file (flushed)
	Closed              bool
}

// Progress returns what the writer has recorded so far.
func (w *Writer) Progress() Progress {
	w.mu.Lock()
	defer w.mu.Unlock()
	return Progress{FirstTick: w.first, LastTick: w.prev, Records: w.records, Keyframes: len(w.keyframes),
		Members: memberNames(w.members), Written: w.size, Closed: w.closed}
}

func (w *Writer) usable() error {
	if w.closed {
		return ErrClosed
	}
	return w.err
}

// appendFrame appends one whole frame to the buffer. For KindOps the
// payload is the ops' length, the ops and then msg; for the others, msg.
func (w *Writer) appendFrame(k Kind, tick uint64, ops, msg []byte) error {
	n := len(msg)
	if k == KindOps {
		n += uvarintLen(uint64(len(ops))) + len(ops)
	}
	if n > maxPayload {
		return fmt.Errorf("%w: %d bytes", ErrTooLarge, n)
	}
	start := len(w.buf)
	w.buf = appendFrameHead(w.buf, k, tick, w.prev, k == KindKeyframe, n)
	if k == KindOps {
		w.buf = binary.AppendUvarint(w.buf, uint64(len(ops)))
		w.buf = append(w.buf, ops...)
	}
	w.buf = append(w.buf, msg...)
	w.buf = appendCRC(w.buf, w.buf[start:])
	if w.records == 0 {
		w.first = tick
	}
	w.prev = tick
	w.records++
	return nil
}

func (w *Writer) maybeFlush(step string, tick uint64) error {
	now := w.now()
	if len(w.buf) < w.bufSize && now.Sub(w.lastFlush) < w.interval {
		return nil
	}
	if err := w.flush(now); err != nil {
		return fmt.Errorf("tape: %s %d: %w", step, tick, err)
	}
	return nil
}

// flush writes the buffer. A failed write is sticky: the file may now end
// in a torn frame, so nothing more may be appended after it.
func (w *Writer) flush(now time.Time) error {
	w.lastFlush = now
	if len(w.buf) == 0 {
		return nil
	}
	at := FramePos{Offset: w.size, Prev: w.flushed, Last: w.prev, Records: w.records, First: w.first}
	if fs, ok := w.out.(FrameSink); ok {
		if err := fs.WriteFrames(w.buf, at); err != nil {
			w.err = fmt.Errorf("write: %w", err)
			return w.err
		}
		w.size += int64(len(w.buf))
	} else {
		n, err := w.out.Write(w.buf)
		w.size += int64(n)
		if err != nil {
			w.err = fmt.Errorf("write: %w", err)
			return w.err
		}
	}
	w.flushed = w.prev
	if cap(w.buf) > 4*w.bufSize {
		w.buf = nil // a burst (a huge keyframe) is not worth keeping memory for
	} else {
		w.buf = w.buf[:0]
	}
	return nil
}

// noteJoins remembers the names of members seated by join ops.
func (w *Writer) noteJoins(ops []rooms.Op) {
	for _, op := range ops {
		if op.Kind == rooms.OpJoin {
			w.members = addMember(w.members, op.Member, op.Name)
		}
	}
}

func (w *Writer) summary(clean bool) *summary {
	return &summary{TapeSize: w.size, ValidSize: w.size, HeaderCRC: w.hdrCRC, Records: w.records,
		FirstTick: w.first, LastTick: w.prev, Clean: clean, members: w.members, Keyframes: w.keyframes}
}

func addMember(ms []member, num uint32, name string) []member {
	for i := range ms {
		if ms[i].num == num {
			ms[i].name = name
			return ms
		}
	}
	return append(ms, member{num, name})
}

func memberNames(ms []member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.name
	}
	return out
}

func uvarintLen(x uint64) int {
	n := 1
	for ; x >= 0x80; x >>= 7 {
		n++
	}
	return n
}

// writeTo writes p, telling a FrameSink where it sits.
func writeTo(out Sink, p []byte, at FramePos) error {
	if fs, ok := out.(FrameSink); ok {
		return fs.WriteFrames(p, at)
	}
	_, err := out.Write(p)
	return err
}

// syncDir fsyncs a directory so that a rename in it survives a crash.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return // best effort: the file itself is already synced
	}
	_ = d.Sync() // best effort, as above
	_ = d.Close()
}
