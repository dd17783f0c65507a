package server

import (
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ring is a minimal io_uring instance that sends one buffer to many
// sockets with one io_uring_enter: a room's tick frame to its members
// (issue 15: one write(2) per member per tick was 36% of the server's
// CPU). Only what that needs: IORING_OP_SEND with MSG_DONTWAIT, submitted
// and reaped by the caller; no SQ polling thread, no registered files.
//
// Why not a library: no Go io_uring module could be had here (the module
// proxy refused giouring, iceber/iouring-go and go-uring), and this needs
// four calls of the interface. With MSG_DONTWAIT the kernel completes each
// send inline during the submission, a full socket with -EAGAIN instead of
// arming a poll, so every completion is there when io_uring_enter returns
// and nothing stays in flight between calls.
//
// A ring is used by one goroutine at a time (ringPool hands it out).
type ring struct {
	fd      int
	mem     []byte // the SQ and CQ rings (IORING_FEAT_SINGLE_MMAP)
	sqeMem  []byte
	entries uint32

	sqHead, sqTail *uint32
	sqMask         uint32
	sqArray        []uint32
	sqes           []uringSQE

	cqHead, cqTail *uint32
	cqMask         uint32
	cqes           []uringCQE
}

// The kernel's structures (include/uapi/linux/io_uring.h).
type uringSQE struct {
	opcode      uint8
	flags       uint8
	ioprio      uint16
	fd          int32
	off         uint64
	addr        uint64
	len         uint32
	opFlags     uint32 // msg_flags for IORING_OP_SEND
	userData    uint64
	bufIndex    uint16
	personality uint16
	fileIndex   int32
	addr3       uint64
	_           uint64
}

type uringCQE struct {
	userData uint64
	res      int32
	flags    uint32
}

type uringSQOffsets struct {
	head, tail, ringMask, ringEntries, flags, dropped, array, resv1 uint32
	userAddr                                                        uint64
}

type uringCQOffsets struct {
	head, tail, ringMask, ringEntries, overflow, cqes, flags, resv1 uint32
	userAddr                                                        uint64
}

type uringParams struct {
	sqEntries, cqEntries, flags, sqThreadCPU, sqThreadIdle, features, wqFD uint32
	resv                                                                   [3]uint32
	sqOff                                                                  uringSQOffsets
	cqOff                                                                  uringCQOffsets
}

const (
	uringOpSend         = 26
	uringSetupSubmitAll = 1 << 7
	uringEnterGetEvents = 1 << 0
	uringFeatSingleMmap = 1 << 0
	uringOffSQRing      = 0
	uringOffSQEs        = 0x10000000
)

// Checked against the kernel's sizes: a wrong layout would corrupt the ring.
var _ = [1]struct{}{}[unsafe.Sizeof(uringSQE{})-64]
var _ = [1]struct{}{}[unsafe.Sizeof(uringCQE{})-16]
var _ = [1]struct{}{}[unsafe.Sizeof(uringParams{})-120]

// errRingBroken: io_uring_enter failed in a way a retry will not mend.
var errRingBroken = errors.New("io_uring: ring broken")

// newRing sets up a ring of entries submissions (a power of two).
func newRing(entries uint32) (*ring, error) {
	// SUBMIT_ALL (5.18): a send that fails at submission does not stop
	// the ones after it; without it (EINVAL) sendAll submits the rest anew.
	p := uringParams{flags: uringSetupSubmitAll}
	fd, _, errno := unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	if errno == unix.EINVAL {
		p = uringParams{}
		fd, _, errno = unix.Syscall(unix.SYS_IO_URING_SETUP, uintptr(entries), uintptr(unsafe.Pointer(&p)), 0)
	}
	if errno != 0 {
		return nil, fmt.Errorf("io_uring_setup: %w", errno)
	}
	r := &ring{fd: int(fd), entries: p.sqEntries}
	if p.features&uringFeatSingleMmap == 0 {
		r.close()
		return nil, errors.New("io_uring: the kernel lacks IORING_FEAT_SINGLE_MMAP (before 5.4)")
	}
	size := max(p.sqOff.array+p.sqEntries*4, p.cqOff.cqes+p.cqEntries*uint32(unsafe.Sizeof(uringCQE{})))
	var err error
	r.mem, err = unix.Mmap(r.fd, uringOffSQRing, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("io_uring: mmap rings: %w", err)
	}
	r.sqeMem, err = unix.Mmap(r.fd, uringOffSQEs, int(p.sqEntries)*int(unsafe.Sizeof(uringSQE{})), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_POPULATE)
	if err != nil {
		r.close()
		return nil, fmt.Errorf("io_uring: mmap entries: %w", err)
	}
	u32 := func(off uint32) *uint32 { return (*uint32)(unsafe.Pointer(&r.mem[off])) }
	r.sqHead, r.sqTail, r.sqMask = u32(p.sqOff.head), u32(p.sqOff.tail), *u32(p.sqOff.ringMask)
	r.sqArray = unsafe.Slice(u32(p.sqOff.array), p.sqEntries)
	r.sqes = unsafe.Slice((*uringSQE)(unsafe.Pointer(&r.sqeMem[0])), p.sqEntries)
	r.cqHead, r.cqTail, r.cqMask = u32(p.cqOff.head), u32(p.cqOff.tail), *u32(p.cqOff.ringMask)
	r.cqes = unsafe.Slice((*uringCQE)(unsafe.Pointer(&r.mem[p.cqOff.cqes])), p.cqEntries)
	for i := range r.sqArray {
		r.sqArray[i] = uint32(i) // slot i of the ring is entry i, for good
	}
	return r, nil
}

func (r *ring) close() {
	if r.sqeMem != nil {
		_ = unix.Munmap(r.sqeMem)
	}
	if r.mem != nil {
		_ = unix.Munmap(r.mem)
	}
	_ = unix.Close(r.fd)
}

// sendAll sends buf to each of fds (at most r.entries) with MSG_DONTWAIT
// and stores each send's result in res: the bytes sent, or -errno. It
// returns once every send has completed. The caller keeps the descriptors
// open meanwhile. On errRingBroken the sends not submitted have res
// resUnsent (the caller writes those another way) and the ring must not
// be used again.
func (r *ring) sendAll(buf []byte, fds []int32, res []int32) error {
	n := uint32(len(fds))
	if n == 0 {
		return nil
	}
	if n > r.entries {
		panic("io_uring: more sends than entries")
	}
	head := atomic.LoadUint32(r.sqHead)
	tail := atomic.LoadUint32(r.sqTail)
	if tail != head {
		return errRingBroken // left over from a failed call
	}
	addr := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(buf))))
	for i, fd := range fds {
		res[i] = resUnsent
		r.sqes[(tail+uint32(i))&r.sqMask] = uringSQE{
			opcode:   uringOpSend,
			fd:       fd,
			addr:     addr,
			len:      uint32(len(buf)),
			opFlags:  unix.MSG_DONTWAIT | unix.MSG_NOSIGNAL,
			userData: uint64(i),
		}
	}
	atomic.StoreUint32(r.sqTail, tail+n)
	var err error
	for done := uint32(0); done < n; {
		submitted := atomic.LoadUint32(r.sqHead) - head
		_, _, errno := unix.Syscall6(unix.SYS_IO_URING_ENTER, uintptr(r.fd), uintptr(n-submitted), uintptr(n-done), uringEnterGetEvents, 0, 0)
		for h, t := atomic.LoadUint32(r.cqHead), atomic.LoadUint32(r.cqTail); h != t; h++ {
			c := r.cqes[h&r.cqMask]
			res[c.userData] = c.res
			done++
			atomic.StoreUint32(r.cqHead, h+1)
		}
		switch errno {
		case 0, unix.EINTR, unix.EAGAIN, unix.EBUSY:
			continue
		}
		// Take back what the kernel has not taken; what it took completed
		// (inline, MSG_DONTWAIT) and was reaped above, or the ring is not
		// to be trusted again.
		taken := atomic.LoadUint32(r.sqHead) - head
		atomic.StoreUint32(r.sqTail, head+taken)
		for i := range taken {
			if res[i] == resUnsent {
				res[i] = -int32(unix.EIO) // taken, never completed: its stream is in doubt
			}
		}
		err = fmt.Errorf("%w: io_uring_enter: %v", errRingBroken, errno)
		break
	}
	runtime.KeepAlive(buf)
	return err
}

// resUnsent marks a send the ring never submitted.
const resUnsent = -1 << 31
