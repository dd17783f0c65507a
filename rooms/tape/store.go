package tape

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/tickroom/tickroom/rooms"
)

// Store errors, for errors.Is. ErrNotFound is also rooms.ErrNotFound.
var (
	ErrNotFound   = fmt.Errorf("tape: no such recording (%w)", rooms.ErrNotFound)
	ErrInProgress = errors.New("tape: recording in progress")
	// ErrInUse: the recording is the log of a room that still exists
	// (StoreOptions.Keep).
	ErrInUse = errors.New("tape: recording is the log of a room that still exists")
)

// Ext is the file name extension of a tape in a Store.
const Ext = ".tape"

// StoreOptions configures a Store. The zero value keeps everything forever.
type StoreOptions struct {
	// MaxBytes caps the total size of the store's files; Enforce deletes
	// the oldest finished recordings until they fit. Zero means no cap.
	MaxBytes int64
	// MaxAge is how long a finished recording is kept after its last write;
	// zero means forever.
	MaxAge time.Duration
	// Writer is used for every recording the store creates.
	Writer WriterOptions
	// Now is the clock MaxAge is measured with; nil means time.Now.
	Now func() time.Time
	// Keep, when set, reports recordings that must not be deleted, by
	// retention or by Delete: the logs of rooms that still exist (live or
	// asleep), which they are woken from. They count towards MaxBytes.
	Keep func(id string) bool
}

// Store is a directory of tapes named <uuid>.tape, each with its index
// <uuid>.tape.idx once closed. It knows which tapes its own Writers are
// still writing and never deletes those. One process per directory.
type Store struct {
	dir  string
	opts StoreOptions

	mu    sync.Mutex
	live  map[string]*Writer // recordings in progress; nil while being created
	cache map[string]cachedInfo
}

// cachedInfo saves reopening a finished tape for every List.
type cachedInfo struct {
	size int64
	mod  time.Time
	info Info
}

// Entry describes one recording of a Store.
type Entry struct {
	ID        string
	RoomID    string
	Type      string
	TickRate  int
	StartedAt time.Time
	FirstTick uint64
	LastTick  uint64
	Duration  time.Duration
	Size      int64 // bytes in the file (for one in progress: flushed so far)
	// ValidSize is where the last good frame ends: serve this many bytes.
	// For a recording in progress it is what its Writer has flushed, which
	// always ends on a frame boundary, so no scan is needed.
	ValidSize  int64
	Members    []string
	Keyframes  int
	InProgress bool
	Clean      bool // closed with an end record
	Damaged    bool // reading stopped at a damaged frame
}

