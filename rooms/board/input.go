package board

import "github.com/tickroom/tickroom/rooms/payload"

// The ops a member sends, each a map with its "op". Numbers may be integers
// or floats (JavaScript encodes 3 as an integer and 3.5 as a float); whole
// numbers are checked as such. Positions are kept on the board and sizes
// in MinSize..MaxSize by the ops themselves (ops.go).
type (
	// CursorOp moves the member's cursor: {"op": "cursor", "x", "y"}.
	CursorOp struct {
		X float64 `payload:"x" doc:"kept on the board"`
		Y float64 `payload:"y" doc:"kept on the board"`
	}
	// CreateOp adds a shape on top: {"op": "create", "shape", "x", "y", "w", "h", "color"}.
	CreateOp struct {
		Shape int64   `payload:"shape,range=0..1" doc:"0 a rectangle, 1 an ellipse"`
		X     float64 `payload:"x" doc:"centre, kept on the board"`
		Y     float64 `payload:"y" doc:"centre, kept on the board"`
		W     float64 `payload:"w" doc:"kept in 4..2000"`
		H     float64 `payload:"h" doc:"kept in 4..2000"`
		Color int64   `payload:"color,range=0..4294967295" doc:"0xRRGGBB"`
	}
	// MoveOp moves a shape and brings it to the top: {"op": "move", "id", "x", "y"}.
	MoveOp struct {
		ID int64   `payload:"id,range=1..4294967295" doc:"a shape's entity id"`
		X  float64 `payload:"x" doc:"centre, kept on the board"`
		Y  float64 `payload:"y" doc:"centre, kept on the board"`
	}
	// ColorOp recolours a shape: {"op": "color", "id", "color"}.
	ColorOp struct {
		ID    int64 `payload:"id,range=1..4294967295" doc:"a shape's entity id"`
		Color int64 `payload:"color,range=0..4294967295" doc:"0xRRGGBB"`
	}
	// DeleteOp removes a shape: {"op": "delete", "id"}.
	DeleteOp struct {
		ID int64 `payload:"id,range=1..4294967295" doc:"a shape's entity id"`
	}
)

// InputDecl is the declaration of the board's input: its decoding, its
// errors and its generated client type.
var InputDecl = payload.NewUnion("board", "op",
	payload.Case[CursorOp]("cursor"),
	payload.Case[CreateOp]("create"),
	payload.Case[MoveOp]("move"),
	payload.Case[ColorOp]("color"),
	payload.Case[DeleteOp]("delete"),
)
