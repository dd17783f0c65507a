package main

import (
	"fmt"
	"math"
	"sort"

	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/state"
)

// entitySnap is one arena-bench entity as a client's mirror held it.
type entitySnap struct {
	kind        string
	x, y, angle float64
	hp, color   int64
	label       string
}

// capture is a client's mirror copied at one tick, for the end-of-run check.
type capture struct {
	tick   uint64
	member uint32
	entity *state.EntityID
	ents   map[state.EntityID]entitySnap
}

// captureMirror copies a mirror of the arena-bench schema (checked against
// arenabench.Schema at the welcome, so the field indices are the scene's).
func captureMirror(m *state.Mirror, w state.Welcome) *capture {
	c := &capture{tick: m.Tick, member: w.Member, entity: w.Entity, ents: make(map[state.EntityID]entitySnap, len(m.Entities))}
	for id, e := range m.Entities {
		c.ents[id] = entitySnap{
			kind: e.Kind.Name,
			x:    e.Float(arenabench.FieldX), y: e.Float(arenabench.FieldY), angle: e.Float(arenabench.FieldAngle),
			hp: e.Int(arenabench.FieldHP), color: e.Int(arenabench.FieldColor), label: e.String(arenabench.FieldLabel),
		}
	}
	return c
}

// propAt recomputes prop i at tick t from the scene's formula alone
// (../shared/bench/arena-scene.md), independently of arenabench.Scene.
func propAt(i int, t uint64) entitySnap {
	p := entitySnap{
		kind: "prop", x: float64((i%10)*100 + 50), y: float64((i/10)*60 + 30),
		hp: 100, color: 0x3366FF + int64(i), label: fmt.Sprintf("prop-%d", i),
	}
	// The last tick t' <= t with (i + t') % 4 == 0 set x, y and angle.
	if last := int64(t) - int64((uint64(i)+t)%4); last >= 1 {
		phase := float64(last+int64(i)) * 0.05
		p.x, p.y = 500+400*math.Cos(phase), 300+250*math.Sin(phase)
		p.angle = math.Mod(phase, 2*math.Pi)
	}
	// Every 20th tick, prop (t/20) % 100 gets hp = (hp + 7) % 101.
	first := uint64(i)
	if first == 0 {
		first = 100
	}
	for k := first; k <= t/20; k += 100 {
		p.hp = (p.hp + 7) % 101
	}
	return p
}

// diffProp compares a mirrored prop with the formula; it returns what
// differs, or "".
func diffProp(want, got entitySnap) string {
	k := arenabench.PropKind
	switch {
	case got.kind != want.kind:
		return fmt.Sprintf("kind %q, want %q", got.kind, want.kind)
	case !k.Fields[arenabench.FieldX].Within(want.x, got.x):
		return fmt.Sprintf("x %.4f, want %.4f", got.x, want.x)
	case !k.Fields[arenabench.FieldY].Within(want.y, got.y):
		return fmt.Sprintf("y %.4f, want %.4f", got.y, want.y)
	case !k.Fields[arenabench.FieldAngle].Within(want.angle, got.angle):
		return fmt.Sprintf("angle %.5f, want %.5f", got.angle, want.angle)
	case got.hp != want.hp:
		return fmt.Sprintf("hp %d, want %d", got.hp, want.hp)
	case got.color != want.color:
		return fmt.Sprintf("color %#x, want %#x", got.color, want.color)
	case got.label != want.label:
		return fmt.Sprintf("label %q, want %q", got.label, want.label)
	}
	return ""
}

// verifyResult is the end-of-run check of every mirror.
type verifyResult struct {
	checked     int      // mirrors compared
	divergences int      // differences found (each entity field or missing entity counts once)
	examples    []string // the first few, for the report
}

func (v *verifyResult) add(format string, args ...any) {
	v.divergences++
	if len(v.examples) < 10 {
		v.examples = append(v.examples, fmt.Sprintf(format, args...))
	}
}