// NewStore opens the store in dir, creating the directory if missing.
func NewStore(dir string, opts StoreOptions) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("tape: store: %w", err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Store{dir: dir, opts: opts, live: make(map[string]*Writer), cache: make(map[string]cachedInfo)}, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

var _ rooms.LogStore = (*Store)(nil)

// Create starts a recording in a new tape <dir>/<uuid>.tape
// (rooms.LogStore).
func (s *Store) Create(h rooms.RecordingHeader) (rooms.LogWriter, error) {
	id := uuid.NewString()
	if err := s.claim(id); err != nil {
		return nil, err
	}
	w, err := Create(s.file(id), h, s.opts.Writer)
	if err != nil {
		s.forget(id)
		return nil, fmt.Errorf("tape: new recording %s: %w", id, err)
	}
	s.opened(id, w)
	return w, nil
}

// Continue opens a recording to append to it again (rooms.LogStore).
func (s *Store) Continue(id string) (rooms.LogWriter, rooms.LogEnd, error) {
	if !validID(id) {
		return nil, rooms.LogEnd{}, fmt.Errorf("tape: continue %q: %w", id, ErrNotFound)
	}
	if err := s.claim(id); err != nil {
		return nil, rooms.LogEnd{}, err
	}
	w, end, err := Continue(s.file(id), s.opts.Writer)
	if err != nil {
		s.forget(id)
		return nil, rooms.LogEnd{}, err
	}
	s.opened(id, w)
	return w, end, nil
}

// Read reads a recording's ticks and events after from (rooms.LogStore).
func (s *Store) Read(id string, from rooms.LogPosition, fn func(rooms.LogRecord) error) error {
	if !validID(id) {
		return fmt.Errorf("tape: read %q: %w", id, ErrNotFound)
	}
	return ReadLog(s.file(id), from, fn)
}

// claim marks a recording as being written, before its file is created or
// opened, so that Enforce never sees it unclaimed.
func (s *Store) claim(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, live := s.live[id]; live {
		return fmt.Errorf("tape: recording %s: %w", id, ErrInProgress)
	}
	s.live[id] = nil
	return nil
}

func (s *Store) opened(id string, w *Writer) {
	w.onClose = func() { s.forget(id) }
	s.mu.Lock()
	s.live[id] = w
	s.mu.Unlock()
}

func (s *Store) forget(id string) {
	s.mu.Lock()
	delete(s.live, id)
	s.mu.Unlock()
}

// List returns every readable recording, newest first. Tapes whose header
// cannot be read are left out (Enforce still counts and expires them).
func (s *Store) List() ([]Entry, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("tape: list: %w", err)
	}
	var out []Entry
	seen := make(map[string]bool, len(des))
	for _, de := range des {
		id, ok := tapeID(de.Name())
		if !ok {
			continue
		}
		seen[id] = true
		if e, err := s.entry(id); err == nil {
			out = append(out, e)
		}
	}
	s.mu.Lock()
	for id := range s.cache {
		if !seen[id] {
			delete(s.cache, id) // deleted behind the store's back
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Entry) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out, nil
}

// Get returns one recording.
func (s *Store) Get(id string) (Entry, error) {
	if !validID(id) {
		return Entry{}, fmt.Errorf("tape: get %q: %w", id, ErrNotFound)
	}
	e, err := s.entry(id)
	if err != nil {
		return Entry{}, fmt.Errorf("tape: get %s: %w", id, err)
	}
	return e, nil
}

// Path returns the file of a recording, for serving it raw.
func (s *Store) Path(id string) (string, error) {
	if !validID(id) {
		return "", fmt.Errorf("tape: path %q: %w", id, ErrNotFound)
	}
	p := s.file(id)
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("tape: path %s: %w", id, notFound(err))
	}
	return p, nil
}

// Tape opens a recording's bytes for serving: its good frames (up to
// ValidSize, so that a recording in progress reads whole), and how many.
// The caller closes it.
func (s *Store) Tape(id string) (io.ReadSeekCloser, int64, error) {
	e, err := s.Get(id) // cheap: no scan, even for a tape being written
	if err != nil {
		return nil, 0, err
	}
	p, err := s.Path(id)
	if err != nil {
		return nil, 0, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, 0, fmt.Errorf("tape: open %s: %w", id, notFound(err))
	}
	return sectionCloser{io.NewSectionReader(f, 0, e.ValidSize), f}, e.ValidSize, nil
}

type sectionCloser struct {
	*io.SectionReader
	io.Closer
}

// Open opens a recording for reading (in progress or not).
func (s *Store) Open(id string) (*Reader, error) {
	p, err := s.Path(id)
	if err != nil {
		return nil, err
	}
	return Open(p)
}

// Delete deletes a finished recording and its index.
func (s *Store) Delete(id string) error {
	if !validID(id) {
		return fmt.Errorf("tape: delete %q: %w", id, ErrNotFound)
	}
	if err := s.remove(id); err != nil {
		return fmt.Errorf("tape: delete %s: %w", id, err)
	}
	return nil
}

