package server_test

import (
	"net"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/server"
	"github.com/tickroom/tickroom/state"
)

// TestTwoMembersMirrorTheRoom is the main flow: create over HTTP, two
// members join, one sends inputs, both receive welcome, snapshot and a delta
// every tick, and both mirrors equal the server's state.
func TestTwoMembersMirrorTheRoom(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	id := env.createRoom("arena-bench", nil)
	a := env.join(id, "alice")
	b := env.join(id, "bob")

	if a.welcome.Type != "arena-bench" || a.welcome.TickRate != arenabench.TickRate || a.welcome.Room != id {
		t.Fatalf("welcome: got type %q rate %d room %q", a.welcome.Type, a.welcome.TickRate, a.welcome.Room)
	}
	if a.welcome.Entity == nil || b.welcome.Entity == nil || *a.welcome.Entity == *b.welcome.Entity {
		t.Fatalf("entities: a %v, b %v; want two distinct entities", a.welcome.Entity, b.welcome.Entity)
	}
	if a.welcome.Token == "" || a.welcome.Token == b.welcome.Token {
		t.Fatal("resume tokens missing or shared")
	}

	start := a.mirror.Tick
	for i := range 10 {
		a.input(map[string]any{"dx": 1, "dy": 0.5})
		a.waitTick(start + uint64(i) + 1)
	}
	a.waitTick(start + 15)
	b.waitTick(start + 15)
	env.checkMirror(id, a)
	env.checkMirror(id, b)

	me := b.mirror.Entities[*a.welcome.Entity]
	if me == nil {
		t.Fatalf("b's mirror lacks a's entity %d", *a.welcome.Entity)
	}
	if x := me.Float(arenabench.FieldX); x <= 500 {
		t.Fatalf("a's x in b's mirror: got %v, want > 500 after moving right", x)
	}
	if got := b.eventsOf("join"); len(got) != 1 || got[0].Name != "bob" {
		// b joined after a, so b sees only its own join.
		t.Fatalf("b's join events: got %+v, want one for bob", got)
	}
	if got := a.eventsOf("join"); len(got) != 2 || got[1].Name != "bob" {
		t.Fatalf("a's join events: got %+v, want alice then bob", got)
	}
}

// TestIdleClientGetsDeltaEveryTick: a client that sends nothing still
// receives welcome, snapshot and then a delta for every tick, in order.
func TestIdleClientGetsDeltaEveryTick(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	id := env.createRoom("board", nil)
	c := env.join(id, "quiet")
	first := c.mirror.Tick
	c.waitTick(first + 20)
	// The mirror refuses any delta whose base is not its tick, so 20 ticks
	// reached through deltas alone means none was skipped.
	if c.deltas < 20 || c.snapshots != 1 {
		t.Fatalf("got %d deltas and %d snapshots, want >= 20 deltas and exactly 1 snapshot", c.deltas, c.snapshots)
	}
}

func TestReconnectWithTokenKeepsEntity(t *testing.T) {
	env := newEnv(t, rooms.Config{SeatGrace: 10 * time.Second}, server.Config{})
	id := env.createRoom("arena", nil)
	a := env.join(id, "alice")
	watcher := env.join(id, "watcher")
	entity, member, token := *a.welcome.Entity, a.welcome.Member, a.welcome.Token
	a.input(map[string]any{"dx": 1, "dy": 0})
	a.waitTick(a.mirror.Tick + 3)

	// Drop the connection without a close frame, as a lost network does.
	if err := a.conn.UnderlyingConn().(*net.TCPConn).SetLinger(0); err != nil {
		t.Fatalf("linger: %v", err)
	}
	a.conn.UnderlyingConn().Close()
	watcher.waitFor("offline event", func() bool { return len(watcher.eventsOf("offline")) == 1 })

	back, err := env.dial(id, "name=alice&token="+token)
	if err != nil {
		t.Fatalf("redial: %v", err)
	}
	back.waitSynced()
	w := back.welcome
	if !w.Resumed || w.Entity == nil || *w.Entity != entity || w.Member != member || w.Token != token {
		t.Fatalf("resumed welcome: got resumed=%v entity=%v member=%d; want true, %d, %d and the same token",
			w.Resumed, w.Entity, w.Member, entity, member)
	}
	if back.mirror.Entities[entity] == nil {
		t.Fatalf("snapshot after resume lacks the member's entity %d", entity)
	}
	watcher.waitFor("online event", func() bool { return len(watcher.eventsOf("online")) == 1 })
	if n := len(watcher.eventsOf("leave")); n != 0 {
		t.Fatalf("watcher saw %d leave events for a resumed member", n)
	}
	env.checkMirror(id, back)
}

