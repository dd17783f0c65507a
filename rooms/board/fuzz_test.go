package board_test

import (
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
)

// FuzzBoardInputs: any ops from two members, on a board that holds few
// shapes so that the full board is reached too (roomtest.DriveInputs).
func FuzzBoardInputs(f *testing.F) {
	enc := func(v any) []byte {
		b, err := msgpack.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	create := enc(map[string]any{"op": "create", "shape": 0, "x": 10, "y": 10, "w": 50, "h": 40, "color": 0xff0000})
	f.Add(create, enc(map[string]any{"op": "move", "id": 1, "x": 100, "y": 90}), enc(map[string]any{"op": "color", "id": 1, "color": 3}), enc(map[string]any{"op": "delete", "id": 1}))
	f.Add(enc(map[string]any{"op": "cursor", "x": 5, "y": 5}), create, create, enc(map[string]any{"op": "move", "id": 3, "x": -1e9, "y": 1e9}))
	f.Add(enc(map[string]any{"op": "create", "shape": 1, "x": 1e308, "y": -1e308, "w": 1e308, "h": 0, "color": 0}), []byte{0x80}, []byte{0xc0}, []byte{})
	f.Fuzz(func(t *testing.T, a, b, c, d []byte) {
		roomtest.DriveInputs(t, board.Type, map[string]any{"maxShapes": 2}, a, b, c, d)
	})
}
