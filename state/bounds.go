package state

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// errOversized is wrapped by WellSized's errors.
var errOversized = errors.New("length beyond the message")

// maxNesting bounds how deep WellSized follows arrays and maps, and so the
// decoder's recursion after it. It is encoding/json's own limit: room
// options arrive as JSON and are stored in a tape's header, so whatever a
// creator could send still reads back.
const maxNesting = 10000

// WellSized checks that b is exactly one MessagePack value whose every
// length (array, map, string, binary, extension) fits in the bytes that are
// left, nested at most maxNesting deep. It allocates nothing. Call it
// before msgpack.Unmarshal of bytes from outside into anything holding a
// slice.
//
// Why: msgpack v5.4.1 allocates the whole length an array header claims
// before reading any element (its million-element cap is never applied:
// vmihailenco/msgpack issue 401), so five bytes, 0xdd ff ff ff ff,
// decoded into a []msgpack.RawMessage ask for 96 GiB and the process dies
// (found by FuzzDecodeWelcome). Once every element needs at least one byte
// of message, decoding b costs memory in proportion to len(b).
func WellSized(b []byte) error {
	rest, err := skipValue(b, 0)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%d bytes after the value", len(rest))
	}
	return nil
}

// skipValue returns what follows the value at the start of b.
func skipValue(b []byte, depth int) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("message ends inside a value")
	}
	c, b := b[0], b[1:]
	var n uint64 // elements (array, map) or bytes (the rest) that follow the header
	elems := uint64(0)
	switch {
	case c <= 0x7f || c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3:
		return b, nil
	case c <= 0x8f:
		n, elems = uint64(c&0x0f)*2, 1
	case c <= 0x9f:
		n, elems = uint64(c&0x0f), 1
	case c <= 0xbf:
		n = uint64(c & 0x1f)
	default:
		var err error
		if n, elems, b, err = header(c, b); err != nil {
			return nil, err
		}
	}
	if n > uint64(len(b)) {
		return nil, fmt.Errorf("%w: 0x%02x claims %d, %d bytes left", errOversized, c, n, len(b))
	}
	if elems == 0 {
		return b[n:], nil
	}
	if depth >= maxNesting {
		return nil, fmt.Errorf("nested deeper than %d", maxNesting)
	}
	for range n {
		var err error
		if b, err = skipValue(b, depth+1); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// header reads the length bytes after code c (0xc4..0xdf). It returns the
// count that follows: bytes, or for arrays and maps (elems 1) elements, a
// map's counted twice.
func header(c byte, b []byte) (n, elems uint64, rest []byte, err error) {
	// size of the length field, bytes of payload with no length field, and
	// an extension's type byte
	var lenSize, fixed, extType int
	switch c {
	case 0xc1:
		return 0, 0, nil, errors.New("code 0xc1 is never used")
	case 0xc4, 0xd9: // bin8, str8
		lenSize = 1
	case 0xc5, 0xda: // bin16, str16
		lenSize = 2
	case 0xc6, 0xdb: // bin32, str32
		lenSize = 4
	case 0xc7, 0xc8, 0xc9: // ext8, ext16, ext32
		lenSize, extType = 1<<(c-0xc7), 1
	case 0xca, 0xce, 0xd2: // float32, uint32, int32
		fixed = 4
	case 0xcb, 0xcf, 0xd3: // float64, uint64, int64
		fixed = 8
	case 0xcc, 0xd0: // uint8, int8
		fixed = 1
	case 0xcd, 0xd1: // uint16, int16
		fixed = 2
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16
		fixed = 1 + 1<<(c-0xd4)
	case 0xdc, 0xde: // array16, map16
		lenSize, elems = 2, 1
	case 0xdd, 0xdf: // array32, map32
		lenSize, elems = 4, 1
	}
	if fixed > 0 {
		return uint64(fixed), 0, b, nil
	}
	if len(b) < lenSize+extType {
		return 0, 0, nil, errors.New("message ends inside a length")
	}
	switch lenSize {
	case 1:
		n = uint64(b[0])
	case 2:
		n = uint64(binary.BigEndian.Uint16(b))
	case 4:
		n = uint64(binary.BigEndian.Uint32(b))
	}
	if c == 0xde || c == 0xdf {
		n *= 2
	}
	return n, elems, b[lenSize+extType:], nil
}
