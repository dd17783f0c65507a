package rooms

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"slices"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/state"
)

// Checkpointer is what a Handler may also implement so that its room wakes
// from a checkpoint and re-runs only the ops after it, instead of its whole
// log. The room saves the world, the random source, the tick and the
// members itself; the handler saves only what it keeps beside them.
//
// Invariant (checkpoint + tail equals the full run): a handler loaded from
// SaveState's bytes, driven by the same ops, publishes exactly the bytes
// the original does. Every built-in type is held to it by
// roomtest.CheckpointProperty.
type Checkpointer interface {
	// SaveState encodes the handler's own state. It runs on the room's
	// goroutine right after a tick was published, with ctx.World as
	// clients last saw it; it must not change anything.
	SaveState(ctx *Context) ([]byte, error)
	// LoadState restores SaveState's bytes into a handler fresh from
	// Type.New (same options), in place of Init: ctx.World is the restored
	// world and ctx.Members() the seated members, each with its Entity and
	// LastSeq back and Data nil for the handler to fill in. The bytes come
	// from disk: damage must be an error, not a panic.
	LoadState(ctx *Context, state []byte) error
}

// Checkpoint is a room's state at the end of a tick: with the log after
// Log, all a wake needs.
type Checkpoint struct {
	Tick       uint64             `msgpack:"tick"`
	Type       string             `msgpack:"type"`
	World      []byte             `msgpack:"world"` // state.World.AppendCheckpoint
	Rand       []byte             `msgpack:"rand"`  // the PCG's MarshalBinary
	Handler    []byte             `msgpack:"handler"`
	Members    []CheckpointMember `msgpack:"members"`
	NextMember uint32             `msgpack:"nextMember"`
	Chat       []state.Event      `msgpack:"chat"`
	// Log is where the room's log stood after Tick: the tail starts there.
	Log LogPosition `msgpack:"log"`
}

// CheckpointMember is a seated member in a checkpoint. Its resume token is
// not stored: it is derived from the room's secret (seatToken).
type CheckpointMember struct {
	Number   uint32          `msgpack:"n"`
	Name     string          `msgpack:"name"`
	PlayerID string          `msgpack:"player,omitempty"`
	Entity   *state.EntityID `msgpack:"entity,omitempty"`
	LastSeq  uint64          `msgpack:"seq"`
	// View is a Views room member's groups besides state.Everyone (its
	// m.View().Set), ascending: the room keeps them like LastSeq, so that a
	// room type never has to re-derive its members' views on a wake. What
	// the member's mirror held is not kept: a woken room's members come
	// back with a view snapshot.
	View []state.GroupID `msgpack:"view,omitempty"`
}

// Errors about checkpoints, for errors.Is.
var (
	// ErrBadCheckpoint wraps every reason a stored checkpoint is refused.
	ErrBadCheckpoint = errors.New("bad checkpoint")
	// ErrNoCheckpoints: the room's handler does not implement Checkpointer.
	ErrNoCheckpoints = errors.New("room type keeps no checkpoints")
)

// A stored checkpoint is framed so that damage is caught before decoding:
// magic, format version (u16), CRC32C of the body (u32), then the body
// (the Checkpoint as MessagePack).
const (
	checkpointMagic   = "TRCKPT"
	checkpointVersion = 1
	checkpointHead    = len(checkpointMagic) + 2 + 4
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// EncodeCheckpoint frames a checkpoint for a CheckpointStore.
func EncodeCheckpoint(cp *Checkpoint) ([]byte, error) {
	var body bytes.Buffer
	body.Grow(len(cp.World) + len(cp.Handler) + len(cp.Rand) + 64*len(cp.Members) + 256*len(cp.Chat) + 256)
	enc := msgpack.NewEncoder(&body)
	enc.UseCompactInts(true)
	if err := enc.Encode(cp); err != nil {
		return nil, fmt.Errorf("rooms: encode checkpoint: %w", err)
	}
	out := make([]byte, 0, checkpointHead+body.Len())
	out = append(out, checkpointMagic...)
	out = binary.LittleEndian.AppendUint16(out, checkpointVersion)
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(body.Bytes(), castagnoli))
	return append(out, body.Bytes()...), nil
}

// DecodeCheckpoint checks a stored checkpoint's frame and decodes it. Its
// world and handler state are checked only when loaded.
func DecodeCheckpoint(b []byte) (*Checkpoint, error) {
	switch {
	case len(b) < checkpointHead || string(b[:len(checkpointMagic)]) != checkpointMagic:
		return nil, fmt.Errorf("%w: not a checkpoint (%d bytes)", ErrBadCheckpoint, len(b))
	case binary.LittleEndian.Uint16(b[len(checkpointMagic):]) != checkpointVersion:
		return nil, fmt.Errorf("%w: format version %d, this build reads %d", ErrBadCheckpoint,
			binary.LittleEndian.Uint16(b[len(checkpointMagic):]), checkpointVersion)
	case crc32.Checksum(b[checkpointHead:], castagnoli) != binary.LittleEndian.Uint32(b[len(checkpointMagic)+2:]):
		return nil, fmt.Errorf("%w: checksum mismatch (%d bytes)", ErrBadCheckpoint, len(b))
	}
	if err := state.WellSized(b[checkpointHead:]); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	dec := msgpack.NewDecoder(bytes.NewReader(b[checkpointHead:]))
	dec.DisallowUnknownFields(true)
	var cp Checkpoint
	if err := dec.Decode(&cp); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadCheckpoint, err)
	}
	return &cp, nil
}

