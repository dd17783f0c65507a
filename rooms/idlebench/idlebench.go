// Package idlebench is a room type for measuring connections rather than
// games: it ticks once a second, gives members no entity and takes no
// input, so a member receives a 7-byte delta a second and nothing else.
// The load generator's idle mode and the server's broadcast benchmark and
// connection tests use it. It is not in the stock binary: every built-in
// type ticks at 20 Hz.
package idlebench

import (
	"errors"
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// Type is the idle-bench room type.
var Type = &rooms.Type{
	Name:       "idle-bench",
	TickRate:   1,
	Schema:     state.MustSchema(state.MustKind(0, "marker", nil, state.Int("n", state.U8))),
	MaxPlayers: 1024,
	New: func(opts map[string]any) (rooms.Handler, map[string]any, error) {
		if len(opts) > 0 {
			return nil, nil, fmt.Errorf("%w: idle-bench takes no options", rooms.ErrBadOptions)
		}
		return handler{}, map[string]any{}, nil
	},
}

// ErrNoInput is the refusal of every input.
var ErrNoInput = errors.New("idle-bench takes no input")

type handler struct{}

func (handler) Init(*rooms.Context) error                                     { return nil }
func (handler) Join(*rooms.Context, *rooms.Member) (*state.Entity, error)     { return nil, nil }
func (handler) Leave(*rooms.Context, *rooms.Member)                           {}
func (handler) Tick(*rooms.Context)                                           {}
func (handler) Input(*rooms.Context, *rooms.Member, msgpack.RawMessage) error { return ErrNoInput }
