package arena

import (
	"math"

	"github.com/tickroom/tickroom/rooms"
)

// collect pays out every coin an avatar touches and moves the coin away.
// Players go in id order, so when two reach a coin on the same tick the
// lower id gets it.
func (g *game) collect(ctx *rooms.Context) {
	for _, p := range g.players {
		for _, c := range g.coins {
			if dist2(p.x, p.y, c.x, c.y) >= PickupDistance*PickupDistance {
				continue
			}
			// A u16 score stops at its top instead of wrapping to zero.
			score := min(p.avatar.Int(FieldScore)+1, math.MaxUint16)
			p.avatar.SetInt(FieldScore, score)
			g.placeCoin(ctx, c)
			ctx.Emit(Events.Map(Pickup{Member: p.member.Number, Score: score}))
		}
	}
}

// coinMargin keeps a whole coin (its ring is 20 wide) inside the field.
const coinMargin = 10

// placeCoin moves a coin to a random spot, preferring one no avatar is close
// enough to pick up at once.
func (g *game) placeCoin(ctx *rooms.Context, c *coin) {
	c.x, c.y = g.freeSpot(ctx, coinMargin, PickupDistance+AvatarSize/2, 0)
	c.e.SetFloat(FieldX, c.x)
	c.e.SetFloat(FieldY, c.y)
}

// spotTries bounds the search for a free spot; on a crowded field the last
// try is taken as it is.
const spotTries = 8

// freeSpot returns a random point at least margin from the field's edges,
// preferring one at least clearance from every avatar's centre and, when
// coinClearance is not 0, that far from every coin.
func (g *game) freeSpot(ctx *rooms.Context, margin, clearance, coinClearance float64) (x, y float64) {
	for range spotTries {
		x, y = g.randomSpot(ctx, margin)
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

// randomSpot returns a point of the field at least margin from its edges,
// from the room's seeded random source.
func (g *game) randomSpot(ctx *rooms.Context, margin float64) (x, y float64) {
	x = margin + float64(ctx.Rand.Float64()*(g.opts.Width-2*margin))
	y = margin + float64(ctx.Rand.Float64()*(g.opts.Height-2*margin))
	return x, y
}
