// Package arenabench is the standard benchmark scene, exactly as
// ../shared/bench/arena-scene.md (version 1) defines it: 100 props moving on
// a circle, an hp change every 20 ticks, and one player per client moved by
// its latest input. The simulation is pure: it reads only the tick number
// and the inputs, so a recording re-runs to the same state.
package arenabench

import (
	"fmt"
	"math"

	"github.com/tickroom/tickroom/state"
)

// Scene constants from the spec.
const (
	TickRate    = 20
	Props       = 100
	FirstPlayer = state.EntityID(Props) // players take ids after the props
	Width       = 1000
	Height      = 600
	Speed       = 5
)

// Field indices shared by both kinds: x, y and angle come first in each so
// that a moving prop and a moving player change the same field mask and share
// a delta group.
const (
	FieldX = iota
	FieldY
	FieldAngle
	FieldHP
	FieldColor
	FieldLabel // "label" for props, "name" for players
)

var (
	// PropKind is kind 0: the 100 props.
	PropKind = state.MustKind(0, "prop", &state.Draw{Shape: "circle", W: 24, H: 24},
		state.Pos("x"), state.Pos("y"), state.Angle("angle"),
		state.Int("hp", state.U8), state.Int("color", state.U32), state.Text("label"))
	// PlayerKind is kind 1: one per connected client.
	PlayerKind = state.MustKind(1, "player", &state.Draw{Shape: "arrow", W: 32, H: 32},
		state.Pos("x"), state.Pos("y"), state.Angle("angle"),
		state.Int("hp", state.U8), state.Int("color", state.U32), state.Text("name"))
	// Schema is the scene's schema.
	Schema = state.MustSchema(PropKind, PlayerKind)
)

// Input is one player's latest input.
type Input struct {
	DX float64 `msgpack:"dx" payload:"dx,clamp=-1..1" doc:"steering along x"`
	DY float64 `msgpack:"dy" payload:"dy,clamp=-1..1" doc:"steering along y (down is positive)"`
}

// Clamp limits both axes to [-1, 1] and rejects values that are not numbers.
func (in Input) Clamp() (Input, error) {
	if math.IsNaN(in.DX) || math.IsNaN(in.DY) || math.IsInf(in.DX, 0) || math.IsInf(in.DY, 0) {
		return Input{}, fmt.Errorf("arena-bench: dx and dy must be finite numbers")
	}
	return Input{DX: clamp(in.DX, -1, 1), DY: clamp(in.DY, -1, 1)}, nil
}

// Player is a player's entity and the input it applies every tick.
type Player struct {
	Entity *state.Entity
	Input  Input
}

// Scene is the benchmark scene over a World.
type Scene struct {
	World   *state.World
	props   [Props]*state.Entity
	players []*Player // in id order, so every run steps them the same way
}

// NewScene spawns the 100 props with ids 0..99 in their initial state.
func NewScene() *Scene { return NewSceneIn(state.NewWorld(Schema)) }

// NewSceneIn spawns the props into an empty world of the scene's Schema.
func NewSceneIn(w *state.World) *Scene {
	w.SetNextID(0)
	s := &Scene{World: w}
	for i := range Props {
		p := w.Spawn(PropKind)
		p.SetFloat(FieldX, float64((i%10)*100+50))
		p.SetFloat(FieldY, float64((i/10)*60+30))
		p.SetFloat(FieldAngle, 0)
		p.SetInt(FieldHP, 100)
		p.SetInt(FieldColor, 0x3366FF+int64(i))
		p.SetString(FieldLabel, fmt.Sprintf("prop-%d", i))
		s.props[i] = p
	}
	return s
}

// AddPlayer spawns a player entity; name defaults to "player-N" with N its
// position among the scene's players, counted from 1.
func (s *Scene) AddPlayer(name string) *Player {
	if s.World.NextID() < FirstPlayer {
		s.World.SetNextID(FirstPlayer) // the first player; ids only move on after it
	}
	e := s.World.Spawn(PlayerKind)
	if name == "" {
		name = fmt.Sprintf("player-%d", len(s.players)+1)
	}
	e.SetFloat(FieldX, 500)
	e.SetFloat(FieldY, 300)
	e.SetFloat(FieldAngle, 0)
	e.SetInt(FieldHP, 100)
	e.SetInt(FieldColor, 0xFF6633)
	e.SetString(FieldLabel, name)
	p := &Player{Entity: e}
	s.players = append(s.players, p)
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
		if (uint64(i)+t)%4 != 0 {
			continue
		}
		phase := float64(t+uint64(i)) * 0.05
		p.SetFloat(FieldX, 500+400*math.Cos(phase))
		p.SetFloat(FieldY, 300+250*math.Sin(phase))
		p.SetFloat(FieldAngle, math.Mod(phase, 2*math.Pi))
	}
	if t%20 == 0 {
		p := s.props[(t/20)%Props]
		p.SetInt(FieldHP, (p.Int(FieldHP)+7)%101)
	}
	for _, pl := range s.players {
		e, in := pl.Entity, pl.Input
		e.SetFloat(FieldX, clamp(e.Float(FieldX)+Speed*in.DX, 0, Width))
		e.SetFloat(FieldY, clamp(e.Float(FieldY)+Speed*in.DY, 0, Height))
		if in.DX != 0 || in.DY != 0 {
			e.SetFloat(FieldAngle, math.Atan2(in.DY, in.DX))
		}
	}
}

// ClientInput is the input client c (0-based in its room) sends with
// sequence number seq, as the load generator does.
func ClientInput(c int, seq uint64) Input {
	a := float64(seq)*0.1 + float64(c)
	return Input{DX: math.Cos(a), DY: math.Sin(a)}
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }
