package tape_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/tickroom/tickroom/rooms/tape"
)

// BenchmarkWriterTick is the cost Tick adds to a room's tick: arena-bench
// deltas, with and without 8 players' inputs, flushes included. The tape
// is started afresh every 50,000 ticks (outside the timer) to bound disk use.
func BenchmarkWriterTick(b *testing.B) {
	for _, bc := range []struct {
		name string
		hold int
	}{{"delta only", 0}, {"delta and 8 inputs", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			mem := &memory{}
			scenario{Ticks: 200, Players: 8, KeyEvery: 1000, HoldInput: bc.hold}.run(b, mem)
			var ticks []int
			for i, r := range mem.records[30:] { // after the joins
				if r.Kind == tape.KindDelta || r.Kind == tape.KindOps {
					ticks = append(ticks, 30+i)
				}
			}
			dir := b.TempDir()
			open := func() *tape.Writer {
				p := filepath.Join(dir, "bench.tape")
				_ = os.Remove(p)          // the previous round's tape, if any
				_ = os.Remove(p + ".idx") // and its index
				w, err := tape.Create(p, scenario{}.header(), tape.WriterOptions{})
				must(b, err)
				return w
			}
			w := open()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if i > 0 && i%50000 == 0 {
					b.StopTimer()
					must(b, w.Close())
					w = open()
					b.StartTimer()
				}
				j := ticks[i%len(ticks)]
				if err := w.Tick(uint64(i+1), mem.ops[j], mem.records[j].Data); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			must(b, w.Close())
		})
	}
}

// oneHour writes a one-hour arena-bench tape (72,000 ticks at 20 Hz, 8
// players sending inputs every tick, a keyframe every 100 ticks).
func oneHour(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "hour.tape")
	w, err := tape.Create(path, scenario{}.header(), tape.WriterOptions{})
	must(b, err)
	scenario{Ticks: 72000, Players: 8, KeyEvery: 100, HoldInput: 1, Chat: true}.run(b, w)
	must(b, w.Close())
	return path
}

// BenchmarkSeekOneHour seeks to random ticks of a one-hour tape: one
// keyframe and up to 99 deltas decoded into a fresh mirror each time.
func BenchmarkSeekOneHour(b *testing.B) {
	path := oneHour(b)
	r, err := tape.Open(path)
	must(b, err)
	defer r.Close()
	rng := rand.New(rand.NewPCG(7, 7))
	b.ReportAllocs()
	for b.Loop() {
		tick := rng.Uint64N(72001)
		m, err := r.Seek(tick)
		if err != nil || m.Tick != tick {
			b.Fatalf("Seek(%d): %v", tick, err)
		}
	}
	b.ReportMetric(float64(fileSize(b, path))/(1<<20), "MiB-tape")
}

// BenchmarkOpenOneHour opens a one-hour tape with its index, and without
// it (a full scan, as after a crash, plus writing the index back).
func BenchmarkOpenOneHour(b *testing.B) {
	path := oneHour(b)
	for _, bc := range []struct {
		name  string
		index bool
	}{{"indexed", true}, {"scan", false}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if !bc.index {
					b.StopTimer()
					must(b, os.Remove(path+".idx"))
					b.StartTimer()
				}
				r, err := tape.Open(path)
				if err != nil {
					b.Fatal(err)
				}
				if in := r.Info(); in.Keyframes != 721 {
					b.Fatalf("%d keyframes, want 721", in.Keyframes)
				}
				_ = r.Close() // read-only
			}
		})
	}
}
