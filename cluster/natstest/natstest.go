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
}

// Start starts n servers (1, or 3 for a JetStream cluster with R3 streams)
// and stops them when the test ends.
func Start(t testing.TB, n int) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("natstest: %d servers", n)
	}
	c := &Cluster{t: t}
	clientPorts, routePorts := freePorts(t, n), freePorts(t, n)
	base := t.TempDir()
	for i := range n {
		o := &server.Options{
			ServerName: fmt.Sprintf("nats-%d", i),
			Host:       "127.0.0.1",
			Port:       clientPorts[i],
			JetStream:  true,
			StoreDir:   fmt.Sprintf("%s/nats-%d", base, i),
			NoLog:      true,
			NoSigs:     true,
			// A test's streams are small: keep JetStream's reservations
			// small too, so that three servers fit in any CI machine.
			JetStreamMaxMemory: 256 << 20,
			JetStreamMaxStore:  1 << 30,
		}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "tickroom-test", Host: "127.0.0.1", Port: routePorts[i]}
			for j := range n {
				if j != i {
					o.Routes = append(o.Routes, server.RoutesFromStr(fmt.Sprintf("nats://127.0.0.1:%d", routePorts[j]))...)
				}
			}
		}
		c.opts = append(c.opts, o)
		c.servers = append(c.servers, nil)
	}
	for i := range n {
		c.start(i)
	}
	t.Cleanup(c.Shutdown)
	c.WaitReady()
	return c
}

func (c *Cluster) start(i int) {
	c.t.Helper()
	o := *c.opts[i]
	s, err := server.NewServer(&o)
	if err != nil {
		c.t.Fatalf("natstest: server %d: %v", i, err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		c.t.Fatalf("natstest: server %d not ready", i)
	}
	c.servers[i] = s
}

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
