package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tickroom/tickroom/state"
)

type joinFlags struct {
	busy, clients int
	joins         int
	gap           time.Duration
	warmup        time.Duration
	json, quiet   bool
	dialPar       int
	server        serverFlags
}

func parseJoinFlags(args []string, stderr io.Writer) (*joinFlags, error) {
	f := &joinFlags{}
	fs := flag.NewFlagSet("join", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tickroom-load join [flags]\n\n"+
			"Join latency while the server is busy: -busy arena-bench rooms of -clients clients\n"+
			"run the scene while one client at a time creates a room (POST /api/rooms), opens a\n"+
			"WebSocket to it and waits for its first snapshot.\n\n")
		fs.PrintDefaults()
	}
	fs.IntVar(&f.busy, "busy", 100, "busy arena-bench rooms running the scene meanwhile")
	fs.IntVar(&f.clients, "clients", 8, "clients per busy room")
	fs.IntVar(&f.joins, "joins", 200, "joins to time, one at a time")
	fs.DurationVar(&f.gap, "gap", 100*time.Millisecond, "mean pause between joins (uniform in [gap/2, 3gap/2], so joins land at every phase of the tick)")
	fs.DurationVar(&f.warmup, "warmup", 5*time.Second, "wait this long after the busy rooms joined")
	fs.BoolVar(&f.json, "json", false, "print the result as JSON instead of a table")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress line on stderr")
	fs.IntVar(&f.dialPar, "dial-par", 32, "busy clients joining at once during the ramp")
	f.server.register(fs, "tickroom")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("join: unexpected arguments %q", fs.Args())
	case f.busy < 0 || f.busy > 5000 || f.clients < 1 || f.clients > 64:
		return nil, fmt.Errorf("join: -busy %d -clients %d: want 0..5000 rooms of 1..64", f.busy, f.clients)
	case f.joins < 1 || f.joins > 10000:
		return nil, fmt.Errorf("join: -joins %d: want 1..10000", f.joins)
	case f.gap < 0 || f.gap > 10*time.Second:
		return nil, fmt.Errorf("join: -gap %v: want 0..10s", f.gap)
	}
	return f, nil
}

// joinResult is what the join subcommand reports.
type joinResult struct {
	Mode               string   `json:"mode"`
	BusyRooms          int      `json:"busy_rooms"`
	BusyClients        int      `json:"busy_clients"`
	Joins              int      `json:"joins"`
	Server             string   `json:"server"`
	LoadAvgStart       string   `json:"load_avg_start"`
	PostP50Ms          *float64 `json:"post_rooms_p50_ms"`
	PostP99Ms          *float64 `json:"post_rooms_p99_ms"`
	DialP50Ms          *float64 `json:"ws_handshake_p50_ms"`
	DialP99Ms          *float64 `json:"ws_handshake_p99_ms"`
	OpenToSnapP50Ms    *float64 `json:"ws_open_to_snapshot_p50_ms"`
	OpenToSnapP99Ms    *float64 `json:"ws_open_to_snapshot_p99_ms"`
	OpenToSnapMaxMs    *float64 `json:"ws_open_to_snapshot_max_ms"`
	DialToSnapP50Ms    *float64 `json:"ws_dial_to_snapshot_p50_ms"`
	DialToSnapP99Ms    *float64 `json:"ws_dial_to_snapshot_p99_ms"`
	PostToSnapP50Ms    *float64 `json:"post_to_snapshot_p50_ms"`
	PostToSnapP99Ms    *float64 `json:"post_to_snapshot_p99_ms"`
	PostToSnapMaxMs    *float64 `json:"post_to_snapshot_max_ms"`
	ServerCPUSPerS     *float64 `json:"server_cpu_s_per_s"`
	LoadgenCPUSPerS    *float64 `json:"loadgen_cpu_s_per_s"`
	BusyClientsLost    int      `json:"busy_clients_lost"`
	BusyLateShareEst   *float64 `json:"busy_late_ticks_share_client_est"`
	BusyTicksPerRoomS  float64  `json:"busy_ticks_per_room_s"`
	LoadAvgEnd         string   `json:"load_avg_end"`
	JoinErrors         int      `json:"join_errors"`
	FirstJoinError     string   `json:"first_join_error,omitempty"`
	MeasuredWindowSecs float64  `json:"measured_window_s"`
}

