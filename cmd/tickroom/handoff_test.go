package main

import (
	"bufio"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// child is a tickroom process started from this test binary.
type child struct {
	cmd   *exec.Cmd
	ready chan struct{}
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TICKROOM_TEST_CHILD=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, ready: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(stderr)
		once := false
		for sc.Scan() {
			if !once && strings.Contains(sc.Text(), "tickroom listening") {
				once = true
				close(c.ready)
			}
		}
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	select {
	case <-c.ready:
	case <-time.After(20 * time.Second):
		t.Fatal("child server did not start")
	}
	return c
}

type member struct {
	conn    *websocket.Conn
	welcome state.Welcome
	mirror  *state.Mirror
}

// joinAt dials and reads until the welcome and the snapshot.
func joinAt(t *testing.T, base, room, query string) *member {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/ws/"+room+"?"+query, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	m := &member{conn: conn}
	for m.mirror == nil || !m.mirror.Synced {
		m.read(t)
	}
	return m
}

func (m *member) read(t *testing.T) int {
	t.Helper()
	_, b, err := m.conn.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	var head []msgpack.RawMessage
	_ = msgpack.Unmarshal(b, &head)
	var tag int
	_ = msgpack.Unmarshal(head[0], &tag)
	switch tag {
	case state.MsgWelcome:
		if err := msgpack.Unmarshal(head[1], &m.welcome); err != nil {
			t.Fatal(err)
		}
		s, _ := state.SchemaFromWire(m.welcome.Kinds)
		m.mirror = state.NewMirror(s)
	case state.MsgSnapshot, state.MsgDelta:
		if _, err := m.mirror.Apply(b); err != nil {
			t.Fatalf("apply: %v", err)
		}
	}
	return tag
}

// TestHandoffAcrossProcesses: a process stopped with SIGTERM and -handoff
// hands its rooms to the next process started with the same directory; the
// members reconnect with their tokens and keep their seats and entities.
func TestHandoffAcrossProcesses(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	dir := t.TempDir()
	args := []string{"-addr", addr, "-data-dir", filepath.Join(dir, "data"), "-handoff", filepath.Join(dir, "handoff"),
		"-recording-flush", "100ms", "-log-format", "json", "-shutdown-grace", "10s"}
	first := startChild(t, args...)

	res, err := http.Post(base+"/api/rooms", "application/json", strings.NewReader(`{"type":"arena","visibility":"unlisted"}`))
	if err != nil {
		t.Fatal(err)
	}
	var room struct{ ID string }
	_ = json.NewDecoder(res.Body).Decode(&room)
	res.Body.Close()
	a := joinAt(t, base, room.ID, "name=ann")
	b := joinAt(t, base, room.ID, "name=bo")
	for seq := 1; seq <= 10; seq++ {
		in, _ := msgpack.Marshal([]any{1, seq, map[string]float64{"dx": 1, "dy": 0}})
		if err := a.conn.WriteMessage(websocket.BinaryMessage, in); err != nil {
			t.Fatal(err)
		}
		a.read(t)
	}
	before := a.mirror.Tick

	stopped := time.Now()
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*member{a, b} {
		for {
			_, _, err := m.conn.ReadMessage()
			if ce, ok := err.(*websocket.CloseError); ok {
				if ce.Code != rooms.CloseRestart {
					t.Fatalf("close code %d, want 1012", ce.Code)
				}
				break
			} else if err != nil {
				t.Fatalf("connection ended without a close frame: %v", err)
			}
		}
	}
	if err := first.cmd.Wait(); err != nil {
		t.Fatalf("first process: %v", err)
	}

	startChild(t, args...)
	serving := time.Since(stopped)
	for _, m := range []*member{a, b} {
		w := m.welcome
		back := joinAt(t, base, room.ID, url.Values{"name": {w.Members[0].Name}, "token": {w.Token}}.Encode())
		bw := back.welcome
		if !bw.Resumed || bw.Member != w.Member || bw.Entity == nil || *bw.Entity != *w.Entity {
			t.Fatalf("resume after handoff: resumed %v member %d entity %v; want member %d entity %d",
				bw.Resumed, bw.Member, bw.Entity, w.Member, *w.Entity)
		}
		if back.mirror.Tick < before {
			t.Fatalf("the restored room is at tick %d, before the handoff's %d", back.mirror.Tick, before)
		}
		if back.mirror.Entities[*bw.Entity] == nil {
			t.Fatalf("the snapshot after the handoff lacks entity %d", *bw.Entity)
		}
		back.conn.Close()
	}
	t.Logf("handoff: SIGTERM to serving again %v (includes a process start), room resumed at tick >= %d",
		serving.Round(time.Millisecond), before)
	used, _ := filepath.Glob(filepath.Join(dir, "handoff", handoffFile+".used-*"))
	if len(used) != 1 {
		t.Fatalf("the handoff file was not marked used: %v", used)
	}
}

func FuzzDecodeHandoff(f *testing.F) {
	f.Add([]byte(`{"version":1,"written":"2026-01-01T00:00:00Z","rooms":[{"id":"r","type":"arena","public":true,"maxPlayers":4,` +
		`"createdAt":"2026-01-01T00:00:00Z","seed":1,"options":null,"tick":5,"nextMember":2,"recordingId":"x",` +
		`"seats":[{"member":1,"name":"a","token":"t"}],"chat":[]}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		doc, err := decodeHandoff(b)
		if err != nil {
			return
		}
		for _, r := range doc.Rooms {
			if r.ID == "" || r.RecordingID == "" || r.MaxPlayers < 1 {
				t.Fatalf("accepted an invalid room %+v", r)
			}
		}
	})
}
