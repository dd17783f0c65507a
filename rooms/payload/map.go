package payload

import (
	"bytes"
	"fmt"
	"math"
	"slices"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Spec describes the map a room type takes, for Decode's errors.
type Spec struct {
	// Name begins every error, such as "arena: input".
	Name string
	// Want says what the payload should be, such as "a map {dx, dy}".
	Want string
	// MaxKeys bounds the map, so that a hostile map is refused before any
	// of it is read.
	MaxKeys int
}

// Map is a decoded payload: string keys to scalar values, in arrival order.
// A slice, not a Go map, so that which bad key an error names never depends
// on map iteration order.
type Map struct {
	// Name begins the getters' errors. Decode sets it to the Spec's name; a
	// room type may narrow it once it knows more, such as "board: move".
	Name string
	keys []string
	vals []value
}

// value is one value of a Map. Values that are neither numbers nor strings
// are kept only as their type code, to name them in an error.
type value struct {
	code  byte // the value's first MessagePack byte
	isNum bool
	num   float64
	str   string
}

// Decode reads b as one MessagePack map of at most s.MaxKeys distinct string
// keys, and nothing after it. Values that are not numbers or strings are
// skipped; a getter refuses them by type when asked.
func Decode(b []byte, s Spec) (*Map, error) {
	rd := bytes.NewReader(b)
	dec := msgpack.NewDecoder(rd)
	c, err := dec.PeekCode()
	if err != nil {
		return nil, fmt.Errorf("%s is empty, want %s", s.Name, s.Want)
	}
	if !isMap(c) {
		return nil, fmt.Errorf("%s is %s, want %s", s.Name, TypeName(c), s.Want)
	}
	n, err := dec.DecodeMapLen()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.Name, err)
	}
	if n > s.MaxKeys {
		return nil, fmt.Errorf("%s has %d keys, want at most %d", s.Name, n, s.MaxKeys)
	}
	m := &Map{Name: s.Name, keys: make([]string, 0, n), vals: make([]value, 0, n)}
	for range n {
		key, err := readKey(dec, s.Name)
		if err != nil {
			return nil, err
		}
		if slices.Contains(m.keys, key) {
			return nil, fmt.Errorf("%s has %.32q twice", s.Name, key)
		}
		v, err := readValue(dec, s.Name, key)
		if err != nil {
			return nil, err
		}
		m.keys = append(m.keys, key)
		m.vals = append(m.vals, v)
	}
	if rd.Len() != 0 {
		return nil, fmt.Errorf("%s has %d stray bytes after the map", s.Name, rd.Len())
	}
	return m, nil
}

func readKey(dec *msgpack.Decoder, name string) (string, error) {
	c, err := dec.PeekCode()
	if err != nil {
		return "", fmt.Errorf("%s is cut short: %w", name, err)
	}
	if !msgpcode.IsString(c) {
		t := TypeName(c)
		return "", fmt.Errorf("%s has %s key: %s as a key is refused, want string keys", name, t, t)
	}
	key, err := dec.DecodeString()
	if err != nil {
		return "", fmt.Errorf("%s key: %w", name, err)
	}
	return key, nil
}

func readValue(dec *msgpack.Decoder, name, key string) (value, error) {
	c, err := dec.PeekCode()
	if err != nil {
		return value{}, fmt.Errorf("%s is cut short at %q: %w", name, key, err)
	}
	v := value{code: c}
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
		err = dec.Skip() // the type is refused once a getter asks for it
	}
	if err != nil {
		return value{}, fmt.Errorf("%s %q: %w", name, key, err)
	}
	return v, nil
}

// Len returns the number of keys.
func (m *Map) Len() int { return len(m.keys) }

// Has reports whether the map holds key.
func (m *Map) Has(key string) bool { return slices.Contains(m.keys, key) }

// Unknown returns the first key, in arrival order, that is not one of known,
// so that a room type can report a misspelt key instead of ignoring it.
func (m *Map) Unknown(known ...string) (string, bool) {
	for _, k := range m.keys {
		if !slices.Contains(known, k) {
			return k, true
		}
	}
	return "", false
}

// String returns a required string.
func (m *Map) String(key string) (string, error) {
	v, err := m.get(key)
	if err != nil {
		return "", err
	}
	if !msgpcode.IsString(v.code) {
		return "", fmt.Errorf("%s %q is %s, want a string", m.Name, key, TypeName(v.code))
	}
	return v.str, nil
}

// Number returns a required finite number.
func (m *Map) Number(key string) (float64, error) {
	v, err := m.get(key)
	switch {
	case err != nil:
		return 0, err
	case !v.isNum:
		return 0, fmt.Errorf("%s %q is %s, want a number", m.Name, key, TypeName(v.code))
	case math.IsNaN(v.num) || math.IsInf(v.num, 0):
		return 0, fmt.Errorf("%s %q is %v, want a finite number", m.Name, key, v.num)
	}
	return v.num, nil
}

// Integer returns a required whole number in lo..hi. A float is accepted
// when it is whole, since JavaScript does not tell 3 from 3.0.
func (m *Map) Integer(key string, lo, hi int64) (int64, error) {
	f, err := m.Number(key)
	if err != nil {
		return 0, err
	}
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, fmt.Errorf("%s %q is %v, want a whole number in %d..%d", m.Name, key, f, lo, hi)
	}
	return int64(f), nil
}

func (m *Map) get(key string) (value, error) {
	if i := slices.Index(m.keys, key); i >= 0 {
		return m.vals[i], nil
	}
	return value{}, fmt.Errorf("%s needs %q", m.Name, key)
}

func isMap(c byte) bool {
	return msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32
}

func isInt(c byte) bool {
	return msgpcode.IsFixedNum(c) || (c >= msgpcode.Uint8 && c <= msgpcode.Int64)
}

// TypeName names the MessagePack type that starts with code c, for errors:
// "nil", "a bool", "an integer", "a float", "a string", "binary", "an
// array", "a map" or "an extension".
func TypeName(c byte) string {
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
