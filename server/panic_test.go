package server

import (
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// TestPanickingHandlerEndsOnlyItsSession: a bug that panics while one
// client's message is handled closes that client with 1011 (internal
// error) and takes its member offline; the process, the room and the other
// members carry on.
func TestPanickingHandlerEndsOnlyItsSession(t *testing.T) {
	hook := func(data []byte) {
		if string(data) == "\xa5boom!" { // the MessagePack string "boom!"
			panic("a bug in the message path")
		}
	}
	testHookOnMessage.Store(&hook)
	t.Cleanup(func() { testHookOnMessage.Store(nil) })

	_, room, url := quietServer(t, 4)
	dial := func() *websocket.Conn {
		c, _, err := websocket.DefaultDialer.Dial(url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, _, err := c.ReadMessage(); err != nil { // the welcome
			t.Fatal(err)
		}
		return c
	}
	victim, bystander := dial(), dial()
	for room.Players() < 2 {
		time.Sleep(5 * time.Millisecond)
	}

	if err := victim.WriteMessage(websocket.BinaryMessage, []byte("\xa5boom!")); err != nil {
		t.Fatal(err)
	}
	victim.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := victim.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != rooms.CloseInternalError {
			t.Fatalf("victim: %v, want close %d", err, rooms.CloseInternalError)
		}
		break
	}

	// The bystander still gets answers: a ping comes back as a pong.
	ping, _ := msgpack.Marshal([]any{state.ClientPing, 42})
	if err := bystander.WriteMessage(websocket.BinaryMessage, ping); err != nil {
		t.Fatal(err)
	}
	bystander.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := bystander.ReadMessage()
		if err != nil {
			t.Fatalf("bystander: %v", err)
		}
		if len(b) > 1 && b[1] == state.MsgPong {
			break
		}
	}
	// And a new client can still join.
	dial()
}
