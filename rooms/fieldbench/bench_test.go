package fieldbench_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms/fieldbench"
	"github.com/tickroom/tickroom/state"
)

// BenchmarkFieldTick is the encode side of a field-bench tick with views,
// without the room loop or sockets: the world publishes one segment per
// changed group (publish-ns), then every member's frame is assembled from
// those shared segments (frames-ns). It runs with every prop moving (all
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
	var publishNs, framesNs, frameBytes, changed int64
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		step()
		t0 := time.Now()
		w.PublishGroups(tick)
		t1 := time.Now()
		frameBytes += int64(frames())
		t2 := time.Now()
		publishNs += int64(t1.Sub(t0))
		framesNs += int64(t2.Sub(t1))
		changed += int64(len(w.ChangedGroups()))
	}
	n := float64(b.N)
	b.ReportMetric(float64(publishNs)/n, "publish-ns/tick")
	b.ReportMetric(float64(framesNs)/n, "frames-ns/tick")
	b.ReportMetric(float64(changed)/n, "groups-changed/tick")
	b.ReportMetric(float64(frameBytes)/n/float64(members), "frame-bytes/member")
}
