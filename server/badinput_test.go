package server_test

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/server"
	"github.com/tickroom/tickroom/state"
)

// carryOnTicks is how many ticks the bystander must advance, through
// deltas alone, after the offender got its answer.
const carryOnTicks = 10

// badInputCase is one kind of bad input sent by the offender while a
// well-behaved bystander shares the room.
type badInputCase struct {
	name string
	room string        // room type; arena when empty
	cfg  server.Config // the edge's limits for this case
	// send sends the bad input; by is the bystander, for cases that aim at
	// its entity.
	send func(t *testing.T, off, by *wsClient)
	// wantErr is the error code the offender gets. Every error it gets must
	// carry it, and when no close is expected there must be exactly one.
	wantErr string
	// wantClose, when not 0, is the close code that ends the offender's
	// connection; 0 means the connection must stay open and keep ticking.
	wantClose int
	// flood, when set, replaces send: a run of frames that uses up the
	// offender's violation budget (see floodToClose).
	flood *floodSpec
	// maxChats is how many chat messages of the offender's the bystander
	// may receive (the ones a chat flood sends within its limit).
	maxChats int
	// check, when set, runs after the room carried on, for case-specific
	// assertions on the state.
	check func(t *testing.T, off, by *wsClient)
}

// floodSpec is a flood of frames: frame(i) is the i-th (from 0), burst is
// how many are sent back to back, the fewest that can use up the violation
// budget.
type floodSpec struct {
	frameType int
	frame     func(i int) []byte
	burst     int
	// every, when set, makes the flood sustained instead: a frame every
	// so often until the connection closes (rate_limited refusals count
	// once per 100 ms, so no burst can use up the budget).
	every time.Duration
}

