// Package arena is the built-in game room: avatars steered by {dx, dy}
// inputs collect coins on a walled field and push each other apart. The
// simulation reads only the tick, the inputs and the room's seeded random
// source, so a recording re-runs to the same state (TestSameSeedSameWorld).
package arena

import (
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// Game constants that are not options.
const (
	TickRate   = 20
	MaxPlayers = 32
	// AvatarSize is the avatar's diameter: two avatars closer than this overlap.
	AvatarSize = 36
	// PickupDistance is how close an avatar's centre must come to a coin's.
	PickupDistance = 28
	// CoinColor is the colour of every coin.
	CoinColor = 0xFFC83D
)

// Field indices. x and y come first in both kinds, and angle third in the
// avatar, so that moving avatars share one field mask and one delta group.
const (
	FieldX = iota
	FieldY
	FieldAngle
	FieldColor
	FieldScore
	FieldSeq
	FieldName
)

// CoinFieldColor is the coin's colour field; its x and y are FieldX, FieldY.
const CoinFieldColor = 2

var (
	// AvatarKind is kind 0: one per member. seq is the member's last applied
	// input sequence number, which a predicting client reconciles against.
	AvatarKind = state.MustKind(0, "avatar", &state.Draw{Shape: "arrow", W: AvatarSize, H: AvatarSize},
		state.Pos("x"), state.Pos("y"), state.Angle("angle"),
		state.Int("color", state.U32), state.Counter("score", state.U16),
		state.Counter("seq", state.U32), state.Text("name"))
	// CoinKind is kind 1: the coins avatars pick up.
	CoinKind = state.MustKind(1, "coin", &state.Draw{Shape: "ring", W: 20, H: 20},
		state.Pos("x"), state.Pos("y"), state.Int("color", state.U32))
	// Schema is the arena's schema.
	Schema = state.MustSchema(AvatarKind, CoinKind)
)

// Type is the arena room type.
var Type = &rooms.Type{
	Name:          "arena",
	TickRate:      TickRate,
	Schema:        Schema,
	Deterministic: true,
	// Views: each member gets the coins near its avatar (views.go).
	Views:      true,
	MaxPlayers: MaxPlayers,
	// A match nobody came back to within a day is over.
	DormantMaxAge: 24 * time.Hour,
	Input:         InputDecl,
	Options:       OptionsDecl,
	Events:        Events,
	New: func(options map[string]any) (rooms.Handler, map[string]any, error) {
		opts, err := ParseOptions(options)
		if err != nil {
			return nil, nil, err
		}
		return newGame(opts), opts.Map(), nil
	},
}