// verifyRooms checks every captured mirror: the 100 props against the
// formula at the mirror's tick, the players for plausibility (spec values,
// inside the arena), and the players across each room's clients against
// each other at the same tick (their inputs are applied by the server at
// ticks the clients cannot know, so the server's own broadcast is the only
// reference; every client must have decoded it identically).
func verifyRooms(fl *fleet) verifyResult {
	if fl.cfg.field {
		return verifyFieldRooms(fl.rooms)
	}
	var v verifyResult
	for _, r := range fl.rooms {
		// A lost client's seat expires after the server's grace period, so
		// the player count is only known when the room lost nobody; the
		// losses themselves fail the run (clients_lost).
		players := len(r.clients)
		for _, c := range r.clients {
			if c == nil || c.lost {
				players = -1
			}
		}
		byTick := map[uint64][]*sceneClient{}
		for _, c := range r.clients {
			if c == nil || c.snap == nil {
				continue // counted as not checked by the caller
			}
			v.checked++
			verifyOne(&v, r, c, players)
			byTick[c.snap.tick] = append(byTick[c.snap.tick], c)
		}
		for _, group := range byTick {
			for _, c := range group[1:] {
				comparePlayers(&v, r, group[0], c)
			}
		}
	}
	return v
}

func verifyOne(v *verifyResult, r *sceneRoom, c *sceneClient, players int) {
	s := c.snap
	for i := range arenabench.Props {
		got, ok := s.ents[state.EntityID(i)]
		if !ok {
			v.add("room %d client %d tick %d: prop %d missing", r.index, c.idx, s.tick, i)
			continue
		}
		if d := diffProp(propAt(i, s.tick), got); d != "" {
			v.add("room %d client %d tick %d: prop %d: %s", r.index, c.idx, s.tick, i, d)
		}
	}
	n := 0
	for id, e := range s.ents {
		if id < arenabench.FirstPlayer {
			continue
		}
		if e.kind != "player" {
			v.add("room %d client %d: entity %d is a %q, want a player", r.index, c.idx, id, e.kind)
			continue
		}
		n++
		tol := arenabench.PlayerKind.Fields[arenabench.FieldX].Tolerance() * 1.01
		if e.x < -tol || e.x > arenabench.Width+tol || e.y < -tol || e.y > arenabench.Height+tol || e.hp != 100 || e.color != 0xFF6633 {
			v.add("room %d client %d: player %d out of spec: x %.3f y %.3f hp %d color %#x", r.index, c.idx, id, e.x, e.y, e.hp, e.color)
		}
	}
	if players >= 0 && n != players {
		v.add("room %d client %d tick %d: %d players, want %d", r.index, c.idx, s.tick, n, players)
	}
	if s.entity == nil {
		v.add("room %d client %d: welcome gave no entity", r.index, c.idx)
	} else if e, ok := s.ents[*s.entity]; !ok {
		v.add("room %d client %d: own entity %d missing", r.index, c.idx, *s.entity)
	} else if want := fmt.Sprintf("player-%d", s.member); e.label != want {
		v.add("room %d client %d: own entity name %q, want %q", r.index, c.idx, e.label, want)
	}
}

// comparePlayers checks that two clients of a room hold the same players
// with bit-identical values at the same tick.
func comparePlayers(v *verifyResult, r *sceneRoom, a, b *sceneClient) {
	ids := map[state.EntityID]bool{}
	for id := range a.snap.ents {
		ids[id] = true
	}
	for id := range b.snap.ents {
		ids[id] = true
	}
	sorted := make([]state.EntityID, 0, len(ids))
	for id := range ids {
		if id >= arenabench.FirstPlayer {
			sorted = append(sorted, id)
		}
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i] < sorted[j] })
	for _, id := range sorted {
		ea, oka := a.snap.ents[id]
		eb, okb := b.snap.ents[id]
		if oka != okb {
			v.add("room %d tick %d: entity %d held by client %d: %v, by client %d: %v", r.index, a.snap.tick, id, a.idx, oka, b.idx, okb)
			continue
		}
		if ea != eb {
			v.add("room %d tick %d: player %d differs: client %d %+v, client %d %+v", r.index, a.snap.tick, id, a.idx, ea, b.idx, eb)
		}
	}
}