// TestBadInputNeverHurtsTheRoom: every kind of bad input gets a protocol
// error and/or a documented close code, and the room and its other member
// carry on with no gap in their deltas.
func TestBadInputNeverHurtsTheRoom(t *testing.T) {
	validInput := map[string]any{"dx": 1, "dy": 0}
	cases := []badInputCase{
		// Frames that are not a well-formed message: bad_message or unknown_type.
		{name: "not MessagePack", send: raw([]byte{0xc1}), wantErr: state.ErrCodeBadMessage},
		{name: "empty frame", send: raw([]byte{}), wantErr: state.ErrCodeBadMessage},
		{name: "truncated MessagePack", send: raw(truncated(mustPack(t, []any{state.ClientInput, 1, validInput}), 3)), wantErr: state.ErrCodeBadMessage},
		{name: "array header only", send: raw([]byte{0x93}), wantErr: state.ErrCodeBadMessage},
		// 8 bytes claiming a 2 GiB payload: refused before the decoder grows
		// a buffer toward it (state.TestDecodeClientIgnoresLyingLengths).
		{name: "lying payload length", send: raw([]byte{0x93, state.ClientInput, 0x01, 0xc6, 0x7f, 0xff, 0xff, 0xff}), wantErr: state.ErrCodeBadMessage},
		{name: "map instead of array", send: packed(map[string]any{"type": 1, "seq": 1}), wantErr: state.ErrCodeBadMessage},
		{name: "bare integer", send: packed(1), wantErr: state.ErrCodeBadMessage},
		{name: "empty array", send: packed([]any{}), wantErr: state.ErrCodeBadMessage},
		{name: "unknown type tag", send: packed([]any{99}), wantErr: state.ErrCodeUnknownType},
		{name: "unknown type tag with elements", send: packed([]any{99, "x", map[string]any{"a": 1}}), wantErr: state.ErrCodeUnknownType},
		{name: "string type tag", send: packed([]any{"input", 1, validInput}), wantErr: state.ErrCodeBadMessage},
		{name: "float type tag", send: packed([]any{1.0, 1, validInput}), wantErr: state.ErrCodeBadMessage},
		{name: "trailing bytes after the message", send: raw(append(mustPack(t, []any{state.ClientInput, 1, validInput}), 0xc0)), wantErr: state.ErrCodeBadMessage},
		{name: "trailing bytes after an unknown type", send: raw(append(mustPack(t, []any{99}), 0xc0)), wantErr: state.ErrCodeBadMessage},
		{name: "text frame", send: func(t *testing.T, off, _ *wsClient) {
			if err := off.conn.WriteMessage(websocket.TextMessage, []byte(`[1,1,{"dx":1,"dy":0}]`)); err != nil {
				t.Fatalf("write: %v", err)
			}
		}, wantErr: state.ErrCodeBadMessage},

		// Inputs the decoder refuses: bad_message.
		{name: "input with a string seq", send: packed([]any{state.ClientInput, "1", validInput}), wantErr: state.ErrCodeBadMessage},
		{name: "input with seq 0", send: packed([]any{state.ClientInput, 0, validInput}), wantErr: state.ErrCodeBadMessage},
		{name: "input with a negative seq", send: packed([]any{state.ClientInput, -1, validInput}), wantErr: state.ErrCodeBadMessage},
		{name: "input with a float seq", send: packed([]any{state.ClientInput, 1.5, validInput}), wantErr: state.ErrCodeBadMessage},
		{name: "input without a payload", send: packed([]any{state.ClientInput, 1}), wantErr: state.ErrCodeBadMessage},
		{name: "ping with a string time", send: packed([]any{state.ClientPing, "now"}), wantErr: state.ErrCodeBadMessage},
		{name: "resync with an argument", send: packed([]any{state.ClientResync, 1}), wantErr: state.ErrCodeBadMessage},

		// Inputs the room refuses: bad_input, and nothing moves.
		{name: "repeated seq", send: func(t *testing.T, off, _ *wsClient) {
			off.send([]any{state.ClientInput, 5, validInput})
			off.send([]any{state.ClientInput, 5, map[string]any{"dx": -1, "dy": 0}})
		}, wantErr: state.ErrCodeBadInput, check: wantAvatarSeq(5)},
		{name: "lower seq", send: func(t *testing.T, off, _ *wsClient) {
			off.send([]any{state.ClientInput, 7, validInput})
			off.send([]any{state.ClientInput, 3, validInput})
		}, wantErr: state.ErrCodeBadInput, check: wantAvatarSeq(7)},
		{name: "payload with a string axis", send: packed([]any{state.ClientInput, 1, map[string]any{"dx": "left", "dy": 0}}), wantErr: state.ErrCodeBadInput, check: wantAvatarSeq(0)},
		{name: "payload that is an array", send: packed([]any{state.ClientInput, 1, []any{1, 0}}), wantErr: state.ErrCodeBadInput, check: wantAvatarSeq(0)},
		{name: "payload that is a string", send: packed([]any{state.ClientInput, 1, "up"}), wantErr: state.ErrCodeBadInput, check: wantAvatarSeq(0)},
		{name: "payload that is nil", send: packed([]any{state.ClientInput, 1, nil}), wantErr: state.ErrCodeBadInput, check: wantAvatarSeq(0)},
		{name: "payload with NaN", send: packed([]any{state.ClientInput, 1, map[string]any{"dx": math.NaN(), "dy": 0}}), wantErr: state.ErrCodeBadInput, check: wantAvatarSeq(0)},
		{name: "payload with infinity", send: packed([]any{state.ClientInput, 1, map[string]any{"dx": 0, "dy": math.Inf(-1)}}), wantErr: state.ErrCodeBadInput, check: wantAvatarSeq(0)},
		{name: "payload naming another entity", send: func(t *testing.T, off, by *wsClient) {
			// Steering that would turn either avatar if it were applied.
			off.send([]any{state.ClientInput, 1, map[string]any{"dx": -1, "dy": 1, "entity": *by.welcome.Entity}})
		}, wantErr: state.ErrCodeBadInput, check: wantAvatarsStill},
		{name: "arena-bench payload with a string axis", room: "arena-bench", send: packed([]any{state.ClientInput, 1, map[string]any{"dx": "left", "dy": 0}}), wantErr: state.ErrCodeBadInput},
		{name: "arena-bench payload that is a string", room: "arena-bench", send: packed([]any{state.ClientInput, 1, "up"}), wantErr: state.ErrCodeBadInput},
		{name: "arena-bench payload with NaN", room: "arena-bench", send: packed([]any{state.ClientInput, 1, map[string]any{"dx": math.NaN(), "dy": 0}}), wantErr: state.ErrCodeBadInput},

		// Chat.
		{name: "chat with a non-string text", send: packed([]any{state.ClientChat, 42}), wantErr: state.ErrCodeBadMessage},
		{name: "chat with a string target", send: packed([]any{state.ClientChat, "hi", "bob"}), wantErr: state.ErrCodeBadMessage},
		{name: "chat to a member that does not exist", send: packed([]any{state.ClientChat, "hi", 999}), wantErr: state.ErrCodeNoSuchMember},
		{name: "chat too long", send: packed([]any{state.ClientChat, strings.Repeat("x", 501)}), wantErr: state.ErrCodeTooLong},
		{name: "empty chat", send: packed([]any{state.ClientChat, ""}), wantErr: state.ErrCodeTooLong},
		{name: "blank chat", send: packed([]any{state.ClientChat, " \t\u200b "}), wantErr: state.ErrCodeTooLong},

		// Board: a member cannot edit another member's cursor through the
		// shape ops, whatever id it names.
		{name: "board move of the bystander's cursor", room: "board", send: boardOpOnCursor(map[string]any{"op": "move", "x": 10, "y": 10}),
			wantErr: state.ErrCodeBadInput, check: wantCursorsStill},
		{name: "board recolour of the bystander's cursor", room: "board", send: boardOpOnCursor(map[string]any{"op": "color", "color": 0x123456}),
			wantErr: state.ErrCodeBadInput, check: wantCursorsStill},
		{name: "board delete of the bystander's cursor", room: "board", send: boardOpOnCursor(map[string]any{"op": "delete"}),
			wantErr: state.ErrCodeBadInput, check: wantCursorsStill},

		// Limits that end the connection.
		{name: "frame over the read limit", cfg: server.Config{ReadLimit: 1024},
			send: raw(bytes.Repeat([]byte{0xc0}, 4096)), wantClose: rooms.CloseTooBig},
		// Rate floods: a frame every 2 ms; over the rate counts once per
		// 100 ms, so 5 counted refusals (about half a second) close.
		{name: "input flood", cfg: server.Config{InputRate: 20, InputBurst: 5, ViolationRate: 0.1, ViolationBurst: 5},
			flood: &floodSpec{frameType: websocket.BinaryMessage, every: 2 * time.Millisecond, frame: func(i int) []byte {
				return mustPack(t, []any{state.ClientInput, i + 1, validInput})
			}}, wantErr: state.ErrCodeRateLimited, wantClose: rooms.ClosePolicy},
		{name: "chat flood", cfg: server.Config{ChatRate: 1, ChatBurst: 2, ViolationRate: 0.1, ViolationBurst: 5},
			flood: &floodSpec{frameType: websocket.BinaryMessage, every: 2 * time.Millisecond, frame: func(i int) []byte {
				return mustPack(t, []any{state.ClientChat, fmt.Sprintf("spam %d", i)})
			}}, wantErr: state.ErrCodeRateLimited, wantClose: rooms.ClosePolicy, maxChats: 4},
		// The default budget: 50 refusals, and the 51st frame closes.
		{name: "malformed flood", flood: &floodSpec{frameType: websocket.BinaryMessage, burst: 50 + 1, frame: func(int) []byte {
			return []byte{0xc1}
		}}, wantErr: state.ErrCodeBadMessage, wantClose: rooms.ClosePolicy},
		{name: "text frame flood", flood: &floodSpec{frameType: websocket.TextMessage, burst: 50 + 1, frame: func(int) []byte {
			return []byte("hello")
		}}, wantErr: state.ErrCodeBadMessage, wantClose: rooms.ClosePolicy},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runBadInput(t, tc)
		})
	}
}

