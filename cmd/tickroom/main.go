// Command tickroom runs a tickroom node: the HTTP API, the WebSocket rooms
// and the embedded browser client.
//
//	go run ./cmd/tickroom            # listens on :8080
//	go run ./cmd/tickroom -help      # every setting, with its TICKROOM_* variable
//	go run ./cmd/tickroom verify T   # re-run a recording and check it tick by tick
//	go run ./cmd/tickroom gen ts     # TypeScript declarations of the room types
//	go run ./cmd/tickroom config defaults  # every setting with its default (TOML, for -config)
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/rooms/fieldbench"
	"github.com/tickroom/tickroom/rooms/store/sqlite"
	"github.com/tickroom/tickroom/rooms/tape"
	"github.com/tickroom/tickroom/server"
)

// subcommands run instead of the server: `tickroom NAME ARGS...`.
var subcommands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"verify": runVerify,
	"gen":    runGen,
	"config": runConfig,
}

func main() {
	if len(os.Args) > 1 && subcommands[os.Args[1]] != nil {
		if err := subcommands[os.Args[1]](os.Args[2:], os.Stdout, os.Stderr); err != nil {
			if !errors.Is(err, flag.ErrHelp) {
				fmt.Fprintln(os.Stderr, "tickroom:", err)
			}
			os.Exit(1)
		}
		return
	}
	if err := run(context.Background(), os.Args[1:], os.Getenv, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "tickroom:", err)
		os.Exit(1)
	}
}

