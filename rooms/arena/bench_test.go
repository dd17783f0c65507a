package arena_test

import (
	"math"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/state"
)

// BenchmarkTickFullRoom steps a full room of steering avatars with the
// default 12 coins and encodes each tick's delta, as the room loop does.
func BenchmarkTickFullRoom(b *testing.B) {
	h, _, err := arena.Type.New(nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := rooms.NewContext(state.NewWorld(arena.Schema), 1)
	if err := h.Init(ctx); err != nil {
		b.Fatal(err)
	}
	for i := range arena.MaxPlayers {
		m := &rooms.Member{Number: uint32(i + 1), Name: "p"}
		if _, err := h.Join(ctx, m); err != nil {
			b.Fatal(err)
		}
		a := float64(i)
		m.LastSeq = 1
		in, _ := msgpack.Marshal(map[string]any{"dx": math.Cos(a), "dy": math.Sin(a)})
		if err := h.Input(ctx, m, in); err != nil {
			b.Fatal(err)
		}
	}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		ctx.Tick++
		h.Tick(ctx)
		buf = ctx.World.AppendDelta(buf[:0], ctx.Tick)
	}
}
