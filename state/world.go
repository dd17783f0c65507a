package state

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// EntityID names an entity within one room. Ids ascend and are never reused
// within a room's life, so a client can never confuse an old entity with a new one.
type EntityID uint32

// value is one field's current value. Numbers of every type sit in f or i
// by type; strings in s.
type value struct {
	f float64 // Q and F32
	i int64   // integer types and Bool (0/1)
	s string  // String
}

// Entity is one object in a World. Its fields are read and written through
// typed accessors taking the field's index in its Kind. Every write that
// changes a value marks the field dirty, and the next delta carries it.
type Entity struct {
	id    EntityID
	kind  *Kind
	world *World
	vals  []value
	// h1, h0: the last two integers published for each coded field (Q and
	// integer types). They are the encoder's prediction history, which every
	// client keeps too, so they change only when a value is published.
	h1, h0 []int64

	dirty uint64 // fields changed since the last publish
	// group is the interest group the entity is in (views.go); pubGroup the
	// one it was in at the last publish, which every client seeing it knows.
	group, pubGroup GroupID
	pubGr           *group // pubGroup's group, cached (views.go, pubGroupOf)
	created         bool   // spawned since the last publish
	removed         bool   // despawned since the last publish
	queued          bool   // in world.dirty
}

// ID returns the entity's id.
func (e *Entity) ID() EntityID { return e.id }

// Kind returns the entity's kind.
func (e *Entity) Kind() *Kind { return e.kind }

// Removed reports whether the entity was despawned.
func (e *Entity) Removed() bool { return e.removed }

// typeSet is a set of FieldTypes, one bit each.
type typeSet uint32

func types(ts ...FieldType) typeSet {
	var s typeSet
	for _, t := range ts {
		s |= 1 << t
	}
	return s
}

var (
	floatTypes  = types(Q, F32)
	intTypes    = types(I8, I16, I32, I64, U8, U16, U32)
	boolTypes   = types(Bool)
	stringTypes = types(String)
)

// field returns field i, panicking when it is not of a wanted type: that is a
// bug in the room type, and its tests should say so loudly. A pointer, not
// a copy of the Field: every setter calls it (field-bench 12,288 times a
// tick), and the copy was a third of a tick's field writes.
func (e *Entity) field(i int, want typeSet) *Field {
	if i < 0 || i >= len(e.kind.Fields) {
		panic(fmt.Sprintf("state: kind %q has no field %d", e.kind.Name, i))
	}
	f := &e.kind.Fields[i]
	if want&(1<<f.Type) == 0 {
		panic(fmt.Sprintf("state: field %q of kind %q is %s", f.Name, e.kind.Name, f.Type))
	}
	return f
}

func (e *Entity) touch(i int) {
	if e.removed {
		panic(fmt.Sprintf("state: write to removed entity %d", e.id))
	}
	e.dirty |= 1 << uint(i)
	if !e.queued && !e.created {
		e.queued = true
		e.world.dirty = append(e.world.dirty, e)
	}
}

// SetFloat sets a Q or F32 field. F32 values are rounded to float32 on write
// so that the server holds exactly what every client receives.
func (e *Entity) SetFloat(i int, v float64) {
	f := e.field(i, floatTypes)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		panic(fmt.Sprintf("state: field %q set to %v", f.Name, v))
	}
	if f.Type == F32 {
		v = float64(float32(v))
	}
	if e.vals[i].f == v {
		return
	}
	e.vals[i].f = v
	e.touch(i)
}

// Float returns a Q or F32 field.
func (e *Entity) Float(i int) float64 { e.field(i, floatTypes); return e.vals[i].f }

// SetInt sets an integer field; a value outside the field's width panics,
// since it is a bug in the room type.
func (e *Entity) SetInt(i int, v int64) {
	f := e.field(i, intTypes)
	if lo, hi := f.Type.intRange(); v < lo || v > hi {
		panic(fmt.Sprintf("state: field %q (%s) set to %d, out of range", f.Name, f.Type, v))
	}
	if e.vals[i].i == v {
		return
	}
	e.vals[i].i = v
	e.touch(i)
}

// Int returns an integer field.
func (e *Entity) Int(i int) int64 { e.field(i, intTypes); return e.vals[i].i }

