package arena

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// Input is a member's steering: each axis in [-1, 1], applied every tick
// until the next input replaces it.
type Input struct {
	DX, DY float64
}

// DecodeInput reads an input payload, exactly the map {"dx": number,
// "dy": number}. Numbers may be integers or floats (JavaScript encodes 1 as an
// integer and 0.5 as a float); both are clamped to [-1, 1]. Anything else
// (another shape, another key, a string, NaN, infinity) is an error naming
// what was wrong, which the member receives as bad_input.
func DecodeInput(payload []byte) (Input, error) {
	rd := bytes.NewReader(payload)
	dec := msgpack.NewDecoder(rd)
	c, err := dec.PeekCode()
	if err != nil {
		return Input{}, errors.New("arena: input is empty, want {dx, dy}")
	}
	if !isMap(c) {
		return Input{}, fmt.Errorf("arena: input is %s, want a map {dx, dy}", typeName(c))
	}
	n, err := dec.DecodeMapLen()
	if err != nil {
		return Input{}, fmt.Errorf("arena: input: %w", err)
	}
	if n != 2 {
		return Input{}, fmt.Errorf("arena: input has %d keys, want exactly dx and dy", n)
	}
	var in Input
	var seen [2]bool
	for range n {
		key, err := readKey(dec)
		if err != nil {
			return Input{}, err
		}
		var i int
		switch key {
		case "dx":
			i = 0
		case "dy":
			i = 1
		default:
			return Input{}, fmt.Errorf("arena: input has key %.32q, want exactly dx and dy", key)
		}
		if seen[i] {
			return Input{}, fmt.Errorf("arena: input has %q twice", key)
		}
		seen[i] = true
		v, err := readNumber(dec, key)
		if err != nil {
			return Input{}, err
		}
		if i == 0 {
			in.DX = v
		} else {
			in.DY = v
		}
	}
	if rd.Len() != 0 {
		return Input{}, fmt.Errorf("arena: input has %d stray bytes after the map", rd.Len())
	}
	return Input{DX: clamp(in.DX, -1, 1), DY: clamp(in.DY, -1, 1)}, nil
}

func readKey(dec *msgpack.Decoder) (string, error) {
	c, err := dec.PeekCode()
	if err != nil {
		return "", fmt.Errorf("arena: input is cut short: %w", err)
	}
	if !msgpcode.IsString(c) {
		return "", fmt.Errorf("arena: input has a %s key, want string keys dx and dy", typeName(c))
	}
	key, err := dec.DecodeString()
	if err != nil {
		return "", fmt.Errorf("arena: input key: %w", err)
	}
	return key, nil
}

// readNumber reads a finite integer or float.
func readNumber(dec *msgpack.Decoder, key string) (float64, error) {
	c, err := dec.PeekCode()
	if err != nil {
		return 0, fmt.Errorf("arena: input is cut short at %q: %w", key, err)
	}
	var v float64
	switch {
	case c == msgpcode.Float || c == msgpcode.Double:
		v, err = dec.DecodeFloat64()
	case c == msgpcode.Uint64:
		var u uint64
		u, err = dec.DecodeUint64()
		v = float64(u)
	case isInt(c):
		var i int64
		i, err = dec.DecodeInt64()
		v = float64(i)
	default:
		return 0, fmt.Errorf("arena: input %q is %s, want a number", key, typeName(c))
	}
	if err != nil {
		return 0, fmt.Errorf("arena: input %q: %w", key, err)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("arena: input %q is %v, want a finite number", key, v)
	}
	return v, nil
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
