package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tickroom/tickroom/rooms/idlebench"
	"github.com/tickroom/tickroom/state"
)

type idleFlags struct {
	conns, perRoom int
	roomType       string
	settle, hold   time.Duration
	perAddr        int
	dialPar        int
	json, quiet    bool
	heapProfile    string
	server         serverFlags
}

func parseIdleFlags(args []string, stderr io.Writer) (*idleFlags, error) {
	f := &idleFlags{}
	fs := flag.NewFlagSet("idle", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tickroom-load idle [flags]\n\n"+
			"Hold N idle WebSocket members and report the server's resident memory per\n"+
			"connection. By default it starts this binary's serve subcommand (the server\n"+
			"packages plus idle-bench, a 1 Hz room type with no entities), because every\n"+
			"stock room type sends 20 messages a second to each member.\n\n")
		fs.PrintDefaults()
	}
	fs.IntVar(&f.conns, "conns", 10000, "idle connections to hold (at most 200000)")
	fs.IntVar(&f.perRoom, "per-room", 64, "members per room")
	fs.StringVar(&f.roomType, "room-type", "", "room type to join (default: idle-bench with -server embedded, board otherwise)")
	fs.DurationVar(&f.settle, "settle", 5*time.Second, "wait this long after the last join before sampling")
	fs.DurationVar(&f.hold, "hold", 20*time.Second, "sample the server's RSS once a second for this long")
	fs.IntVar(&f.perAddr, "per-addr", 20000, "connections per loopback source address (127.0.0.2, ...): stay under the ~28,000 ephemeral ports of one address")
	fs.IntVar(&f.dialPar, "dial-par", 128, "connections opening at once")
	fs.BoolVar(&f.json, "json", false, "print the result as JSON instead of a table")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress line on stderr")
	fs.StringVar(&f.heapProfile, "heap-profile", "", "write the server's heap profile (from its /debug/pprof) here while the connections are held")
	f.server.register(fs, "embedded")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("idle: unexpected arguments %q", fs.Args())
	case f.conns < 1 || f.conns > 200000:
		return nil, fmt.Errorf("idle: -conns %d: want 1..200000", f.conns)
	case f.perRoom < 1 || f.perRoom > 1024:
		return nil, fmt.Errorf("idle: -per-room %d: want 1..1024", f.perRoom)
	case f.perAddr < 1 || f.perAddr > 28000:
		return nil, fmt.Errorf("idle: -per-addr %d: want 1..28000", f.perAddr)
	case f.hold < time.Second || f.hold > 10*time.Minute:
		return nil, fmt.Errorf("idle: -hold %v: want 1s..10m", f.hold)
	}
	if f.roomType == "" {
		f.roomType = "board"
		if f.server.url == "" && f.server.bin == "" && f.server.kind == "embedded" {
			f.roomType = idlebench.Type.Name
		}
	}
	return f, nil
}

// idleResult is what the idle subcommand reports.
type idleResult struct {
	Mode                    string   `json:"mode"`
	ConnsWanted             int      `json:"conns_wanted"`
	ConnsHeld               int      `json:"conns_held"`
	Rooms                   int      `json:"rooms"`
	PerRoom                 int      `json:"per_room"`
	RoomType                string   `json:"room_type"`
	SourceAddrs             int      `json:"source_addrs"`
	Server                  string   `json:"server"`
	LoadAvgStart            string   `json:"load_avg_start"`
	LoadAvgEnd              string   `json:"load_avg_end"`
	RampS                   float64  `json:"ramp_s"`
	ServerRSSBaseline       *int64   `json:"server_rss_baseline_bytes"`
	ServerRSSRooms          *int64   `json:"server_rss_after_rooms_bytes"`
	ServerRSSHeld           *int64   `json:"server_rss_held_bytes"`
	ServerPeakRSS           *int64   `json:"server_peak_rss_bytes"`
	RSSPerConn              *float64 `json:"server_rss_per_conn_bytes"`
	RSSPerConnInclRooms     *float64 `json:"server_rss_per_conn_incl_rooms_bytes"`
	ServerCPUSPerS          *float64 `json:"server_cpu_s_per_s"`
	HeapInusePerConn        *float64 `json:"server_heap_inuse_per_conn_bytes"`
	StackInusePerConn       *float64 `json:"server_stack_inuse_per_conn_bytes"`
	LiveHeapPerConn         *float64 `json:"server_live_heap_per_conn_bytes_after_forced_gc"`
	GoroutinesPerConn       *float64 `json:"server_goroutines_per_conn"`
	ServerGoMemStats        string   `json:"server_go_memstats,omitempty"`
	LoadgenCPUSPerS         *float64 `json:"loadgen_cpu_s_per_s"`
	LoadgenRSS              *int64   `json:"loadgen_rss_bytes"`
	ConnsLostDuringHold     int      `json:"conns_lost_during_hold"`
	FirstLoss               string   `json:"first_loss,omitempty"`
	FirstError              string   `json:"first_error,omitempty"`
	FileLimit               uint64   `json:"rlimit_nofile"`
	MessagesPerConnPerS     *float64 `json:"s2c_msgs_per_conn_s"`
	ServerRSSPerConnTarget  int      `json:"server_rss_per_conn_target_bytes"`
	ServerRSSSamplesInHoldN int      `json:"server_rss_samples"`
}