// remove deletes a recording unless it is in progress. The check and the
// removal happen under the lock that Factory claims new ids under.
func (s *Store) remove(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, live := s.live[id]; live {
		return ErrInProgress
	}
	if s.opts.Keep != nil && s.opts.Keep(id) {
		return ErrInUse
	}
	delete(s.cache, id)
	if err := os.Remove(s.file(id)); err != nil {
		return notFound(err)
	}
	if err := os.Remove(s.file(id) + ".idx"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// entry describes one recording: a live one from its Writer, a finished
// one from its header and index (cached by size and modification time).
func (s *Store) entry(id string) (Entry, error) {
	s.mu.Lock()
	w, live := s.live[id]
	s.mu.Unlock()
	if live {
		if w == nil {
			return Entry{}, ErrNotFound // still being created
		}
		p := w.Progress()
		p.LastTick = max(p.LastTick, p.FirstTick)
		return entryOf(id, Info{Header: w.Header(), Size: p.Written, ValidSize: p.Written, FirstTick: p.FirstTick,
			LastTick: p.LastTick, Duration: ticksDuration(p.LastTick-p.FirstTick, w.Header().TickRate),
			Records: p.Records, Keyframes: p.Keyframes, Members: p.Members}, true), nil
	}
	st, err := os.Stat(s.file(id))
	if err != nil {
		return Entry{}, notFound(err)
	}
	s.mu.Lock()
	c, ok := s.cache[id]
	s.mu.Unlock()
	if ok && c.size == st.Size() && c.mod.Equal(st.ModTime()) {
		return entryOf(id, c.info, false), nil
	}
	r, err := Open(s.file(id))
	if err != nil {
		return Entry{}, err
	}
	info := r.Info()
	_ = r.Close() // read-only file: nothing to lose
	s.mu.Lock()
	s.cache[id] = cachedInfo{size: st.Size(), mod: st.ModTime(), info: info}
	s.mu.Unlock()
	return entryOf(id, info, false), nil
}

func entryOf(id string, in Info, live bool) Entry {
	return Entry{ID: id, RoomID: in.RoomID, Type: in.Type, TickRate: in.TickRate, StartedAt: in.StartedAt,
		FirstTick: in.FirstTick, LastTick: in.LastTick, Duration: in.Duration, Size: in.Size, ValidSize: in.ValidSize,
		Members: in.Members, Keyframes: in.Keyframes, InProgress: live, Clean: in.Clean, Damaged: in.Damage != nil}
}

// Enforce applies the retention policy: it deletes finished recordings
// older than MaxAge, then the oldest finished ones while the store's files
// total more than MaxBytes, and index files whose tape is gone. Recordings
// in progress are never deleted (they count towards MaxBytes). It returns
// the ids it deleted. The server calls it periodically.
func (s *Store) Enforce() ([]string, error) {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("tape: enforce: %w", err)
	}
	type file struct {
		id   string
		size int64
		mod  time.Time
	}
	var files []file
	var total int64
	idx := make(map[string]int64)
	for _, de := range des {
		st, err := de.Info()
		if err != nil || !st.Mode().IsRegular() {
			continue // gone since ReadDir, or not ours
		}
		if id, ok := strings.CutSuffix(de.Name(), Ext+".idx"); ok && validID(id) {
			idx[id] = st.Size()
		} else if id, ok := tapeID(de.Name()); ok {
			files = append(files, file{id, st.Size(), st.ModTime()})
			total += st.Size()
		}
	}
	for i, f := range files {
		files[i].size += idx[f.id]
		total += idx[f.id]
		delete(idx, f.id)
	}
	for id := range idx {
		// An index without its tape: the tape was deleted by hand.
		_ = os.Remove(s.file(id) + ".idx") // best effort: retried next time
	}
	slices.SortFunc(files, func(a, b file) int { return a.mod.Compare(b.mod) })

	var removed []string
	now := s.opts.Now()
	for _, f := range files {
		tooOld := s.opts.MaxAge > 0 && now.Sub(f.mod) > s.opts.MaxAge
		tooBig := s.opts.MaxBytes > 0 && total > s.opts.MaxBytes
		if !tooOld && !tooBig {
			continue
		}
		switch err := s.remove(f.id); {
		case err == nil:
			removed = append(removed, f.id)
			total -= f.size
		case errors.Is(err, ErrInProgress), errors.Is(err, ErrInUse), errors.Is(err, fs.ErrNotExist), errors.Is(err, ErrNotFound):
		default:
			return removed, fmt.Errorf("tape: enforce: delete %s: %w", f.id, err)
		}
	}
	return removed, nil
}

func (s *Store) file(id string) string { return filepath.Join(s.dir, id+Ext) }

// tapeID returns the id of a tape file name.
func tapeID(name string) (string, bool) {
	id, ok := strings.CutSuffix(name, Ext)
	return id, ok && validID(id)
}

// validID accepts canonical UUIDs only, which also keeps paths inside the
// store.
func validID(id string) bool {
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

func notFound(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNotFound
	}
	return err
}

func ticksDuration(ticks uint64, rate int) time.Duration {
	if rate <= 0 {
		return 0
	}
	return time.Duration(ticks) * time.Second / time.Duration(rate)
}
