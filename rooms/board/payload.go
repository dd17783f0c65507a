package board

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// maxKeys bounds an input map: the largest op (create) has seven keys, and
// a bound keeps a hostile map from costing more than a glance.
const maxKeys = 8

// payload is one decoded input: a flat MessagePack map from string keys to
// numbers or strings, keys in arrival order. A slice, not a Go map, so that
// which bad key an error names never depends on map iteration order.
type payload struct {
	op   string
	keys []string
	vals []scalar
}

// scalar is one value of a payload. Values that are neither numbers nor
// strings are kept only as their type code, to name them in an error.
type scalar struct {
	code  byte // the value's first MessagePack byte
	isNum bool
	num   float64
	str   string
}

// decodePayload reads the map and its "op". Numbers may be integers or
// floats (JavaScript encodes 3 as an integer and 3.5 as a float); which a
// field needs is checked when it is read.
func decodePayload(b []byte) (*payload, error) {
	rd := bytes.NewReader(b)
	dec := msgpack.NewDecoder(rd)
	c, err := dec.PeekCode()
	if err != nil {
		return nil, errors.New("board: input is empty, want a map with an op")
	}
	if !isMap(c) {
		return nil, fmt.Errorf("board: input is %s, want a map with an op", typeName(c))
	}
	n, err := dec.DecodeMapLen()
	if err != nil {
		return nil, fmt.Errorf("board: input: %w", err)
	}
	if n > maxKeys {
		return nil, fmt.Errorf("board: input has %d keys, more than any op takes (%d)", n, maxKeys)
	}
	p := &payload{keys: make([]string, 0, n), vals: make([]scalar, 0, n)}
	for range n {
		key, err := readKey(dec)
		if err != nil {
			return nil, err
		}
		if slices.Contains(p.keys, key) {
			return nil, fmt.Errorf("board: input has %.32q twice", key)
		}
		v, err := readScalar(dec, key)
		if err != nil {
			return nil, err
		}
		p.keys = append(p.keys, key)
		p.vals = append(p.vals, v)
	}
	if rd.Len() != 0 {
		return nil, fmt.Errorf("board: input has %d stray bytes after the map", rd.Len())
	}
	op, ok := p.get("op")
	switch {
	case !ok:
		return nil, errors.New(`board: input has no "op" (cursor, create, move, color or delete)`)
	case !msgpcode.IsString(op.code):
		return nil, fmt.Errorf(`board: input "op" is %s, want a string`, typeName(op.code))
	}
	p.op = op.str
	return p, nil
}

func readKey(dec *msgpack.Decoder) (string, error) {
	c, err := dec.PeekCode()
	if err != nil {
		return "", fmt.Errorf("board: input is cut short: %w", err)
	}
	if !msgpcode.IsString(c) {
		return "", fmt.Errorf("board: input has %s as a key, want string keys", typeName(c))
	}
	key, err := dec.DecodeString()
	if err != nil {
		return "", fmt.Errorf("board: input key: %w", err)
	}
	return key, nil
}

func readScalar(dec *msgpack.Decoder, key string) (scalar, error) {
	c, err := dec.PeekCode()
	if err != nil {
		return scalar{}, fmt.Errorf("board: input is cut short at %q: %w", key, err)
	}
	v := scalar{code: c}
	switch {
	case c == msgpcode.Float || c == msgpcode.Double:
		v.isNum = true
		v.num, err = dec.DecodeFloat64()
	case c == msgpcode.Uint64:
		var u uint64
		u, err = dec.DecodeUint64()
		v.isNum, v.num = true, float64(u)
	case isInt(c):
		var i int64
		i, err = dec.DecodeInt64()
		v.isNum, v.num = true, float64(i)
	case msgpcode.IsString(c):
		v.str, err = dec.DecodeString()
	default:
		err = dec.Skip() // the type is refused once a field asks for it
	}
	if err != nil {
		return scalar{}, fmt.Errorf("board: input %q: %w", key, err)
	}
	return v, nil
}

func (p *payload) get(key string) (scalar, bool) {
	if i := slices.Index(p.keys, key); i >= 0 {
		return p.vals[i], true
	}
	return scalar{}, false
}

// only refuses keys the op does not take, so that a misspelt field is
// reported instead of silently ignored.
func (p *payload) only(keys ...string) error {
	for _, k := range p.keys {
		if k != "op" && !slices.Contains(keys, k) {
			return fmt.Errorf("board: %s takes no %.32q (it takes %s)", p.op, k, strings.Join(keys, ", "))
		}
	}
	return nil
}

// number returns a required finite number.
func (p *payload) number(key string) (float64, error) {
	v, ok := p.get(key)
	switch {
	case !ok:
		return 0, fmt.Errorf("board: %s needs %q", p.op, key)
	case !v.isNum:
		return 0, fmt.Errorf("board: %s %q is %s, want a number", p.op, key, typeName(v.code))
	case math.IsNaN(v.num) || math.IsInf(v.num, 0):
		return 0, fmt.Errorf("board: %s %q is %v, want a finite number", p.op, key, v.num)
	}
	return v.num, nil
}

// integer returns a required whole number in lo..hi; a float is accepted
// when it is whole, since JavaScript does not tell 3 from 3.0.
func (p *payload) integer(key string, lo, hi int64) (int64, error) {
	f, err := p.number(key)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, fmt.Errorf("board: %s %q is %v, want a whole number in %d..%d", p.op, key, f, lo, hi)
	}
	return int64(f), nil
}

func isMap(c byte) bool {
	return msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32
}

func isInt(c byte) bool {
	return msgpcode.IsFixedNum(c) || (c >= msgpcode.Uint8 && c <= msgpcode.Int64)
}

// typeName names the MessagePack type that starts with code c, for errors.
func typeName(c byte) string {
	switch {
	case c == msgpcode.Nil:
		return "nil"
	case c == msgpcode.False || c == msgpcode.True:
		return "a bool"
	case isInt(c):
		return "an integer"
	case c == msgpcode.Float || c == msgpcode.Double:
		return "a float"
	case msgpcode.IsString(c):
		return "a string"
	case msgpcode.IsBin(c):
		return "binary"
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		return "an array"
	case isMap(c):
		return "a map"
	case msgpcode.IsExt(c):
		return "an extension"
	}
	return fmt.Sprintf("invalid MessagePack (code 0x%02x)", c)
}
