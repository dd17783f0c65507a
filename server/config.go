package server

import (
	"io"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/tape"
)

// Config holds the edge's settings. The zero value of every field means the
// default written next to it.
type Config struct {
	// AllowedOrigins are extra origins (scheme://host[:port]) whose pages may
	// open WebSockets here. A page from this server's own host is always
	// allowed; a request with no Origin header (not a browser) is too.
	AllowedOrigins []string
	// ReadLimit is the largest client frame in bytes; a larger one closes the
	// connection with 1009 (default 8192).
	ReadLimit int64
	// WriteWait is how long a write to a client whose socket is full may
	// wait without progress (per 64 KiB of its queue) before the client is
	// cut off (default 5 s).
	WriteWait time.Duration
	// PongWait is how long a connection may stay silent, pongs included,
	// before it is dropped (default 30 s).
	PongWait time.Duration
	// PingPeriod is how often the server pings (default 20 s; must be under PongWait).
	PingPeriod time.Duration
	// IOUring writes a room's tick to its members with one io_uring
	// submission (per 64 members) instead of a write(2) each, on Linux
	// where io_uring can be set up; elsewhere, or if it fails, the
	// write(2) path is used (default off: see docs/BENCHMARKS.md, "io_uring").
	IOUring bool
	// SendQueue is the most data frames one connection may have waiting
	// once its socket buffer is full (frames go straight to the socket
	// until then, see sock); a member whose queue is full gets a snapshot
	// instead of the next delta (default 128).
	SendQueue int
	// InputRate and InputBurst limit inputs per connection per second
	// (default 60 and 60); excess inputs are refused with rate_limited.
	InputRate  float64
	InputBurst int
	// ChatRate and ChatBurst limit chat per connection (default 2/s, burst 5).
	ChatRate  float64
	ChatBurst int
	// ViolationRate and ViolationBurst bound refused messages (malformed,
	// unknown, rate-limited) per connection; past them the connection is
	// closed with 1008 (default 5/s, burst 50).
	ViolationRate  float64
	ViolationBurst int
	// RoomCreateRate and RoomCreateBurst limit room creation per client
	// address, per minute (default 30 a minute, burst 10; negative: no limit).
	RoomCreateRate  float64
	RoomCreateBurst int
	// SessionsPerIP is the most WebSocket sessions one address may hold
	// (default 100; negative: no limit).
	SessionsPerIP int
	// TrustProxy takes the client address from X-Forwarded-For / X-Real-IP
	// (set it only behind a proxy that sets them); otherwise the socket's.
	TrustProxy bool

	// The connection limits below apply to the http.Server from HTTPServer
	// and the listener from Listener.

	// ConnsPerIP is the most TCP connections one client address may hold
	// at once, plain HTTP and WebSocket alike (an IPv6 address counts by
	// its /64); one more is closed as soon as it is accepted. It is counted
	// at the socket, so behind a proxy (TrustProxy) every connection comes
	// from the proxy: then the default is no limit, and a positive value
	// caps the proxy's connections to this server. Default 256, or no
	// limit with TrustProxy; negative: no limit.
	ConnsPerIP int
	// HeaderTimeout is how long a client may take to send a request's
	// headers, the first request's or a kept-alive connection's next one
	// (default 10 s; negative: no limit). Slow headers are how slowloris
	// holds connections.
	HeaderTimeout time.Duration
	// BodyTimeout is how long a request's body may take to arrive, counted
	// from the end of its headers (default 10 s; negative: no limit). A
	// WebSocket upgrade has no body: sessions are never cut by it.
	BodyTimeout time.Duration
	// IdleTimeout is how long a kept-alive HTTP connection may wait for its
	// next request before it is closed (default 60 s; negative: never).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's header lines; a larger header is
	// answered 431 by net/http, which allows 4 KiB of slack over it
	// (default 16 KiB; negative: net/http's own 1 MiB).
	MaxHeaderBytes int
	// JWTSecret turns on player authentication: every player join must carry
	// ?auth=JWT, an HS256 token signed with this secret whose subject is the
	// player's id (a seat belongs to its player) and whose "name" claim, if
	// any, is the display name. Empty: anyone may join (the default).
	JWTSecret string
	// AdminToken turns the admin API (/api/admin/...) on; requests carry it
	// as "Authorization: Bearer TOKEN". Empty: the admin API is off.
	AdminToken string
	// LinkSecret signs role-carrying share links (spectator links). Empty
	// means a random secret per process: links stop working on a restart.
	LinkSecret string
	// SpectateLinkTTL is how long the spectator links in create answers stay
	// valid (default 0: no expiry).
	SpectateLinkTTL time.Duration
	// Recordings is the store behind /api/recordings; nil turns the
	// recordings API off.
	Recordings Recordings
	// Cluster, when set, makes this node part of a cluster: a room that
	// another node runs is joined through it, and /readyz fails while the
	// node has no NATS connection. nil: a single node.
	Cluster Cluster
	// Pprof mounts net/http/pprof under /debug/pprof/ (default off).
	Pprof bool
	// Collectors are extra Prometheus collectors to export on /metrics
	// (the recordings store adds its own).
	Collectors []prometheus.Collector
	// Logger receives request and session logs (default slog.Default()).
	Logger *slog.Logger
}