func runBadInput(t *testing.T, tc badInputCase) {
	room := tc.room
	if room == "" {
		room = "arena"
	}
	env := newEnv(t, rooms.Config{}, tc.cfg)
	id := env.createRoom(room, nil)
	by := env.join(id, "bystander")
	off := env.join(id, "offender")
	by.waitFor("the offender's join", func() bool { return len(by.eventsOf("join")) == 2 })
	byTick, byDeltas := by.mirror.Tick, by.deltas

	trickled := -1 // index of the first error answering a trickled frame
	switch {
	case tc.flood != nil && tc.flood.every > 0:
		stop := floodSustained(t, off, tc.flood)
		defer stop()
	case tc.flood != nil:
		trickled = floodToClose(t, off, tc.flood)
	default:
		tc.send(t, off, by)
	}

	if tc.wantClose != 0 {
		ce := off.waitClose()
		if ce.Code != tc.wantClose {
			t.Fatalf("offender closed with %d %q, want %d", ce.Code, ce.Text, tc.wantClose)
		}
		if tc.wantErr != "" && !off.hasError(tc.wantErr) {
			t.Fatalf("offender's errors before the close: got %q, want %s among them", off.errorCodes(), tc.wantErr)
		}
	} else {
		off.waitFor("error "+tc.wantErr, func() bool { return len(off.errors) > 0 })
	}
	for i, code := range off.errorCodes() {
		if code != tc.wantErr && (trickled < 0 || i < trickled || code != state.ErrCodeBadMessage) {
			t.Fatalf("offender's errors: got %q, want only %s", off.errorCodes(), tc.wantErr)
		}
	}

	// The room carries on: the bystander advances through deltas alone
	// (its mirror fails the test on any gap) and matches the server.
	from := env.room(id).CurrentTick()
	by.waitTick(from + carryOnTicks)
	if got := by.mirror.Tick - byTick; by.deltas-byDeltas < int(got) {
		t.Fatalf("bystander advanced %d ticks with %d deltas: it skipped some", got, by.deltas-byDeltas)
	}
	if by.snapshots != 1 {
		t.Fatalf("bystander got %d snapshots, want 1: it must not need a resync", by.snapshots)
	}
	if len(by.errors) != 0 {
		t.Fatalf("bystander got errors %q, want none", by.errorCodes())
	}
	if got := by.eventsOf("chat"); len(got) > tc.maxChats {
		t.Fatalf("bystander got %d chat events, want at most %d: refused chat must not be delivered", len(got), tc.maxChats)
	}
	env.checkMirror(id, by)

	if tc.wantClose != 0 {
		// The offender lost its connection, not its seat (held for the grace).
		by.waitFor("the offender's offline event", func() bool { return len(by.eventsOf("offline")) == 1 })
		if ev := by.eventsOf("offline")[0]; ev.Member != off.welcome.Member {
			t.Fatalf("offline event: got member %d, want the offender %d", ev.Member, off.welcome.Member)
		}
	} else {
		// An error never closes the connection by itself: the offender keeps
		// receiving deltas, and gets no second error.
		off.waitTick(from + carryOnTicks)
		if n := len(off.errors); n != 1 {
			t.Fatalf("offender got %d errors %q, want exactly one %s", n, off.errorCodes(), tc.wantErr)
		}
		env.checkMirror(id, off)
	}
	if tc.check != nil {
		tc.check(t, off, by)
	}
}