// SetBool sets a Bool field.
func (e *Entity) SetBool(i int, v bool) {
	e.field(i, boolTypes)
	var n int64
	if v {
		n = 1
	}
	if e.vals[i].i == n {
		return
	}
	e.vals[i].i = n
	e.touch(i)
}

// Bool returns a Bool field.
func (e *Entity) Bool(i int) bool { e.field(i, boolTypes); return e.vals[i].i != 0 }

// SetString sets a String field.
func (e *Entity) SetString(i int, v string) {
	e.field(i, stringTypes)
	if e.vals[i].s == v {
		return
	}
	e.vals[i].s = v
	e.touch(i)
}

// String returns a String field.
func (e *Entity) String(i int) string { e.field(i, stringTypes); return e.vals[i].s }

// World is the state of one room: its entities and what changed since the
// last publish. It belongs to one goroutine.
type World struct {
	schema   *Schema
	entities []*Entity // ascending id
	byID     map[EntityID]*Entity
	nextID   EntityID

	dirty   []*Entity // changed since the last publish, in order of first change
	created []*Entity
	removed []EntityID
	tick    uint64 // tick of the last publish

	enc encoder
	// Views (views.go): nil until EnableViews.
	views *viewState
}

// NewWorld returns an empty world over a schema. Entity ids start at 1; see
// SetNextID for fixed ids.
func NewWorld(s *Schema) *World {
	return &World{schema: s, byID: make(map[EntityID]*Entity), nextID: 1}
}

// Schema returns the world's schema.
func (w *World) Schema() *Schema { return w.schema }

// Tick returns the tick of the last published delta or snapshot.
func (w *World) Tick() uint64 { return w.tick }

// Len returns the number of live entities.
func (w *World) Len() int { return len(w.entities) }

// Entities returns the live entities in ascending id order. The slice is the
// world's own: do not keep it across a Spawn or a publish.
func (w *World) Entities() []*Entity { return w.entities }

// Get returns the live entity with the id, or nil.
func (w *World) Get(id EntityID) *Entity { return w.byID[id] }

// NextID returns the id the next spawned entity takes.
func (w *World) NextID() EntityID { return w.nextID }

// SetNextID makes the next spawned entity take this id. It only moves
// forward; room types use it to give fixed entities fixed ids (the
// benchmark scene's props are 0..99).
func (w *World) SetNextID(id EntityID) {
	if id < w.nextID && len(w.entities) > 0 {
		panic(fmt.Sprintf("state: SetNextID(%d) would reuse ids below %d", id, w.nextID))
	}
	w.nextID = id
}

// Spawn creates an entity of the kind with zero values; set its fields
// before the next publish.
func (w *World) Spawn(k *Kind) *Entity {
	if w.schema.Kind(int(k.ID)) != k {
		panic(fmt.Sprintf("state: kind %q is not in this world's schema", k.Name))
	}
	n := len(k.Fields)
	e := &Entity{id: w.nextID, kind: k, world: w, vals: make([]value, n), created: true}
	hist := make([]int64, 2*n)
	e.h1, e.h0 = hist[:n:n], hist[n:]
	w.nextID++
	w.entities = append(w.entities, e) // ids ascend, so order holds
	w.byID[e.id] = e
	w.created = append(w.created, e)
	return e
}

// Despawn removes an entity; the next delta lists it as removed.
func (w *World) Despawn(id EntityID) bool {
	e := w.byID[id]
	if e == nil {
		return false
	}
	delete(w.byID, id)
	if i, ok := slices.BinarySearchFunc(w.entities, id, func(e *Entity, id EntityID) int { return cmp.Compare(e.id, id) }); ok {
		w.entities = slices.Delete(w.entities, i, i+1)
	}
	e.removed = true
	if !e.created { // one created and removed in the same tick never reaches a client
		w.removed = append(w.removed, id)
		if w.views != nil {
			w.views.removedFrom = append(w.views.removedFrom, e.pubGroup)
		}
	}
	return true
}

// Pending reports whether there are changes not yet published.
func (w *World) Pending() bool {
	return len(w.dirty) > 0 || len(w.created) > 0 || len(w.removed) > 0
}
