package rooms

import "github.com/vmihailenco/msgpack/v5"

// Membership is what a server connection holds in its room: a Client of a room
// on this node, or (in a cluster) a member relayed to the room's owner on
// another node. The server talks to both the same way.
type Membership interface {
	// Input queues an input for the room's next tick (ErrRoomBusy when the
	// room's queue is full, ErrSpectator for a spectator).
	Input(seq uint64, payload msgpack.RawMessage) error
	// Chat sends a chat message, to everyone or (hasTo) to one member.
	Chat(text string, to uint32, hasTo bool) error
	// Resync asks for a snapshot in place of the next delta.
	Resync() error
	// Leave tells the room the connection ended (explicit: the client
	// closed normally and gives up its seat). It never blocks.
	Leave(explicit bool)
	// Tick is the room's last published tick (for pongs).
	Tick() uint64
	// Session is the connection's session id (the welcome's "session").
	Session() string
	// Spectator reports whether the connection only watches.
	Spectator() bool
	// RoomID is the room's id.
	RoomID() string
}

var _ Membership = (*Client)(nil)

// Input queues an input from the client (Membership).
func (c *Client) Input(seq uint64, payload msgpack.RawMessage) error {
	return c.room.Input(c, seq, payload)
}

// Chat sends a chat message from the client (Membership).
func (c *Client) Chat(text string, to uint32, hasTo bool) error {
	return c.room.Chat(c, text, to, hasTo)
}

// Resync asks for a snapshot in place of the client's next delta (Membership).
func (c *Client) Resync() error { return c.room.Resync(c) }

// Leave tells the room the client's connection ended (Membership).
func (c *Client) Leave(explicit bool) { c.room.Leave(c, explicit) }

// Tick is the room's last published tick (Membership).
func (c *Client) Tick() uint64 { return c.room.CurrentTick() }

// RoomID is the room's id (Membership).
func (c *Client) RoomID() string { return c.room.ID }

// FanoutConn is a Conn that shares a fan-out with other connections of its
// room: the members that other nodes of a cluster relay. The room hands
// each tick's delta and each broadcast event to the fan-out once, not to
// each of its connections: encoded once, published once per room (the
// relaying nodes send the same bytes on to their sockets). Messages for
// one connection (welcome, snapshots, direct chat, errors) still go
// through Send.
type FanoutConn interface {
	Conn
	Fanout() Fanout
}

// Fanout sends a room's broadcast messages to every connection that shares
// it. A relaying node that cannot deliver a delta to one of its sockets
// asks the room for a snapshot for it (Resync), so no gap goes unnoticed.
type Fanout interface {
	Broadcast(msg []byte)
}
