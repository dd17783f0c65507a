// Package jetstream keeps rooms in NATS JetStream, for a cluster of
// tickroom nodes: the directory of rooms in a key-value bucket, their
// checkpoints in an object store, and their logs (the tapes) as messages
// on per-room subjects of one stream. It implements rooms.Directory,
// rooms.CheckpointStore and rooms.LogStore, and passes the same
// conformance suite as the local stores (rooms/store/storetest).
//
// Replication, ordering and durability are JetStream's: with Replicas 3
// on a three-server NATS cluster, every write is acknowledged only once a
// majority of the servers has it. Nothing here is a consensus protocol of
// tickroom's own; the one fence it adds is on log appends: each carries
// the subject's expected last sequence, so a writer that is no longer the
// room's (another node took the room over and wrote since) is refused
// (rooms.ErrFenced) instead of interleaving its ticks with the new owner's.
package jetstream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Options configures a Store. The zero value of every field means the
// default written next to it.
type Options struct {
	// Prefix names the buckets and the stream, so that several tickroom
	// deployments (or tests) can share one NATS: buckets PREFIX_rooms,
	// PREFIX_checkpoints and PREFIX_recordings, stream PREFIX_log with
	// subjects PREFIX.log.<log id>. Default "tickroom".
	Prefix string
	// Replicas is the replication of every bucket and of the stream
	// (default 1; 3 on a three-server NATS cluster).
	Replicas int
	// FlushInterval is how long a log's records may wait before they are
	// appended to the stream (default 100 ms): what a crash of the node may
	// lose, beside the appends in flight.
	FlushInterval time.Duration
	// MaxMessage is the largest message the store publishes (default: the
	// NATS server's max_payload); a larger write is split over several.
	MaxMessage int
	// Timeout bounds each request to JetStream (default 5 s).
	Timeout time.Duration
	// Logger receives the store's warnings (default slog.Default()).
	Logger *slog.Logger
}