// runJoin is the join subcommand.
func runJoin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseJoinFlags(args, stderr)
	if err != nil {
		return err
	}
	if _, err := raiseFileLimit(uint64(2*f.busy*f.clients + 4096)); err != nil {
		return fmt.Errorf("join: %w", err)
	}
	res := &joinResult{Mode: "join", BusyRooms: f.busy, BusyClients: f.busy * f.clients, Joins: f.joins, LoadAvgStart: loadAvg()}
	// Timed rooms are left after one join each: reap them quickly.
	f.server.modeArgs = []string{"-room-idle", "5s"}
	tgt, err := startTarget(ctx, &f.server, stderr)
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	defer tgt.Stop()
	res.Server = serverName(tgt, &f.server)
	d, err := newDialer(tgt.URL, 1, 4096, 1024)
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	a := newAPI(tgt.URL)
	clk := clock{base: time.Now()}
	prog := newProgress(stderr, f.quiet)
	defer prog.done()
	// The busy fleet's window covers the joins, for its late-tick estimate.
	fl := newFleet(fleetConfig{rooms: f.busy, clients: f.clients, dialPar: f.dialPar,
		expectTicks: int((f.gap*time.Duration(f.joins)*2).Seconds()*20) + 200}, clk, a, d)
	defer fl.stop()
	if f.busy > 0 {
		if err := fl.rampUp(ctx, prog); err != nil {
			return fmt.Errorf("join: busy rooms: %w", err)
		}
		prog.line("busy rooms joined; warming up %v", f.warmup)
		select {
		case <-time.After(f.warmup):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	srvCPU, selfCPUm := newCPUMeter(tgt.PID), newSelfCPUMeter()
	liveSrv := newCPUMeter(tgt.PID)
	start := clk.now()
	fl.win.end.Store(start + int64(time.Hour))
	fl.win.start.Store(start)
	var post, dial, openSnap, dialSnap, postSnap []int64
	for i := range f.joins {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		t, err := timeJoin(ctx, a, d, clk)
		if err != nil {
			res.JoinErrors++
			if res.FirstJoinError == "" {
				res.FirstJoinError = err.Error()
			}
		} else {
			post = append(post, t.posted-t.start)
			dial = append(dial, t.open-t.dialed)
			openSnap = append(openSnap, t.snapshot-t.open)
			dialSnap = append(dialSnap, t.snapshot-t.dialed)
			postSnap = append(postSnap, t.snapshot-t.start)
		}
		if i%10 == 0 {
			prog.line("joins: %d/%d  errors %d  server cpu %.2f  load %s", i, f.joins, res.JoinErrors, liveSrv.tick(), loadAvg())
		}
		if f.gap > 0 {
			time.Sleep(f.gap/2 + time.Duration(rand.Int64N(int64(f.gap)+1)))
		}
	}
	end := clk.now()
	fl.win.end.Store(end)
	res.MeasuredWindowSecs = float64(end-start) / 1e9
	res.ServerCPUSPerS, res.LoadgenCPUSPerS = srvCPU.share(), selfCPUm.share()
	res.LoadAvgEnd = loadAvg()
	p, dl, os2, ds, ps := newDist(post), newDist(dial), newDist(openSnap), newDist(dialSnap), newDist(postSnap)
	res.PostP50Ms, res.PostP99Ms = p.q(0.5), p.q(0.99)
	res.DialP50Ms, res.DialP99Ms = dl.q(0.5), dl.q(0.99)
	res.OpenToSnapP50Ms, res.OpenToSnapP99Ms, res.OpenToSnapMaxMs = os2.q(0.5), os2.q(0.99), os2.max()
	res.DialToSnapP50Ms, res.DialToSnapP99Ms = ds.q(0.5), ds.q(0.99)
	res.PostToSnapP50Ms, res.PostToSnapP99Ms, res.PostToSnapMaxMs = ps.q(0.5), ps.q(0.99), ps.max()
	if f.busy > 0 {
		for _, c := range fl.all() {
			if c.closed.Load() || c.writeErr != nil {
				res.BusyClientsLost++
			}
		}
		fl.stop()
		l := computeLatency(fl, res.MeasuredWindowSecs)
		if l.roomTicks > 0 {
			res.BusyLateShareEst = ptr(float64(l.lateFirst) / float64(l.roomTicks))
		}
		res.BusyTicksPerRoomS = l.ticksPerRoomS
	}
	prog.done()
	if f.json {
		if err := printJSON(stdout, res); err != nil {
			return err
		}
	} else if err := printTable(stdout, fmt.Sprintf("join latency: %d joins while %d arena-bench rooms x %d clients run (load avg at start %s)",
		f.joins, f.busy, f.clients, res.LoadAvgStart), res.rows()); err != nil {
		return err
	}
	if res.JoinErrors > 0 || res.BusyClientsLost > 0 {
		return fmt.Errorf("join: %d joins failed (first: %s), %d busy clients lost", res.JoinErrors, res.FirstJoinError, res.BusyClientsLost)
	}
	return nil
}

func (res *joinResult) rows() []row {
	f2 := "%.2f"
	pair := func(a, b *float64) string { return num(a, f2) + " / " + num(b, f2) }
	return []row{
		{"POST /api/rooms p50/p99 ms", pair(res.PostP50Ms, res.PostP99Ms), ""},
		{"WebSocket handshake p50/p99 ms", pair(res.DialP50Ms, res.DialP99Ms), ""},
		{"WebSocket open -> first snapshot p50/p99 ms", pair(res.OpenToSnapP50Ms, res.OpenToSnapP99Ms), "p99 < 20 with 100 busy rooms"},
		{"WebSocket open -> first snapshot max ms", num(res.OpenToSnapMaxMs, f2), ""},
		{"dial start -> first snapshot p50/p99 ms", pair(res.DialToSnapP50Ms, res.DialToSnapP99Ms), ""},
		{"POST -> first snapshot p50/p99 ms", pair(res.PostToSnapP50Ms, res.PostToSnapP99Ms), ""},
		{"POST -> first snapshot max ms", num(res.PostToSnapMaxMs, f2), ""},
		{"server CPU s / s during joins", num(res.ServerCPUSPerS, "%.3f"), ""},
		{"load generator CPU s / s during joins", num(res.LoadgenCPUSPerS, "%.3f"), ""},
		{"busy rooms: ticks / room / s seen", fmt.Sprintf("%.2f", res.BusyTicksPerRoomS), "20"},
		{"busy rooms: ticks first received > 5 ms after slot", num(mulPtr(res.BusyLateShareEst, 100), "%.2f%%"), ""},
		{"join errors / busy clients lost", fmt.Sprintf("%d / %d", res.JoinErrors, res.BusyClientsLost), "0 / 0"},
		{"load average start / end", res.LoadAvgStart + " / " + res.LoadAvgEnd, ""},
	}
}

func mulPtr(p *float64, k float64) *float64 {
	if p == nil {
		return nil
	}
	return ptr(*p * k)
}

// joinTimes are the clock readings of one timed join.
type joinTimes struct{ start, posted, dialed, open, snapshot int64 }

// timeJoin creates a room, joins it and waits for the first snapshot.
func timeJoin(ctx context.Context, a *api, d *dialer, clk clock) (joinTimes, error) {
	var t joinTimes
	t.start = clk.now()
	id, err := a.createRoom(ctx, "arena-bench", 8)
	if err != nil {
		return t, err
	}
	t.posted = clk.now()
	t.dialed = clk.now()
	conn, err := d.dial(ctx, id, "")
	if err != nil {
		return t, err
	}
	defer closeConn(conn)
	t.open = clk.now()
	if err := conn.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return t, fmt.Errorf("join: read deadline: %w", err)
	}
	buf := make([]byte, 0, 8192)
	for {
		typ, rd, err := conn.NextReader()
		if err != nil {
			return t, fmt.Errorf("join: wait for snapshot: %w", err)
		}
		if buf, err = readInto(buf[:0], rd); err != nil {
			return t, fmt.Errorf("join: read: %w", err)
		}
		if typ != websocket.BinaryMessage {
			continue
		}
		if tag, err := messageTag(buf); err == nil && tag == state.MsgSnapshot {
			t.snapshot = clk.now()
			return t, nil
		}
	}
}
