package main

import (
	"fmt"
	"math"
	"sort"

	"github.com/tickroom/tickroom/rooms/fieldbench"
	"github.com/tickroom/tickroom/state"
)

// The field-bench scene (../shared/bench/field-scene.md): what a client
// checks as it goes (nothing beyond its view margin) and at the end
// (everything inside its view square equal to the formula or, for
// players, to the other clients' copies).

// fieldMargin is how far from a member's player an entity may be (along
// either axis) in its mirror: the view's half-side plus one view cell.
const fieldMargin = fieldbench.HalfView + fieldbench.Cell

func fieldGranularity(views bool) string {
	if !views {
		return "none: every member receives the whole world"
	}
	return fmt.Sprintf("%.0f-unit cells: a member receives the cells its %.0f-unit square overlaps, at most %.0f units beyond it",
		fieldbench.Cell, 2*fieldbench.HalfView, fieldbench.Cell)
}

// onFieldState runs after every state message a field-bench client applied.
func (c *sceneClient) onFieldState(inWindow bool) {
	m := c.mirror
	changes := m.Entered + m.LeftView
	if inWindow {
		n := len(m.Entities)
		c.viewSum += int64(n)
		c.viewN++
		c.viewMax = max(c.viewMax, n)
		c.viewChanges += int64(changes - c.lastViewCount)
	}
	c.lastViewCount = changes
	if !c.room.views || c.welcome.Entity == nil {
		return
	}
	own := m.Entities[*c.welcome.Entity]
	if own == nil {
		c.marginViolations++
		c.problem("tick %d: own player %d not in the mirror", m.Tick, *c.welcome.Entity)
		return
	}
	px, py := own.Float(fieldbench.FieldX), own.Float(fieldbench.FieldY)
	for id, e := range m.Entities {
		if math.Abs(e.Float(fieldbench.FieldX)-px) > fieldMargin || math.Abs(e.Float(fieldbench.FieldY)-py) > fieldMargin {
			c.marginViolations++
			c.problem("tick %d: entity %d at (%.1f, %.1f), beyond the view margin of the player at (%.1f, %.1f)",
				m.Tick, id, e.Float(fieldbench.FieldX), e.Float(fieldbench.FieldY), px, py)
		}
	}
}

// fieldEnt is one field-bench entity as a client's mirror held it.
type fieldEnt struct {
	kind        string
	x, y, angle float64
	propKind    int64
	name        string
}

// fieldCapture is a field-bench client's mirror copied at one tick.
type fieldCapture struct {
	tick   uint64
	entity *state.EntityID
	ents   map[state.EntityID]fieldEnt
}

func captureField(m *state.Mirror, w state.Welcome) *fieldCapture {
	c := &fieldCapture{tick: m.Tick, entity: w.Entity, ents: make(map[state.EntityID]fieldEnt, len(m.Entities))}
	for id, e := range m.Entities {
		f := fieldEnt{kind: e.Kind.Name, x: e.Float(fieldbench.FieldX), y: e.Float(fieldbench.FieldY), angle: e.Float(fieldbench.FieldAngle)}
		if e.Kind.Name == "prop" {
			f.propKind = e.Int(fieldbench.FieldKind)
		} else {
			f.name = e.String(fieldbench.FieldName)
		}
		c.ents[id] = f
	}
	return c
}

