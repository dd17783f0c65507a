package arena

import "math"

// separatePasses bounds the collision relaxation: a pass fixes every pair it
// visits, and a few more settle a pile of avatars spawned onto each other.
const separatePasses = 16

// separate pushes overlapping avatars apart, visiting pairs in entity-id
// order so that every run resolves a pile-up the same way. Movement never
// makes overlaps; they come from spawns landing on someone, and a few
// passes settle even a pile.
func (g *game) separate() {
	for range separatePasses {
		pushed := false
		for i, a := range g.players {
			for _, b := range g.players[i+1:] {
				if g.separatePair(a, b) {
					pushed = true
				}
			}
		}
		if !pushed {
			return
		}
	}
}

// separatePair moves a and b apart along the line between them until they
// are AvatarSize apart, each by half; when a wall stops one, the other takes
// the rest. Avatars on the same spot part along x, the lower id to the left.
func (g *game) separatePair(a, b *player) bool {
	dx, dy := b.x-a.x, b.y-a.y
	d := math.Sqrt(float64(dx*dx) + float64(dy*dy))
	if d >= AvatarSize-slack {
		return false
	}
	nx, ny := 1.0, 0.0
	if d > 0 {
		nx, ny = dx/d, dy/d
	}
	overlap := AvatarSize - d
	moved := g.nudge(a, -nx, -ny, overlap/2)
	moved += g.nudge(b, nx, ny, overlap-moved)
	if rest := overlap - moved; rest > slack {
		g.nudge(a, -nx, -ny, rest)
	}
	return true
}

// nudge moves p by dist along the unit vector (nx, ny), kept inside the
// field, and returns how far it really went along that vector.
func (g *game) nudge(p *player, nx, ny, dist float64) float64 {
	x0, y0 := p.x, p.y
	p.x = clamp(x0+float64(nx*dist), 0, g.opts.Width)
	p.y = clamp(y0+float64(ny*dist), 0, g.opts.Height)
	return float64((p.x-x0)*nx) + float64((p.y-y0)*ny)
}
