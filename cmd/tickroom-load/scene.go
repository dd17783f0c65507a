package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// errDiverged is returned after the report when a mirror diverged or a
// client was lost: the run fails (exit 1) but its figures are printed.
var errDiverged = errors.New("scene: run failed its checks")

type sceneFlags struct {
	typ            string
	views          bool
	rooms, clients int
	warmup         time.Duration
	duration       time.Duration
	json           bool
	quiet          bool
	dialPar        int
	ping           time.Duration
	srcAddrs       int
	cpuProfile     string
	server         serverFlags
	cluster        clusterFlags
}

func parseSceneFlags(args []string, stderr io.Writer) (*sceneFlags, error) {
	f := &sceneFlags{}
	fs := flag.NewFlagSet("scene", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tickroom-load scene [flags]\n\n"+
			"R rooms x C clients of arena-bench (../shared/bench/arena-scene.md). Every client\n"+
			"mirrors the room and sends the scene's input every 50 ms; after a warm-up the\n"+
			"measured window reports bandwidth, CPU, memory, latency and divergences.\n\n"+
			"On a cluster (-cluster 3: three nats-server processes and three tickroom nodes as\n"+
			"children; or -urls A,B,C with -pids, -nats-pids and -nats-url for running ones),\n"+
			"room i is made on node i mod N and its client c joins through node (i + c) mod N,\n"+
			"so each room has members on its owner and members relayed through every other\n"+
			"node; the report adds the nodes' and NATS's CPU, the log stream's growth, the\n"+
			"relay's publishes per room-tick and the latency of owner and relayed members.\n\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&f.typ, "type", "arena-bench", "the scene: arena-bench (../shared/bench/arena-scene.md) or field-bench (../shared/bench/field-scene.md)")
	fs.BoolVar(&f.views, "views", true, "field-bench: per-member views on; false runs the comparison where every member sees the whole world (type field-bench-all)")
	fs.IntVar(&f.rooms, "rooms", 1, "rooms")
	fs.IntVar(&f.clients, "clients", 0, "clients per room (0: the scene's, 8 for arena-bench and 16 for field-bench; at most 64)")
	fs.DurationVar(&f.warmup, "warmup", 5*time.Second, "wait this long after the last client joined before measuring")
	fs.DurationVar(&f.duration, "duration", 30*time.Second, "measured window")
	fs.BoolVar(&f.json, "json", false, "print the result as JSON instead of a table")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress line on stderr")
	fs.IntVar(&f.dialPar, "dial-par", 32, "clients joining at once during the ramp")
	fs.DurationVar(&f.ping, "ping", time.Second, "each client pings this often to measure round trips (0: never); ping and pong bytes are left out of the bandwidth figures")
	fs.IntVar(&f.srcAddrs, "src-addrs", 1, "spread connections over this many loopback source addresses (127.0.0.2, ...); 1: the default 127.0.0.1")
	fs.StringVar(&f.cpuProfile, "cpu-profile", "", "write a CPU profile of the server over the measured window here (needs its /debug/pprof: on for child servers, -pprof for a running one)")
	f.server.register(fs, "tickroom")
	f.cluster.register(fs, 0)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if (f.cluster.nodes > 0 || f.cluster.urls != "") && (f.server.url != "" || f.server.kind != "tickroom") {
		return nil, fmt.Errorf("scene: -cluster and -urls run tickroom nodes: not with -url or -server %s", f.server.kind)
	}
	if f.clients == 0 {
		f.clients = 8
		if f.typ == "field-bench" {
			f.clients = 16
		}
	}
	switch {
	case f.typ != "arena-bench" && f.typ != "field-bench":
		return nil, fmt.Errorf("scene: -type %q: want arena-bench or field-bench", f.typ)
	case !f.views && f.typ != "field-bench":
		return nil, fmt.Errorf("scene: -views=false is for -type field-bench")
	case fs.NArg() > 0:
		return nil, fmt.Errorf("scene: unexpected arguments %q", fs.Args())
	case f.rooms < 1 || f.rooms > 5000:
		return nil, fmt.Errorf("scene: -rooms %d: want 1..5000", f.rooms)
	case f.clients < 1 || f.clients > 64:
		return nil, fmt.Errorf("scene: -clients %d: want 1..64 (arena-bench seats 64)", f.clients)
	case f.duration < time.Second || f.duration > 10*time.Minute:
		return nil, fmt.Errorf("scene: -duration %v: want 1s..10m", f.duration)
	case f.warmup < 0 || f.warmup > 5*time.Minute:
		return nil, fmt.Errorf("scene: -warmup %v: want 0..5m", f.warmup)
	case f.dialPar < 1:
		return nil, fmt.Errorf("scene: -dial-par %d: want at least 1", f.dialPar)
	}
	return f, nil
}

// runScene is the scene subcommand.
func runScene(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseSceneFlags(args, stderr)
	if err != nil {
		return err
	}
	n := f.rooms * f.clients
	if _, err := raiseFileLimit(uint64(2*n + 4096)); err != nil {
		return fmt.Errorf("scene: %w", err)
	}
	res := &sceneResult{Mode: "scene", Type: f.typ, Rooms: f.rooms, ClientsPerRoom: f.clients, Clients: n,
		WarmupS: f.warmup.Seconds(), LoadAvgStart: loadAvg()}
	srv := &sceneServers{}
	if f.cluster.nodes > 0 || f.cluster.urls != "" {
		srv.cl, err = startCluster(ctx, &f.cluster, &f.server, "warn", stderr)
		if err != nil {
			return fmt.Errorf("scene: %w", err)
		}
		res.Server = fmt.Sprintf("cluster of %d tickroom nodes", len(srv.cl.nodes))
	} else {
		srv.single, err = startTarget(ctx, &f.server, stderr)
		if err != nil {
			return fmt.Errorf("scene: %w", err)
		}
		res.Server, res.ServerPID = serverName(srv.single, &f.server), srv.single.PID
	}
	defer srv.stop()

	nodes, err := srv.fleetNodes(f.srcAddrs)
	if err != nil {
		return fmt.Errorf("scene: %w", err)
	}
	clk := clock{base: time.Now()}
	roomType := f.typ
	if f.typ == "field-bench" {
		res.Views = &f.views
		res.ViewGranularity = fieldGranularity(f.views)
		if !f.views {
			roomType = "field-bench-all"
		}
	}
	fl := newClusterFleet(fleetConfig{typ: roomType, field: f.typ == "field-bench", rooms: f.rooms, clients: f.clients, dialPar: f.dialPar, ping: f.ping,
		expectTicks: int(f.duration.Seconds()*20) + 100}, clk, nodes)
	prog := newProgress(stderr, f.quiet)
	defer fl.stop()
	err = fl.rampUp(ctx, prog)
	res.JoinRetries, res.CreateRetries = fl.joinRetries.Load(), fl.createRetries.Load()
	if err != nil {
		return fmt.Errorf("scene: %w", err)
	}
	res.JoinS = float64(clk.now()) / 1e9

	if err := measureScene(ctx, fl, srv, f, prog, res); err != nil {
		return fmt.Errorf("scene: %w", err)
	}
	fl.capture(6, 10*time.Second)
	lost := 0
	for _, c := range fl.all() {
		if c.closed.Load() || c.writeErr != nil {
			c.lost = true
			lost++
			if res.LostCloseCodes == nil {
				res.LostCloseCodes = map[string]int{}
			}
			res.LostCloseCodes[fmt.Sprint(closeCode(c.readErr))]++
		}
	}
	fl.stop()
	res.finish(fl, f.duration.Seconds(), lost)
	if f.json {
		err = printJSON(stdout, res)
	} else {
		err = printTable(stdout, fmt.Sprintf("%s scene: %d rooms x %d clients, %v window after %v warm-up (load avg at start %s)",
			fl.cfg.typ, f.rooms, f.clients, f.duration, f.warmup, res.LoadAvgStart), res.rows())
	}
	if err != nil {
		return err
	}
	for _, p := range res.Problems {
		fmt.Fprintln(stderr, "problem:", p)
	}
	if res.Divergences > 0 || res.ClientsLost > 0 || res.MirrorsUnchecked > 0 || res.DecodeErrors > 0 {
		return errDiverged
	}
	return nil
}

// rampUp starts the fleet with a progress line while clients join.
func (fl *fleet) rampUp(ctx context.Context, prog *progress) error {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				prog.line("joining: %d/%d clients", fl.joined.Load(), fl.cfg.rooms*fl.cfg.clients)
			}
		}
	}()
	err := fl.start(ctx)
	close(stop)
	<-done
	return err
}

