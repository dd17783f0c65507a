package state

import (
	"fmt"
	"slices"
)

// Divergence describes the first difference Compare found.
type Divergence struct {
	Entity EntityID
	Field  string // empty when the entity itself is missing or extra
	Server any
	Client any
}

func (d *Divergence) Error() string {
	if d.Field == "" {
		return fmt.Sprintf("entity %d: server has %v, client has %v", d.Entity, d.Server, d.Client)
	}
	return fmt.Sprintf("entity %d field %q: server %v, client %v", d.Entity, d.Field, d.Server, d.Client)
}

// Compare checks a client mirror against the world it mirrors: the same
// entities, and every field equal within its Tolerance (angles compared
// around the circle). It returns the first divergence, or nil. This is the
// check behind the invariant "a client mirror equals server state"
// (TestMirrorFollowsRandomChanges, the load generator's end-of-run check).
func Compare(w *World, m *Mirror) *Divergence {
	if len(w.entities) != len(m.Entities) {
		for _, e := range w.entities {
			if m.Entities[e.id] == nil {
				return &Divergence{Entity: e.id, Server: "present", Client: "missing"}
			}
		}
		for id := range m.Entities {
			if w.byID[id] == nil {
				return &Divergence{Entity: id, Server: "missing", Client: "present"}
			}
		}
	}
	for _, e := range w.entities {
		if d := compareEntity(e, m.Entities[e.id]); d != nil {
			return d
		}
	}
	return nil
}

// compareEntity checks one mirrored entity (nil: missing) against the
// server's.
func compareEntity(e *Entity, me *MirrorEntity) *Divergence {
	if me == nil {
		return &Divergence{Entity: e.id, Server: "present", Client: "missing"}
	}
	if me.Kind.Name != e.kind.Name {
		return &Divergence{Entity: e.id, Field: "(kind)", Server: e.kind.Name, Client: me.Kind.Name}
	}
	for i, f := range e.kind.Fields {
		if !FieldEqual(f, e.vals[i], me.vals[i]) {
			return &Divergence{Entity: e.id, Field: f.Name, Server: e.valueAny(i), Client: me.Value(i)}
		}
	}
	return nil
}

// FieldEqual reports whether a client value matches a server value of a field.
func FieldEqual(f Field, server, client value) bool {
	switch f.Type {
	case Q:
		return f.Within(server.f, client.f)
	case F32:
		return server.f == client.f
	case String:
		return server.s == client.s
	default:
		return server.i == client.i
	}
}

func (e *Entity) valueAny(i int) any {
	switch t := e.kind.Fields[i].Type; {
	case t == Q || t == F32:
		return e.vals[i].f
	case t == Bool:
		return e.vals[i].i != 0
	case t == String:
		return e.vals[i].s
	default:
		return e.vals[i].i
	}
}

// CompareView checks the mirror of a member that sees groups (Everyone is
// implied) against the world: every entity in those groups present and
// equal, nothing else present. It is the invariant "a member's mirror
// equals the world restricted to its view" (TestViewMirrorsFollowRandomWorlds).
func CompareView(w *World, m *Mirror, groups []GroupID) *Divergence {
	sees := func(e *Entity) bool { return e.group == Everyone || slices.Contains(groups, e.group) }
	return CompareSeen(w, m, sees, sees)
}

// CompareSeen checks a mirror against the part of the world it must hold:
// every entity for which must is true present and equal, and nothing in
// the mirror for which may is false (nor anything the world lacks). The
// load generator and the socket tests check a view's square and its
// margin with it.
func CompareSeen(w *World, m *Mirror, must, may func(*Entity) bool) *Divergence {
	for _, e := range w.entities {
		if !must(e) {
			continue
		}
		if d := compareEntity(e, m.Entities[e.id]); d != nil {
			return d
		}
	}
	for id := range m.Entities {
		if e := w.byID[id]; e == nil || !may(e) {
			return &Divergence{Entity: id, Server: "not in view", Client: "present"}
		}
	}
	return nil
}

// CompareHeld checks a views mirror against the world restricted to the
// groups it holds (Everyone and every group one of its entities is in):
// every entity of those groups present and equal, nothing else present.
// It is for tests and tools that see a member's stream but not its view
// (CompareView is the check when the view is known): it cannot tell a
// group missing whole from one the member does not see.
func CompareHeld(w *World, m *Mirror) *Divergence {
	held := map[GroupID]bool{Everyone: true}
	for _, e := range m.Entities {
		held[e.Group] = true
	}
	in := func(e *Entity) bool { return held[e.group] }
	return CompareSeen(w, m, in, in)
}
