// Package natstest starts real NATS servers with JetStream inside a test
// process: one server, or a cluster of three joined by routes, each with
// its own store under the test's temporary directory. Tests of the
// JetStream stores and of the tickroom cluster use it, so that `make test`
// needs no NATS installed by hand.
package natstest

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	jsstore "github.com/tickroom/tickroom/rooms/store/jetstream"
)

// Cluster is a set of running NATS servers.
type Cluster struct {
	t       testing.TB
	opts    []*server.Options
	servers []*server.Server
	logs    []*ringLog
}

// startAttempts is how many times Start picks fresh ports when a server
// does not come up: a port found free can be taken by another process
// (another test package) before the server listens on it.
const startAttempts = 3

// readyWait bounds a server's start: it is ready in about 25 ms on a quiet
// machine; the rest is room for a loaded CI machine.
const readyWait = 20 * time.Second

// Start starts n servers (1, or 3 for a JetStream cluster with R3 streams)
// and stops them when the test ends.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("natstest: %d servers", n)
	}
	c := &Cluster{t: t}
	t.Cleanup(c.Shutdown)
	base := t.TempDir()
	var err error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		c.configure(base, attempt, pickPorts(t, 2*n))
		if err = c.startAll(); err == nil {
			break
		}
		c.Shutdown()
		t.Logf("natstest: attempt %d of %d: %v", attempt, startAttempts, err)
	}
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	c.WaitReady()
	return c
}

// configure sets the options of every server: ports[:n] are the client
// ports, ports[n:] the route ports; each attempt has its own stores.
func (c *Cluster) configure(base string, attempt int, ports []int) {
	n := len(ports) / 2
	c.opts, c.servers, c.logs = nil, make([]*server.Server, n), make([]*ringLog, n)
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("nats-%d", i),
			Host:       "127.0.0.1",
			Port:       ports[i],
			JetStream:  true,
			StoreDir:   fmt.Sprintf("%s/attempt-%d/nats-%d", base, attempt, i),
			NoSigs:     true,
			// A test's streams are small: keep JetStream's reservations
			// small too, so that three servers fit in any CI machine.
			JetStreamMaxMemory: 256 << 20,
			JetStreamMaxStore:  1 << 30,
		}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "tickroom-test", Host: "127.0.0.1", Port: ports[n+i]}
			for j := range n {
				if j != i {
					o.Routes = append(o.Routes, server.RoutesFromStr(fmt.Sprintf("nats://127.0.0.1:%d", ports[n+j]))...)
				}
			}
		}
		c.opts = append(c.opts, o)
	}
}

func (c *Cluster) startAll() error {
	for i := range c.opts {
		if err := c.startServer(i); err != nil {
			return err
		}
	}
	return nil
}

// startServer starts server i and waits until it listens. Its log is kept
// in memory (the server writes nothing to the test's output) and shown
// when it fails to start.
func (c *Cluster) startServer(i int) error {
	o := *c.opts[i]
	s, err := server.NewServer(&o)
	if err != nil {
		return fmt.Errorf("server %d: %v", i, err)
	}
	c.logs[i] = &ringLog{}
	s.SetLoggerV2(c.logs[i], false, false, false)
	go s.Start()
	c.servers[i] = s // set before waiting, so that a failed start is shut down
	// A listener that cannot bind logs a fatal error and never becomes
	// ready: stop waiting at once then.
	for deadline := time.Now().Add(readyWait); time.Now().Before(deadline) && !c.logs[i].fatal(); {
		if s.ReadyForConnections(100 * time.Millisecond) {
			return nil
		}
	}
	return fmt.Errorf("server %d (client port %d, route port %d) not ready; its log:\n%s",
		i, o.Port, o.Cluster.Port, c.logs[i])
}

func (c *Cluster) start(i int) {
	c.t.Helper()
	if err := c.startServer(i); err != nil {
		c.t.Fatalf("natstest: %v", err)
	}
}

// ringLog keeps a server's last log lines. Its Fatalf records, unlike the
// server's own logger, which exits the process.
type ringLog struct {
	mu      sync.Mutex
	lines   []string
	fataled bool
}

// fatal says whether the server logged a fatal error.
func (l *ringLog) fatal() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fataled
}

const ringLogLines = 40

func (l *ringLog) add(level, format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == ringLogLines {
		l.lines = l.lines[1:]
	}
	l.lines = append(l.lines, level+" "+fmt.Sprintf(format, v...))
}

func (l *ringLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return "\t" + strings.Join(l.lines, "\n\t")
}

func (l *ringLog) Noticef(format string, v ...any) { l.add("[INF]", format, v...) }
func (l *ringLog) Warnf(format string, v ...any)   { l.add("[WRN]", format, v...) }
func (l *ringLog) Fatalf(format string, v ...any) {
	l.add("[FTL]", format, v...)
	l.mu.Lock()
	l.fataled = true
	l.mu.Unlock()
}
func (l *ringLog) Errorf(format string, v ...any) { l.add("[ERR]", format, v...) }
func (l *ringLog) Debugf(string, ...any)          {}
func (l *ringLog) Tracef(string, ...any)          {}

// WaitReady waits until JetStream answers through every running server
// (in a cluster: a meta leader is elected and the servers are routed).
func (c *Cluster) WaitReady() {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range c.servers {
		if s == nil {
			continue
		}
		for {
			err := jsstore.Ready(s.ClientURL(), c.Replicas())
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("natstest: JetStream not ready at %s: %v", s.ClientURL(), err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// URL is every running server's client URL, comma-separated: what
// tickroom's -nats takes.
func (c *Cluster) URL() string {
	var urls []string
	for _, s := range c.servers {
		if s != nil {
			urls = append(urls, s.ClientURL())
		}
	}
	return strings.Join(urls, ",")
}

// Replicas is the stream replication a test should ask for: 3 in a cluster.
func (c *Cluster) Replicas() int {
	if len(c.servers) >= 3 {
		return 3
	}
	return 1
}

// Kill stops server i at once (its store stays, for Restart).
func (c *Cluster) Kill(i int) {
	if s := c.servers[i]; s != nil {
		s.Shutdown()
		s.WaitForShutdown()
		c.servers[i] = nil
	}
}

// Restart starts server i again on its port and store.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	if c.servers[i] == nil {
		c.start(i)
	}
}

// Shutdown stops every server.
func (c *Cluster) Shutdown() {
	for i := range c.servers {
		c.Kill(i)
	}
}

// pickPorts is freePorts; a test replaces it to hand out a taken port.
var pickPorts = freePorts

// freePorts returns n loopback TCP ports free right now.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ls []net.Listener
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("natstest: free port: %v", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		_ = l.Close() // only its port number was wanted
	}
	return ports
}