// idleConn is one held connection and its reader.
type idleConn struct {
	conn   *websocket.Conn
	synced chan struct{}
	done   chan struct{}
	err    error
}

func (c *idleConn) read(msgs *atomic.Int64) {
	defer close(c.done)
	var hdr [2]byte
	for {
		_, rd, err := c.conn.NextReader()
		if err != nil {
			c.err = err
			return
		}
		n, _ := io.ReadFull(rd, hdr[:])                    // short messages leave n < 2
		if _, err := io.Copy(io.Discard, rd); err != nil { // the rest of the message
			c.err = err
			return
		}
		msgs.Add(1)
		if n == 2 && hdr[1] == state.MsgSnapshot && !isClosed(c.synced) {
			close(c.synced)
		}
	}
}

// runIdle is the idle subcommand.
func runIdle(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseIdleFlags(args, stderr)
	if err != nil {
		return err
	}
	res := &idleResult{Mode: "idle", ConnsWanted: f.conns, PerRoom: f.perRoom, RoomType: f.roomType,
		LoadAvgStart: loadAvg(), ServerRSSPerConnTarget: 16 << 10}
	// Both ends live on this machine: the child inherits the raised limit.
	want := uint64(2*f.conns + 8192)
	if res.FileLimit, err = raiseFileLimit(want); err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	if res.FileLimit < want {
		fmt.Fprintf(stderr, "idle: RLIMIT_NOFILE stays at %d (raising the hard limit needs CAP_SYS_RESOURCE): "+
			"this process and the server can each hold about %d connections\n", res.FileLimit, res.FileLimit-100)
	}
	tgt, err := startTarget(ctx, &f.server, stderr)
	if err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	defer tgt.Stop()
	res.Server = serverName(tgt, &f.server)
	res.SourceAddrs = (f.conns + f.perAddr - 1) / f.perAddr
	d, err := newDialer(tgt.URL, res.SourceAddrs, 256, 256)
	if err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	a := newAPI(tgt.URL)
	prog := newProgress(stderr, f.quiet)
	defer prog.done()
	rss := func() *int64 {
		if tgt.PID == 0 {
			return nil
		}
		m, err := procMem(tgt.PID)
		if err != nil {
			return nil
		}
		return &m.RSS
	}
	time.Sleep(time.Second) // let the server settle after start
	res.ServerRSSBaseline = rss()

	res.Rooms = (f.conns + f.perRoom - 1) / f.perRoom
	ids := make([]string, res.Rooms)
	if err := forEach(ctx, res.Rooms, 16, func(ctx context.Context, i int) error {
		id, err := a.createRoom(ctx, f.roomType, f.perRoom)
		ids[i] = id
		return err
	}); err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	time.Sleep(time.Second)
	res.ServerRSSRooms = rss()

	ramp := time.Now()
	conns, msgs, err := openIdle(ctx, f, d, ids, prog, rss)
	defer closeIdle(conns)
	res.RampS = time.Since(ramp).Seconds()
	if err != nil {
		res.FirstError = err.Error()
	}
	res.ConnsHeld = len(conns)
	prog.line("held %d connections; settling %v", len(conns), f.settle)
	if err := sleepCtx(ctx, f.settle); err != nil {
		return err
	}
	holdIdle(ctx, f, tgt, res, conns, msgs, prog, rss)
	if tgt.PprofURL != "" {
		res.readGoMem(ctx, a, tgt, f.heapProfile)
	}
	res.LoadAvgEnd = loadAvg()
	prog.done()
	if f.json {
		return printJSON(stdout, res)
	}
	return printTable(stdout, fmt.Sprintf("idle connections: %d held of %d, %s rooms of %d (load avg at start %s)",
		res.ConnsHeld, f.conns, f.roomType, f.perRoom, res.LoadAvgStart), res.rows())
}

// openIdle opens the connections, each waiting for its first snapshot,
// and stops at the first failure: the connections held so far stay open
// and the error says what stopped the ramp.
func openIdle(ctx context.Context, f *idleFlags, d *dialer, ids []string, prog *progress, rss func() *int64) ([]*idleConn, *atomic.Int64, error) {
	var mu sync.Mutex
	conns := make([]*idleConn, 0, f.conns)
	msgs := &atomic.Int64{}
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				mu.Lock()
				n := len(conns)
				mu.Unlock()
				r := rss()
				prog.line("opening: %d/%d connections  server RSS %s  load %s", n, f.conns, optMiB(r), loadAvg())
			}
		}
	}()
	defer close(stop)
	err := forEach(ctx, f.conns, f.dialPar, func(ctx context.Context, i int) error {
		// Round-robin over rooms, so that every room fills at the same pace
		// and rooms hold the same number of members at any time.
		conn, err := d.dial(ctx, ids[i%len(ids)], "")
		if err != nil {
			return fmt.Errorf("connection %d: %w", i, err)
		}
		c := &idleConn{conn: conn, synced: make(chan struct{}), done: make(chan struct{})}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		go c.read(msgs)
		select {
		case <-c.synced:
			return nil
		case <-c.done:
			return fmt.Errorf("connection %d: closed before its first snapshot: %v", i, c.err)
		case <-time.After(15 * time.Second):
			return fmt.Errorf("connection %d: no snapshot within 15 s", i)
		}
	})
	return conns, msgs, err
}