// Recordings is what the recordings API reads: the tapes on this node's
// disk (tape.Store), or a cluster's logs in JetStream.
type Recordings interface {
	// List returns every recording, newest first.
	List() ([]tape.Entry, error)
	// Get describes one (tape.ErrNotFound when there is none).
	Get(id string) (tape.Entry, error)
	// Tape opens a recording's bytes (its good frames) for serving.
	Tape(id string) (io.ReadSeekCloser, int64, error)
	// Delete deletes a finished recording (tape.ErrInProgress, tape.ErrInUse).
	Delete(id string) error
}

var _ Recordings = (*tape.Store)(nil)

// Cluster is what the server needs of a cluster node (package cluster).
type Cluster interface {
	// Join joins a connection to a room that another node runs, through
	// that node.
	Join(room string, owner *rooms.OwnedError, conn rooms.Conn, spectator bool, req rooms.JoinRequest) (rooms.Membership, error)
	// Connected reports whether the node has its NATS connection.
	Connected() bool
}

func (c Config) withDefaults() Config {
	if c.ReadLimit <= 0 {
		c.ReadLimit = 8192
	}
	durs := []struct {
		v *time.Duration
		d time.Duration
	}{{&c.WriteWait, 5 * time.Second}, {&c.PongWait, 30 * time.Second}, {&c.PingPeriod, 20 * time.Second}}
	for _, x := range durs {
		if *x.v <= 0 {
			*x.v = x.d
		}
	}
	if c.PingPeriod >= c.PongWait {
		c.PingPeriod = c.PongWait * 2 / 3
	}
	ints := []struct {
		v *int
		d int
	}{{&c.SendQueue, 128}, {&c.InputBurst, 60}, {&c.ChatBurst, 5}, {&c.ViolationBurst, 50}}
	for _, x := range ints {
		if *x.v <= 0 {
			*x.v = x.d
		}
	}
	floats := []struct {
		v *float64
		d float64
	}{{&c.InputRate, 60}, {&c.ChatRate, 2}, {&c.ViolationRate, 5}}
	for _, x := range floats {
		if *x.v <= 0 {
			*x.v = x.d
		}
	}
	if c.RoomCreateRate == 0 {
		c.RoomCreateRate = 30
	}
	if c.RoomCreateBurst <= 0 {
		c.RoomCreateBurst = 10
	}
	if c.SessionsPerIP == 0 {
		c.SessionsPerIP = 100
	}
	if c.ConnsPerIP == 0 {
		c.ConnsPerIP = 256
		if c.TrustProxy {
			c.ConnsPerIP = -1 // every connection is the proxy's: a cap would cap the service
		}
	}
	for _, x := range []struct {
		v *time.Duration
		d time.Duration
	}{{&c.HeaderTimeout, 10 * time.Second}, {&c.BodyTimeout, 10 * time.Second}, {&c.IdleTimeout, 60 * time.Second}} {
		if *x.v == 0 {
			*x.v = x.d
		}
	}
	if c.MaxHeaderBytes == 0 {
		c.MaxHeaderBytes = 16 << 10
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}
