// Package fieldbench is the large-world benchmark scene, exactly as
// ../shared/bench/field-scene.md (version 1) defines it: 4096 props moving
// on small circles in an 8000 x 8000 world, one wandering player per
// client, and per-member views (the square of half-side 600 around the
// member's own player). The simulation is pure: it reads only the tick
// number and the inputs.
package fieldbench

import (
	"math"

	"github.com/tickroom/tickroom/state"
)

// Scene constants from the spec.
const (
	TickRate    = 20
	World       = 8000.0
	Props       = 4096
	PropGrid    = 64    // props sit in a 64 x 64 grid ...
	PropCell    = 125.0 // ... of 125-unit cells
	FirstPlayer = state.EntityID(Props)
	Speed       = 10.0
	HalfView    = 600.0 // a member's view: the square of this half-side around its player
)

// Cell is the side of an interest group's square: the view granularity.
// A 1200-unit view spans 5 or 6 cells a side, so a member is sent at most
// one cell (250 units) beyond its view: the spec's allowed margin.
const (
	Cell      = 250.0
	CellsSide = int(World / Cell) // 32
)

// Field indices shared by both kinds: x, y and angle first, so that a
// prop and a player moving together share a mask (and a short segment).
const (
	FieldX = iota
	FieldY
	FieldAngle
	FieldKind             // props: kind (u8, i % 8)
	FieldName = FieldKind // players: the display name
)

var (
	// PropKind is kind 0: the 4096 props.
	PropKind = state.MustKind(0, "prop", &state.Draw{Shape: "circle", W: 30, H: 30},
		state.Pos("x"), state.Pos("y"), state.Angle("angle"), state.Int("kind", state.U8))
	// PlayerKind is kind 1: one per member.
	PlayerKind = state.MustKind(1, "player", &state.Draw{Shape: "arrow", W: 40, H: 40},
		state.Pos("x"), state.Pos("y"), state.Angle("angle"), state.Text("name"))
	// Schema is the scene's schema.
	Schema = state.MustSchema(PropKind, PlayerKind)
)

// Input is a player's latest input; both axes are clamped to [-1, 1].
type Input struct {
	DX float64 `msgpack:"dx" payload:"dx,clamp=-1..1" doc:"steering along x"`
	DY float64 `msgpack:"dy" payload:"dy,clamp=-1..1" doc:"steering along y (down is positive)"`
}

// ClientInput is the input client c (0-based in its room) sends with
// sequence number seq.
func ClientInput(c int, seq uint64) Input {
	a := float64(seq)*0.05 + float64(c)
	return Input{DX: math.Cos(a), DY: math.Sin(a)}
}

// PropAt returns prop i's x, y and angle at tick t, from the spec's formula.
func PropAt(i int, t uint64) (x, y, angle float64) {
	cx := float64(i%PropGrid)*PropCell + PropCell/2
	cy := float64(i/PropGrid)*PropCell + PropCell/2
	phase := float64(t)*0.05 + float64(i)
	sin, cos := math.Sincos(phase)
	// phase mod 2π without math.Mod's exact long division (a fifth of a
	// tick's CPU for 4,096 props): phase is positive and below 2^20, so the
	// result is within 1e-9 rad of math.Mod's, far inside the spec's 1e-3.
	turn := 2 * math.Pi
	return cx + 40*cos, cy + 40*sin, phase - turn*math.Floor(phase/turn)
}

// PlayerStart is where client c's player starts.
func PlayerStart(c int) (x, y float64) {
	return clamp(1000+float64(c%4)*2000, 0, World), clamp(1000+float64(c/4)*2000, 0, World)
}

// CellOf returns the interest group of a point: 1 + row * CellsSide + col
// (group 0 is everyone's and holds nothing here).
func CellOf(x, y float64) state.GroupID {
	col := min(CellsSide-1, max(0, int(x/Cell)))
	row := min(CellsSide-1, max(0, int(y/Cell)))
	return state.GroupID(1 + row*CellsSide + col)
}

// ViewCells appends the groups of every cell the view square around
// (x, y) overlaps.
func ViewCells(dst []state.GroupID, x, y float64) []state.GroupID {
	c0, c1 := cellRange(x)
	r0, r1 := cellRange(y)
	for r := r0; r <= r1; r++ {
		for c := c0; c <= c1; c++ {
			dst = append(dst, state.GroupID(1+r*CellsSide+c))
		}
	}
	return dst
}

