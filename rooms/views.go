package rooms

import (
	"fmt"

	"github.com/tickroom/tickroom/state"
)

// Views (docs/ROOM_TYPES.md, "Views"): a room type with Type.Views places
// entities in interest groups (ctx.World.SetGroup) and gives each member the
// groups it sees (m.View().Set). Each tick the world encodes each changed
// group once; a member's frame is its groups' segments copied one after
// the other (state.World.AppendViewDelta), never a per-member encode.
// Spectators and the recording see every group but the type's private
// ones (Type.Private).

// View returns the member's view: the interest groups it sees, besides
// state.Everyone. Only a room type with Views uses it; set it in Join and
// change it in Tick or Input as the member moves. The room sends what
// entered and what left with the next tick's frame.
func (m *Member) View() *state.View {
	if m.view == nil {
		m.view = state.NewView()
	}
	return m.view
}

// seeAll is a view of every group but the type's private ones: spectators
// and the recording.
func seeAll(t *Type) *state.View {
	v := state.NewView()
	v.SeeAllBut(t.Private)
	return v
}

// viewOf is the view a seat's frames are built for.
func (r *Room) viewOf(s *seat) *state.View {
	if s.member != nil {
		return s.member.View()
	}
	if s.all == nil {
		s.all = seeAll(r.Type)
	}
	return s.all
}

// publish publishes tick: the delta every member gets, or for a views
// world the segments of each changed group, and then the frame of the
// view all (the bytes a recording keeps) when all is not nil.
func publish(w *state.World, tick uint64, all *state.View, sizeHint int) []byte {
	if !w.Views() {
		return w.AppendDelta(make([]byte, 0, sizeHint), tick)
	}
	w.PublishGroups(tick)
	if all == nil {
		return nil
	}
	return mustFrame(w.AppendViewDelta(nil, all))
}

// mustFrame unwraps a view frame: building one fails only with changes
// pending, which the room loop never allows between a publish and its
// frames (a bug in this package, not a client's doing).
func mustFrame(b []byte, err error) []byte {
	if err != nil {
		panic(fmt.Sprintf("rooms: view frame: %v", err))
	}
	return b
}

// broadcastViews sends every online member and spectator its own frame of
// the tick just published, or a view snapshot to one that needs one. A
// member whose queue is full gets a view snapshot next (never a silent
// gap); one that cannot take it for SlowConsumerGrace is closed with 4008.
// Cluster fan-outs are not used: frames differ by member.
func (r *Room) broadcastViews() {
	for _, s := range r.watchers {
		r.sendView(s)
	}
	for _, s := range r.seats {
		r.sendView(s)
	}
}

func (r *Room) sendView(s *seat) {
	c := s.client
	if c == nil || c.gone.Load() {
		return
	}
	v := r.viewOf(s)
	if !s.needSnapshot {
		if c.conn.Send(mustFrame(r.world.AppendViewDelta(nil, v))) {
			return
		}
		r.stats.Overflows.Add(1)
		s.needSnapshot = true
	}
	if c.conn.Send(mustFrame(r.world.AppendViewSnapshot(nil, v))) {
		s.needSnapshot, s.stuckTicks = false, 0
		r.stats.Snapshots.Add(1)
		return
	}
	s.stuckTicks++
	if s.stuckTicks > r.slowTicks {
		r.closeSlow(s, "slow consumer: could not keep up with the room")
	}
}
