package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// serverFlags choose the server a mode runs against: a running one (-url,
// with -pid for its CPU and memory) or a child it starts and stops itself.
type serverFlags struct {
	url      string
	pid      int
	kind     string
	bin      string
	extra    string
	maxRooms int
	keepLog  bool
	modeArgs []string // flags the mode itself needs on a child server
}

func (f *serverFlags) register(fs *flag.FlagSet, defaultKind string) {
	fs.StringVar(&f.url, "url", "", "base URL of a running server (http://127.0.0.1:PORT); empty: start one as a child process")
	fs.IntVar(&f.pid, "pid", 0, "with -url: the server's process id, for its CPU and memory from /proc (0: not measured)")
	fs.StringVar(&f.kind, "server", defaultKind, "without -url, which server to start: tickroom (go build ./cmd/tickroom) or embedded (this binary's serve subcommand: the same server packages plus the idle-bench room type and pprof)")
	fs.StringVar(&f.bin, "server-bin", "", "without -url: run this tickroom binary instead of building one")
	fs.StringVar(&f.extra, "server-args", "", "without -url: extra flags for the child server, space-separated")
	fs.IntVar(&f.maxRooms, "max-rooms", 10000, "without -url: the child server's -max-rooms")
	fs.BoolVar(&f.keepLog, "keep-server-log", false, "without -url: keep the child server's log file and print its path")
}

// target is the server under test.
type target struct {
	URL      string // http://host:port, no trailing slash
	PID      int    // 0 when unknown
	PprofURL string // child servers only: base URL of /debug/pprof

	addr    string // child: listen here (empty: a free port)
	cmd     *exec.Cmd
	dir     string
	logPath string
	keepLog bool
	exited  chan struct{}
}

// startTarget returns the server to drive: the one at -url, or a child
// started on a free loopback port. Stop must be called either way.
func startTarget(ctx context.Context, f *serverFlags, stderr io.Writer) (*target, error) {
	if f.url != "" {
		u := strings.TrimSuffix(f.url, "/")
		if err := checkLoopback(u); err != nil {
			return nil, err
		}
		return &target{URL: u, PID: f.pid}, nil
	}
	dir, err := os.MkdirTemp("", "tickroom-load-")
	if err != nil {
		return nil, fmt.Errorf("server: temp dir: %w", err)
	}
	t := &target{dir: dir, logPath: filepath.Join(dir, "server.log"), keepLog: f.keepLog, exited: make(chan struct{})}
	if err := t.start(ctx, f, stderr); err != nil {
		t.Stop()
		return nil, err
	}
	return t, nil
}

func (t *target) start(ctx context.Context, f *serverFlags, stderr io.Writer) error {
	addr := t.addr
	if addr == "" {
		port, err := freePort()
		if err != nil {
			return err
		}
		addr = fmt.Sprintf("127.0.0.1:%d", port)
	}
	var err error
	args := []string{"-addr", addr, "-max-rooms", fmt.Sprint(f.maxRooms), "-log-level", "warn"}
	// pprof on; per-address abuse limits off: every load client comes from
	// the same few loopback addresses (the TCP cap per address among them:
	// at its default of 256 the server resets the 257th connection). Rooms
	// and recordings (on by default, as shipped) go to the temp dir and are
	// removed with it.
	stock := []string{"-pprof", "-room-create-rate", "-1", "-sessions-per-ip", "-1", "-conns-per-ip", "-1",
		"-data-dir", filepath.Join(t.dir, "data")}
	var bin string
	switch {
	case f.bin != "":
		bin = f.bin
		args = append(args, stock...)
	case f.kind == "embedded":
		if bin, err = os.Executable(); err != nil {
			return fmt.Errorf("server: find this binary: %w", err)
		}
		args = append([]string{"serve"}, args...)
	case f.kind == "tickroom":
		args = append(args, stock...)
		bin = filepath.Join(t.dir, "tickroom")
		fmt.Fprintf(stderr, "building github.com/tickroom/tickroom/cmd/tickroom ...\n")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/tickroom/tickroom/cmd/tickroom")
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("server: go build ./cmd/tickroom (run from the module, or pass -server-bin): %w\n%s", err, out)
		}
	default:
		return fmt.Errorf("server: -server %q: want tickroom or embedded", f.kind)
	}
	args = append(append(args, f.modeArgs...), strings.Fields(f.extra)...)
	logf, err := os.Create(t.logPath)
	if err != nil {
		return fmt.Errorf("server: log file: %w", err)
	}
	defer logf.Close() // the child holds its own descriptor
	t.cmd = exec.Command(bin, args...)
	t.cmd.Stdout, t.cmd.Stderr = logf, logf
	// The child dies with us even if we are killed; it inherits our raised
	// RLIMIT_NOFILE.
	t.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := t.cmd.Start(); err != nil {
		return fmt.Errorf("server: start %s: %w", bin, err)
	}
	go func() { _ = t.cmd.Wait(); close(t.exited) }() // exit status is in the log
	t.PID = t.cmd.Process.Pid
	t.URL = "http://" + addr
	t.PprofURL = t.URL + "/debug/pprof"
	if err := t.waitHealthy(ctx, 30*time.Second); err != nil {
		return fmt.Errorf("%w\n%s", err, t.logTail(20))
	}
	return nil
}