func cellRange(v float64) (lo, hi int) {
	lo = max(0, int(math.Floor((v-HalfView)/Cell)))
	hi = min(CellsSide-1, int(math.Floor((v+HalfView)/Cell)))
	return lo, hi
}

// Player is a member's entity, its latest input and its view.
type Player struct {
	Entity *state.Entity
	Input  Input
	view   *state.View // nil when views are off
	cells  [4]int      // the cell range its view was last set for
}

// Scene is the benchmark scene over a World.
type Scene struct {
	World   *state.World
	props   [Props]*state.Entity
	players []*Player // in id order, so every run steps them the same way
	scratch []state.GroupID
}

// NewSceneIn spawns the props with ids 0..4095 at tick 0 into an empty
// world of the scene's Schema; with views on the world has them enabled
// and every prop is placed in its cell's group (props never leave it).
func NewSceneIn(w *state.World) *Scene {
	w.SetNextID(0)
	s := &Scene{World: w}
	for i := range Props {
		p := w.Spawn(PropKind)
		x, y, a := PropAt(i, 0)
		p.SetFloat(FieldX, x)
		p.SetFloat(FieldY, y)
		p.SetFloat(FieldAngle, a)
		p.SetInt(FieldKind, int64(i%8))
		if w.Views() {
			cx := float64(i%PropGrid)*PropCell + PropCell/2
			cy := float64(i/PropGrid)*PropCell + PropCell/2
			w.SetGroup(p, CellOf(cx, cy))
		}
		s.props[i] = p
	}
	return s
}

// AddPlayer spawns client c's player. view is the member's view (nil with
// views off), set here and kept in step with the player's moves.
func (s *Scene) AddPlayer(c int, name string, view *state.View) *Player {
	if s.World.NextID() < FirstPlayer {
		s.World.SetNextID(FirstPlayer)
	}
	e := s.World.Spawn(PlayerKind)
	x, y := PlayerStart(c)
	e.SetFloat(FieldX, x)
	e.SetFloat(FieldY, y)
	e.SetFloat(FieldAngle, 0)
	e.SetString(FieldName, name)
	p := &Player{Entity: e, view: view, cells: [4]int{-1, -1, -1, -1}}
	s.players = append(s.players, p)
	s.place(p)
	return p
}

// RemovePlayer despawns a player.
func (s *Scene) RemovePlayer(p *Player) {
	for i, q := range s.players {
		if q == p {
			s.players = append(s.players[:i], s.players[i+1:]...)
			break
		}
	}
	s.World.Despawn(p.Entity.ID())
}

// Players returns the players in id order.
func (s *Scene) Players() []*Player { return s.players }

// Step runs tick t (t >= 1) of the scene.
func (s *Scene) Step(t uint64) {
	for i, p := range s.props {
		x, y, a := PropAt(i, t)
		p.SetFloat(FieldX, x)
		p.SetFloat(FieldY, y)
		p.SetFloat(FieldAngle, a)
	}
	for _, pl := range s.players {
		e, in := pl.Entity, pl.Input
		e.SetFloat(FieldX, clamp(e.Float(FieldX)+Speed*in.DX, 0, World))
		e.SetFloat(FieldY, clamp(e.Float(FieldY)+Speed*in.DY, 0, World))
		if in.DX != 0 || in.DY != 0 {
			e.SetFloat(FieldAngle, math.Atan2(in.DY, in.DX))
		}
		s.place(pl)
	}
}

// place keeps a player's group and its member's view in step with where
// it is: the view changes only when the cells it overlaps do.
func (s *Scene) place(p *Player) {
	if !s.World.Views() {
		return
	}
	x, y := p.Entity.Float(FieldX), p.Entity.Float(FieldY)
	s.World.SetGroup(p.Entity, CellOf(x, y))
	if p.view == nil {
		return
	}
	c0, c1 := cellRange(x)
	r0, r1 := cellRange(y)
	if cells := [4]int{c0, c1, r0, r1}; cells != p.cells {
		p.cells = cells
		s.scratch = ViewCells(s.scratch[:0], x, y)
		p.view.Set(s.scratch)
	}
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