func TestSeatExpiresAfterGrace(t *testing.T) {
	env := newEnv(t, rooms.Config{SeatGrace: 200 * time.Millisecond}, server.Config{})
	id := env.createRoom("arena", nil)
	a := env.join(id, "alice")
	watcher := env.join(id, "watcher")
	entity := *a.welcome.Entity
	a.conn.UnderlyingConn().Close()
	watcher.waitFor("leave event", func() bool { return len(watcher.eventsOf("leave")) == 1 })
	if ev := watcher.eventsOf("leave")[0]; ev.Reason != "timeout" || ev.Name != "alice" {
		t.Fatalf("leave event: got %+v, want alice with reason timeout", ev)
	}
	watcher.waitFor("entity removal", func() bool { return watcher.mirror.Entities[entity] == nil })
}

func TestExplicitCloseLeavesAtOnce(t *testing.T) {
	env := newEnv(t, rooms.Config{SeatGrace: time.Minute}, server.Config{})
	id := env.createRoom("arena", nil)
	a := env.join(id, "alice")
	watcher := env.join(id, "watcher")
	closeNormally(t, a)
	watcher.waitFor("leave event", func() bool { return len(watcher.eventsOf("leave")) == 1 })
	if ev := watcher.eventsOf("leave")[0]; ev.Reason != "left" {
		t.Fatalf("leave reason: got %q, want left", ev.Reason)
	}
}

func TestChatAndDirectMessages(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	id := env.createRoom("board", nil)
	a := env.join(id, "alice")
	b := env.join(id, "bob")
	c := env.join(id, "carol")

	a.send([]any{state.ClientChat, "hello room"})
	for _, m := range []*wsClient{a, b, c} {
		m.waitFor("public chat", func() bool { return len(m.eventsOf("chat")) == 1 })
		if ev := m.eventsOf("chat")[0]; ev.Text != "hello room" || ev.Name != "alice" || ev.To != nil {
			t.Fatalf("public chat: got %+v", ev)
		}
	}
	a.send([]any{state.ClientChat, "psst", b.welcome.Member})
	b.waitFor("direct message", func() bool { return len(b.eventsOf("chat")) == 2 })
	a.waitFor("direct message echo", func() bool { return len(a.eventsOf("chat")) == 2 })
	if ev := b.eventsOf("chat")[1]; ev.Text != "psst" || ev.To == nil || *ev.To != b.welcome.Member {
		t.Fatalf("direct message: got %+v", ev)
	}
	// carol must not get the direct message: a later public one arrives first.
	b.send([]any{state.ClientChat, "public again"})
	c.waitFor("second public chat", func() bool { return len(c.eventsOf("chat")) == 2 })
	if ev := c.eventsOf("chat")[1]; ev.Text != "public again" {
		t.Fatalf("carol's second chat: got %q, want the public one (the direct message leaked?)", ev.Text)
	}

	// A later joiner sees the public history but not the direct message.
	d := env.join(id, "dave")
	var texts []string
	for _, ev := range d.welcome.Chat {
		texts = append(texts, ev.Text)
	}
	if len(texts) != 2 || texts[0] != "hello room" || texts[1] != "public again" {
		t.Fatalf("dave's chat history: got %q", texts)
	}
}

func TestUnknownRoomAndFullRoomClose(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	c, err := env.dial("no-such-room", "name=x")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if ce := c.waitClose(); ce.Code != rooms.CloseNotFound {
		t.Fatalf("unknown room: close %d %q, want %d", ce.Code, ce.Text, rooms.CloseNotFound)
	}

	var res created
	if code := env.api("POST", "/api/rooms", map[string]any{"type": "arena", "maxPlayers": 1}, &res); code != 201 {
		t.Fatalf("create: %d", code)
	}
	env.join(res.ID, "first")
	second, err := env.dial(res.ID, "name=second")
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if ce := second.waitClose(); ce.Code != rooms.CloseFull {
		t.Fatalf("full room: close %d %q, want %d", ce.Code, ce.Text, rooms.CloseFull)
	}
}

func TestShutdownClosesMembersWithGoingAway(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	id := env.createRoom("arena", nil)
	a := env.join(id, "alice")
	go func() { _ = env.mgr.Shutdown(t.Context(), rooms.CloseGoingAway, "server going away") }()
	if ce := a.waitClose(); ce.Code != rooms.CloseGoingAway {
		t.Fatalf("close: got %d %q, want 1001", ce.Code, ce.Text)
	}
	if got := a.eventsOf("closing"); len(got) != 1 {
		t.Fatalf("closing events: got %d, want 1", len(got))
	}
}

func TestIdleRoomIsReaped(t *testing.T) {
	env := newEnv(t, rooms.Config{IdleTimeout: 150 * time.Millisecond}, server.Config{})
	id := env.createRoom("arena", nil)
	r := env.room(id)
	select {
	case <-r.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("empty room was not reaped")
	}
	if code := env.api("GET", "/api/rooms/"+id, nil, nil); code != 404 {
		t.Fatalf("GET reaped room: status %d, want 404", code)
	}
}