func (t *target) waitHealthy(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		select {
		case <-t.exited:
			return errors.New("server: child exited during start")
		case <-ctx.Done():
			return fmt.Errorf("server: wait for start: %w", ctx.Err())
		default:
		}
		res, err := http.Get(t.URL + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server: not healthy after %v: %v", limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Alive reports whether a child server is still running (always true for -url).
func (t *target) Alive() bool {
	if t.cmd == nil {
		return true
	}
	select {
	case <-t.exited:
		return false
	default:
		return true
	}
}

// Kill ends a child server with SIGKILL, as a crash would, and waits
// until it is gone; its temp dir stays until Stop.
func (t *target) Kill() {
	if t.cmd == nil || t.cmd.Process == nil {
		return
	}
	_ = t.cmd.Process.Kill() // fails only if it already exited
	<-t.exited
}

// Stop ends a child server (SIGTERM, then SIGKILL after 10 s) and removes
// its temp dir. It does nothing for a server given by -url.
func (t *target) Stop() {
	if t.cmd != nil && t.cmd.Process != nil {
		_ = t.cmd.Process.Signal(syscall.SIGTERM) // fails only if it already exited
		select {
		case <-t.exited:
		case <-time.After(10 * time.Second):
			_ = t.cmd.Process.Kill() // as above
			<-t.exited
		}
	}
	if t.dir != "" {
		if t.keepLog {
			kept := filepath.Join(os.TempDir(), fmt.Sprintf("tickroom-load-server-%d.log", t.PID))
			if err := os.Rename(t.logPath, kept); err == nil {
				fmt.Fprintf(os.Stderr, "server log kept at %s\n", kept)
			}
		}
		_ = os.RemoveAll(t.dir) // a temp dir; nothing to do if it fails
	}
}

// logWarnings returns the number of warning and error lines in a child
// server's log so far, and the first few.
func (t *target) logWarnings(keep int) (int, []string) {
	if t.logPath == "" {
		return 0, nil
	}
	fh, err := os.Open(t.logPath)
	if err != nil {
		return 0, nil
	}
	defer fh.Close()
	n, first := 0, []string{}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			n++
			if len(first) < keep {
				first = append(first, line)
			}
		}
	}
	return n, first
}

func (t *target) logTail(lines int) string {
	b, err := os.ReadFile(t.logPath)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("server: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// checkLoopback refuses servers outside 127.0.0.0/8: this tool floods.
func checkLoopback(base string) error {
	rest, ok := strings.CutPrefix(base, "http://")
	if !ok {
		return fmt.Errorf("-url %q: want http://127.x.x.x:PORT", base)
	}
	host, _, err := net.SplitHostPort(strings.SplitN(rest, "/", 2)[0])
	if err != nil {
		return fmt.Errorf("-url %q: %w", base, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() || ip.To4() == nil {
		return fmt.Errorf("-url %q: only 127.0.0.0/8 is allowed", base)
	}
	return nil
}