// TestInputsMoveOnlyTheSendersAvatar: the protocol's inputs carry no entity
// id, so a member can steer only its own avatar. The mover steers away from
// the other avatar, so that no collision can move it either.
func TestInputsMoveOnlyTheSendersAvatar(t *testing.T) {
	for _, typ := range []string{"arena", "arena-bench"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, rooms.Config{}, server.Config{})
			id := env.createRoom(typ, nil)
			mover := env.join(id, "mover")
			still := env.join(id, "still")
			mover.waitFor("still's avatar", func() bool { return mover.mirror.Entities[*still.welcome.Entity] != nil })
			me, other := *mover.welcome.Entity, *still.welcome.Entity
			before0, before1 := avatarPos(t, mover, me), avatarPos(t, mover, other)

			dx := 1.0
			if before0[0] < before1[0] {
				dx = -1
			}
			mover.input(map[string]any{"dx": dx, "dy": 0})
			from := env.room(id).CurrentTick()
			still.waitTick(from + carryOnTicks)
			env.checkMirror(id, still)

			after0, after1 := avatarPos(t, still, me), avatarPos(t, still, other)
			if moved := (after0[0] - before0[0]) * dx; moved < 5 {
				t.Fatalf("mover's avatar x: %v -> %v, want it moved at least 5 units in direction %v", before0[0], after0[0], dx)
			}
			if after1 != before1 {
				t.Fatalf("other avatar moved: %v -> %v, want it still (it sent no input)", before1, after1)
			}
			if len(mover.errors) != 0 || len(still.errors) != 0 {
				t.Fatalf("errors: mover %q, still %q; want none", mover.errorCodes(), still.errorCodes())
			}
		})
	}
}

