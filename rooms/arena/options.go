package arena

import "github.com/tickroom/tickroom/rooms/payload"

// Options are an arena's settings. Use DefaultOptions for the zero state:
// a zero Options is a field with no room to move.
type Options struct {
	// Width and Height are the field's size in world units. The default
	// field is several screens wide and high: the room page's camera
	// follows the own avatar (a screen shows about 1000 x 600).
	Width  float64 `payload:"width,range=100..10000" doc:"the field's width in world units"`
	Height float64 `payload:"height,range=100..10000" doc:"the field's height in world units"`
	// Speed is how far an avatar moves per tick at full input.
	Speed float64 `payload:"speed,range=0.5..50" doc:"how far an avatar moves a tick at full input"`
	// Coins is the number of coins on the field.
	Coins int `payload:"coins,range=0..200" doc:"coins on the field"`
	// Round is how many seconds a round lasts; 0 means no rounds (scores
	// only grow, as before rounds existed). See rounds.go.
	Round int `payload:"round,range=0..3600" doc:"seconds a round lasts (0: no rounds, scores only grow)"`
	// Break is how many seconds pass between rounds, with the winner shown
	// and no coins to pick up.
	Break int `payload:"break,range=1..60" doc:"seconds between rounds, while the winner is shown"`
}

// DefaultOptions returns the options of a room created with none.
func DefaultOptions() Options {
	return Options{Width: 3000, Height: 1800, Speed: 6, Coins: 80, Round: 180, Break: 6}
}

// OptionsDecl is the declaration of Options: parsing, errors and the
// generated client type.
var OptionsDecl = payload.NewOptions("arena", DefaultOptions)

// ParseOptions applies a creator's options (decoded JSON, nil for none) over
// the defaults. Unknown keys and out-of-range values are errors wrapping
// rooms.ErrBadOptions, so that a typo is reported instead of ignored.
func ParseOptions(in map[string]any) (Options, error) { return OptionsDecl.Parse(in) }

// Map returns the options as they travel in the welcome and the room list.
func (o Options) Map() map[string]any { return OptionsDecl.Map(o) }
