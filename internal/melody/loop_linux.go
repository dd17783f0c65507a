package melody

import (
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"syscall"

	"github.com/gorilla/websocket"
	"golang.org/x/sys/unix"
)

// eventLoop reads every session that has a descriptor: one goroutine for
// the whole process, parked until its epoll set has events (Go's poller
// watches the epoll descriptor), which on each wake-up reads
// every ready socket into one buffer and parses its frames in place
// (frame.go), calling the handlers from this goroutine. An idle session
// costs no goroutine, stack or buffer. The descriptor stays Go's as well
// (the connection's writes and deadlines use the runtime's poller); it is
// read here through syscall.RawConn.Read, which holds a reference so that a
// concurrent Close cannot hand the number to another socket mid-read.
//
// Sessions are keyed by a uint32 id in the epoll event (no Go pointer goes
// to the kernel). Everything that ends a session here happens on the loop:
// other goroutines ask through kill (an eventfd wakes the loop).
type eventLoop struct {
	epfd, evfd int
	ep         syscall.RawConn // epfd in Go's poller: the loop parks there, not in epoll_wait

	mu       sync.Mutex
	sessions map[uint32]*Session
	nextID   uint32
	kills    []killReq

	buf   []byte
	cur   *Session // the session being read: set only while rawRead runs
	n     int
	rerr  error
	readF func(fd uintptr) bool
}

type killReq struct {
	s   *Session
	err error
}

var (
	theLoop  *eventLoop
	loopOnce sync.Once
)

// loop returns the process's event loop, started on first use; nil if
// epoll is not available (then every session is read by a goroutine).
func loop() *eventLoop {
	loopOnce.Do(func() {
		l, err := newEventLoop()
		if err != nil {
			slog.Warn("melody: no event loop; reading each session from a goroutine", "err", err)
			return
		}
		theLoop = l
		go l.run()
	})
	return theLoop
}

func newEventLoop() (*eventLoop, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	evfd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &unix.EpollEvent{Events: unix.EPOLLIN}); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, err
	}
	// The loop waits for its epoll descriptor to become readable in Go's
	// own poller (an epoll descriptor is readable while it has events), so
	// it parks like any goroutine instead of blocking a thread in
	// epoll_wait, which the scheduler must notice and hand its P over.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, err
	}
	ep, err := os.NewFile(uintptr(epfd), "melody-epoll").SyscallConn()
	if err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return nil, err
	}
	l := &eventLoop{epfd: epfd, evfd: evfd, ep: ep, sessions: make(map[uint32]*Session), buf: make([]byte, 64<<10)}
	l.readF = l.rawRead
	return l, nil
}

// add registers s; false if it could not be (its reader is then a goroutine).
func (l *eventLoop) add(s *Session) bool {
	if l == nil {
		return false
	}
	l.mu.Lock()
	for {
		l.nextID++
		if _, used := l.sessions[l.nextID]; l.nextID != 0 && !used {
			break
		}
	}
	id := l.nextID
	s.id.Store(id)
	l.sessions[id] = s
	l.mu.Unlock()
	var cerr error
	err := s.raw.Control(func(fd uintptr) {
		cerr = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, int(fd), &unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLRDHUP, Fd: int32(id)})
	})
	if err == nil {
		err = cerr
	}
	if err != nil {
		l.mu.Lock()
		delete(l.sessions, id)
		l.mu.Unlock()
		s.id.Store(0)
		return false
	}
	return true
}

// remove unregisters s; called from end, on the loop.
func (l *eventLoop) remove(s *Session) {
	// A closed descriptor has left the epoll set already (Control fails).
	_ = s.raw.Control(func(fd uintptr) { _ = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_DEL, int(fd), nil) })
	l.mu.Lock()
	delete(l.sessions, s.id.Load())
	l.mu.Unlock()
}

// kill ends s on the loop.
func (l *eventLoop) kill(s *Session, err error) {
	l.mu.Lock()
	l.kills = append(l.kills, killReq{s, err})
	l.mu.Unlock()
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	_, _ = unix.Write(l.evfd, one[:])
}

func (l *eventLoop) run() {
	events := make([]unix.EpollEvent, 256)
	ready := make([]*Session, 0, 256)
	var kills []killReq
	var n int
	var werr error
	wait := func(fd uintptr) bool {
		for {
			n, werr = unix.EpollWait(int(fd), events, 0)
			if werr != unix.EINTR {
				return n > 0 || werr != nil // none ready: park until the descriptor is readable
			}
		}
	}
	for {
		err := l.ep.Read(wait)
		if err == nil {
			err = werr
		}
		if err != nil {
			slog.Error("melody: epoll_wait failed; the event loop stops", "err", err)
			return
		}
		wake := false
		l.mu.Lock()
		for _, ev := range events[:n] {
			if ev.Fd == 0 {
				wake = true
				continue
			}
			if s := l.sessions[uint32(ev.Fd)]; s != nil {
				ready = append(ready, s)
			}
		}
		if wake {
			kills, l.kills = l.kills, kills[:0]
		}
		l.mu.Unlock()
		if wake {
			var b [8]byte
			_, _ = unix.Read(l.evfd, b[:])
		}
		for _, s := range ready {
			l.read(s)
		}
		for _, k := range kills {
			l.guard(k.s, func() { k.s.end(k.err) })
		}
		clear(ready)
		ready = ready[:0]
		clear(kills)
		kills = kills[:0]
	}
}

// read reads what s has (one read(2) of up to 64 KiB; epoll is
// level-triggered, so more wakes the loop again) and parses it.
func (l *eventLoop) read(s *Session) {
	if s.ended.Load() {
		return
	}
	l.cur, l.n, l.rerr = s, 0, nil
	err := s.raw.Read(l.readF)
	l.cur = nil
	if err == nil {
		err = l.rerr
	}
	switch {
	case errors.Is(err, unix.EAGAIN):
		return
	case err != nil:
	case l.n == 0:
		err = &websocket.CloseError{Code: CloseAbnormalClosure, Text: io.ErrUnexpectedEOF.Error()}
	}
	if err != nil {
		l.guard(s, func() { s.end(err) })
		return
	}
	s.lastRead.Store(s.melody.wheel.now())
	l.guard(s, func() { s.feed(l.buf[:l.n]) })
}

func (l *eventLoop) rawRead(fd uintptr) bool {
	for {
		n, err := unix.Read(int(fd), l.buf)
		if err == unix.EINTR {
			continue
		}
		l.n, l.rerr = max(n, 0), err
		return true
	}
}

// guard keeps a panic in a handler to its session: the session ends, the
// loop goes on.
func (l *eventLoop) guard(s *Session, fn func()) {
	defer func() {
		if p := recover(); p != nil {
			slog.Error("melody: session handler panicked", "panic", p, "stack", string(debug.Stack()))
			s.end(errPanicked)
		}
	}()
	fn()
}

var errPanicked = errors.New("melody: a handler panicked")