// avatarPos returns an avatar's x, y and angle in c's mirror (the arena and
// arena-bench avatars share those field indices).
func avatarPos(t *testing.T, c *wsClient, id state.EntityID) [3]float64 {
	t.Helper()
	e := c.mirror.Entities[id]
	if e == nil {
		t.Fatalf("entity %d missing from the mirror", id)
	}
	return [3]float64{e.Float(arena.FieldX), e.Float(arena.FieldY), e.Float(arena.FieldAngle)}
}

// wantAvatarSeq checks the seq the room published for the offender's
// avatar: a refused input must not count as applied.
func wantAvatarSeq(want int64) func(t *testing.T, off, by *wsClient) {
	return func(t *testing.T, off, by *wsClient) {
		t.Helper()
		e := by.mirror.Entities[*off.welcome.Entity]
		if e == nil {
			t.Fatalf("offender's avatar missing from the bystander's mirror")
		}
		if got := e.Int(arena.FieldSeq); got != want {
			t.Fatalf("offender's avatar seq: got %d, want %d", got, want)
		}
	}
}

// wantAvatarsStill checks that neither avatar was steered: both still face
// angle 0 as spawned, and neither counts an applied input.
func wantAvatarsStill(t *testing.T, off, by *wsClient) {
	t.Helper()
	for _, c := range []*wsClient{off, by} {
		e := by.mirror.Entities[*c.welcome.Entity]
		if e == nil {
			t.Fatalf("avatar %d missing from the bystander's mirror", *c.welcome.Entity)
		}
		if e.Float(arena.FieldAngle) != 0 || e.Int(arena.FieldSeq) != 0 {
			t.Fatalf("avatar %d: angle %v seq %d, want 0 and 0: a refused input steered it",
				*c.welcome.Entity, e.Float(arena.FieldAngle), e.Int(arena.FieldSeq))
		}
	}
}

// boardOpOnCursor sends a board op naming the bystander's cursor as the
// shape to change.
func boardOpOnCursor(op map[string]any) func(t *testing.T, off, by *wsClient) {
	return func(t *testing.T, off, by *wsClient) {
		op["id"] = *by.welcome.Entity
		off.input(op)
	}
}

// wantCursorsStill checks that both cursors are where Join put them, in
// the middle of the board, with their colours.
func wantCursorsStill(t *testing.T, off, by *wsClient) {
	t.Helper()
	w, h := by.welcome.Options["width"], by.welcome.Options["height"]
	for _, c := range []*wsClient{by, off} {
		e := by.mirror.Entities[*c.welcome.Entity]
		if e == nil {
			t.Fatalf("cursor %d was deleted", *c.welcome.Entity)
		}
		if e.Kind.Name != board.CursorKind.Name {
			t.Fatalf("entity %d is a %s, want a cursor", *c.welcome.Entity, e.Kind.Name)
		}
		x, y := e.Float(board.CursorX), e.Float(board.CursorY)
		if x != toFloat(t, w)/2 || y != toFloat(t, h)/2 {
			t.Fatalf("cursor %d at (%v, %v), want the middle of a %vx%v board: it was moved", *c.welcome.Entity, x, y, w, h)
		}
		if got := e.Int(board.CursorMember); got != int64(c.welcome.Member) {
			t.Fatalf("cursor %d member: got %d, want %d", *c.welcome.Entity, got, c.welcome.Member)
		}
		if got := e.Int(board.CursorColor); got == 0x123456 {
			t.Fatalf("cursor %d was recoloured to %#x", *c.welcome.Entity, got)
		}
	}
}

