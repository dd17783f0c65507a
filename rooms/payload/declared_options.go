package payload

import (
	"fmt"
	"reflect"

	"github.com/tickroom/tickroom/rooms"
)

// Options are a room type's creation options declared by the struct T:
// each field a float64 or an int with a range, every one optional, its
// default taken from the defaults function.
type Options[T any] struct {
	typ      string
	fields   []field
	defaults func() T
}

// NewOptions declares the options T of room type typ. It panics on a
// malformed tag or a field without a range.
func NewOptions[T any](typ string, defaults func() T) *Options[T] {
	fs := fieldsOf(reflect.TypeFor[T]())
	for _, f := range fs {
		if !f.bounded || f.clamp || (f.kind != reflect.Float64 && f.kind != reflect.Int) {
			panic(fmt.Sprintf("payload: %s option %q: want a float64 or int field with a range", typ, f.key))
		}
	}
	return &Options[T]{typ: typ, fields: fs, defaults: defaults}
}

// Parse applies a creator's options (decoded JSON, nil for none) over the
// defaults, with ParseOptions' checks and errors (wrapping
// rooms.ErrBadOptions).
func (o *Options[T]) Parse(in map[string]any) (T, error) {
	v := o.defaults()
	if len(o.fields) == 0 {
		if len(in) > 0 {
			var zero T
			return zero, fmt.Errorf("%w: %s takes no options", rooms.ErrBadOptions, o.typ)
		}
		return v, nil
	}
	rv := reflect.ValueOf(&v).Elem()
	opts := make([]Option, len(o.fields))
	for i, f := range o.fields {
		dst := rv.Field(f.index)
		opts[i] = Option{key: f.key, lo: f.lo, hi: f.hi, whole: f.whole()}
		if f.whole() {
			opts[i].set = func(x float64) { dst.SetInt(int64(x)) }
		} else {
			opts[i].set = dst.SetFloat
		}
	}
	if err := ParseOptions(o.typ, in, opts...); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// Map returns options as they travel in the welcome and the room list.
func (o *Options[T]) Map(v T) map[string]any {
	rv := reflect.ValueOf(v)
	out := make(map[string]any, len(o.fields))
	for _, f := range o.fields {
		out[f.key] = f.value(rv)
	}
	return out
}

// TypeScript implements rooms.Declaration: every key optional, its range
// and default in a comment.
func (o *Options[T]) TypeScript(indent string) string {
	def := reflect.ValueOf(o.defaults())
	return objectType(o.fields, indent, true, nil, func(f field) string {
		return fmt.Sprintf("default %v", f.value(def))
	})
}

// Events declares the data of the custom events a room type emits (one
// struct each, told apart by a const field), for generated client types;
// Map turns an event into the data ctx.Emit sends.
type Events struct {
	cases []reflect.Type
	// fields per case, in the order of cases
	fields [][]field
}

// Event declares one event's data struct, for NewEvents.
func Event[T any]() reflect.Type { return reflect.TypeFor[T]() }

// NewEvents declares the events of a room type (none: it emits no custom
// events). It panics on a malformed tag.
func NewEvents(types ...reflect.Type) *Events {
	e := &Events{cases: types}
	for _, t := range types {
		e.fields = append(e.fields, fieldsOf(t))
	}
	return e
}

// Map returns the event v (one of the declared structs) as the map that
// ctx.Emit takes, with the same Go values, so the bytes on the wire are
// the same as a hand-written map's. It panics for an undeclared type.
func (e *Events) Map(v any) map[string]any {
	rv := reflect.ValueOf(v)
	for i, t := range e.cases {
		if rv.Type() != t {
			continue
		}
		out := make(map[string]any, len(e.fields[i]))
		for _, f := range e.fields[i] {
			out[f.key] = f.value(rv)
		}
		return out
	}
	panic(fmt.Sprintf("payload: event %T not declared", v))
}

// TypeScript implements rooms.Declaration.
func (e *Events) TypeScript(indent string) string {
	switch len(e.cases) {
	case 0:
		return "never" // declared to emit none
	case 1:
		return objectType(e.fields[0], indent, false, nil)
	}
	var out string
	for _, fs := range e.fields {
		out += "\n" + indent + "  | " + objectType(fs, indent+"    ", false, nil)
	}
	return out
}