// measureScene runs the warm-up and the measured window, reading the
// server's and our own CPU and memory at its edges.
func measureScene(ctx context.Context, fl *fleet, srv *sceneServers, f *sceneFlags, prog *progress, res *sceneResult) error {
	defer prog.done()
	start := fl.clock.now() + int64(f.warmup)
	fl.win.end.Store(start + int64(f.duration))
	fl.win.start.Store(start)
	startTimer := time.NewTimer(f.warmup)
	defer startTimer.Stop()
	endTimer := time.NewTimer(f.warmup + f.duration)
	defer endTimer.Stop()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()

	srvCPU, selfCPUm := newCPUMeterSum(srv.pids()), newSelfCPUMeter()
	liveSrv, liveSelf := newCPUMeterSum(srv.pids()), newSelfCPUMeter()
	var clm *clusterMeter
	if srv.cl != nil {
		clm = newClusterMeter(srv.cl)
	}
	var lastS2C, lastC2S int64
	lastAt := time.Now()
	phase := "warm-up"
	stats := &serverTicks{typ: fl.cfg.typ}
	for _, n := range fl.nodes {
		stats.as = append(stats.as, n.api)
	}
	var profileDone chan error
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-startTimer.C:
			srvCPU.reset()
			selfCPUm.reset()
			stats.begin(ctx)
			if clm != nil {
				clm.begin(ctx)
			}
			phase = "measuring"
			if f.cpuProfile != "" {
				profileDone = profileServer(ctx, fl.api, srv.nodes()[0], f.duration, f.cpuProfile)
			}
		case <-endTimer.C:
			res.measureEnd(srv, srvCPU, selfCPUm)
			res.DurationS = f.duration.Seconds()
			stats.end(ctx, res)
			if clm != nil {
				clm.end(ctx, res)
			}
			if profileDone != nil {
				if err := <-profileDone; err != nil {
					res.Problems = append(res.Problems, err.Error())
				}
			}
			return nil
		case now := <-tick.C:
			if err := srv.alive(); err != nil {
				return err
			}
			s2c, c2s := fl.liveS2C.Load(), fl.liveC2S.Load()
			dt := now.Sub(lastAt).Seconds()
			n := float64(fl.cfg.rooms * fl.cfg.clients)
			prog.line("%s: %d clients  tick %d  s2c %.0f B/client/s  c2s %.0f B/client/s  server cpu %.2f  loadgen cpu %.2f  load %s",
				phase, fl.joined.Load(), fl.maxTick(), float64(s2c-lastS2C)/n/dt, float64(c2s-lastC2S)/n/dt,
				liveSrv.tick(), liveSelf.tick(), loadAvg())
			lastS2C, lastC2S, lastAt = s2c, c2s, now
		}
	}
}

// profileServer fetches a CPU profile of the server covering most of the
// window (a second short, so that it is in before the window ends) and
// writes it to path; the channel reports how that went.
func profileServer(ctx context.Context, a *api, t *target, window time.Duration, path string) chan error {
	done := make(chan error, 1)
	base := t.PprofURL
	if base == "" {
		base = t.URL + "/debug/pprof"
	}
	secs := max(1, int(window.Seconds())-1)
	go func() {
		body, err := pprofGet(ctx, a, fmt.Sprintf("%s/profile?seconds=%d", base, secs))
		if err == nil {
			err = os.WriteFile(path, []byte(body), 0o644)
		}
		if err != nil {
			err = fmt.Errorf("cpu profile: %w", err)
		}
		done <- err
	}()
	return done
}
