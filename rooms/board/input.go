package board

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tickroom/tickroom/rooms/payload"
)

// input is one decoded op: its payload map and its "op". The map's getters
// name the op in their errors ("board: move needs \"id\"").
type input struct {
	*payload.Map
	op string
}

// inputSpec bounds an input map: the largest op (create) has seven keys, and
// a bound keeps a hostile map from costing more than a glance.
var inputSpec = payload.Spec{Name: "board: input", Want: "a map with an op", MaxKeys: 8}

// decodeInput reads the map and its "op". Numbers may be integers or
// floats (JavaScript encodes 3 as an integer and 3.5 as a float); which a
// field needs is checked when it is read.
func decodeInput(b []byte) (*input, error) {
	m, err := payload.Decode(b, inputSpec)
	if err != nil {
		return nil, err
	}
	if !m.Has("op") {
		return nil, errors.New(`board: input has no "op" (cursor, create, move, color or delete)`)
	}
	op, err := m.String("op")
	if err != nil {
		return nil, err
	}
	m.Name = "board: " + op
	return &input{Map: m, op: op}, nil
}

// only refuses keys the op does not take, so that a misspelt field is
// reported instead of silently ignored.
func (p *input) only(keys ...string) error {
	if k, ok := p.Unknown(append(slices.Clip(keys), "op")...); ok {
		return fmt.Errorf("board: %s takes no %.32q (it takes %s)", p.op, k, strings.Join(keys, ", "))
	}
	return nil
}