func (o Options) withDefaults(nc *nats.Conn) Options {
	if o.Prefix == "" {
		o.Prefix = "tickroom"
	}
	if o.Replicas <= 0 {
		o.Replicas = 1
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 100 * time.Millisecond
	}
	if o.MaxMessage <= 0 {
		o.MaxMessage = int(nc.MaxPayload()) - 4096 // room for the headers
		if o.MaxMessage < 64<<10 {
			o.MaxMessage = 64 << 10
		}
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

var validPrefix = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Store is a JetStream backend of the rooms stores. Its methods are safe
// for concurrent use.
type Store struct {
	opts   Options
	nc     *nats.Conn
	js     jetstream.JetStream
	rows   jetstream.KeyValue
	cps    jetstream.ObjectStore
	recs   jetstream.KeyValue
	meta   jetstream.KeyValue
	log    jetstream.Stream
	dir    *directory
	cancel context.CancelFunc

	appends appendHistogram
}

// appendBuckets are the bounds, in seconds, of the append-time histogram.
var appendBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}

// appendHistogram counts the time from a log write's queueing to its
// acknowledgement.
type appendHistogram struct {
	counts [13]atomic.Uint64
	sum    atomic.Int64 // nanoseconds
}

func (h *appendHistogram) observe(d time.Duration) {
	i := len(appendBuckets)
	for j, b := range appendBuckets {
		if d.Seconds() <= b {
			i = j
			break
		}
	}
	h.counts[i].Add(1)
	h.sum.Add(int64(d))
}

// AppendTimes returns the append-time histogram: per-bucket counts (the
// last one past the last bound), their total, and the sum in seconds.
func (s *Store) AppendTimes() (counts []uint64, total uint64, sum float64) {
	counts = make([]uint64, len(s.appends.counts))
	for i := range counts {
		counts[i] = s.appends.counts[i].Load()
		total += counts[i]
	}
	return counts, total, float64(s.appends.sum.Load()) / 1e9
}

// AppendBuckets are AppendTimes' bounds, in seconds.
func (s *Store) AppendBuckets() []float64 { return appendBuckets }

// Open makes sure the buckets and the stream exist (creating them with
// opts, or updating their replication), loads the directory's index and
// starts following it. Close stops that.
func Open(ctx context.Context, nc *nats.Conn, opts Options) (*Store, error) {
	opts = opts.withDefaults(nc)
	if !validPrefix.MatchString(opts.Prefix) {
		return nil, fmt.Errorf("jetstream: prefix %q: only letters, digits, - and _", opts.Prefix)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	s := &Store{opts: opts, nc: nc, js: js}
	if s.rows, err = Ensure(ctx, opts.Logger, "the rooms bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: opts.Prefix + "_rooms", Description: "tickroom: the directory of rooms", History: 1,
			Replicas: opts.Replicas, Storage: jetstream.FileStorage,
		})
	}); err != nil {
		return nil, fmt.Errorf("jetstream: rooms bucket: %w", err)
	}
	if s.recs, err = Ensure(ctx, opts.Logger, "the recordings bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: opts.Prefix + "_recordings", Description: "tickroom: what each room log holds, for listings", History: 1,
			Replicas: opts.Replicas, Storage: jetstream.FileStorage,
		})
	}); err != nil {
		return nil, fmt.Errorf("jetstream: recordings bucket: %w", err)
	}
	if s.meta, err = Ensure(ctx, opts.Logger, "the meta bucket", func(ctx context.Context) (jetstream.KeyValue, error) {
		return js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: opts.Prefix + "_meta", Description: "tickroom: settings the nodes share (the share-link secret)", History: 1,
			Replicas: opts.Replicas, Storage: jetstream.FileStorage,
		})
	}); err != nil {
		return nil, fmt.Errorf("jetstream: meta bucket: %w", err)
	}
	if s.cps, err = Ensure(ctx, opts.Logger, "the checkpoints bucket", func(ctx context.Context) (jetstream.ObjectStore, error) {
		return js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: opts.Prefix + "_checkpoints", Description: "tickroom: rooms' checkpoints, two per room",
			Replicas: opts.Replicas, Storage: jetstream.FileStorage,
		})
	}); err != nil {
		return nil, fmt.Errorf("jetstream: checkpoints bucket: %w", err)
	}
	if s.log, err = Ensure(ctx, opts.Logger, "the log stream", func(ctx context.Context) (jetstream.Stream, error) {
		return js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: opts.Prefix + "_log", Description: "tickroom: rooms' logs, one subject per log",
			Subjects: []string{opts.Prefix + ".log.*"}, Storage: jetstream.FileStorage, Replicas: opts.Replicas,
			// Reads go to the stream's leader (no direct gets): a replica a
			// little behind would show a log's end too early to a node taking
			// the room over.
			Duplicates: 2 * time.Minute, Discard: jetstream.DiscardNew,
		})
	}); err != nil {
		return nil, fmt.Errorf("jetstream: log stream: %w", err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	if s.dir, err = followDirectory(ctx, wctx, s.rows, opts.Logger); err != nil {
		cancel()
		return nil, err
	}
	return s, nil
}

// Meta returns a value every node shares, making it with gen the first
// time any node asks (the first to store it wins; the others read it).
func (s *Store) Meta(key string, gen func() []byte) ([]byte, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	for range 3 {
		e, err := s.meta.Get(ctx, key)
		if err == nil {
			return e.Value(), nil
		}
		if !errors.Is(err, jetstream.ErrKeyNotFound) && !errors.Is(err, jetstream.ErrKeyDeleted) {
			return nil, fmt.Errorf("jetstream: meta %s: %w", key, err)
		}
		v := gen()
		if _, err := s.meta.Create(ctx, key, v); err == nil {
			return v, nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fmt.Errorf("jetstream: meta %s: %w", key, err)
		}
	}
	return nil, fmt.Errorf("jetstream: meta %s: it keeps changing", key)
}

// Prefix is the prefix of the store's buckets and stream.
func (s *Store) Prefix() string { return s.opts.Prefix }

// Ensure runs fn (a bucket or stream made or updated) until it succeeds
// or ctx ends, each try bounded by 3 s. Nodes of a new cluster that start
// together all make the same buckets at once, and with nats-server 2.15 a
// replicated stream's creation asked for while another client's is under
// way is never answered (seen: one of three concurrent CreateOrUpdate
// calls returns in 80 ms, the other two wait out their deadline); the
// next try finds the bucket made. A NATS cluster still electing its
// leaders times requests out for a while too.
func Ensure[T any](ctx context.Context, log *slog.Logger, what string, fn func(context.Context) (T, error)) (T, error) {
	for {
		try, cancel := context.WithTimeout(ctx, 3*time.Second)
		v, err := fn(try)
		cancel()
		if err == nil {
			return v, nil
		}
		select {
		case <-ctx.Done():
			return v, err
		case <-time.After(250 * time.Millisecond):
		}
		log.Warn("JetStream not ready: trying again", "making", what, "err", err)
	}
}

// Close stops following the directory. It closes no NATS connection.
func (s *Store) Close() error {
	s.cancel()
	return nil
}

// ctx returns a context bounded by the store's request timeout.
func (s *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.opts.Timeout)
}

// apiCode returns the JetStream error code of err, or 0.
func apiCode(err error) jetstream.ErrorCode {
	var api *jetstream.APIError
	if errors.As(err, &api) {
		return api.ErrorCode
	}
	return 0
}