// verifyFieldRooms checks every captured field-bench mirror: every prop
// inside the view square present and equal to the formula at the
// mirror's tick, none beyond the margin (views on) or every prop present
// (views off); players alike across clients at the same tick, and every
// player inside a client's view square held by it.
func verifyFieldRooms(rooms []*sceneRoom) verifyResult {
	var v verifyResult
	k := fieldbench.PropKind
	for _, r := range rooms {
		byTick := map[uint64][]*sceneClient{}
		for _, c := range r.clients {
			if c == nil || c.fsnap == nil {
				continue
			}
			v.checked++
			s := c.fsnap
			byTick[s.tick] = append(byTick[s.tick], c)
			var px, py float64
			if s.entity == nil {
				v.add("room %d client %d: welcome gave no entity", r.index, c.idx)
				continue
			}
			own, ok := s.ents[*s.entity]
			if !ok || own.kind != "player" {
				v.add("room %d client %d tick %d: own player %d missing", r.index, c.idx, s.tick, *s.entity)
				continue
			}
			px, py = own.x, own.y
			inside := func(x, y, d float64) bool { return math.Abs(x-px) <= d && math.Abs(y-py) <= d }
			for i := range fieldbench.Props {
				x, y, a := fieldbench.PropAt(i, s.tick)
				got, held := s.ents[state.EntityID(i)]
				must := !r.views || inside(x, y, fieldbench.HalfView)
				switch {
				case !held && must:
					v.add("room %d client %d tick %d: prop %d at (%.1f, %.1f) missing from the view of (%.1f, %.1f)", r.index, c.idx, s.tick, i, x, y, px, py)
				case held && r.views && !inside(x, y, fieldMargin):
					v.add("room %d client %d tick %d: prop %d at (%.1f, %.1f) held beyond the margin", r.index, c.idx, s.tick, i, x, y)
				case held && (got.kind != "prop" || got.propKind != int64(i%8) || !k.Fields[fieldbench.FieldX].Within(x, got.x) ||
					!k.Fields[fieldbench.FieldY].Within(y, got.y) || !k.Fields[fieldbench.FieldAngle].Within(a, got.angle)):
					v.add("room %d client %d tick %d: prop %d: got %+v, want x %.4f y %.4f angle %.5f kind %d", r.index, c.idx, s.tick, i, got, x, y, a, i%8)
				}
			}
			for id, e := range s.ents {
				if id < fieldbench.FirstPlayer {
					continue
				}
				tol := fieldbench.PlayerKind.Fields[fieldbench.FieldX].Tolerance() * 1.01
				if e.kind != "player" || e.x < -tol || e.x > fieldbench.World+tol || e.y < -tol || e.y > fieldbench.World+tol {
					v.add("room %d client %d: entity %d out of spec: %+v", r.index, c.idx, id, e)
				}
			}
		}
		for _, group := range byTick {
			for _, a := range group {
				for _, b := range group {
					if a != b {
						compareFieldPlayers(&v, r, a, b)
					}
				}
			}
		}
	}
	return v
}

// compareFieldPlayers checks that client a holds b's player when it is
// inside a's view square, and that players both hold are bit-identical.
func compareFieldPlayers(v *verifyResult, r *sceneRoom, a, b *sceneClient) {
	sa, sb := a.fsnap, b.fsnap
	if sa.entity == nil || sb.entity == nil {
		return
	}
	ownA, okA := sa.ents[*sa.entity]
	ownB, okB := sb.ents[*sb.entity]
	if !okA || !okB {
		return
	}
	_, held := sa.ents[*sb.entity]
	inView := math.Abs(ownB.x-ownA.x) <= fieldbench.HalfView && math.Abs(ownB.y-ownA.y) <= fieldbench.HalfView
	if !held && (inView || !r.views) {
		v.add("room %d tick %d: client %d lacks the player %d of client %d at (%.1f, %.1f), inside its view", r.index, sa.tick, a.idx, *sb.entity, b.idx, ownB.x, ownB.y)
	}
	ids := make([]state.EntityID, 0, 8)
	for id := range sa.ents {
		if id >= fieldbench.FirstPlayer {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	for _, id := range ids {
		if eb, ok := sb.ents[id]; ok && eb != sa.ents[id] {
			v.add("room %d tick %d: player %d differs: client %d %+v, client %d %+v", r.index, sa.tick, id, a.idx, sa.ents[id], b.idx, eb)
		}
	}
}
