package payload

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/tickroom/tickroom/rooms"
)

// Option is one creation option a room type takes: a number in a range,
// stored into the room type's setting when given. Make one with Float or Int.
type Option struct {
	key    string
	lo, hi float64
	whole  bool
	set    func(float64)
}

// Float is an option holding any number in lo..hi, stored in *dst.
func Float(key string, lo, hi float64, dst *float64) Option {
	return Option{key: key, lo: lo, hi: hi, set: func(f float64) { *dst = f }}
}

// Int is an option holding a whole number in lo..hi, stored in *dst.
func Int(key string, lo, hi int, dst *int) Option {
	return Option{key: key, lo: float64(lo), hi: float64(hi), whole: true, set: func(f float64) { *dst = int(f) }}
}

// ParseOptions checks a creator's options (decoded JSON, nil for none) for
// the room type named typ against opts, and stores each one given; options
// not given keep what their destination held. Unknown keys and values of the
// wrong type or out of range are errors wrapping rooms.ErrBadOptions, so that
// a typo is reported instead of ignored. Keys are checked in sorted order, so
// that a request with several bad keys always gets the same error; on an
// error, options before the bad key may already be stored.
func ParseOptions(typ string, in map[string]any, opts ...Option) error {
	for _, k := range slices.Sorted(maps.Keys(in)) {
		i := slices.IndexFunc(opts, func(o Option) bool { return o.key == k })
		if i < 0 {
			names := make([]string, len(opts))
			for j, o := range opts {
				names[j] = o.key
			}
			return fmt.Errorf("%w: %s has no option %q (it has %s)", rooms.ErrBadOptions, typ, k, strings.Join(names, ", "))
		}
		f, err := opts[i].check(typ, in[k])
		if err != nil {
			return err
		}
		opts[i].set(f)
	}
	return nil
}

// check reads one option value. JSON gives float64 (or json.Number with
// UseNumber); Go callers may pass other numeric types, which are accepted too.
func (o Option) check(typ string, v any) (float64, error) {
	var f float64
	switch n := v.(type) {
	case float64:
		f = n
	case float32:
		f = float64(n)
	case int:
		f = float64(n)
	case int64:
		f = float64(n)
	case nil:
		return 0, fmt.Errorf("%w: %s option %q is null, want a number", rooms.ErrBadOptions, typ, o.key)
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, fmt.Errorf("%w: %s option %q is %q, not a number", rooms.ErrBadOptions, typ, o.key, n)
		}
	default:
		return 0, fmt.Errorf("%w: %s option %q is %T, want a number", rooms.ErrBadOptions, typ, o.key, v)
	}
	switch {
	case math.IsNaN(f) || f < o.lo || f > o.hi:
		return 0, fmt.Errorf("%w: %s option %q is %v, want %g..%g", rooms.ErrBadOptions, typ, o.key, f, o.lo, o.hi)
	case o.whole && f != math.Trunc(f):
		return 0, fmt.Errorf("%w: %s option %q is %v, want a whole number", rooms.ErrBadOptions, typ, o.key, f)
	}
	return f, nil
}