func toFloat(t *testing.T, v any) float64 {
	t.Helper()
	switch r := reflect.ValueOf(v); {
	case r.CanFloat():
		return r.Float()
	case r.CanInt():
		return float64(r.Int())
	case r.CanUint():
		return float64(r.Uint())
	}
	t.Fatalf("option %v (%T) is not a number", v, v)
	return 0
}

// packed returns a send func for one MessagePack-encoded frame.
func packed(v any) func(t *testing.T, off, _ *wsClient) {
	return func(t *testing.T, off, _ *wsClient) { off.sendRaw(mustPack(t, v)) }
}

// raw returns a send func for one binary frame of exactly these bytes.
func raw(b []byte) func(t *testing.T, off, _ *wsClient) {
	return func(t *testing.T, off, _ *wsClient) { off.sendRaw(b) }
}

func mustPack(t *testing.T, v any) []byte {
	t.Helper()
	b, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	return b
}

// truncated returns b without its last n bytes.
func truncated(b []byte, n int) []byte { return slices.Clone(b[:len(b)-n]) }

// floodToClose sends f's burst back to back; its last frame should be the
// one that closes the connection. Should the limiters have refilled while
// the server read the burst, it then sends malformed frames one at a time,
// each after the answer to the one before, until the server closes. So no
// frame is ever left unread when the server closes: see
// TestFloodCloseCodeReachesTheClient for why that matters. It returns the
// number of errors the offender had before the first trickled frame, or -1.
func floodToClose(t *testing.T, c *wsClient, f *floodSpec) int {
	t.Helper()
	for i := range f.burst {
		if err := c.conn.WriteMessage(f.frameType, f.frame(i)); err != nil {
			t.Fatalf("flood frame %d: %v", i, err)
		}
	}
	if closedWithin(c, 10) {
		return -1
	}
	first := len(c.errors)
	for range 100 {
		n := len(c.errors)
		c.sendRaw([]byte{0xc1})
		for len(c.errors) == n {
			if _, ok := c.next(5 * time.Second); !ok {
				return first
			}
		}
	}
	t.Fatalf("the server never closed a flooding connection")
	return first
}

// floodSustained sends f's frames every f.every from a goroutine until the
// connection fails or stop is called (at most 20 s); the caller reads.
func floodSustained(t *testing.T, c *wsClient, f *floodSpec) (stop func()) {
	t.Helper()
	done, quit := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tk := time.NewTicker(f.every)
		defer tk.Stop()
		for i := 0; i < int(20*time.Second/f.every); i++ {
			select {
			case <-quit:
				return
			case <-tk.C:
			}
			if c.conn.WriteMessage(f.frameType, f.frame(i)) != nil {
				return
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(quit); <-done }) }
}

// closedWithin takes c's messages until the connection closes (true) or
// its mirror advanced by ticks (false).
func closedWithin(c *wsClient, ticks uint64) bool {
	c.t.Helper()
	until := c.mirror.Tick + ticks
	for c.mirror.Tick < until {
		if _, ok := c.next(5 * time.Second); !ok {
			return true
		}
	}
	return false
}

// TestFloodCloseCodeReachesTheClient: a client that floods without waiting
// for answers must still learn why it was dropped (1008). melody closes the
// TCP connection right after writing the close frame; with the rest of the
// flood still unread in the server's socket the kernel would send a reset
// and the client's kernel would drop the close frame unread ("connection
// reset by peer" instead of 1008). server/sock.go closes gracefully instead.
func TestFloodCloseCodeReachesTheClient(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	id := env.createRoom("arena", nil)
	by := env.join(id, "bystander")
	off := env.join(id, "offender")
	frames := make([][]byte, 500)
	for i := range frames {
		frames[i] = []byte{0xc1}
	}
	for _, b := range frames {
		if err := off.conn.WriteMessage(websocket.BinaryMessage, b); err != nil {
			break // the server closed the connection mid-flood, as it should
		}
	}
	if ce := off.waitClose(); ce.Code != rooms.ClosePolicy {
		t.Fatalf("flooder closed with %d %q, want %d", ce.Code, ce.Text, rooms.ClosePolicy)
	}
	by.waitTick(env.room(id).CurrentTick() + carryOnTicks)
	env.checkMirror(id, by)
}