// holdIdle samples the server's RSS once a second while the connections
// are held, with CPU meters over the same span.
func holdIdle(ctx context.Context, f *idleFlags, tgt *target, res *idleResult, conns []*idleConn, msgs *atomic.Int64, prog *progress, rss func() *int64) {
	srv, self := newCPUMeter(tgt.PID), newSelfCPUMeter()
	m0, t0 := msgs.Load(), time.Now()
	var samples []int64
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for end := time.Now().Add(f.hold); time.Now().Before(end) && ctx.Err() == nil; {
		<-tick.C
		if r := rss(); r != nil {
			samples = append(samples, *r)
			prog.line("holding %d connections: server RSS %s (%.1f KiB/conn)  load %s", len(conns), mib(*r),
				float64(*r-deref(res.ServerRSSRooms))/float64(max(1, len(conns)))/1024, loadAvg())
		}
	}
	res.ServerCPUSPerS, res.LoadgenCPUSPerS = srv.share(), self.share()
	res.MessagesPerConnPerS = ptr(float64(msgs.Load()-m0) / float64(max(1, len(conns))) / time.Since(t0).Seconds())
	for _, c := range conns {
		if isClosed(c.done) {
			res.ConnsLostDuringHold++
			if res.FirstLoss == "" {
				res.FirstLoss = fmt.Sprint(c.err)
			}
		}
	}
	res.ServerRSSSamplesInHoldN = len(samples)
	if len(samples) > 0 && len(conns) > 0 {
		slices.Sort(samples)
		med := samples[len(samples)/2]
		res.ServerRSSHeld = &med
		res.RSSPerConn = ptr(float64(med-deref(res.ServerRSSRooms)) / float64(len(conns)))
		res.RSSPerConnInclRooms = ptr(float64(med-deref(res.ServerRSSBaseline)) / float64(len(conns)))
	}
	if tgt.PID != 0 {
		if m, err := procMem(tgt.PID); err == nil {
			res.ServerPeakRSS = &m.Peak
		}
	}
	if m, err := procMem(os.Getpid()); err == nil {
		res.LoadgenRSS = &m.RSS
	}
}

func closeIdle(conns []*idleConn) {
	_ = forEach(context.Background(), len(conns), 256, func(_ context.Context, i int) error {
		closeConn(conns[i].conn)
		<-conns[i].done
		return nil
	})
}

func (res *idleResult) rows() []row {
	kib := func(p *float64) string { return num(mulPtr(p, 1.0/1024), "%.1f KiB") }
	return []row{
		{"connections held / wanted", fmt.Sprintf("%d / %d", res.ConnsHeld, res.ConnsWanted), ""},
		{"rooms x members", fmt.Sprintf("%d x %d (%s)", res.Rooms, res.PerRoom, res.RoomType), ""},
		{"source addresses", fmt.Sprint(res.SourceAddrs), ""},
		{"server RSS per connection", kib(res.RSSPerConn), "<= 16 KiB at 100k"},
		{"server RSS per connection incl. rooms", kib(res.RSSPerConnInclRooms), ""},
		{"  Go heap in use per connection", kib(res.HeapInusePerConn), ""},
		{"  goroutine stacks per connection", kib(res.StackInusePerConn), ""},
		{"  live heap per connection (after a forced GC, read last)", kib(res.LiveHeapPerConn), ""},
		{"  goroutines per connection", num(res.GoroutinesPerConn, "%.2f"), ""},
		{"server RSS baseline / after rooms / held", optMiB(res.ServerRSSBaseline) + " / " + optMiB(res.ServerRSSRooms) + " / " + optMiB(res.ServerRSSHeld), ""},
		{"server peak RSS", optMiB(res.ServerPeakRSS), ""},
		{"server CPU s / s while held", num(res.ServerCPUSPerS, "%.3f"), ""},
		{"messages / connection / s while held", num(res.MessagesPerConnPerS, "%.2f"), ""},
		{"load generator CPU s / s while held", num(res.LoadgenCPUSPerS, "%.3f"), ""},
		{"load generator RSS", optMiB(res.LoadgenRSS), ""},
		{"connections lost while held", fmt.Sprint(res.ConnsLostDuringHold), "0"},
		{"first loss", orDash(res.FirstLoss), ""},
		{"stopped by", orDash(res.FirstError), ""},
		{"load average start / end", res.LoadAvgStart + " / " + res.LoadAvgEnd, ""},
	}
}

func optMiB(p *int64) string {
	if p == nil {
		return "n/a"
	}
	return mib(*p)
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
