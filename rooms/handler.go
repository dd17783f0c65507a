package rooms

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/state"
)

// Handler is a room type's logic. Every method runs on the room's own
// goroutine, one at a time, so a handler needs no locks. A handler changes the
// room only through ctx.World (entities) and ctx.Emit (events); it must not
// read the wall clock or a global random source: use ctx.Tick and ctx.Rand so
// that a recording re-runs to the same state.
type Handler interface {
	// Init builds the room's starting state before the first tick.
	Init(ctx *Context) error
	// Join seats a new member and returns the entity the member controls, or
	// nil for none. An error refuses the member (the message is shown to them).
	Join(ctx *Context, m *Member) (*state.Entity, error)
	// Leave removes a member for good (left, timed out, kicked); the handler
	// despawns what it gave the member, if it wants to.
	Leave(ctx *Context, m *Member)
	// Input applies one input payload (MessagePack, room-type defined) from m.
	// Inputs arrive in order, before Tick, in the tick after they were received.
	// An error is sent back to the member as a bad_input error.
	Input(ctx *Context, m *Member, payload msgpack.RawMessage) error
	// Tick advances the simulation by one tick.
	Tick(ctx *Context)
}

// Type describes a room type: how to make a handler and what it sends.
type Type struct {
	// Name is the type's name in the API and the protocol ("arena").
	Name string
	// TickRate is ticks per second, 1..120.
	TickRate int
	// Schema lists the entity kinds the type's world uses.
	Schema *state.Schema
	// Deterministic marks types whose simulation depends only on the tick, the
	// seed and the inputs, so that a recording can be re-run and verified.
	Deterministic bool
	// MaxPlayers is the default and highest member count; 0 means 64.
	MaxPlayers int
	// DormantMaxAge is how long a sleeping room of this type is kept after
	// its last activity, unless Config.DormantMaxAge says otherwise; zero
	// means DefaultDormantMaxAge.
	DormantMaxAge time.Duration
	// New makes a handler from the options a creator gave (decoded JSON; nil
	// for none). It returns the options in effect after defaults, which travel
	// in the welcome. Bad options are an error wrapping ErrBadOptions.
	New func(options map[string]any) (Handler, map[string]any, error)
	// Views makes the room's world publish per interest group: the handler
	// places entities with ctx.World.SetGroup and gives each member its
	// groups with m.View().Set; a member receives only what its groups
	// hold (docs/ROOM_TYPES.md, "Views"). False: every member receives the
	// whole world, encoded exactly as without views.
	Views bool
	// Private names the interest groups of a Views room that only members
	// whose view holds them may see: spectators and the room's recording
	// (the replay page, GET /api/recordings/{id}/tape, tickroom verify)
	// leave them out. Put what one member may see alone (a hand of cards)
	// in a group of its own, and name it here. Nil: no group is private.
	Private func(g state.GroupID) bool
	// Input, Options and Events declare, once, the input payload the
	// handler decodes, the options New parses and the data of the custom
	// events it emits (rooms/payload's Struct or Union, Options, Events).
	// They are the client's types (`tickroom gen ts`); nil: not declared,
	// typed as unknown.
	Input, Options, Events Declaration
}

// Declaration is a payload a room type declares in Go, described for the
// TypeScript declarations of `tickroom gen ts`.
type Declaration interface {
	// TypeScript returns the payload's TypeScript type; lines after the
	// first are indented by indent.
	TypeScript(indent string) string
}

// DefaultDormantMaxAge is how long a sleeping room is kept when neither its
// type nor the node says.
const DefaultDormantMaxAge = 7 * 24 * time.Hour

// ErrBadOptions is wrapped by Type.New for options it refuses.
var ErrBadOptions = errors.New("bad room options")

// PlayerLimit is the type's default and highest member count.
func (t *Type) PlayerLimit() int {
	if t.MaxPlayers <= 0 {
		return 64
	}
	return t.MaxPlayers
}

func (t *Type) validate() error {
	switch {
	case t.Name == "":
		return errors.New("rooms: type has no name")
	case t.TickRate < 1 || t.TickRate > 120:
		return fmt.Errorf("rooms: type %q: tick rate %d outside 1..120", t.Name, t.TickRate)
	case t.Schema == nil || t.New == nil:
		return fmt.Errorf("rooms: type %q needs a Schema and New", t.Name)
	}
	return nil
}

// Registry is the set of room types a server offers.
type Registry struct {
	mu    sync.RWMutex
	types map[string]*Type
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{types: make(map[string]*Type)} }

// Register adds a type; a second type of the same name is an error.
func (r *Registry) Register(t *Type) error {
	if err := t.validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.types[t.Name]; dup {
		return fmt.Errorf("rooms: type %q registered twice", t.Name)
	}
	r.types[t.Name] = t
	return nil
}

// Get returns the named type, or nil.
func (r *Registry) Get(name string) *Type {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.types[name]
}

// All returns every type, sorted by name.
func (r *Registry) All() []*Type {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]*Type, 0, len(r.types))
	for _, t := range r.types {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Member is one seat in a room. The room goroutine owns it; handlers may
// keep per-member data in Data.
type Member struct {
	// Number is the member's number in this room, stable across reconnects.
	Number uint32
	// Name is the display name, already cleaned and length-limited.
	Name string
	// PlayerID is the verified identity of the member (the auth token's
	// subject) when the server checks identities; empty otherwise.
	PlayerID string
	// Entity is what Join returned, or nil.
	Entity *state.Entity
	// LastSeq is the sequence number of the input being applied (during
	// Input) or of the last one applied; predicting clients read it back
	// through an entity field (arena's "seq").
	LastSeq uint64
	// Data is the handler's own per-member state.
	Data any

	seat *seat
	view *state.View // Views rooms: see View
}

// Context is what a handler sees of its room during a call.
type Context struct {
	// World is the room's state; changes are published at the end of the tick.
	World *state.World
	// Tick is the number of the tick being run (the first tick is 1).
	Tick uint64
	// Rand is the room's random source, seeded when the room was created.
	Rand *rand.Rand
	// Emitted collects events when the context belongs to no room (NewContext).
	Emitted []*state.Event

	room *Room
	sim  *Sim
	pcg  *rand.PCG // Rand's source, which checkpoints save
	// restoring answers Members() while a Checkpointer's LoadState runs
	// for a room being woken.
	restoring []*Member
}

// NewContext returns a Context for driving a handler outside a room, as
// tests and tools do: Emit records events in Emitted and Members returns nil.
func NewContext(w *state.World, seed uint64) *Context {
	return newContext(w, seed)
}

// newContext returns a context with the room's random source for a seed:
// rooms and sims alike.
func newContext(w *state.World, seed uint64) *Context {
	pcg := rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)
	return &Context{World: w, Rand: rand.New(pcg), pcg: pcg}
}

// Emit sends a custom event with the given data to every member.
func (c *Context) Emit(data map[string]any) {
	ev := &state.Event{Type: "custom", Tick: c.Tick, Data: data}
	if c.sim != nil {
		return // a re-run recomputes state; its events were recorded live
	}
	if c.room == nil {
		c.Emitted = append(c.Emitted, ev)
		return
	}
	c.room.broadcastEvent(ev)
}

// Members returns the seated members in member-number order.
func (c *Context) Members() []*Member {
	switch {
	case c.restoring != nil:
		return c.restoring
	case c.sim != nil:
		return c.sim.order
	case c.room != nil:
		return c.room.memberList()
	}
	return nil
}
