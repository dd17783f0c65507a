package rooms

import "sync/atomic"

// Conn is what a room needs from a member's connection. The server's
// WebSocket sessions implement it; rooms never sees the WebSocket library.
type Conn interface {
	// Send queues one message for writing. It returns false, queuing
	// nothing, when the connection's queue is full or the connection is gone.
	// msg is shared with every other member and must not be modified.
	Send(msg []byte) bool
	// Close sends a close frame with code and reason, then closes. It is
	// idempotent and may be called from any goroutine.
	Close(code int, reason string)
}

// GoneConn is what a Conn may also implement to tell a connection that has
// failed (the peer vanished: its disconnect is on its way) from one that is
// merely slow. A member whose Send failed because its connection is gone
// leaves quietly instead of being closed, counted and logged as a slow
// consumer.
type GoneConn interface {
	Gone() bool
}

// BatchConn is what a Conn may also implement when one message can be
// handed to many connections of its kind at once (the server's io_uring
// writes: one submission for a tick's members instead of a write each).
type BatchConn interface {
	Conn
	// Batch returns the sender that takes this connection's share of a
	// tick, or nil to Send to it alone.
	Batch() Batcher
}

// Batcher sends one message to many connections. A server has one, and
// every BatchConn of a room returns the same.
type Batcher interface {
	// SendEach does for each i what conns[i].Send(msg) would, storing its
	// result in sent[i] (len(sent) == len(conns)).
	SendEach(msg []byte, conns []Conn, sent []bool)
}

// WebSocket close codes the room uses (docs/PROTOCOL.md, "Close codes").
const (
	CloseNormal        = 1000
	CloseGoingAway     = 1001
	ClosePolicy        = 1008
	CloseTooBig        = 1009
	CloseInternalError = 1011
	CloseRestart       = 1012
	CloseTryAgainLater = 1013
	CloseNotFound      = 4004
	CloseSlowConsumer  = 4008
	CloseFull          = 4009
	CloseReplaced      = 4010
	CloseRoomClosed    = 4011
	CloseKicked        = 4012
	CloseRefused       = 4013
	CloseTypeGone      = 4014
	CloseRoomFailed    = 4015
)

// Client is one connection's handle on a room, from Room.Join until the
// connection ends. The server passes it back with every input and chat.
type Client struct {
	room     *Room
	conn     Conn
	name     string
	token    string
	playerID string
	session  string // this connection's id, in the welcome and the logs

	// gone is set by the server goroutine when the connection ended; the
	// room goroutine notices it at the latest on its next tick.
	gone      atomic.Bool
	explicit  atomic.Bool // closed by the client with 1000: leave at once
	spectator bool
	fan       Fanout // the conn's fan-out, when it shares one (FanoutConn)

	seat *seat // room goroutine only
}

// Session returns the connection's session id (the welcome's "session").
func (c *Client) Session() string { return c.session }

// Room returns the room the client joined.
func (c *Client) Room() *Room { return c.room }

// Spectator reports whether the client only watches (Room.Spectate).
func (c *Client) Spectator() bool { return c.spectator }
