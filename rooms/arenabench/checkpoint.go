package arenabench

import (
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// savedInput is one player's latest input, by member.
type savedInput struct {
	_msgpack struct{} `msgpack:",as_array"`
	Member   uint32
	Input    Input
}

var _ rooms.Checkpointer = (*handler)(nil)

// SaveState implements rooms.Checkpointer: the players' inputs, in the
// scene's stepping order. The props are the world's entities 0..99.
func (h *handler) SaveState(ctx *rooms.Context) ([]byte, error) {
	byPlayer := make(map[*Player]uint32)
	for _, m := range ctx.Members() {
		if p, ok := m.Data.(*Player); ok {
			byPlayer[p] = m.Number
		}
	}
	out := make([]savedInput, len(h.scene.players))
	for i, p := range h.scene.players {
		out[i] = savedInput{Member: byPlayer[p], Input: p.Input}
	}
	return msgpack.Marshal(out)
}

// LoadState implements rooms.Checkpointer.
func (h *handler) LoadState(ctx *rooms.Context, b []byte) error {
	var saved []savedInput
	if err := state.WellSized(b); err != nil {
		return fmt.Errorf("arena-bench: state: %w", err)
	}
	if err := msgpack.Unmarshal(b, &saved); err != nil {
		return fmt.Errorf("arena-bench: state: %w", err)
	}
	members := make(map[uint32]*rooms.Member)
	for _, m := range ctx.Members() {
		members[m.Number] = m
	}
	var players []*Player
	for _, s := range saved {
		m := members[s.Member]
		if m == nil || m.Entity == nil || m.Entity.Kind() != PlayerKind || m.Data != nil {
			return fmt.Errorf("arena-bench: state: player of member %d is not among the members", s.Member)
		}
		in, err := s.Input.Clamp()
		if err != nil || in != s.Input {
			return fmt.Errorf("arena-bench: state: member %d's input %+v", s.Member, s.Input)
		}
		p := &Player{Entity: m.Entity, Input: in}
		m.Data = p
		players = append(players, p)
	}
	if len(players) != len(members) {
		return fmt.Errorf("arena-bench: state: %d players for %d members", len(players), len(members))
	}
	scene, err := RestoreScene(ctx.World, players)
	if err != nil {
		return err
	}
	h.scene = scene
	return nil
}

// RestoreScene rebuilds a scene over a world loaded from a checkpoint: the
// props are its entities 0..99, and players are stepped in the given order.
func RestoreScene(w *state.World, players []*Player) (*Scene, error) {
	s := &Scene{World: w, players: players}
	for i := range Props {
		p := w.Get(state.EntityID(i))
		if p == nil || p.Kind() != PropKind {
			return nil, fmt.Errorf("arena-bench: state: prop %d is not in the world", i)
		}
		s.props[i] = p
	}
	return s, nil
}
