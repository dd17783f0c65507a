package payload

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// tsConst is a key that holds one string, first in an object type: a
// union's tag.
type tsConst struct{ key, value string }

// objectType writes fields as a TypeScript object type, one key a line
// with its doc and range in a comment. Options make every key optional
// and add note(f) to its comment.
func objectType(fs []field, indent string, options bool, tag *tsConst, note ...func(field) string) string {
	if len(fs) == 0 && tag == nil {
		return "Record<string, never>"
	}
	var b strings.Builder
	b.WriteString("{\n")
	if tag != nil {
		fmt.Fprintf(&b, "%s  %s: %s;\n", indent, tsKey(tag.key), tsString(tag.value))
	}
	for _, f := range fs {
		var notes []string
		if f.doc != "" {
			notes = append(notes, f.doc)
		}
		switch {
		case f.clamp:
			notes = append(notes, "clamped to "+span(f))
		case f.bounded && !f.whole():
			notes = append(notes, span(f))
		case f.bounded && tsIntType(f) == "number":
			notes = append(notes, "a whole number in "+span(f))
		case f.whole() && tsIntType(f) == "number":
			notes = append(notes, "a whole number")
		}
		for _, n := range note {
			notes = append(notes, n(f))
		}
		if len(notes) > 0 {
			fmt.Fprintf(&b, "%s  /** %s */\n", indent, strings.Join(notes, "; "))
		}
		opt := ""
		if options || f.optional {
			opt = "?"
		}
		fmt.Fprintf(&b, "%s  %s%s: %s;\n", indent, tsKey(f.key), opt, tsType(f))
	}
	b.WriteString(indent + "}")
	return b.String()
}

// span is a field's bounds, LO..HI, in plain digits.
func span(f field) string {
	return strconv.FormatFloat(f.lo, 'f', -1, 64) + ".." + strconv.FormatFloat(f.hi, 'f', -1, 64)
}

// tsType is the TypeScript type of a field's values.
func tsType(f field) string {
	switch {
	case f.constant != "":
		return tsString(f.constant)
	case f.kind == reflect.String:
		return "string"
	case f.whole():
		return tsIntType(f)
	}
	return "number"
}

// tsIntType spells a small integer range out as a union of literals, so
// that a wrong value does not compile: board's shape is 0 | 1.
func tsIntType(f field) string {
	if !f.bounded || f.hi-f.lo > 7 {
		return "number"
	}
	var lits []string
	for v := f.lo; v <= f.hi; v++ {
		lits = append(lits, fmt.Sprint(v))
	}
	return strings.Join(lits, " | ")
}

// tsKey quotes a key that is not a plain identifier.
func tsKey(k string) string {
	for i, r := range k {
		if !(r == '_' || r == '$' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return tsString(k)
		}
	}
	return k
}

// tsString is a TypeScript string literal.
func tsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\n", `\n`).Replace(s) + "'"
}

// TSKey and TSString are tsKey and tsString for the generator of whole
// declaration files (cmd/tickroom gen ts).
func TSKey(k string) string    { return tsKey(k) }
func TSString(s string) string { return tsString(s) }
