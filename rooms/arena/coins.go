package arena

import (
	"math"

	"github.com/tickroom/tickroom/rooms"
)

// collect pays out every coin an avatar touches and puts a new coin in its
// place somewhere else. Players go in id order, so when two reach a coin on
// the same tick the lower id gets it.
func (g *game) collect(ctx *rooms.Context) {
	for _, p := range g.players {
		for _, c := range g.coins {
			if dist2(p.x, p.y, c.x, c.y) >= PickupDistance*PickupDistance {
				continue
			}
			// A u16 score stops at its top instead of wrapping to zero.
			score := min(p.avatar.Int(FieldScore)+1, math.MaxUint16)
			p.avatar.SetInt(FieldScore, score)
			g.respawnCoin(ctx, c)
			ctx.Emit(Events.Map(Pickup{Member: p.member.Number, Score: score}))
		}
	}
}

// coinMargin keeps a whole coin (its ring is 20 wide) inside the field.
const coinMargin = 10

// respawnCoin replaces a picked-up coin by a new entity at a new spot. A
// new entity, not the old one moved: to a client (and, with interest
// groups, to a member's view) a coin vanishes where it was picked up and
// another appears, and neither slides across the field in between.
func (g *game) respawnCoin(ctx *rooms.Context, c *coin) {
	ctx.World.Despawn(c.e.ID())
	c.e = ctx.World.Spawn(CoinKind)
	c.e.SetInt(CoinFieldColor, CoinColor)
	g.placeCoin(ctx, c)
}

// placeCoin moves a coin to a random spot, preferring one no avatar is close
// enough to pick up at once.
func (g *game) placeCoin(ctx *rooms.Context, c *coin) {
	c.x, c.y = g.freeSpot(ctx, coinMargin, PickupDistance+AvatarSize/2, 0)
	c.e.SetFloat(FieldX, c.x)
	c.e.SetFloat(FieldY, c.y)
	g.groupCoin(ctx, c)
}

// spotTries bounds the search for a free spot; on a crowded field the last
// try is taken as it is.
const spotTries = 8

// freeSpot returns a random point at least margin from the field's edges,
// preferring one at least clearance from every avatar's centre and, when
// coinClearance is not 0, that far from every coin.
func (g *game) freeSpot(ctx *rooms.Context, margin, clearance, coinClearance float64) (x, y float64) {
	return g.freeSpotIn(ctx, margin, margin, g.opts.Width-2*margin, g.opts.Height-2*margin, clearance, coinClearance)
}

// Avatars spawn in the middle of the field, in an area this size (or the
// field less a margin, if smaller): friends who join a room together start
// on one screen and see each other, however large the field.
const spawnWidth, spawnHeight = 500, 240

// spawnSpot returns a random point of the spawn area, preferring one at
// least clearance from every avatar's centre and coinClearance from every
// coin.
func (g *game) spawnSpot(ctx *rooms.Context, margin, clearance, coinClearance float64) (x, y float64) {
	w := min(spawnWidth, g.opts.Width-2*margin)
	h := min(spawnHeight, g.opts.Height-2*margin)
	return g.freeSpotIn(ctx, (g.opts.Width-w)/2, (g.opts.Height-h)/2, w, h, clearance, coinClearance)
}

// freeSpotIn returns a random point of the w x h rectangle at (x0, y0),
// preferring one at least clearance from every avatar's centre and, when
// coinClearance is not 0, that far from every coin.
func (g *game) freeSpotIn(ctx *rooms.Context, x0, y0, w, h, clearance, coinClearance float64) (x, y float64) {
	for range spotTries {
		x = x0 + float64(ctx.Rand.Float64()*w)
		y = y0 + float64(ctx.Rand.Float64()*h)
		if !g.avatarNear(x, y, clearance) && (coinClearance == 0 || !g.coinNear(x, y, coinClearance)) {
			break
		}
	}
	return x, y
}

// coinNear reports whether a coin is within r of (x, y).
func (g *game) coinNear(x, y, r float64) bool {
	for _, c := range g.coins {
		if dist2(x, y, c.x, c.y) < r*r {
			return true
		}
	}
	return false
}

// avatarNear reports whether an avatar's centre is within r of (x, y). It
// reads the entities, not the tick's working positions, since Join and Init
// call it between ticks.
func (g *game) avatarNear(x, y, r float64) bool {
	for _, p := range g.players {
		if dist2(x, y, p.avatar.Float(FieldX), p.avatar.Float(FieldY)) < r*r {
			return true
		}
	}
	return false
}
