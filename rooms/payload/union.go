package payload

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// Union is an input payload with several shapes told apart by one string
// key, such as board's {"op": "move", "id", "x", "y"}: each shape is a
// struct declared with Case.
type Union struct {
	spec  Spec
	typ   string // the room type, for "board: move ..." errors
	key   string
	cases []Variant
}

// Variant is one shape of a Union: the key's value and the struct.
type Variant struct {
	tag    string
	typ    reflect.Type
	fields []field
	known  []string // the fields' keys and the union's key
}

// Case declares the shape T of a union, chosen when the union's key holds
// tag. It panics on a malformed tag.
func Case[T any](tag string) Variant {
	t := reflect.TypeFor[T]()
	return Variant{tag: tag, typ: t, fields: fieldsOf(t)}
}

// NewUnion declares a payload of room type typ told apart by key. Errors
// begin "TYPE: input" until the shape is known, then "TYPE: TAG".
func NewUnion(typ, key string, cases ...Variant) *Union {
	most := 0
	for i := range cases {
		cases[i].known = append(keys(cases[i].fields), key)
		most = max(most, len(cases[i].known))
	}
	u := &Union{typ: typ, key: key, cases: cases}
	// One key more than the largest shape, so that a misspelt key is named
	// instead of refused by count.
	u.spec = Spec{Name: typ + ": input", Want: "a map with an " + key, MaxKeys: most + 1}
	return u
}

func (u *Union) tags() string {
	t := make([]string, len(u.cases))
	for i, c := range u.cases {
		t[i] = c.tag
	}
	return orList(t)
}

// Decode reads b into a pointer to the shape its key names (a *T of one of
// the Cases), or an error naming what was wrong.
func (u *Union) Decode(b []byte) (any, error) {
	m, err := Decode(b, u.spec)
	if err != nil {
		return nil, err
	}
	if !m.Has(u.key) {
		return nil, fmt.Errorf("%s has no %q (%s)", u.spec.Name, u.key, u.tags())
	}
	tag, err := m.String(u.key)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(u.cases, func(c Variant) bool { return c.tag == tag })
	if i < 0 {
		return nil, fmt.Errorf("%s: unknown %s %.32q (want %s)", u.typ, u.key, tag, u.tags())
	}
	c := u.cases[i]
	m.Name = u.typ + ": " + tag
	ptr := reflect.New(c.typ)
	err = readFields(m, ptr.Elem(), c.fields, c.known, func(k string) error {
		return fmt.Errorf("%s takes no %.32q (it takes %s)", m.Name, k, strings.Join(keys(c.fields), ", "))
	})
	if err != nil {
		return nil, err
	}
	return ptr.Interface(), nil
}

// TypeScript implements rooms.Declaration: a union of object types.
func (u *Union) TypeScript(indent string) string {
	var b strings.Builder
	for _, c := range u.cases {
		b.WriteString("\n" + indent + "  | ")
		b.WriteString(objectType(c.fields, indent+"    ", false, &tsConst{u.key, c.tag}))
	}
	return b.String()
}
