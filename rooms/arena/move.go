package arena

import "math"

// moveTries bounds how often a mover is slid out of the avatars it walked
// into before it gives up and stays where it was.
const moveTries = 3

// move applies a player's input for one tick. Other avatars are solid to a
// mover: it slides out of any it walks into, and when hemmed in it stays
// put. Its old spot is always free, since everyone moved before it this
// tick avoided it, so crowds cannot squeeze avatars into each other however
// hard they push (TestCrowdDoesNotCompress).
func (g *game) move(p *player) {
	in := p.input
	if in.DX == 0 && in.DY == 0 {
		return
	}
	p.avatar.SetFloat(FieldAngle, math.Atan2(in.DY, in.DX))
	x0, y0 := p.x, p.y
	s := g.opts.Speed
	x := clamp(x0+float64(s*in.DX), 0, g.opts.Width)
	y := clamp(y0+float64(s*in.DY), 0, g.opts.Height)
	for try := 0; ; try++ {
		hit := g.blocker(p, x, y)
		if hit == nil {
			break
		}
		if try == moveTries {
			x, y = x0, y0
			break
		}
		x, y = g.slideOut(x, y, x0, y0, hit)
	}
	p.x, p.y = x, y
}

// blocker returns the first avatar in id order that p would overlap at
// (x, y), or nil.
func (g *game) blocker(p *player, x, y float64) *player {
	for _, q := range g.players {
		if q != p && dist2(x, y, q.x, q.y) < (AvatarSize-slack)*(AvatarSize-slack) {
			return q
		}
	}
	return nil
}

// slideOut moves the point (x, y) straight away from b's centre to touching
// distance, kept inside the field. A point right on b's centre backs out
// toward where the mover came from, (x0, y0).
func (g *game) slideOut(x, y, x0, y0 float64, b *player) (float64, float64) {
	dx, dy := x-b.x, y-b.y
	if dx == 0 && dy == 0 {
		dx, dy = x0-b.x, y0-b.y
	}
	d := math.Sqrt(float64(dx*dx) + float64(dy*dy))
	if d == 0 {
		return x0, y0
	}
	x = clamp(b.x+float64(dx/d*AvatarSize), 0, g.opts.Width)
	y = clamp(b.y+float64(dy/d*AvatarSize), 0, g.opts.Height)
	return x, y
}
