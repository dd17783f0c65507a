package payload

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// A room type declares each payload once, as a Go struct whose fields carry
// a `payload` tag, and the same declaration decodes it, words its errors
// and becomes the TypeScript type `tickroom gen ts` writes:
//
//	type Input struct {
//		DX float64 `payload:"dx,clamp=-1..1" doc:"steering along x"`
//		ID int64   `payload:"id,range=1..4294967295"`
//	}
//
// The tag is the key, then any of:
//   - range=LO..HI: a value outside is refused (for integers: a whole
//     number in LO..HI; integer fields without a range take any int64);
//   - clamp=LO..HI: any finite number is accepted and clamped;
//   - optional: the key may be left out (options are always optional);
//   - const=VALUE: a string field that always holds VALUE (event tags).
//
// A `doc` tag is copied into the generated type as a comment. Field types:
// float64 (a number), int, int64, uint32 (whole numbers), string.

// field is one declared key of a struct.
type field struct {
	key      string
	index    int // the struct field's index
	kind     reflect.Kind
	lo, hi   float64
	bounded  bool // range or clamp given
	clamp    bool
	optional bool
	constant string
	doc      string
}

// fieldsOf reads the declared fields of struct type t. A malformed tag is a
// programming error in a room type, found when its package loads: it panics.
func fieldsOf(t reflect.Type) []field {
	if t.Kind() != reflect.Struct {
		panic(fmt.Sprintf("payload: %v is not a struct", t))
	}
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("payload")
		if !ok || tag == "-" {
			continue
		}
		f, err := parseField(sf, tag)
		if err != nil {
			panic(fmt.Sprintf("payload: %v.%s: %v", t, sf.Name, err))
		}
		f.index = i
		out = append(out, f)
	}
	return out
}

func parseField(sf reflect.StructField, tag string) (field, error) {
	parts := strings.Split(tag, ",")
	f := field{key: parts[0], kind: sf.Type.Kind(), doc: sf.Tag.Get("doc")}
	if f.key == "" {
		return f, fmt.Errorf("tag %q has no key", tag)
	}
	switch f.kind {
	case reflect.Float64, reflect.Int, reflect.Int64, reflect.Uint32, reflect.String:
	default:
		return f, fmt.Errorf("type %v is not float64, int, int64, uint32 or string", sf.Type)
	}
	for _, p := range parts[1:] {
		name, val, _ := strings.Cut(p, "=")
		var err error
		switch name {
		case "range", "clamp":
			f.bounded, f.clamp = true, name == "clamp"
			f.lo, f.hi, err = parseBounds(val)
		case "optional":
			f.optional = true
		case "const":
			f.constant = val
			if f.kind != reflect.String {
				err = fmt.Errorf("const on a %v field", f.kind)
			}
		default:
			err = fmt.Errorf("unknown attribute %q", p)
		}
		if err != nil {
			return f, err
		}
	}
	if f.bounded && f.kind == reflect.String {
		return f, fmt.Errorf("range on a string field")
	}
	return f, nil
}

func parseBounds(s string) (lo, hi float64, err error) {
	a, b, ok := strings.Cut(s, "..")
	if ok {
		lo, err = strconv.ParseFloat(a, 64)
	}
	if ok && err == nil {
		hi, err = strconv.ParseFloat(b, 64)
	}
	if !ok || err != nil || lo > hi {
		return 0, 0, fmt.Errorf("bounds %q: want LO..HI", s)
	}
	return lo, hi, nil
}

// whole reports whether the field holds whole numbers.
func (f field) whole() bool { return f.kind != reflect.Float64 && f.kind != reflect.String }

// intBounds returns the range an integer field accepts.
func (f field) intBounds() (lo, hi int64) {
	switch {
	case f.bounded:
		return int64(f.lo), int64(f.hi)
	case f.kind == reflect.Uint32:
		return 0, math.MaxUint32
	}
	return math.MinInt64, math.MaxInt64
}

// read reads the field's value from m into dst, the struct's field.
func (f field) read(m *Map, dst reflect.Value) error {
	if f.kind == reflect.String {
		s, err := m.String(f.key)
		if err == nil && f.constant != "" && s != f.constant {
			err = fmt.Errorf("%s %q is %.32q, want %q", m.Name, f.key, s, f.constant)
		}
		dst.SetString(s)
		return err
	}
	if f.whole() {
		lo, hi := f.intBounds()
		n, err := m.Integer(f.key, lo, hi)
		if f.kind == reflect.Uint32 {
			dst.SetUint(uint64(n))
		} else {
			dst.SetInt(n)
		}
		return err
	}
	v, err := m.Number(f.key)
	switch {
	case err != nil:
		return err
	case f.clamp:
		v = math.Max(f.lo, math.Min(f.hi, v))
	case f.bounded && (v < f.lo || v > f.hi):
		return fmt.Errorf("%s %q is %v, want a number in %g..%g", m.Name, f.key, v, f.lo, f.hi)
	}
	dst.SetFloat(v)
	return nil
}

// value returns the field of struct value v as it travels (events, options).
func (f field) value(v reflect.Value) any {
	if f.constant != "" {
		return f.constant
	}
	return v.Field(f.index).Interface()
}

// keys lists the fields' keys.
func keys(fs []field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.key
	}
	return out
}

// readFields reads every declared field of fs from m into the struct v,
// in declaration order, after refusing unknown keys with unknown(key). A
// missing optional field keeps what v held.
func readFields(m *Map, v reflect.Value, fs []field, known []string, unknown func(key string) error) error {
	if k, ok := m.Unknown(known...); ok {
		return unknown(k)
	}
	for _, f := range fs {
		if f.optional && !m.Has(f.key) {
			continue
		}
		if err := f.read(m, v.Field(f.index)); err != nil {
			return err
		}
	}
	return nil
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
