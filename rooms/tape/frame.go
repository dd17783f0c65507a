package tape

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"slices"
)

// frame is one decoded frame. payload aliases the frameReader's buffer and
// is valid until its next read.
type frame struct {
	off     int64
	size    int
	kind    Kind
	tick    uint64
	payload []byte
	ops     []byte // KindOps: the ops part of payload
	msg     []byte // the message part of payload (all of it but for KindOps)
}

// frameReader reads frames from an offset of a file through its own
// buffer, with ReadAt only: several frameReaders can share one file, and a
// file that grows behind it is read as far as it has grown.
type frameReader struct {
	ra   io.ReaderAt
	br   *bufio.Reader
	off  int64  // offset of the next frame
	prev uint64 // tick of the previous frame
	head []byte // the current frame's tag, tick and length bytes
	buf  []byte // payload and CRC of the current frame
}

func newFrameReader(ra io.ReaderAt, off int64, prev uint64) *frameReader {
	fr := &frameReader{ra: ra, br: bufio.NewReaderSize(nil, 64<<10), head: make([]byte, 0, 21)}
	fr.seek(off, prev)
	return fr
}

// seek positions the reader at the frame starting at off, whose
// predecessor had tick prev.
func (fr *frameReader) seek(off int64, prev uint64) {
	fr.off, fr.prev = off, prev
	fr.br.Reset(io.NewSectionReader(fr.ra, off, math.MaxInt64-off))
}

// read returns the next frame. It returns io.EOF when the file ends exactly
// at the frame boundary, and a *DamageError (Records not set) when the frame
// is cut short or corrupt. After an error the reader must be re-seeked.
func (fr *frameReader) read() (frame, error) {
	fr.head = fr.head[:0]
	tag, err := fr.br.ReadByte()
	if err != nil {
		if err == io.EOF {
			return frame{}, io.EOF
		}
		return frame{}, fmt.Errorf("read frame at %d: %w", fr.off, err)
	}
	fr.head = append(fr.head, tag)
	k := Kind(tag & 7)
	if !k.valid() {
		return frame{}, fr.damage(fmt.Sprintf("bad record kind %d", tag&7), false)
	}
	tick := fr.prev + uint64(tag>>3)
	if tag>>3 == tickAbsolute {
		if tick, err = fr.uvarint(); err != nil {
			return frame{}, fr.fail("tick", err)
		}
	}
	n, err := fr.uvarint()
	if err != nil {
		return frame{}, fr.fail("length", err)
	}
	if n > maxPayload {
		return frame{}, fr.damage(fmt.Sprintf("payload length %d over the limit", n), false)
	}
	if err := fr.readPayload(int(n) + crcSize); err != nil {
		return frame{}, fr.fail("payload", err)
	}
	payload := fr.buf[:n]
	sum := crc32.Update(crc32.Checksum(fr.head, castagnoli), castagnoli, payload)
	if sum != binary.LittleEndian.Uint32(fr.buf[n:]) {
		return frame{}, fr.damage("checksum mismatch", false)
	}
	f := frame{off: fr.off, size: len(fr.head) + len(fr.buf), kind: k, tick: tick, payload: payload, msg: payload}
	if k == KindOps {
		l, w := binary.Uvarint(payload)
		if w <= 0 || l > uint64(len(payload)-w) {
			return frame{}, fr.damage("ops length does not fit the record", false)
		}
		f.ops, f.msg = payload[w:w+int(l)], payload[w+int(l):]
	}
	fr.off += int64(f.size)
	fr.prev = tick
	return f, nil
}

// readPayload reads need bytes into buf. It grows buf a chunk at a time as
// the bytes arrive, so that a corrupt length in a short file costs a chunk
// of memory, not the length.
func (fr *frameReader) readPayload(need int) error {
	const chunk = 1 << 20
	fr.buf = fr.buf[:0]
	for len(fr.buf) < need {
		k := min(need-len(fr.buf), chunk)
		fr.buf = slices.Grow(fr.buf, k)[:len(fr.buf)+k]
		if _, err := io.ReadFull(fr.br, fr.buf[len(fr.buf)-k:]); err != nil {
			return err
		}
	}
	return nil
}

// uvarint reads a uvarint, keeping its bytes in head for the checksum.
func (fr *frameReader) uvarint() (uint64, error) {
	var x uint64
	for i := range binary.MaxVarintLen64 {
		b, err := fr.br.ReadByte()
		if err != nil {
			return 0, err
		}
		fr.head = append(fr.head, b)
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				break
			}
			return x | uint64(b)<<(7*i), nil
		}
		x |= uint64(b&0x7f) << (7 * i)
	}
	return 0, errVarint
}

var errVarint = errors.New("uvarint overflows 64 bits")

// fail turns a read error inside a frame into a damage report: the file
// ending there means a truncated frame; an overflowing varint is corruption.
func (fr *frameReader) fail(what string, err error) error {
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fr.damage("file ends inside the frame's "+what, true)
	case errors.Is(err, errVarint):
		return fr.damage("bad "+what+": "+err.Error(), false)
	}
	return fmt.Errorf("read frame at %d: %s: %w", fr.off, what, err)
}

func (fr *frameReader) damage(reason string, truncated bool) *DamageError {
	return &DamageError{Offset: fr.off, Reason: reason, Truncated: truncated}
}
