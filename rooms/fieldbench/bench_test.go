package fieldbench_test

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"

	"github.com/tickroom/tickroom/rooms/fieldbench"
	"github.com/tickroom/tickroom/state"
)

// BenchmarkFieldTick is the encode side of a field-bench tick with views,
// without the room loop or sockets: the props move (step-cpu-ns: the
// formula and the field writes), the world publishes one segment per
// changed group (publish-cpu-ns), then every member's frame is assembled from
// those shared segments (frames-cpu-ns), all in thread CPU time. It runs with every prop moving (all
// 1024 groups change) and with a quarter of them (about 256 groups), at 16
// and 64 members: the publish cost follows the groups that changed, the
// frames the members (copies, no encoding).
func BenchmarkFieldTick(b *testing.B) {
	for _, every := range []int{1, 4} {
		for _, members := range []int{16, 64} {
			b.Run(fmt.Sprintf("moving=1of%d/members=%d", every, members), func(b *testing.B) { benchFieldTick(b, every, members) })
		}
	}
}

func benchFieldTick(b *testing.B, every, members int) {
	w := state.NewWorld(fieldbench.Schema)
	w.EnableViews()
	s := fieldbench.NewSceneIn(w)
	views := make([]*state.View, members)
	for c := range members {
		views[c] = state.NewView()
		p := s.AddPlayer(c, fmt.Sprintf("player-%d", c+1), views[c])
		p.Input = fieldbench.Input(fieldbench.ClientInput(c, 1))
	}
	props := w.Entities()[:fieldbench.Props]
	tick := uint64(0)
	step := func() {
		tick++
		for i, p := range props {
			if uint64(i%every) != tick%uint64(every) {
				continue
			}
			x, y, a := fieldbench.PropAt(i, tick)
			p.SetFloat(fieldbench.FieldX, x)
			p.SetFloat(fieldbench.FieldY, y)
			p.SetFloat(fieldbench.FieldAngle, a)
		}
	}
	frames := func() (bytes int) {
		for _, v := range views {
			f, err := w.AppendViewDelta(nil, v)
			if err != nil {
				b.Fatal(err)
			}
			bytes += len(f)
		}
		return bytes
	}
	for range 5 { // every view entered, every history warm
		step()
		w.PublishGroups(tick)
		frames()
	}
	var stepNs, publishNs, framesNs, frameBytes, changed int64
	// CPU time of this thread, not wall time: on a shared machine the
	// wall clock also counts the time other processes ran.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		ts := threadCPU()
		step()
		t0 := threadCPU()
		stepNs += t0 - ts
		w.PublishGroups(tick)
		t1 := threadCPU()
		frameBytes += int64(frames())
		t2 := threadCPU()
		publishNs += t1 - t0
		framesNs += t2 - t1
		changed += int64(len(w.ChangedGroups()))
	}
	n := float64(b.N)
	b.ReportMetric(float64(stepNs)/n, "step-cpu-ns/tick")
	b.ReportMetric(float64(publishNs)/n, "publish-cpu-ns/tick")
	b.ReportMetric(float64(framesNs)/n, "frames-cpu-ns/tick")
	b.ReportMetric(float64(changed)/n, "groups-changed/tick")
	b.ReportMetric(float64(frameBytes)/n/float64(members), "frame-bytes/member")
}

// threadCPU is the calling thread's user+sys CPU time in nanoseconds
// (Linux RUSAGE_THREAD; the benchmark locks its goroutine to the thread).
func threadCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1, &ru) // RUSAGE_THREAD: cannot fail for the calling thread
	return ru.Utime.Nano() + ru.Stime.Nano()
}
