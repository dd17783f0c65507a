package arena

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/tickroom/tickroom/rooms"
)

// Options are an arena's settings. Use DefaultOptions for the zero state:
// a zero Options is a field with no room to move.
type Options struct {
	// Width and Height are the field's size in world units, 100..10000.
	Width, Height float64
	// Speed is how far an avatar moves per tick at full input, 0.5..50.
	Speed float64
	// Coins is the number of coins on the field, 0..200.
	Coins int
}

// DefaultOptions returns the options of a room created with none.
func DefaultOptions() Options {
	return Options{Width: 1000, Height: 600, Speed: 6, Coins: 12}
}

// ParseOptions applies a creator's options (decoded JSON, nil for none) over
// the defaults. Unknown keys and out-of-range values are errors wrapping
// rooms.ErrBadOptions, so that a typo is reported instead of ignored.
func ParseOptions(in map[string]any) (Options, error) {
	o := DefaultOptions()
	// Sorted so that a request with several bad keys always gets the same error.
	for _, k := range slices.Sorted(maps.Keys(in)) {
		v := in[k]
		var err error
		switch k {
		case "width":
			o.Width, err = optionNumber(k, v, 100, 10000, false)
		case "height":
			o.Height, err = optionNumber(k, v, 100, 10000, false)
		case "speed":
			o.Speed, err = optionNumber(k, v, 0.5, 50, false)
		case "coins":
			var n float64
			n, err = optionNumber(k, v, 0, 200, true)
			o.Coins = int(n)
		default:
			err = fmt.Errorf("%w: arena has no option %q (it has width, height, speed, coins)", rooms.ErrBadOptions, k)
		}
		if err != nil {
			return Options{}, err
		}
	}
	return o, nil
}

// Map returns the options as they travel in the welcome and the room list.
func (o Options) Map() map[string]any {
	return map[string]any{"width": o.Width, "height": o.Height, "speed": o.Speed, "coins": o.Coins}
}

// optionNumber checks one option value. JSON gives float64; Go callers may
// pass ints, which are accepted too.
func optionNumber(key string, v any, lo, hi float64, integer bool) (float64, error) {
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
		return 0, fmt.Errorf("%w: arena option %q is null, want a number", rooms.ErrBadOptions, key)
	case json.Number:
		var err error
		if f, err = n.Float64(); err != nil {
			return 0, fmt.Errorf("%w: arena option %q is %q, not a number", rooms.ErrBadOptions, key, n)
		}
	default:
		return 0, fmt.Errorf("%w: arena option %q is %T, want a number", rooms.ErrBadOptions, key, v)
	}
	switch {
	case math.IsNaN(f) || f < lo || f > hi:
		return 0, fmt.Errorf("%w: arena option %q is %v, want %g..%g", rooms.ErrBadOptions, key, f, lo, hi)
	case integer && f != math.Trunc(f):
		return 0, fmt.Errorf("%w: arena option %q is %v, want a whole number", rooms.ErrBadOptions, key, f)
	}
	return f, nil
}
