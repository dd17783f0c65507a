package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms/tape"
)

// TestMain lets a test start this binary's real main as a child process.
func TestMain(m *testing.M) {
	if os.Getenv("TICKROOM_TEST_CHILD") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestKill9MidRecordingLeavesAReadableTape: a server killed with SIGKILL
// while recording leaves a tape readable up to its last flushed frame, and
// that part re-runs exactly (verify).
func TestKill9MidRecordingLeavesAReadableTape(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-addr", "127.0.0.1:0", "-data-dir", dir, "-recording-flush", "100ms",
		"-keyframe-interval", "500ms", "-log-format", "json")
	cmd.Env = append(os.Environ(), "TICKROOM_TEST_CHILD=1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`"open":"(http://[^"]+)/"`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var base string
	select {
	case base = <-addr:
	case <-time.After(20 * time.Second):
		t.Fatal("the child server did not start")
	}
	res, err := http.Post(base+"/api/rooms", "application/json", strings.NewReader(`{"type":"arena-bench"}`))
	if err != nil {
		t.Fatal(err)
	}
	var room struct{ WSURL string }
	_ = json.NewDecoder(res.Body).Decode(&room)
	res.Body.Close()
	conn, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+room.WSURL+"?name=k", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deltas := 0
	for seq := uint64(1); deltas < 40; {
		_, msg, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if len(msg) > 1 && msg[1] == 3 { // a delta: [3, ...]
			deltas++
			in, _ := msgpack.Marshal([]any{1, seq, map[string]float64{"dx": 1, "dy": 0.25}})
			seq++
			if err := conn.WriteMessage(websocket.BinaryMessage, in); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()

	tapes, _ := filepath.Glob(filepath.Join(dir, "recordings", "*"+tape.Ext))
	if len(tapes) != 1 {
		t.Fatalf("found %d tapes, want 1", len(tapes))
	}
	r, err := tape.Open(tapes[0])
	if err != nil {
		t.Fatalf("open the tape of a killed server: %v", err)
	}
	info := r.Info()
	r.Close()
	if info.Clean {
		t.Fatal("a killed server's tape claims a clean close")
	}
	if info.LastTick < 10 {
		t.Fatalf("tape holds ticks up to %d, want >= 10 after 40 deltas with 100 ms flushes", info.LastTick)
	}
	r, _ = tape.Open(tapes[0])
	if _, err := r.Seek(info.LastTick); err != nil {
		t.Fatalf("seek to the last tick %d: %v", info.LastTick, err)
	}
	r.Close()
	reg, _ := builtinTypes()
	var out bytes.Buffer
	if err := verifyTape(tapes[0], reg, &out); err != nil {
		t.Fatalf("verify the killed server's tape: %v\n%s", err, out.String())
	}
	t.Logf("killed after 40 deltas: tape readable to tick %d (%d bytes); %s", info.LastTick, info.ValidSize, strings.TrimSpace(out.String()))
}
