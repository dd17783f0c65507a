// Package state is tickroom's data model and wire codec: entities with typed
// fields, change tracking, and the snapshot and delta encodings described in
// docs/PROTOCOL.md. It is pure code: no goroutines, no I/O, no clocks.
//
// A World is owned by exactly one goroutine (a room's loop); nothing in this
// package locks.
package state

import (
	"errors"
	"fmt"
	"math"
)

// FieldType is the type of one entity field, as named on the wire.
type FieldType uint8

// Field types. Q is a float quantized to an integer grid (value = q / Scale);
// F32 is a plain float32; the integer types carry their width so that a room
// type's mistakes show up as a panic in its tests, not as garbage on clients.
const (
	Q FieldType = iota + 1
	F32
	I8
	I16
	I32
	I64
	U8
	U16
	U32
	Bool
	String
)

var fieldTypeNames = map[FieldType]string{
	Q: "q", F32: "f32", I8: "i8", I16: "i16", I32: "i32", I64: "i64",
	U8: "u8", U16: "u16", U32: "u32", Bool: "bool", String: "str",
}

// String returns the wire name of the type.
func (t FieldType) String() string {
	if n, ok := fieldTypeNames[t]; ok {
		return n
	}
	return fmt.Sprintf("FieldType(%d)", uint8(t))
}

// ParseFieldType turns a wire name back into a FieldType.
func ParseFieldType(name string) (FieldType, error) {
	for t, n := range fieldTypeNames {
		if n == name {
			return t, nil
		}
	}
	return 0, fmt.Errorf("state: unknown field type %q", name)
}

func (t FieldType) isInt() bool { return t >= I8 && t <= U32 }

// coded reports whether values of this type travel as integers with a
// prediction history (h0, h1).
func (t FieldType) coded() bool { return t == Q || t.isInt() }

func (t FieldType) intRange() (lo, hi int64) {
	switch t {
	case I8:
		return math.MinInt8, math.MaxInt8
	case I16:
		return math.MinInt16, math.MaxInt16
	case I32:
		return math.MinInt32, math.MaxInt32
	case U8:
		return 0, math.MaxUint8
	case U16:
		return 0, math.MaxUint16
	case U32:
		return 0, math.MaxUint32
	}
	return math.MinInt64, math.MaxInt64
}

// Field describes one field of an entity kind.
type Field struct {
	Name string
	Type FieldType
	// Scale is the number of grid steps per unit for Q fields: a value v
	// travels as round(v*Scale), so the error is at most 0.5/Scale.
	Scale float64
	// Mod, for Q fields, makes the grid circular with Mod steps (angles):
	// values live in [0, Mod). Zero means a plain line.
	Mod int64
	// Pred is the value coding: 0 absolute, 1 delta from the last value,
	// 2 residual after linear prediction from the last two values.
	// Only Q and integer fields use it.
	Pred uint8
}

// Tolerance is the largest difference between a server value and the value
// a client reconstructs from the wire: half a grid step for Q fields, zero
// for everything else.
func (f Field) Tolerance() float64 {
	if f.Type == Q {
		return 0.5 / f.Scale
	}
	return 0
}

// Within reports whether a client's value of a Q field matches the
// server's value within the field's grid tolerance, measured around the
// circle for a field with a modulus (angles). A hair over half a step
// covers float rounding at the grid's edges.
func (f Field) Within(server, client float64) bool {
	d := server - client
	if f.Mod > 0 {
		period := float64(f.Mod) / f.Scale
		d = math.Mod(d, period)
		if d > period/2 {
			d -= period
		} else if d < -period/2 {
			d += period
		}
	}
	return math.Abs(d) <= f.Tolerance()*(1+1e-9)+1e-12
}

// Pos is a Q field for a coordinate: 1/64 unit grid (error under 0.008
// units, inside the 0.01 the benchmark scene asks for), coded by linear
// prediction since positions mostly move smoothly.
func Pos(name string) Field { return Field{Name: name, Type: Q, Scale: 64, Pred: 2} }

// AngleSteps is the number of grid steps in a full turn used by Angle.
const AngleSteps = 4096

