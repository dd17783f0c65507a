package board

import "github.com/tickroom/tickroom/rooms/payload"

// Options are a board's settings. Use DefaultOptions for the zero state.
type Options struct {
	// Width and Height are the board's size in world units, 100..10000;
	// shapes and cursors are kept inside it.
	Width, Height float64
	// MaxShapes is the most shapes the board holds, 0..10000; a create past
	// it is refused.
	MaxShapes int
}

// DefaultOptions returns the options of a room created with none.
func DefaultOptions() Options {
	return Options{Width: 1600, Height: 1000, MaxShapes: 500}
}

// ParseOptions applies a creator's options (decoded JSON, nil for none) over
// the defaults. Unknown keys and out-of-range values are errors wrapping
// rooms.ErrBadOptions, so that a typo is reported instead of ignored.
func ParseOptions(in map[string]any) (Options, error) {
	o := DefaultOptions()
	err := payload.ParseOptions("board", in,
		payload.Float("width", 100, 10000, &o.Width),
		payload.Float("height", 100, 10000, &o.Height),
		payload.Int("maxShapes", 0, 10000, &o.MaxShapes))
	if err != nil {
		return Options{}, err
	}
	return o, nil
}

// Map returns the options as they travel in the welcome and the room list.
func (o Options) Map() map[string]any {
	return map[string]any{"width": o.Width, "height": o.Height, "maxShapes": o.MaxShapes}
}
