package arena

import "github.com/tickroom/tickroom/rooms/payload"

// Input is a member's steering, applied every tick until the next input
// replaces it. On the wire it is exactly the map {"dx": number, "dy":
// number}; numbers may be integers or floats (JavaScript encodes 1 as an
// integer and 0.5 as a float), and both are clamped to [-1, 1].
type Input struct {
	DX float64 `payload:"dx,clamp=-1..1" doc:"steering along x"`
	DY float64 `payload:"dy,clamp=-1..1" doc:"steering along y (down is positive)"`
}

// InputDecl is the declaration of Input: its decoding, its errors and its
// generated client type.
var InputDecl = payload.NewStruct[Input]("arena: input")

// DecodeInput reads an input payload. Anything but the map {dx, dy} (another
// shape, another key, a string, NaN, infinity) is an error naming what was
// wrong, which the member receives as bad_input.
func DecodeInput(b []byte) (Input, error) { return InputDecl.Decode(b) }

// Pickup is the data of the custom event sent when an avatar picks up a coin.
type Pickup struct {
	Kind   string `payload:"kind,const=pickup"`
	Member uint32 `payload:"member" doc:"the member whose avatar picked the coin up"`
	Score  int64  `payload:"score" doc:"the member's score now"`
}

// Events declares the arena's custom events.
var Events = payload.NewEvents(payload.Event[Pickup](), payload.Event[RoundOver]())