// envName is the environment variable of a flag: -seat-grace is TICKROOM_SEAT_GRACE.
func envName(flag string) string {
	return "TICKROOM_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// config is every setting of the binary.
type config struct {
	configFile string
	addr       string
	logLevel   string
	logFormat  string
	grace      time.Duration
	rooms      rooms.Config
	server     server.Config
	origins    string
	tlsCert    string
	tlsKey     string

	dataDir       string
	handoffDir    string // no longer used: rooms are durable in dataDir
	dormantMaxAge string
	record        bool
	recMaxBytes   int64
	recMaxAge     time.Duration
	flushInterval time.Duration

	cluster clusterFlags
}

// clusterFlags are the settings of a node in a cluster (-nats).
type clusterFlags struct {
	nats      string
	creds     string
	tlsCA     string
	tlsCert   string
	tlsKey    string
	wait      time.Duration
	prefix    string
	replicas  int
	name      string
	advertise string
	leaseTTL  time.Duration
}

// parseFlags reads the settings: each flag from the command line, else its
// TICKROOM_* variable, else the -config file, else its default (settle,
// config.go).
func parseFlags(args []string, getenv func(string) string, out io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("tickroom", flag.ContinueOnError)
	fs.SetOutput(out)
	readLimit, recMaxMiB := defineFlags(fs, c)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := settle(fs, getenv); err != nil {
		return nil, err
	}
	return finish(fs, c, *readLimit, *recMaxMiB)
}

// defineFlags defines every setting on fs, storing into c; the two it
// returns are converted by finish.
func defineFlags(fs *flag.FlagSet, c *config) (readLimitBytes, recordingsMaxMiB *int) {
	str := func(p *string, name, def, usage string) {
		fs.StringVar(p, name, def, usage+" (env "+envName(name)+")")
	}
	dur := func(p *time.Duration, name string, def time.Duration, usage string) {
		fs.DurationVar(p, name, def, usage+" (env "+envName(name)+")")
	}
	num := func(p *int, name string, def int, usage string) {
		fs.IntVar(p, name, def, usage+" (env "+envName(name)+")")
	}
	flt := func(p *float64, name string, def float64, usage string) {
		fs.Float64Var(p, name, def, usage+" (env "+envName(name)+")")
	}
	boolean := func(p *bool, name string, def bool, usage string) {
		fs.BoolVar(p, name, def, usage+" (env "+envName(name)+")")
	}
	str(&c.configFile, configFlag, "", "read settings from this TOML file, each flag a key of the same name (tickroom config defaults prints them all); a flag beats its env variable, which beats the file")
	var readLimit, recMaxMiB int
	str(&c.addr, "addr", ":8080", "listen address")
	str(&c.tlsCert, "tls-cert", "", "TLS certificate file (PEM); with -tls-key serves HTTPS and WSS")
	str(&c.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	str(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	str(&c.logFormat, "log-format", "text", "log format: text or json")
	dur(&c.grace, "shutdown-grace", 5*time.Second, "how long a shutdown may take")
	str(&c.origins, "allowed-origins", "", "comma-separated extra origins allowed to open WebSockets (same origin is always allowed)")
	num(&c.rooms.MaxRooms, "max-rooms", 1000, "most rooms open at once")
	dur(&c.rooms.IdleTimeout, "room-idle", 60*time.Second, "a room empty this long goes to sleep (it wakes on the next join; one that cannot sleep closes)")
	dur(&c.rooms.SeatGrace, "seat-grace", 30*time.Second, "how long a dropped member's seat is held for a reconnect")
	dur(&c.rooms.SlowConsumerGrace, "slow-grace", 2*time.Second, "how long a member may stay too slow to take a snapshot before it is closed")
	num(&c.rooms.ChatMaxLen, "chat-max-len", 500, "longest chat message in characters")
	num(&c.rooms.NameMaxLen, "name-max-len", 32, "longest display name in characters")
	num(&readLimit, "read-limit", 8192, "largest client frame in bytes")
	boolean(&c.server.IOUring, "io-uring", false, "write a room's tick to its members with one io_uring submission instead of a write(2) each (Linux; falls back to write(2))")
	num(&c.server.SendQueue, "send-queue", 128, "messages queued per connection before it gets a snapshot instead")
	dur(&c.server.WriteWait, "write-wait", 5*time.Second, "how long a write to a client that is not reading may wait (per 64 KiB) before it is cut off")
	dur(&c.server.PongWait, "pong-wait", 30*time.Second, "drop a connection silent for this long")
	dur(&c.server.PingPeriod, "ping-period", 20*time.Second, "how often to ping")
	flt(&c.server.InputRate, "input-rate", 60, "inputs per second per connection")
	num(&c.server.InputBurst, "input-burst", 60, "input burst per connection")
	flt(&c.server.ChatRate, "chat-rate", 2, "chat messages per second per connection")
	num(&c.server.ChatBurst, "chat-burst", 5, "chat burst per connection")
	boolean(&c.server.Pprof, "pprof", false, "serve net/http/pprof under /debug/pprof/")
	str(&c.dataDir, "data-dir", "tickroom-data", "directory for the rooms (DIR/rooms.db: directory and checkpoints) and their recordings (DIR/recordings)")
	str(&c.handoffDir, "handoff", "", "deprecated and ignored: every restart keeps the rooms in -data-dir")
	dur(&c.rooms.CheckpointInterval, "checkpoint-interval", 30*time.Second, "how often a running room stores a checkpoint (a wake after a crash re-runs at most this much of its log)")
	str(&c.dormantMaxAge, "dormant-max-age", "", "how long a sleeping room is kept after its last activity: DURATION for every type, TYPE=DURATION,... per type, 0 keeps them; empty: each type's default ("+typeAges()+")")
	boolean(&c.record, "record", true, "record every room unless its creator asks not to")
	num(&recMaxMiB, "recordings-max-mib", 1024, "total size recordings may take, in MiB; the oldest finished ones go first (0: no cap)")
	dur(&c.recMaxAge, "recordings-max-age", 7*24*time.Hour, "delete finished recordings older than this (0: keep)")
	dur(&c.rooms.KeyframeInterval, "keyframe-interval", 5*time.Second, "how often a recording stores a full snapshot (seek points)")
	dur(&c.flushInterval, "recording-flush", time.Second, "how often recordings are flushed to disk (a crash loses at most this much)")
	flt(&c.server.RoomCreateRate, "room-create-rate", 30, "rooms one address may create per minute (-1: no limit)")
	num(&c.server.RoomCreateBurst, "room-create-burst", 10, "room creation burst per address")
	num(&c.server.SessionsPerIP, "sessions-per-ip", 100, "WebSocket sessions one address may hold (-1: no limit)")
	num(&c.server.ConnsPerIP, "conns-per-ip", 0, "TCP connections one address may hold, HTTP and WebSocket alike (0: 256, or no limit with -trust-proxy, where every connection is the proxy's; -1: no limit)")
	dur(&c.server.HeaderTimeout, "http-header-timeout", 10*time.Second, "time a client may take to send a request's headers (negative: no limit)")
	dur(&c.server.BodyTimeout, "http-body-timeout", 10*time.Second, "time a request's body may take to arrive (negative: no limit; WebSocket sessions are not affected)")
	dur(&c.server.IdleTimeout, "http-idle-timeout", 60*time.Second, "close a kept-alive HTTP connection idle this long (negative: never)")
	num(&c.server.MaxHeaderBytes, "max-header-bytes", 16<<10, "largest request header in bytes, plus net/http's 4 KiB slack; larger gets 431")
	boolean(&c.server.TrustProxy, "trust-proxy", false, "take client addresses from X-Forwarded-For (only behind a proxy)")
	str(&c.server.JWTSecret, "jwt-secret", "", "require an HS256 JWT (?auth=) signed with this secret on every player join; sub is the player id, name the display name")
	str(&c.server.AdminToken, "admin-token", "", "token that turns on the admin API and monitor page (empty: off)")
	str(&c.server.LinkSecret, "link-secret", "", "secret that signs spectator share links (empty: random per process)")
	dur(&c.server.SpectateLinkTTL, "spectate-link-ttl", 0, "how long spectator links stay valid (0: no expiry)")
	str(&c.cluster.nats, "nats", "", "NATS servers (comma-separated URLs, JetStream on, nats-server 2.11+) to form a cluster with every tickroom node that uses them; empty: a single node that keeps its rooms in -data-dir (docs/CLUSTER.md)")
	str(&c.cluster.creds, "nats-creds", "", "NATS credentials file (user JWT and NKey seed)")
	str(&c.cluster.tlsCA, "nats-tls-ca", "", "CA certificate file (PEM) to verify the NATS servers with")
	str(&c.cluster.tlsCert, "nats-tls-cert", "", "client certificate file (PEM) for NATS (with -nats-tls-key)")
	str(&c.cluster.tlsKey, "nats-tls-key", "", "client private key file (PEM) for NATS")
	dur(&c.cluster.wait, "nats-wait", 0, "keep trying to reach NATS this long at start (0: stop at once if it cannot be reached)")
	str(&c.cluster.prefix, "nats-prefix", "tickroom", "names the cluster's buckets, stream and subjects: nodes with the same NATS and prefix form one cluster")
	num(&c.cluster.replicas, "nats-replicas", 0, "replicas of the cluster's buckets and stream (0: 3 on a NATS cluster of three or more servers, else 1)")
	str(&c.cluster.name, "node-name", "", "a name for this node in logs (its id is derived from it, or from -advertise)")
	str(&c.cluster.advertise, "advertise", "", "HOST:PORT other nodes and the API name this node by (default: -addr, with this machine's hostname when -addr has no host)")
	dur(&c.cluster.leaseTTL, "lease-ttl", 2*time.Second, "how long a node's lease lasts unrenewed: a dead node's rooms are taken over about this long after it dies")
	return &readLimit, &recMaxMiB
}

// finish checks the settings that go together and converts the ones kept
// in other units.
func finish(fs *flag.FlagSet, c *config, readLimit, recMaxMiB int) (*config, error) {
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return nil, errors.New("-tls-cert and -tls-key go together")
	}
	if (c.cluster.tlsCert == "") != (c.cluster.tlsKey == "") {
		return nil, errors.New("-nats-tls-cert and -nats-tls-key go together")
	}
	if c.cluster.leaseTTL < time.Second {
		return nil, errors.New("-lease-ttl: at least 1s")
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q (see -help)", fs.Args())
	}
	ages, err := parseAges(c.dormantMaxAge)
	if err != nil {
		return nil, fmt.Errorf("-dormant-max-age: %w", err)
	}
	c.rooms.DormantMaxAge = ages
	c.server.ReadLimit = int64(readLimit)
	c.recMaxBytes = int64(recMaxMiB) << 20
	for _, o := range strings.Split(c.origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			c.server.AllowedOrigins = append(c.server.AllowedOrigins, o)
		}
	}
	return c, nil
}

func newLogger(c *config, out io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", c.logLevel, err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(out, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(out, opts)), nil
	}
	return nil, fmt.Errorf("log format %q: want text or json", c.logFormat)
}

