package rooms_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/rooms/board"
)

// BenchmarkCheckpoint is the cost a running room pays on its own goroutine
// for one checkpoint (taking it and encoding it for the store), and its
// size: arena (with views and without, on the 1000 x 600 field and the
// default one) and arena-bench with 8 players, boards of 500 and 10,000
// shapes.
func BenchmarkCheckpoint(b *testing.B) {
	for _, c := range []struct {
		name   string
		typ    *rooms.Type
		opts   map[string]any
		shapes int
	}{
		// The arena as docs/BENCHMARKS.md measured it (its default field has
		// since grown to 3000 x 1800 with 80 coins).
		{"arena-8p", arena.Type, map[string]any{"width": 1000, "height": 600, "coins": 12}, 0},
		// With and without views (issue 16), side by side: the groups and
		// the members' views are what a views checkpoint adds.
		{"arena-8p-views-off", arenaNoViews, map[string]any{"width": 1000, "height": 600, "coins": 12}, 0},
		{"arena-default-8p", arena.Type, nil, 0},
		{"arena-default-8p-views-off", arenaNoViews, nil, 0},
		{"arena-bench-8p", arenabench.Type, nil, 0},
		{"board-500", board.Type, nil, 500},
		{"board-10000", board.Type, map[string]any{"maxShapes": float64(10000)}, 10000},
	} {
		b.Run(c.name, func(b *testing.B) {
			sim := filled(b, c.typ, c.opts, c.shapes)
			var size int
			b.ReportAllocs()
			for b.Loop() {
				cp, err := sim.Checkpoint()
				if err != nil {
					b.Fatal(err)
				}
				enc, err := rooms.EncodeCheckpoint(cp)
				if err != nil {
					b.Fatal(err)
				}
				size = len(enc)
			}
			b.ReportMetric(float64(size), "bytes/checkpoint")
		})
	}
}

// arenaNoViews is the arena as it ran before it had views.
var arenaNoViews = func() *rooms.Type {
	t := *arena.Type
	t.Views = false
	return &t
}()

// filled runs a room of typ with 8 members for 200 ticks of inputs, and on
// a board has them draw shapes shapes.
func filled(b *testing.B, typ *rooms.Type, opts map[string]any, shapes int) *rooms.Sim {
	b.Helper()
	sim, err := rooms.NewSim(typ, opts, 1)
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	tick := uint64(0)
	step := func(ops ...rooms.Op) {
		tick++
		for _, op := range ops {
			if err := sim.Apply(tick, op); err != nil {
				b.Fatal(err)
			}
		}
		sim.Step(tick)
	}
	for m := uint32(1); m <= 8; m++ {
		step(rooms.Op{Kind: rooms.OpJoin, Member: m, Name: fmt.Sprint("m", m)})
	}
	for i := 0; i < 200 || i < shapes; i++ {
		in := map[string]any{"dx": r.Float64()*2 - 1, "dy": r.Float64()*2 - 1}
		if typ == board.Type {
			in = map[string]any{"op": "create", "shape": r.IntN(2), "x": r.Float64() * 1600, "y": r.Float64() * 1000, "w": 40, "h": 30, "color": r.Uint32()}
			if i >= shapes {
				in = map[string]any{"op": "cursor", "x": r.Float64() * 1600, "y": r.Float64() * 1000}
			}
		}
		p, _ := msgpack.Marshal(in)
		step(rooms.Op{Kind: rooms.OpInput, Member: uint32(1 + i%8), Seq: uint64(i + 1), Payload: p})
	}
	return sim
}
