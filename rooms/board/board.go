// Package board is the built-in collaboration room: a shared canvas of
// rectangles and circles that every member can create, drag, recolour and
// delete, with a live cursor per member. State changes only through inputs,
// applied in arrival order, so a recording re-runs to the same board
// (TestSameInputsSameBoard).
package board

import (
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/payload"
	"github.com/tickroom/tickroom/state"
)

// Board constants that are not options.
const (
	TickRate   = 20
	MaxPlayers = 64
	// MinSize and MaxSize bound a shape's width and height.
	MinSize = 4
	MaxSize = 2000
)

// Shape field indices. x and y come first, as in every kind, so a dragged
// shape and a moving cursor can share a delta group.
const (
	ShapeX = iota
	ShapeY
	ShapeW
	ShapeH
	ShapeColor
	ShapeShape
	ShapeOwner
	ShapeZ
)

// Cursor field indices.
const (
	CursorX = iota
	CursorY
	CursorMember
	CursorColor
	CursorName
)

// Values of a shape's "shape" field.
const (
	Rect   = 0
	Circle = 1
)

var (
	// ShapeKind is kind 0: x and y are the shape's centre; owner is the
	// member number that created it (0 for the seeded shapes); z orders
	// shapes bottom to top, and the last created or moved is on top.
	ShapeKind = state.MustKind(0, "shape", &state.Draw{Shape: "rect", W: 80, H: 60},
		state.Pos("x"), state.Pos("y"), state.Quant("w", 4, 0), state.Quant("h", 4, 0),
		state.Int("color", state.U32), state.Int("shape", state.U8),
		state.Int("owner", state.U32), state.Counter("z", state.U32))
	// CursorKind is kind 1: one per member, the entity Join returns. A
	// quarter unit is finer than any pointer needs.
	CursorKind = state.MustKind(1, "cursor", &state.Draw{Shape: "arrow", W: 18, H: 18},
		state.Quant("x", 4, 1), state.Quant("y", 4, 1),
		state.Int("member", state.U32), state.Int("color", state.U32), state.Text("name"))
	// Schema is the board's schema.
	Schema = state.MustSchema(ShapeKind, CursorKind)
)

// Type is the board room type.
var Type = &rooms.Type{
	Name:          "board",
	TickRate:      TickRate,
	Schema:        Schema,
	Deterministic: true,
	MaxPlayers:    MaxPlayers,
	// A board behind a link is a document: kept a season after its last visit.
	DormantMaxAge: 90 * 24 * time.Hour,
	Input:         InputDecl,
	Options:       OptionsDecl,
	Events:        payload.NewEvents(), // none
	New: func(options map[string]any) (rooms.Handler, map[string]any, error) {
		opts, err := ParseOptions(options)
		if err != nil {
			return nil, nil, err
		}
		return newBoard(opts), opts.Map(), nil
	},
}
