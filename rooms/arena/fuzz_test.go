package arena_test

import (
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/internal/roomtest"
)

// FuzzArenaInputs: any input payloads from two members (roomtest.DriveInputs).
func FuzzArenaInputs(f *testing.F) {
	enc := func(v any) []byte {
		b, err := msgpack.Marshal(v)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	f.Add(enc(map[string]any{"dx": 1, "dy": 0}), enc(map[string]any{"dx": -0.5, "dy": 1}), enc(map[string]any{"dx": 0, "dy": 0}))
	f.Add(enc(map[string]any{"dx": 1e300, "dy": -1e300}), enc(map[string]any{"dx": "1", "dy": 0}), enc([]any{1, 2}))
	f.Add([]byte{0x82, 0xa2, 'd', 'x', 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1, 0xa2, 'd', 'y', 0x00}, []byte{}, []byte{0xc1})
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		roomtest.DriveInputs(t, arena.Type, nil, a, b, c)
	})
}