// takeCheckpoint builds a checkpoint of a handler's room at its last
// published tick: the part a Room and a Sim share.
func takeCheckpoint(t *Type, h Handler, ctx *Context, members []*Member, nextMember uint32) (*Checkpoint, error) {
	cpr, ok := h.(Checkpointer)
	if !ok {
		return nil, fmt.Errorf("rooms: %s: %w", t.Name, ErrNoCheckpoints)
	}
	world, err := ctx.World.AppendCheckpoint(nil)
	if err != nil {
		return nil, fmt.Errorf("rooms: checkpoint: world: %w", err)
	}
	rnd, err := ctx.pcg.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("rooms: checkpoint: random source: %w", err)
	}
	hs, err := cpr.SaveState(ctx)
	if err != nil {
		return nil, fmt.Errorf("rooms: checkpoint: %s state: %w", t.Name, err)
	}
	cp := &Checkpoint{Tick: ctx.World.Tick(), Type: t.Name, World: world, Rand: rnd, Handler: hs, NextMember: nextMember,
		Members: make([]CheckpointMember, len(members))}
	for i, m := range members {
		cp.Members[i] = CheckpointMember{Number: m.Number, Name: m.Name, PlayerID: m.PlayerID, Entity: entityID(m), LastSeq: m.LastSeq}
		if t.Views && m.view != nil {
			if m.view.SeesAll() {
				return nil, fmt.Errorf("rooms: checkpoint: member %d's view is of every group (SeeAll), which a checkpoint does not keep", m.Number)
			}
			cp.Members[i].View = slices.Clone(m.view.Groups()[1:]) // [0] is Everyone
		}
	}
	return cp, nil
}

// restoreCheckpoint makes a handler of type t from the creator's options
// and loads cp into it, returning the handler, its context (world and
// random source restored) and the members, in member-number order. The
// handler's LoadState runs with ctx.Members() answered by members.
func restoreCheckpoint(t *Type, options map[string]any, cp *Checkpoint, sim *Sim, ungrouped bool) (h Handler, ctx Context, members []*Member, err error) {
	fail := func(format string, args ...any) (Handler, Context, []*Member, error) {
		return nil, Context{}, nil, fmt.Errorf("%w: "+format, append([]any{ErrBadCheckpoint}, args...)...)
	}
	if cp.Type != t.Name {
		return fail("taken of a %q room, not %q", cp.Type, t.Name)
	}
	h, _, err = t.New(options)
	if err != nil {
		return nil, Context{}, nil, fmt.Errorf("rooms: restore %s: %w", t.Name, err)
	}
	cpr, ok := h.(Checkpointer)
	if !ok {
		return nil, Context{}, nil, fmt.Errorf("rooms: %s: %w", t.Name, ErrNoCheckpoints)
	}
	w, err := state.LoadWorld(t.Schema, cp.World)
	if err != nil {
		return fail("%v", err)
	}
	if w.Tick() != cp.Tick {
		return fail("world at tick %d, checkpoint at %d", w.Tick(), cp.Tick)
	}
	switch {
	case t.Views && !w.Views() && ungrouped:
		// No log to re-run (a room created without a recording): every
		// entity goes in Everyone, and the type groups what it places
		// from now on (the arena: coins spawned after the wake).
		w.GroupAllInEveryone()
	case t.Views && !w.Views():
		// Taken before the type had views (the arena until issue 16): its
		// entities are in no group. A deterministic type's log re-runs the
		// room with views instead (Manager.rebuild falls back to it).
		return fail("taken without interest groups, before room type %q had views: the room wakes from its log, not from this checkpoint", t.Name)
	case !t.Views && w.Views():
		return fail("taken with interest groups, and room type %q has no views", t.Name)
	}
	pcg := new(rand.PCG)
	if err := pcg.UnmarshalBinary(cp.Rand); err != nil {
		return fail("random source: %v", err)
	}
	for i, cm := range cp.Members {
		if cm.Number == 0 || cm.Number > cp.NextMember || (i > 0 && cm.Number <= cp.Members[i-1].Number) {
			return fail("member %d out of order or above the next member %d", cm.Number, cp.NextMember)
		}
		m := &Member{Number: cm.Number, Name: cm.Name, PlayerID: cm.PlayerID, LastSeq: cm.LastSeq}
		if len(cm.View) > 0 {
			if !t.Views {
				return fail("member %d has a view in a room type without views", cm.Number)
			}
			m.View().Set(cm.View)
		}
		if cm.Entity != nil {
			if m.Entity = w.Get(*cm.Entity); m.Entity == nil {
				return fail("member %d's entity %d is not in the world", cm.Number, *cm.Entity)
			}
		}
		members = append(members, m)
	}
	ctx = Context{World: w, Tick: cp.Tick, Rand: rand.New(pcg), pcg: pcg, sim: sim}
	if sim != nil {
		sim.order = members
	} else {
		ctx.restoring = members
	}
	if err := safeCall(func() error { return cpr.LoadState(&ctx, cp.Handler) }); err != nil {
		return fail("%s state: %v", t.Name, err)
	}
	ctx.restoring = nil
	if w.Pending() {
		return fail("%s's LoadState changed the world", t.Name)
	}
	return h, ctx, members, nil
}

// safeCall runs handler code outside a room, turning a panic into a
// *PanicError.
func safeCall(fn func() error) (err error) {
	defer recovered("re-run", &err)
	return fn()
}

// CheckpointerOf reports whether a room type's handlers keep checkpoints
// (a handler made with no options answers for all).
func CheckpointerOf(t *Type) (Checkpointer, bool) {
	h, _, err := t.New(nil)
	if err != nil {
		return nil, false
	}
	c, ok := h.(Checkpointer)
	return c, ok
}