// Angle is a circular Q field in radians with 4096 steps a turn (error under
// 0.0008 rad); clients receive values in [0, 2π).
func Angle(name string) Field {
	return Field{Name: name, Type: Q, Scale: AngleSteps / (2 * math.Pi), Mod: AngleSteps, Pred: 2}
}

// Quant is a Q field with the given grid steps per unit and coding.
func Quant(name string, scale float64, pred uint8) Field {
	return Field{Name: name, Type: Q, Scale: scale, Pred: pred}
}

// Int is an integer field of the given width type, sent absolute.
func Int(name string, t FieldType) Field { return Field{Name: name, Type: t} }

// Counter is an integer field sent as the change from its last value, for
// values that mostly step by small amounts (sequence numbers, scores).
func Counter(name string, t FieldType) Field { return Field{Name: name, Type: t, Pred: 1} }

// Float is a plain float32 field.
func Float(name string) Field { return Field{Name: name, Type: F32} }

// Flag is a bool field.
func Flag(name string) Field { return Field{Name: name, Type: Bool} }

// Text is a string field.
func Text(name string) Field { return Field{Name: name, Type: String} }

// Draw holds render hints that travel with a kind so that a generic client
// can draw any room type: a shape and a default size in world units.
type Draw struct {
	Shape string  `msgpack:"shape" json:"shape"` // circle, rect, arrow, ring
	W     float64 `msgpack:"w" json:"w"`
	H     float64 `msgpack:"h" json:"h"`
}

// MaxFields is the most fields a kind can have (a delta's field mask is 64 bits).
const MaxFields = 64

// Kind is an entity kind: a named list of fields. Kinds are immutable once
// built with NewKind.
type Kind struct {
	ID     uint8
	Name   string
	Draw   *Draw
	Fields []Field

	byName  map[string]int
	strings int // number of String fields
	pred2   int // number of fields with Pred 2 (velocities in records)
}

// ErrSchema is wrapped by every schema validation error.
var ErrSchema = errors.New("state: bad schema")

// NewKind validates and builds a kind.
func NewKind(id uint8, name string, draw *Draw, fields ...Field) (*Kind, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: kind %d has no name", ErrSchema, id)
	}
	if len(fields) == 0 || len(fields) > MaxFields {
		return nil, fmt.Errorf("%w: kind %q has %d fields (want 1..%d)", ErrSchema, name, len(fields), MaxFields)
	}
	k := &Kind{ID: id, Name: name, Draw: draw, Fields: fields, byName: make(map[string]int, len(fields))}
	for i, f := range fields {
		if err := f.validate(); err != nil {
			return nil, fmt.Errorf("%w: kind %q field %d: %v", ErrSchema, name, i, err)
		}
		if _, dup := k.byName[f.Name]; dup {
			return nil, fmt.Errorf("%w: kind %q has two fields named %q", ErrSchema, name, f.Name)
		}
		k.byName[f.Name] = i
		if f.Type == String {
			k.strings++
		}
		if f.Pred == 2 {
			k.pred2++
		}
	}
	return k, nil
}

// MustKind is NewKind for package-level declarations; it panics on a bad schema.
func MustKind(id uint8, name string, draw *Draw, fields ...Field) *Kind {
	k, err := NewKind(id, name, draw, fields...)
	if err != nil {
		panic(err)
	}
	return k
}

func (f Field) validate() error {
	if f.Name == "" {
		return errors.New("no name")
	}
	if _, ok := fieldTypeNames[f.Type]; !ok {
		return fmt.Errorf("field %q: unknown type %d", f.Name, f.Type)
	}
	if f.Type == Q {
		if !(f.Scale > 0) || math.IsInf(f.Scale, 0) {
			return fmt.Errorf("field %q: q needs a positive scale", f.Name)
		}
		if f.Mod < 0 {
			return fmt.Errorf("field %q: negative mod", f.Name)
		}
	} else if f.Mod != 0 || f.Scale != 0 {
		return fmt.Errorf("field %q: scale and mod are for q fields only", f.Name)
	}
	if f.Pred > 2 || (f.Pred > 0 && !f.Type.coded()) {
		return fmt.Errorf("field %q: pred %d not allowed for %s", f.Name, f.Pred, f.Type)
	}
	if f.Pred == 2 && f.Type != Q {
		return fmt.Errorf("field %q: pred 2 is for q fields only", f.Name)
	}
	return nil
}

