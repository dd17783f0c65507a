package arena

import (
	"fmt"
	"math"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// savedGame is what the arena keeps beside the world: each player's
// steering (the input it applies every tick until the next one) and which
// entities are the coins, in the order they are stepped.
type savedGame struct {
	Coins   []state.EntityID `msgpack:"coins"`
	Players []savedPlayer    `msgpack:"players"`
}

type savedPlayer struct {
	_msgpack struct{} `msgpack:",as_array"`
	Member   uint32
	DX, DY   float64
}

var _ rooms.Checkpointer = (*game)(nil)

// SaveState implements rooms.Checkpointer.
func (g *game) SaveState(ctx *rooms.Context) ([]byte, error) {
	s := savedGame{Coins: make([]state.EntityID, len(g.coins)), Players: make([]savedPlayer, len(g.players))}
	for i, c := range g.coins {
		s.Coins[i] = c.e.ID()
	}
	for i, p := range g.players {
		s.Players[i] = savedPlayer{Member: p.member.Number, DX: p.input.DX, DY: p.input.DY}
	}
	return msgpack.Marshal(&s)
}

// LoadState implements rooms.Checkpointer.
func (g *game) LoadState(ctx *rooms.Context, b []byte) error {
	var s savedGame
	if err := state.WellSized(b); err != nil {
		return fmt.Errorf("arena: state: %w", err)
	}
	if err := msgpack.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("arena: state: %w", err)
	}
	for _, id := range s.Coins {
		e := ctx.World.Get(id)
		if e == nil || e.Kind() != CoinKind {
			return fmt.Errorf("arena: state: coin %d is not in the world", id)
		}
		g.coins = append(g.coins, &coin{e: e, x: e.Float(FieldX), y: e.Float(FieldY)})
	}
	members := make(map[uint32]*rooms.Member)
	for _, m := range ctx.Members() {
		members[m.Number] = m
	}
	for _, sp := range s.Players {
		m := members[sp.Member]
		switch {
		case m == nil || m.Entity == nil || m.Entity.Kind() != AvatarKind || m.Data != nil:
			return fmt.Errorf("arena: state: player %d has no avatar among the members", sp.Member)
		case math.IsNaN(sp.DX) || math.IsNaN(sp.DY) || math.Abs(sp.DX) > 1 || math.Abs(sp.DY) > 1:
			return fmt.Errorf("arena: state: player %d steers (%v, %v)", sp.Member, sp.DX, sp.DY)
		}
		p := &player{member: m, avatar: m.Entity, input: Input{DX: sp.DX, DY: sp.DY}}
		m.Data = p
		g.players = append(g.players, p)
	}
	if len(g.players) != len(members) {
		return fmt.Errorf("arena: state: %d players for %d members", len(g.players), len(members))
	}
	return nil
}
