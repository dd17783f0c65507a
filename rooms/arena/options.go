package arena

import "github.com/tickroom/tickroom/rooms/payload"

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
	err := payload.ParseOptions("arena", in,
		payload.Float("width", 100, 10000, &o.Width),
		payload.Float("height", 100, 10000, &o.Height),
		payload.Float("speed", 0.5, 50, &o.Speed),
		payload.Int("coins", 0, 200, &o.Coins))
	if err != nil {
		return Options{}, err
	}
	return o, nil
}

// Map returns the options as they travel in the welcome and the room list.
func (o Options) Map() map[string]any {
	return map[string]any{"width": o.Width, "height": o.Height, "speed": o.Speed, "coins": o.Coins}
}
