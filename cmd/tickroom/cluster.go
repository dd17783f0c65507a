package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/nats-io/nats.go"

	"github.com/tickroom/tickroom/cluster"
	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/server"
)

// runClustered runs the node as part of a cluster (-nats): its rooms live
// in JetStream (directory, checkpoints, logs), rooms that other nodes run
// are joined through them, and orphaned rooms are taken over
// (docs/CLUSTER.md). -data-dir holds only the lock: one process per
// directory, as on a single node.
func runClustered(ctx context.Context, c *config, reg *rooms.Registry, log *slog.Logger) error {
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	advertise, err := advertised(c.cluster.advertise, ln.Addr())
	if err != nil {
		_ = ln.Close() // the error above is the one to report
		return err
	}
	var opts []nats.Option
	if c.cluster.creds != "" {
		opts = append(opts, nats.UserCredentials(c.cluster.creds))
	}
	if c.cluster.tlsCA != "" {
		opts = append(opts, nats.RootCAs(c.cluster.tlsCA))
	}
	if c.cluster.tlsCert != "" {
		opts = append(opts, nats.ClientCert(c.cluster.tlsCert, c.cluster.tlsKey))
	}
	var types []string
	for _, t := range reg.All() {
		types = append(types, t.Name)
	}
	node, err := cluster.Connect(ctx, cluster.Config{NATS: c.cluster.nats, Options: opts, Wait: c.cluster.wait, Prefix: c.cluster.prefix,
		Replicas: c.cluster.replicas, Addr: advertise, Name: c.cluster.name, LeaseTTL: c.cluster.leaseTTL, Types: types, Logger: log})
	if err != nil {
		_ = ln.Close() // as above
		return err
	}
	defer node.Close()
	log = log.With("node", node.ID())
	st := node.Store()
	c.rooms.Directory, c.rooms.Checkpoints, c.rooms.Owner, c.rooms.Logger = st, st, node, log
	if c.record {
		c.rooms.Logs = st
		c.server.Recordings = st.Recordings()
	}
	if c.server.LinkSecret == "" {
		// One secret for the whole cluster: a spectator link works on
		// every node, and after every restart.
		secret, err := st.Meta("link-secret", newSecret)
		if err != nil {
			_ = ln.Close() // as above
			return fmt.Errorf("cluster: %w", err)
		}
		c.server.LinkSecret = string(secret)
	}
	c.server.Cluster, c.server.Logger = node, log
	c.server.Collectors = append(c.server.Collectors, node.Collector())
	mgr := rooms.NewManager(reg, c.rooms)
	srv := server.New(mgr, c.server)
	node.Run(mgr)
	live, _ := mgr.Dormant()
	log.Info("cluster rooms", "asleep", live, "nodes", node.NodeCount(), "advertise", advertise)
	return serveUntilStopped(ctx, c, log, mgr, srv, ln, func(context.Context) {})
}

// advertised is the address other nodes and the API name this node by:
// -advertise, or the listener's address with this machine's hostname
// when it listens on every interface.
func advertised(flag string, a net.Addr) (string, error) {
	if flag != "" {
		if _, _, err := net.SplitHostPort(flag); err != nil {
			return "", fmt.Errorf("-advertise %q: want HOST:PORT: %w", flag, err)
		}
		return flag, nil
	}
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String(), nil
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, fmt.Sprint(tcp.Port)), nil
}
