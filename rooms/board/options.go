package board

import "github.com/tickroom/tickroom/rooms/payload"

// Options are a board's settings. Use DefaultOptions for the zero state.
type Options struct {
	// Width and Height are the board's size in world units; shapes and
	// cursors are kept inside it.
	Width  float64 `payload:"width,range=100..10000" doc:"the board's width in world units"`
	Height float64 `payload:"height,range=100..10000" doc:"the board's height in world units"`
	// MaxShapes is the most shapes the board holds; a create past it is
	// refused.
	MaxShapes int `payload:"maxShapes,range=0..10000" doc:"the most shapes the board holds"`
}

// DefaultOptions returns the options of a room created with none.
func DefaultOptions() Options {
	return Options{Width: 1600, Height: 1000, MaxShapes: 500}
}

// OptionsDecl is the declaration of Options: parsing, errors and the
// generated client type.
var OptionsDecl = payload.NewOptions("board", DefaultOptions)

// ParseOptions applies a creator's options (decoded JSON, nil for none) over
// the defaults. Unknown keys and out-of-range values are errors wrapping
// rooms.ErrBadOptions, so that a typo is reported instead of ignored.
func ParseOptions(in map[string]any) (Options, error) { return OptionsDecl.Parse(in) }

// Map returns the options as they travel in the welcome and the room list.
func (o Options) Map() map[string]any { return OptionsDecl.Map(o) }
