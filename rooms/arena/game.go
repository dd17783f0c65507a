package arena

import (
	"fmt"
	"math"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// palette colours avatars by member number, so a member keeps a colour
// across reconnects and neighbours in join order differ.
var palette = [...]int64{
	0xE6194B, 0x3CB44B, 0x4363D8, 0xF58231, 0x911EB4, 0x42D4F4, 0xF032E6, 0xBFEF45,
}

// player is a member's avatar and the input it applies every tick; it is
// the member's rooms.Member.Data.
type player struct {
	member *rooms.Member
	avatar *state.Entity
	input  Input
	// x, y are the avatar's position while a tick runs: loaded from the
	// entity when the tick starts and stored back once avatars stop moving,
	// since the collision loops read positions thousands of times a tick and
	// an entity's checked accessors cost more than the arithmetic.
	x, y float64
	// view is the rectangle of cells the member sees, once viewSet (views
	// rooms only: views.go).
	view    cellRect
	viewSet bool
}

// coin is a coin slot: its current entity (a new one after each pickup) and
// its position, which only placeCoin changes.
type coin struct {
	e    *state.Entity
	x, y float64
}

// game is the arena's rooms.Handler. Slices, not maps, hold players (in
// entity-id order) and coin slots (in the order Init made them), so every
// run steps them in the same order.
type game struct {
	opts        Options
	players     []*player
	coins       []*coin
	viewScratch []state.GroupID
}

func newGame(o Options) *game { return &game{opts: o} }

// Init scatters the coins.
func (g *game) Init(ctx *rooms.Context) error {
	for range g.opts.Coins {
		c := &coin{e: ctx.World.Spawn(CoinKind)}
		c.e.SetInt(CoinFieldColor, CoinColor)
		g.placeCoin(ctx, c)
		g.coins = append(g.coins, c)
	}
	return nil
}

// Join spawns the member's avatar at a random free spot in the middle of
// the field (spawnSpot), out of reach of every coin (a player does not
// score by arriving); on a spot too crowded to find one, the next tick
// pushes the overlap apart.
func (g *game) Join(ctx *rooms.Context, m *rooms.Member) (*state.Entity, error) {
	e := ctx.World.Spawn(AvatarKind)
	x, y := g.spawnSpot(ctx, AvatarSize/2, AvatarSize, PickupDistance+AvatarSize/2)
	e.SetFloat(FieldX, x)
	e.SetFloat(FieldY, y)
	e.SetInt(FieldColor, palette[m.Number%uint32(len(palette))])
	e.SetInt(FieldSeq, seqValue(m.LastSeq))
	e.SetString(FieldName, m.Name)
	p := &player{member: m, avatar: e, x: x, y: y}
	m.Data = p
	g.players = append(g.players, p) // ids ascend, so id order holds
	g.updateView(ctx, p)
	return e, nil
}

// Leave despawns the member's avatar.
func (g *game) Leave(ctx *rooms.Context, m *rooms.Member) {
	p, ok := m.Data.(*player)
	if !ok {
		return
	}
	for i, q := range g.players {
		if q == p {
			g.players = append(g.players[:i], g.players[i+1:]...)
			break
		}
	}
	ctx.World.Despawn(p.avatar.ID())
	m.Data = nil
}

// Input replaces the member's steering; it takes effect on this tick.
func (g *game) Input(ctx *rooms.Context, m *rooms.Member, payload msgpack.RawMessage) error {
	p, ok := m.Data.(*player)
	if !ok {
		return fmt.Errorf("arena: member %d has no avatar", m.Number)
	}
	in, err := DecodeInput(payload)
	if err != nil {
		return err
	}
	p.input = in
	return nil
}

// Tick moves every avatar, separates overlapping ones, pays out coins while
// a round is on, ends and starts rounds (rounds.go), and publishes each
// member's last applied input seq for client reconciliation.
func (g *game) Tick(ctx *rooms.Context) {
	clock := g.opts.rounds()
	if clock.startsRound(ctx.Tick) {
		g.newRound()
	}
	for _, p := range g.players {
		p.x, p.y = p.avatar.Float(FieldX), p.avatar.Float(FieldY)
	}
	for _, p := range g.players {
		g.move(p)
	}
	g.separate()
	for _, p := range g.players {
		p.avatar.SetFloat(FieldX, p.x)
		p.avatar.SetFloat(FieldY, p.y)
		g.updateView(ctx, p)
	}
	round, left, playing := clock.roundAt(ctx.Tick)
	if playing {
		g.collect(ctx)
	}
	if playing && left == 0 && clock.play != 0 {
		g.endRound(ctx, round)
	}
	for _, p := range g.players {
		p.avatar.SetInt(FieldSeq, seqValue(p.member.LastSeq))
	}
}

// seqValue fits an input seq into the u32 seq field. A client would need
// years at any allowed input rate to pass 2^32; one that claims to gets a
// stuck seq instead of a panic in the room.
func seqValue(seq uint64) int64 {
	return int64(min(seq, math.MaxUint32))
}
