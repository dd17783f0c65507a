package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	jsstore "github.com/tickroom/tickroom/rooms/store/jetstream"
)

// natsCluster is N nats-server processes on loopback, JetStream on, joined
// by routes when N > 1, each with its store under the run's temp dir. The
// cluster modes start one for the tickroom nodes to share; a separate
// process per server lets the run read NATS's CPU apart from tickroom's.
// Stop ends them (SIGTERM, then SIGKILL) and removes the dir.
type natsCluster struct {
	dir   string
	procs []*natsProc
}

type natsProc struct {
	name    string
	port    int
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
}

// natsConfig is a server's configuration file: client port and routes on
// 127.0.0.1, JetStream's file store in storeDir with limits that fit a
// shared 2-core machine.
func natsConfig(name string, port, routePort int, routes []int, storeDir string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server_name: %q\nlisten: \"127.0.0.1:%d\"\n", name, port)
	fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n  max_memory_store: 268435456\n  max_file_store: 4294967296\n}\n", storeDir)
	if routePort != 0 {
		var rs []string
		for _, r := range routes {
			rs = append(rs, fmt.Sprintf("%q", fmt.Sprintf("nats://127.0.0.1:%d", r)))
		}
		fmt.Fprintf(&b, "cluster {\n  name: \"tickroom-load\"\n  listen: \"127.0.0.1:%d\"\n  routes: [%s]\n}\n", routePort, strings.Join(rs, ", "))
	}
	return b.String()
}

// buildNATS builds the nats-server of the module's go.mod into dir (the
// module depends on it; no network needed once the module cache has it).
func buildNATS(ctx context.Context, dir string, stderr io.Writer) (string, error) {
	bin := filepath.Join(dir, "nats-server")
	fmt.Fprintf(stderr, "building github.com/nats-io/nats-server/v2 ...\n")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/nats-io/nats-server/v2")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("nats: go build github.com/nats-io/nats-server/v2 (run from the module, or pass -nats-bin): %w\n%s", err, out)
	}
	return bin, nil
}

// startNATS starts n servers from bin (built when empty) and waits until
// JetStream answers through each.
func startNATS(ctx context.Context, n int, bin string, stderr io.Writer) (*natsCluster, error) {
	dir, err := os.MkdirTemp("", "tickroom-load-nats-")
	if err != nil {
		return nil, fmt.Errorf("nats: temp dir: %w", err)
	}
	c := &natsCluster{dir: dir}
	if bin == "" {
		if bin, err = buildNATS(ctx, dir, stderr); err != nil {
			c.Stop()
			return nil, err
		}
	}
	ports, routePorts := make([]int, n), make([]int, n)
	for i := range n {
		if ports[i], err = freePort(); err == nil {
			routePorts[i], err = freePort()
		}
		if err != nil {
			c.Stop()
			return nil, err
		}
	}
	for i := range n {
		name := fmt.Sprintf("nats-%d", i)
		var routes []int
		rp := 0
		if n > 1 {
			rp = routePorts[i]
			for j := range n {
				if j != i {
					routes = append(routes, routePorts[j])
				}
			}
		}
		conf := filepath.Join(dir, name+".conf")
		if err := os.WriteFile(conf, []byte(natsConfig(name, ports[i], rp, routes, filepath.Join(dir, name))), 0o644); err != nil {
			c.Stop()
			return nil, fmt.Errorf("nats: write config: %w", err)
		}
		p := &natsProc{name: name, port: ports[i], exited: make(chan struct{}), logPath: filepath.Join(dir, name+".log")}
		logf, err := os.Create(p.logPath)
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("nats: log file: %w", err)
		}
		p.cmd = exec.Command(bin, "-c", conf)
		p.cmd.Stdout, p.cmd.Stderr = logf, logf
		p.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		err = p.cmd.Start()
		logf.Close() // the child holds its own descriptor
		if err != nil {
			c.Stop()
			return nil, fmt.Errorf("nats: start %s: %w", bin, err)
		}
		go func() { _ = p.cmd.Wait(); close(p.exited) }() // exit status is in its log
		c.procs = append(c.procs, p)
	}
	if err := c.waitReady(ctx, 30*time.Second); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// waitReady waits until JetStream answers through every server (in a
// cluster: routes up and a meta leader elected).
func (c *natsCluster) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for _, p := range c.procs {
		for {
			err := jsstore.Ready(p.url(), 1)
			if err == nil {
				break
			}
			select {
			case <-p.exited:
				return fmt.Errorf("nats: %s exited during start:\n%s", p.name, tailFile(p.logPath, 20))
			case <-ctx.Done():
				return ctx.Err()
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("nats: JetStream not ready at %s after %v: %v\n%s", p.url(), limit, err, tailFile(p.logPath, 20))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	// JetStream answering is not enough: a stream of N replicas can be
	// placed only once the meta leader sees every server online (a
	// tickroom node started before that exits with "no suitable peers
	// for placement"). Place one and delete it.
	for {
		err := jsstore.Ready(c.URLs(), len(c.procs))
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("nats: a stream of %d replicas cannot be placed after %v: %v", len(c.procs), limit, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (p *natsProc) url() string { return fmt.Sprintf("nats://127.0.0.1:%d", p.port) }

// URLs is every server's client URL, comma-separated (tickroom's -nats).
func (c *natsCluster) URLs() string {
	var us []string
	for _, p := range c.procs {
		us = append(us, p.url())
	}
	return strings.Join(us, ",")
}

// PIDs are the servers' process ids.
func (c *natsCluster) PIDs() []int {
	var out []int
	for _, p := range c.procs {
		out = append(out, p.cmd.Process.Pid)
	}
	return out
}

// Alive reports whether every server still runs.
func (c *natsCluster) Alive() bool {
	for _, p := range c.procs {
		select {
		case <-p.exited:
			return false
		default:
		}
	}
	return true
}

// Stop ends the servers this cluster started and removes its dir.
func (c *natsCluster) Stop() {
	for _, p := range c.procs {
		if p.cmd.Process != nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM) // fails only if it already exited
		}
	}
	for _, p := range c.procs {
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill() // as above
			<-p.exited
		}
	}
	if c.dir != "" {
		_ = os.RemoveAll(c.dir) // a temp dir; nothing to do if it fails
	}
}

// streamStats are a JetStream stream's totals as one server reports them
// (each of the R replicas stores as much).
type streamStats struct {
	Bytes    uint64
	Msgs     uint64
	Replicas int
}

// readStreamAt reads a stream's state through the NATS servers at urls.
func readStreamAt(ctx context.Context, urls, name string) (streamStats, error) {
	nc, err := nats.Connect(urls, nats.Timeout(2*time.Second))
	if err != nil {
		return streamStats{}, fmt.Errorf("nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return streamStats{}, fmt.Errorf("nats: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, name)
	if err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return streamStats{}, nil
		}
		return streamStats{}, fmt.Errorf("nats: stream %s: %w", name, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return streamStats{}, fmt.Errorf("nats: stream %s info: %w", name, err)
	}
	return streamStats{Bytes: info.State.Bytes, Msgs: info.State.Msgs, Replicas: info.Config.Replicas}, nil
}

// tailFile returns the last lines of a file.
func tailFile(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}
