package arena

import (
	"fmt"

	"github.com/tickroom/tickroom/rooms/payload"
)

// Input is a member's steering: each axis in [-1, 1], applied every tick
// until the next input replaces it.
type Input struct {
	DX, DY float64
}

var inputSpec = payload.Spec{Name: "arena: input", Want: "a map {dx, dy}", MaxKeys: 2}

// DecodeInput reads an input payload, exactly the map {"dx": number,
// "dy": number}. Numbers may be integers or floats (JavaScript encodes 1 as an
// integer and 0.5 as a float); both are clamped to [-1, 1]. Anything else
// (another shape, another key, a string, NaN, infinity) is an error naming
// what was wrong, which the member receives as bad_input.
func DecodeInput(b []byte) (Input, error) {
	m, err := payload.Decode(b, inputSpec)
	if err != nil {
		return Input{}, err
	}
	if m.Len() != 2 {
		return Input{}, fmt.Errorf("arena: input has %d keys, want exactly dx and dy", m.Len())
	}
	if k, ok := m.Unknown("dx", "dy"); ok {
		return Input{}, fmt.Errorf("arena: input has key %.32q, want exactly dx and dy", k)
	}
	dx, err := m.Number("dx")
	if err != nil {
		return Input{}, err
	}
	dy, err := m.Number("dy")
	if err != nil {
		return Input{}, err
	}
	return Input{DX: clamp(dx, -1, 1), DY: clamp(dy, -1, 1)}, nil
}
