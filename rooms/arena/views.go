package arena

import (
	"math"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// Interest groups (docs/ROOM_TYPES.md, "Views"): the arena's Type.Views
// is on. The code also runs the game with views off (ctx.World.Views()
// false: every member gets the whole world), as the arena ran before
// issue 16; `tickroom verify` re-runs recordings made then that way.
//
// Coins live in square cells of CellSize; a member sees the cells that the
// ViewWidth x ViewHeight rectangle around its avatar overlaps, more than a
// screen shows (the page's camera shows at least 1000 x 600, and about
// 1800 x 600 on a 3:1 window). Avatars stay in state.Everyone: every
// page's scoreboard lists every player, and there are at most 32.
// TestViewsMirrorTheNearWorld checks what each member's mirror holds.
const (
	CellSize   = 500
	ViewWidth  = 1800
	ViewHeight = 1200
)

// cells is how many cells span extent world units.
func cells(extent float64) int { return max(1, int(math.Ceil(extent/CellSize))) }

// cellAt is the cell index (in 0..n-1) of world coordinate v.
func cellAt(v float64, n int) int { return min(max(int(math.Floor(v/CellSize)), 0), n-1) }

// cellGroup is the group of cell (cx, cy): groups count from 1, row by
// row, since state.Everyone is 0.
func (g *game) cellGroup(cx, cy int) state.GroupID {
	return state.GroupID(1 + cy*cells(g.opts.Width) + cx)
}

// groupCoin puts a coin in the cell it lies in.
func (g *game) groupCoin(ctx *rooms.Context, c *coin) {
	if ctx.World.Views() {
		ctx.World.SetGroup(c.e, g.cellGroup(cellAt(c.x, cells(g.opts.Width)), cellAt(c.y, cells(g.opts.Height))))
	}
}

// cellRect is a rectangle of cells, bounds included.
type cellRect struct{ x0, y0, x1, y1 int }

// updateView gives p's member the cells around its avatar, when they are
// not the ones it has already.
func (g *game) updateView(ctx *rooms.Context, p *player) {
	if !ctx.World.Views() {
		return
	}
	cols, rows := cells(g.opts.Width), cells(g.opts.Height)
	r := cellRect{
		cellAt(p.x-ViewWidth/2, cols), cellAt(p.y-ViewHeight/2, rows),
		cellAt(p.x+ViewWidth/2, cols), cellAt(p.y+ViewHeight/2, rows),
	}
	if p.viewSet && r == p.view {
		return
	}
	p.view, p.viewSet = r, true
	g.viewScratch = g.viewScratch[:0]
	for cy := r.y0; cy <= r.y1; cy++ {
		for cx := r.x0; cx <= r.x1; cx++ {
			g.viewScratch = append(g.viewScratch, g.cellGroup(cx, cy))
		}
	}
	p.member.View().Set(g.viewScratch)
}