// Types returns the built-in room types.
func builtinTypes() (*rooms.Registry, error) {
	reg := rooms.NewRegistry()
	for _, t := range []*rooms.Type{arena.Type, board.Type, arenabench.Type, fieldbench.Type, fieldbench.TypeNoViews} {
		if err := reg.Register(t); err != nil {
			return nil, err
		}
	}
	return reg, nil
}

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	c, err := parseFlags(args, getenv, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(c, stderr)
	if err != nil {
		return err
	}
	slog.SetDefault(log)
	reg, err := builtinTypes()
	if err != nil {
		return err
	}
	c.rooms.Logger, c.server.Logger = log, log
	if c.handoffDir != "" {
		log.Warn("-handoff is no longer needed and is ignored: every restart keeps the rooms in -data-dir", "data-dir", c.dataDir)
	}
	if err := writable(c.dataDir); err != nil {
		return err
	}
	unlock, err := lockDataDir(c.dataDir)
	if err != nil {
		return err
	}
	defer unlock()
	if c.cluster.nats != "" {
		return runClustered(ctx, c, reg, log)
	}
	dbPath := filepath.Join(c.dataDir, "rooms.db")
	db, err := sqlite.Open(dbPath)
	if err != nil {
		return fmt.Errorf("rooms: %w (move the file aside to start with no rooms)", err)
	}
	defer db.Close()
	c.rooms.Directory, c.rooms.Checkpoints = db, db
	if c.server.LinkSecret == "" {
		// Spectator links outlive restarts, like the rooms they lead to.
		secret, err := db.Meta("link-secret", newSecret)
		if err != nil {
			return fmt.Errorf("rooms: %w", err)
		}
		c.server.LinkSecret = string(secret)
	}
	var mgr *rooms.Manager
	var store *tape.Store
	if c.record {
		dir := filepath.Join(c.dataDir, "recordings")
		store, err = tape.NewStore(dir, tape.StoreOptions{MaxBytes: c.recMaxBytes, MaxAge: c.recMaxAge,
			Writer: tape.WriterOptions{FlushInterval: c.flushInterval},
			Keep:   func(id string) bool { return mgr.LogInUse(id) }})
		if err != nil {
			return fmt.Errorf("recordings: %w", err)
		}
		c.rooms.Logs = store
		c.server.Recordings = store
		c.server.Collectors = append(c.server.Collectors, recordingMetrics(store)...)
		log.Info("recording rooms", "dir", dir)
	}
	mgr = rooms.NewManager(reg, c.rooms)
	srv := server.New(mgr, c.server)
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", c.addr, err)
	}
	asleep, _ := mgr.Dormant()
	log.Info("rooms", "db", dbPath, "asleep", asleep)
	if woken, err := mgr.Recover(); err != nil {
		log.Error("rooms that were live not woken", "err", err)
	} else if woken > 0 {
		log.Info("woke the rooms that were live", "rooms", woken)
	}
	return serveUntilStopped(ctx, c, log, mgr, srv, ln, func(ctx context.Context) {
		if store != nil {
			go enforceRetention(ctx, store, log)
		}
	})
}