// Index returns the index of the named field, or -1.
func (k *Kind) Index(name string) int {
	if i, ok := k.byName[name]; ok {
		return i
	}
	return -1
}

// MustIndex returns the index of the named field and panics when there is
// none; room types use it once at start-up.
func (k *Kind) MustIndex(name string) int {
	i := k.Index(name)
	if i < 0 {
		panic(fmt.Sprintf("state: kind %q has no field %q", k.Name, name))
	}
	return i
}

// Schema is the set of kinds a room type uses, indexed by kind id.
type Schema struct {
	Kinds []*Kind
}

// NewSchema checks that kind ids are 0..n-1 in order.
func NewSchema(kinds ...*Kind) (*Schema, error) {
	for i, k := range kinds {
		if int(k.ID) != i {
			return nil, fmt.Errorf("%w: kind %q has id %d at position %d", ErrSchema, k.Name, k.ID, i)
		}
	}
	return &Schema{Kinds: kinds}, nil
}

// MustSchema is NewSchema that panics on error.
func MustSchema(kinds ...*Kind) *Schema {
	s, err := NewSchema(kinds...)
	if err != nil {
		panic(err)
	}
	return s
}

// Kind returns the kind with the given id, or nil.
func (s *Schema) Kind(id int) *Kind {
	if id < 0 || id >= len(s.Kinds) {
		return nil
	}
	return s.Kinds[id]
}

// KindByName returns the named kind, or nil.
func (s *Schema) KindByName(name string) *Kind {
	for _, k := range s.Kinds {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// WireKind is a kind as it travels in the welcome message.
type WireKind struct {
	ID     uint8       `msgpack:"id" json:"id"`
	Name   string      `msgpack:"name" json:"name"`
	Draw   *Draw       `msgpack:"draw,omitempty" json:"draw,omitempty"`
	Fields []WireField `msgpack:"fields" json:"fields"`
}

// WireField is a field as it travels in the welcome message.
type WireField struct {
	Name  string  `msgpack:"name" json:"name"`
	Type  string  `msgpack:"type" json:"type"`
	Scale float64 `msgpack:"scale,omitempty" json:"scale,omitempty"`
	Mod   int64   `msgpack:"mod,omitempty" json:"mod,omitempty"`
	Pred  uint8   `msgpack:"pred,omitempty" json:"pred,omitempty"`
}

// Wire returns the schema in its welcome-message form.
func (s *Schema) Wire() []WireKind {
	out := make([]WireKind, len(s.Kinds))
	for i, k := range s.Kinds {
		wk := WireKind{ID: k.ID, Name: k.Name, Draw: k.Draw, Fields: make([]WireField, len(k.Fields))}
		for j, f := range k.Fields {
			wk.Fields[j] = WireField{Name: f.Name, Type: f.Type.String(), Scale: f.Scale, Mod: f.Mod, Pred: f.Pred}
		}
		out[i] = wk
	}
	return out
}

// SchemaFromWire rebuilds a Schema from its welcome-message form (clients,
// the load generator and the replay reader use this).
func SchemaFromWire(kinds []WireKind) (*Schema, error) {
	out := make([]*Kind, len(kinds))
	for i, wk := range kinds {
		fields := make([]Field, len(wk.Fields))
		for j, wf := range wk.Fields {
			t, err := ParseFieldType(wf.Type)
			if err != nil {
				return nil, fmt.Errorf("%w: kind %q: %v", ErrSchema, wk.Name, err)
			}
			fields[j] = Field{Name: wf.Name, Type: t, Scale: wf.Scale, Mod: wf.Mod, Pred: wf.Pred}
		}
		k, err := NewKind(wk.ID, wk.Name, wk.Draw, fields...)
		if err != nil {
			return nil, err
		}
		out[i] = k
	}
	return NewSchema(out...)
}
