package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/rooms/fieldbench"
	"github.com/tickroom/tickroom/rooms/idlebench"
	"github.com/tickroom/tickroom/server"
)

// runServe is the serve subcommand: the server packages wired as
// cmd/tickroom wires them, plus idle-bench, with pprof on and the per-address
// abuse limits off (every load client comes from the same few addresses),
// the per-address TCP cap among them.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (loopback only)")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn, error")
	var rc rooms.Config
	var sc server.Config
	fs.IntVar(&rc.MaxRooms, "max-rooms", 10000, "most rooms open at once")
	fs.DurationVar(&rc.IdleTimeout, "room-idle", 60*time.Second, "close a room after it has been empty this long")
	fs.IntVar(&sc.SendQueue, "send-queue", 128, "messages queued per connection (as tickroom's -send-queue)")
	fs.DurationVar(&sc.PingPeriod, "ping-period", 20*time.Second, "how often to ping (as tickroom's -ping-period)")
	fs.DurationVar(&sc.PongWait, "pong-wait", 30*time.Second, "drop a connection silent for this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, _, err := net.SplitHostPort(*addr)
	if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("serve: -addr %q: want a loopback address", *addr)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("serve: -log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	reg := rooms.NewRegistry()
	for _, t := range []*rooms.Type{arena.Type, board.Type, arenabench.Type, fieldbench.Type, fieldbench.TypeNoViews, idlebench.Type} {
		if err := reg.Register(t); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	rc.Logger, sc.Logger = log, log
	sc.Pprof, sc.RoomCreateRate, sc.SessionsPerIP, sc.ConnsPerIP = true, -1, -1, -1
	mgr := rooms.NewManager(reg, rc)
	srv := server.New(mgr, sc)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: listen on %s: %w", *addr, err)
	}
	ln = srv.Listener(ln)
	httpSrv := srv.HTTPServer() // tickroom's timeouts; the per-address cap is off above
	fmt.Fprintf(stdout, "tickroom-load serve: listening on %s\n", ln.Addr())
	return server.Serve(ctx, httpSrv, srv, mgr.Shutdown, 5*time.Second, func() error { return httpSrv.Serve(ln) })
}