// newSecret makes a random 32-byte secret.
func newSecret() []byte {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return b
}

// serveUntilStopped serves until a signal (or ctx) ends it, then shuts down
// in order (server.Serve). background starts work that lives as long.
func serveUntilStopped(ctx context.Context, c *config, log *slog.Logger, mgr *rooms.Manager, srv *server.Server, ln net.Listener, background func(context.Context)) error {
	ln = srv.Listener(ln)
	httpSrv := srv.HTTPServer()
	serve := func() error { return httpSrv.Serve(ln) }
	scheme := "http"
	if c.tlsCert != "" {
		serve = func() error { return httpSrv.ServeTLS(ln, c.tlsCert, c.tlsKey) }
		scheme = "https"
	}
	log.Info("tickroom listening", "addr", ln.Addr().String(), "open", openURL(scheme, ln.Addr()))

	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case sig := <-sigs:
			// SIGTERM is how supervisors restart a service: tell clients to
			// come back (1012). Ctrl-C means the server is going away (1001).
			// Either way the rooms are stored and the next process wakes them.
			stop := &server.Stopping{Code: rooms.CloseGoingAway, Reason: "server going away"}
			if sig == syscall.SIGTERM {
				stop = &server.Stopping{Code: rooms.CloseRestart, Reason: "server restarting"}
			}
			log.Info("signal received", "signal", sig.String())
			cancel(stop)
		case <-ctx.Done():
		}
	}()
	background(ctx)
	go mgr.RunExpiry(ctx, time.Minute)
	stopRooms := func(ctx context.Context, code int, reason string) error { return mgr.Shutdown(ctx, code, reason) }
	err := server.Serve(ctx, httpSrv, srv, stopRooms, c.grace, serve)
	log.Info("tickroom stopped")
	return err
}

