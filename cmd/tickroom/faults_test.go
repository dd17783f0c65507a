package main

import (
	"bufio"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/tape"
)

// Faults of the disk under durable rooms, with real processes and files.

// TestDamagedLogTailWakesAtTheLastGoodTick: a crash, then bytes of the log's
// tail go bad: the next process cuts the tail at its last good frame, logs
// where, and the room wakes there; its member resumes.
func TestDamagedLogTailWakesAtTheLastGoodTick(t *testing.T) {
	addr := freeAddr(t)
	base := "http://" + addr
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"-addr", addr, "-data-dir", data, "-recording-flush", "50ms", "-log-format", "json", "-checkpoint-interval", "1h"}
	proc := startChild(t, args...)
	id := createRoom(t, base, `{"type":"arena-bench"}`)
	m := joinAt(t, base, id, "name=ann")
	for seq := 1; seq <= 40; seq++ {
		m.send(t, seq, map[string]float64{"dx": 1, "dy": 0.5})
	}
	m.ticks(t, 6)
	proc.stop(t, syscall.SIGKILL)

	tapes, _ := filepath.Glob(filepath.Join(data, "recordings", "*"+tape.Ext))
	if len(tapes) != 1 {
		t.Fatalf("%d tapes, want 1", len(tapes))
	}
	b, err := os.ReadFile(tapes[0])
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-300] ^= 0xff // a byte of the last few frames goes bad
	if err := os.WriteFile(tapes[0], b, 0o644); err != nil {
		t.Fatal(err)
	}

	next := startChild(t, args...)
	if !next.logged("log was damaged", "offset", id) {
		t.Fatal("the damaged tail was not logged with its offset")
	}
	back := joinAt(t, base, id, url.Values{"name": {"ann"}, "token": {m.welcome.Token}}.Encode())
	if !back.welcome.Resumed || *back.welcome.Entity != *m.welcome.Entity {
		t.Fatalf("resume after the damage: %+v", back.welcome)
	}
	if back.mirror.Tick >= m.mirror.Tick+1000 || back.mirror.Tick == 0 {
		t.Fatalf("woke at tick %d (the member last saw %d)", back.mirror.Tick, m.mirror.Tick)
	}
}

// smallDisk mounts a tmpfs of size bytes for the test, or skips the test
// where this machine cannot (mounting needs root).
func smallDisk(t *testing.T, size int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+strconv.Itoa(size), "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a small tmpfs for a full disk here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the disk is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			return
		}
	}
}

// metric reads one sample of /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return -1
}

// TestFullAndReadOnlyDiskKeepRoomsRunning: a data directory that fills up
// under a live board: the room keeps running for its members (their
// shapes keep coming), the failed checkpoints are counted, nothing
// half-written is ever read back: once the disk has room again a restart
// brings back every shape. Then a read-only data directory at start is a
// clear error.
func TestFullAndReadOnlyDiskKeepRoomsRunning(t *testing.T) {
	disk := smallDisk(t, 4<<20)
	addr := freeAddr(t)
	base := "http://" + addr
	args := []string{"-addr", addr, "-data-dir", filepath.Join(disk, "data"), "-recording-flush", "50ms", "-log-format", "json",
		"-checkpoint-interval", "100ms", "-shutdown-grace", "10s"}
	proc := startChild(t, args...)
	id := createRoom(t, base, `{"type":"board"}`)
	m := joinAt(t, base, id, "name=ann")
	seq := 0
	draw := func() {
		t.Helper()
		seq++
		n := len(shapes(m.mirror))
		m.send(t, seq, map[string]any{"op": "create", "shape": seq % 2, "x": 20 * seq, "y": 300, "w": 10, "h": 10, "color": seq})
		m.until(t, func() bool { return len(shapes(m.mirror)) > n })
		if got := len(shapes(m.mirror)); got != n+1 {
			t.Fatalf("shape %d: %d shapes, want %d: the room stopped taking ops", seq, got, n+1)
		}
	}
	draw()
	filler := filepath.Join(disk, "filler")
	fill(t, filler)
	for range 5 {
		draw()
		m.ticks(t, 3) // a checkpoint or two fail meanwhile
	}
	if metric(t, base, "tickroom_checkpoint_failures_total") < 1 {
		t.Fatal("no checkpoint failure counted on a full disk")
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	want := shapes(m.mirror)
	proc.stop(t, syscall.SIGTERM)
	m.closedWith(t, rooms.CloseRestart)

	again := startChild(t, args...)
	back := joinAt(t, base, id, url.Values{"name": {"ann"}, "token": {m.welcome.Token}}.Encode())
	if got := shapes(back.mirror); len(got) != len(want) {
		t.Fatalf("after the disk came back and a restart: %d shapes, want %d", len(got), len(want))
	}
	again.stop(t, syscall.SIGTERM)

	// A data directory that is read-only at start: a clear error, not a
	// server that would lose what it is given.
	if out, err := exec.Command("mount", "-o", "remount,ro", disk).CombinedOutput(); err != nil {
		t.Fatalf("remount read-only: %v %s", err, out)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "TICKROOM_TEST_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is not writable") {
		t.Fatalf("start on a read-only data dir: %v\n%s", err, out)
	}
	t.Logf("read-only data dir: %s", strings.TrimSpace(string(out[max(0, len(out)-300):])))
}
