package payload

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Struct is an input payload declared by the struct T: a flat map with
// exactly T's keys (less the optional ones a member leaves out).
type Struct[T any] struct {
	spec   Spec
	fields []field
	known  []string
	exact  bool   // no optional field: the map has exactly len(fields) keys
	want   string // "dx and dy", for errors
}

// NewStruct declares the payload T, named name in errors ("arena: input").
// It panics on a malformed tag.
func NewStruct[T any](name string) *Struct[T] {
	fs := fieldsOf(reflect.TypeFor[T]())
	k := keys(fs)
	want := strings.Join(k, " and ")
	if len(k) > 2 {
		want = strings.Join(k, ", ")
	}
	return &Struct[T]{
		spec:   Spec{Name: name, Want: "a map {" + strings.Join(k, ", ") + "}", MaxKeys: len(fs)},
		fields: fs,
		known:  k,
		exact:  !slices.ContainsFunc(fs, func(f field) bool { return f.optional }),
		want:   want,
	}
}

// Decode reads b into a T. Numbers may be integers or floats (JavaScript
// encodes 1 as an integer and 0.5 as a float). Anything else (another
// shape, another key, a string where a number goes, NaN, infinity, a value
// out of range) is an error naming what was wrong, which the member
// receives as bad_input.
func (s *Struct[T]) Decode(b []byte) (T, error) {
	var out T
	m, err := Decode(b, s.spec)
	if err != nil {
		return out, err
	}
	if s.exact && m.Len() != len(s.fields) {
		return out, fmt.Errorf("%s has %d keys, want exactly %s", s.spec.Name, m.Len(), s.want)
	}
	v := reflect.ValueOf(&out).Elem()
	err = readFields(m, v, s.fields, s.known, func(k string) error {
		return fmt.Errorf("%s has key %.32q, want %s", s.spec.Name, k, s.want)
	})
	if err != nil {
		var zero T
		return zero, err
	}
	return out, nil
}

// TypeScript implements rooms.Declaration.
func (s *Struct[T]) TypeScript(indent string) string {
	return objectType(s.fields, indent, false, nil)
}