// openURL is the address a person on this machine should open.
func openURL(scheme string, a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	host := tcp.IP.String()
	if tcp.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return scheme + "://" + net.JoinHostPort(host, fmt.Sprint(tcp.Port)) + "/"
}

// parseAges reads -dormant-max-age: "" (each type's default), a duration
// for every type ("0" keeps them), or TYPE=DURATION pairs, comma separated,
// where "*" names every type not listed.
func parseAges(v string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	v = strings.TrimSpace(v)
	if v == "" {
		return out, nil
	}
	if !strings.Contains(v, "=") {
		v = "*=" + v
	}
	for _, part := range strings.Split(v, ",") {
		typ, d, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || typ == "" {
			return nil, fmt.Errorf("%q: want TYPE=DURATION", part)
		}
		age, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil || age < 0 {
			return nil, fmt.Errorf("%q: want a duration such as 72h or 0 (keep)", part)
		}
		out[strings.TrimSpace(typ)] = age
	}
	return out, nil
}

// typeAges describes the built-in types' dormant max ages for -help.
func typeAges() string {
	reg, err := builtinTypes()
	if err != nil {
		return ""
	}
	var parts []string
	for _, t := range reg.All() {
		age := t.DormantMaxAge
		if age == 0 {
			age = rooms.DefaultDormantMaxAge
		}
		parts = append(parts, t.Name+" "+age.String())
	}
	return strings.Join(parts, ", ")
}

// writable makes sure dir exists and takes new files: rooms that cannot be
// stored would be lost, so a read-only data directory stops the start.
func writable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("data dir %s is not writable (rooms are stored there): %w", dir, err)
	}
	_ = f.Close()
	return os.Remove(f.Name())
}

// lockDataDir takes an exclusive lock on DIR/lock for the process's life:
// two processes on one data directory would both wake, write and expire
// the same rooms. The kernel drops the lock when the process dies, kill -9
// included, so a crash never leaves a stale lock.
func lockDataDir(dir string) (func(), error) {
	path := filepath.Join(dir, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data dir: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("data dir %s is in use by another tickroom process (%s is locked): %w", dir, path, err)
	}
	return func() { _ = f.Close() }, nil
}
