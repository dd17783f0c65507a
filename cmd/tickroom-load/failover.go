package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/state"
)

// The failover subcommand: how long the members of a room are without
// their room when its owner node dies, and what the room loses.
//
// A cluster of N tickroom nodes on N NATS servers (children, -cluster).
// For each kill, the victim is the next node in turn: rooms of type arena
// are made on it (so it owns them) and their clients join through the
// other nodes (relayed), send an input every 50 ms and mirror the room.
// After a warm-up the victim gets SIGKILL. Each client waits for its close
// (1012 from its node, once the victim's lease expired), dials its node
// again at once with its resume token, every 100 ms until it gets in, and
// stops the clock at the first delta after the new owner's snapshot.
// Then the victim is started again (the cluster is N nodes for every
// kill) and the next kill begins.
//
// What the room loses is read exactly: the last tick each client saw from
// the old owner, against the tick the new owner rebuilt the room at (its
// "room woken" log line); and each client's last acknowledged input (the
// avatar's seq field in the last state from the old owner) against the
// seq in the new owner's snapshot.

type failoverFlags struct {
	kills    int
	rooms    int
	clients  int
	warmup   time.Duration
	hold     time.Duration
	deadline time.Duration
	json     bool
	quiet    bool
	cluster  clusterFlags
	server   serverFlags
}

func parseFailoverFlags(args []string, stderr io.Writer) (*failoverFlags, error) {
	f := &failoverFlags{server: serverFlags{kind: "tickroom", maxRooms: 10000}}
	fs := flag.NewFlagSet("failover", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: tickroom-load failover [flags]\n\n"+
			"Starts -cluster N nats-server processes and N tickroom nodes as children, then -kills times:\n"+
			"makes -rooms arena rooms on the next node in turn, joins -clients clients to each through the\n"+
			"other nodes (relayed), SIGKILLs that node after -warmup, times each client from the kill to\n"+
			"the first delta from the new owner (after its 1012 close and a rejoin with its resume token),\n"+
			"reads the ticks and acknowledged inputs the room lost, and restarts the killed node.\n\n")
		fs.PrintDefaults()
	}
	fs.IntVar(&f.kills, "kills", 20, "owner nodes to kill, one after the other")
	fs.IntVar(&f.rooms, "rooms", 2, "arena rooms made on the victim before each kill")
	fs.IntVar(&f.clients, "clients", 2, "clients per room, spread over the nodes other than the victim")
	fs.DurationVar(&f.warmup, "warmup", 3*time.Second, "rooms run this long with every client in before the kill")
	fs.DurationVar(&f.hold, "hold", time.Second, "after every client is back, keep the rooms running this long before the next kill")
	fs.DurationVar(&f.deadline, "deadline", 30*time.Second, "a client not back this long after the kill counts as lost")
	fs.BoolVar(&f.json, "json", false, "print the result as JSON instead of a table")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress lines on stderr")
	f.cluster.register(fs, 3)
	fs.StringVar(&f.server.bin, "server-bin", "", "run this tickroom binary instead of building one")
	fs.StringVar(&f.server.extra, "server-args", "", "extra flags for every node, space-separated")
	fs.BoolVar(&f.server.keepLog, "keep-server-log", false, "keep the nodes' log files and print their paths")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("failover: unexpected arguments %q", fs.Args())
	case f.cluster.urls != "":
		return nil, errors.New("failover: -urls: this mode kills and restarts nodes, so it starts its own (-cluster)")
	case f.cluster.nodes < 2 || f.cluster.nodes > 5:
		return nil, fmt.Errorf("failover: -cluster %d: want 2..5", f.cluster.nodes)
	case f.kills < 1 || f.kills > 200:
		return nil, fmt.Errorf("failover: -kills %d: want 1..200", f.kills)
	case f.rooms < 1 || f.rooms > 50:
		return nil, fmt.Errorf("failover: -rooms %d: want 1..50", f.rooms)
	case f.clients < 1 || f.clients > arena.MaxPlayers:
		return nil, fmt.Errorf("failover: -clients %d: want 1..%d", f.clients, arena.MaxPlayers)
	case f.warmup < 0 || f.warmup > time.Minute:
		return nil, fmt.Errorf("failover: -warmup %v: want 0..1m", f.warmup)
	case f.hold < 0 || f.hold > time.Minute:
		return nil, fmt.Errorf("failover: -hold %v: want 0..1m", f.hold)
	case f.deadline < time.Second || f.deadline > 5*time.Minute:
		return nil, fmt.Errorf("failover: -deadline %v: want 1s..5m", f.deadline)
	}
	return f, nil
}

// foRoom is one room of one kill.
type foRoom struct {
	id      string
	clients []*foClient
}

// errFailoverChecks is returned after the report when a client was not
// back, or came back wrong.
var errFailoverChecks = errors.New("failover: run failed its checks")

// foClient is one member through a failover: a reader that follows the
// room across reconnects and a sender of inputs.
type foClient struct {
	room   string
	query  string // the first join's
	node   int
	dialer *dialer
	clock  clock
	killed chan struct{} // closed at the kill

	mu     sync.Mutex // conn, canSend
	conn   *websocket.Conn
	ready  bool
	seq    uint64 // sender only
	stop   chan struct{}
	synced chan struct{} // first snapshot of the first connection
	back   chan struct{} // first delta from the new owner (or given up)
	done   chan struct{} // the reader returned

	// reader; read by the coordinator after back (or done)
	token        string
	member       uint32
	lastTick     atomic.Uint64
	lastSeq      uint64 // own avatar's seq in the newest state seen
	lastAt       int64  // clock ns of the newest state seen
	closeAt      int64
	closeCode    int
	oldTick      uint64 // last tick seen from the old owner
	oldSeq       uint64
	oldAt        int64
	dials        int // dials after the close, the one that got in included
	resumed      bool
	memberAfter  uint32
	snapAt       int64
	snapTick     uint64
	seqAfter     uint64
	deltaAt      int64
	deltasAfter  int    // deltas from the new owner until stop
	maxSeqAfter  uint64 // own seq at the end: inputs still applied after the failover
	earlyClose   bool   // closed before the kill
	refused      int    // first joins closed with 4004 (room not found), tried again
	problem      string
	backClosed   sync.Once
	decodeErrors int
}

func (c *foClient) markBack() { c.backClosed.Do(func() { close(c.back) }) }

func (c *foClient) fail(format string, args ...any) {
	if c.problem == "" {
		c.problem = fmt.Sprintf(format, args...)
	}
}

// session reads one connection until it ends. Before the kill it tracks
// the newest tick and seq; after, it records the new owner's welcome,
// snapshot and first delta. It returns the read error.
func (c *foClient) session(conn *websocket.Conn, after bool) error {
	var m *state.Mirror
	var self state.EntityID
	hasSelf, sawSnap := false, false
	buf := make([]byte, 0, 4096)
	for {
		_, rd, err := conn.NextReader()
		if err != nil {
			return err
		}
		if buf, err = readInto(buf[:0], rd); err != nil {
			return err
		}
		at := c.clock.now()
		tag, err := messageTag(buf)
		if err != nil {
			c.decodeErrors++
			continue
		}
		switch tag {
		case state.MsgWelcome:
			w, s, err := state.DecodeWelcome(buf)
			if err != nil {
				c.decodeErrors++
				c.fail("welcome: %v", err)
				continue
			}
			m = state.NewMirror(s)
			if w.Entity != nil {
				self, hasSelf = *w.Entity, true
			}
			if after {
				c.resumed, c.memberAfter = w.Resumed, w.Member
			} else {
				c.token, c.member = w.Token, w.Member
			}
		case state.MsgSnapshot, state.MsgDelta, state.MsgViewSnapshot, state.MsgViewDelta:
			tag = wholeTag(tag)
			if m == nil {
				c.decodeErrors++
				continue
			}
			if _, err := m.Apply(buf); err != nil {
				c.decodeErrors++
				c.fail("apply: %v", err)
				continue
			}
			var seq uint64
			if e := m.Entities[self]; hasSelf && e != nil {
				seq = uint64(e.Int(arena.FieldSeq))
			}
			if !after {
				c.lastTick.Store(m.Tick)
				c.lastSeq, c.lastAt = seq, at
				if tag == state.MsgSnapshot && !sawSnap {
					sawSnap = true
					c.mu.Lock()
					c.ready = true
					c.mu.Unlock()
					close(c.synced)
				}
				continue
			}
			switch {
			case tag == state.MsgSnapshot && c.snapAt == 0:
				c.snapAt, c.snapTick, c.seqAfter = at, m.Tick, seq
				c.mu.Lock()
				c.ready = true
				c.mu.Unlock()
			case tag == state.MsgDelta && c.snapAt != 0:
				if c.deltaAt == 0 {
					c.deltaAt = at
					c.markBack()
				}
				c.deltasAfter++
			}
			c.lastTick.Store(m.Tick)
			c.maxSeqAfter = max(c.maxSeqAfter, seq)
		}
	}
}

// run is the client's reader: the first connection, the close, the
// reconnects until the new owner's first delta, then the rest.
//
// A first join through another node right after the room was made can
// be closed with 4004 (room not found): it is counted and tried again
// after 200 ms, up to 5 times.
func (c *foClient) run(deadline time.Duration) {
	defer close(c.done)
	defer c.markBack()
	var err error
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, derr := c.dialer.dial(ctx, c.room, c.query)
		cancel()
		if derr != nil {
			c.earlyClose = true
			c.fail("join: %v", derr)
			return
		}
		c.setConn(conn)
		err = c.session(conn, false)
		if isClosed(c.synced) || isClosed(c.stop) || closeCode(err) != 4004 || attempt == 5 {
			break
		}
		c.refused++
		time.Sleep(200 * time.Millisecond)
	}
	if isClosed(c.stop) {
		return
	}
	c.closeAt = c.clock.now()
	c.oldTick, c.oldSeq, c.oldAt = c.lastTick.Load(), c.lastSeq, c.lastAt
	c.closeCode = closeCode(err)
	c.setConn(nil)
	if !isClosed(c.killed) {
		c.earlyClose = true
		c.fail("connection ended before the kill: %v", err)
		return
	}
	if c.closeCode != 1012 {
		c.fail("closed with %d, not 1012: %v", c.closeCode, err)
	}
	until := time.Now().Add(deadline)
	for time.Now().Before(until) && !isClosed(c.stop) {
		c.dials++
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := c.dialer.dial(ctx, c.room, "token="+c.token)
		cancel()
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		c.setConn(conn)
		err = c.session(conn, true)
		c.setConn(nil)
		if isClosed(c.stop) || c.deltaAt != 0 {
			return
		}
		c.snapAt = 0 // closed again before the first delta: start over
		time.Sleep(100 * time.Millisecond)
	}
	if c.deltaAt == 0 {
		c.fail("not back within %v of the close", deadline)
	}
}

func (c *foClient) setConn(conn *websocket.Conn) {
	c.mu.Lock()
	c.conn, c.ready = conn, false
	c.mu.Unlock()
}

// send is the client's sender: an input every 50 ms while it is synced.
func (c *foClient) send(idx int) {
	t := time.NewTicker(time.Second / arenabench.TickRate)
	defer t.Stop()
	buf := make([]byte, 0, 64)
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		c.mu.Lock()
		if c.conn != nil && c.ready {
			c.seq++
			buf = appendInput(buf[:0], c.seq, arenabench.ClientInput(idx, c.seq))
			_ = c.conn.SetWriteDeadline(time.Now().Add(time.Second)) // a failed write shows as the reader's close
			_ = c.conn.WriteMessage(websocket.BinaryMessage, buf)
		}
		c.mu.Unlock()
	}
}

// closeNow ends the client: a normal close (its member leaves) and waits
// for the reader.
func (c *foClient) closeNow() {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	c.mu.Lock()
	conn := c.conn
	c.mu.Unlock()
	if conn != nil {
		closeConn(conn)
	}
	<-c.done
}

// closeCode is the WebSocket close code of a read error, or -1.
func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// killRecord is what one kill measured.
type killRecord struct {
	Kill       int       `json:"kill"`
	Victim     int       `json:"victim"`
	LoadAvg    string    `json:"load_avg"`
	Rooms      []string  `json:"rooms"`
	NewOwners  []string  `json:"new_owners"`
	FirstDelta []float64 `json:"first_delta_ms"`      // per client: kill -> first delta from the new owner
	Closed     []float64 `json:"closed_ms"`           // per client: kill -> its 1012
	Snapshot   []float64 `json:"snapshot_ms"`         // per client: kill -> the new owner's snapshot
	LastOld    []float64 `json:"last_old_ms"`         // per client: kill -> the last state from the old owner (negative: before)
	TicksLost  []int64   `json:"ticks_lost"`          // per room: newest tick its clients saw from the old owner - the tick the new owner woke it at
	InputsLost []int64   `json:"inputs_lost"`         // per client: acknowledged seq seen from the old owner - seq in the new owner's snapshot
	Dials      []int     `json:"dials"`               // per client: dials after the close
	Relayed    int       `json:"relayed_after"`       // clients whose node does not own the room after the takeover
	Refused    int       `json:"first_joins_refused"` // first joins right after the create closed with 4004, tried again
	// VictimRooms is how many rooms the victim owned when it was killed
	// (tickroom_rooms_owned): this kill's and earlier kills' rooms still
	// live (a room taken over holds its seats for the seat grace again,
	// so it does not sleep while kills come every few seconds).
	VictimRooms float64  `json:"victim_rooms_owned"`
	Problems    []string `json:"problems,omitempty"`
	RestartS    float64  `json:"restart_s"` // victim started again until every node saw N nodes
}

// failoverResult is the run's report.
type failoverResult struct {
	Mode           string  `json:"mode"`
	Nodes          int     `json:"nodes"`
	LeaseTTLS      float64 `json:"lease_ttl_s"`
	Kills          int     `json:"kills"`
	RoomsPerKill   int     `json:"rooms_per_kill"`
	ClientsPerRoom int     `json:"clients_per_room"`
	LoadAvgStart   string  `json:"load_avg_start"`
	LoadAvgEnd     string  `json:"load_avg_end"`

	FirstDeltaP50Ms *float64       `json:"first_delta_p50_ms"`
	FirstDeltaP99Ms *float64       `json:"first_delta_p99_ms"`
	FirstDeltaMaxMs *float64       `json:"first_delta_max_ms"`
	WorstPerKillP50 *float64       `json:"worst_client_per_kill_p50_ms"`
	WorstPerKillP99 *float64       `json:"worst_client_per_kill_p99_ms"`
	ClosedP50Ms     *float64       `json:"closed_p50_ms"`
	ClosedP99Ms     *float64       `json:"closed_p99_ms"`
	SnapshotP50Ms   *float64       `json:"snapshot_p50_ms"`
	SnapshotP99Ms   *float64       `json:"snapshot_p99_ms"`
	Samples         int            `json:"samples"`
	TicksLostMax    *int64         `json:"ticks_lost_max"`
	TicksLostHist   map[string]int `json:"ticks_lost_histogram"`
	InputsLostMax   *int64         `json:"inputs_lost_max"`
	InputsLostHist  map[string]int `json:"inputs_lost_histogram"`
	ClientsLost     int            `json:"clients_lost"`
	JoinsRefused    int            `json:"first_joins_refused"`
	// Skipped are attempts given up before the kill (a client's
	// connection ended during the warm-up): not kills, but findings.
	Skipped  []string     `json:"skipped,omitempty"`
	Problems []string     `json:"problems,omitempty"`
	PerKill  []killRecord `json:"per_kill"`
}

// runFailover is the failover subcommand.
func runFailover(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseFailoverFlags(args, stderr)
	if err != nil {
		return err
	}
	res := &failoverResult{Mode: "failover", Nodes: f.cluster.nodes, LeaseTTLS: f.cluster.leaseTTL.Seconds(), Kills: f.kills,
		RoomsPerKill: f.rooms, ClientsPerRoom: f.clients, LoadAvgStart: loadAvg(), TicksLostHist: map[string]int{}, InputsLostHist: map[string]int{}}
	cl, err := startCluster(ctx, &f.cluster, &f.server, "info", stderr)
	if err != nil {
		return fmt.Errorf("failover: %w", err)
	}
	defer cl.Stop()
	clk := clock{base: time.Now()}
	// An attempt whose warm-up went wrong is skipped (reported) without a
	// kill; at most as many attempts are skipped as kills are asked for.
	for k := 0; len(res.PerKill) < f.kills && k < 2*f.kills; k++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := oneKill(ctx, cl, f, k, clk, stderr)
		var skip *skipKill
		if errors.As(err, &skip) {
			res.Skipped = append(res.Skipped, fmt.Sprintf("attempt %d (victim node %d, load %s): %v", k, rec.Victim, rec.LoadAvg, skip.error))
			if !f.quiet {
				fmt.Fprintf(stderr, "attempt %d skipped before the kill: %v\n", k, skip.error)
			}
			continue
		}
		if rec != nil {
			res.PerKill = append(res.PerKill, *rec)
		}
		if err != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("kill %d: %v", k, err))
			break
		}
	}
	res.LoadAvgEnd = loadAvg()
	res.summarize()
	if f.json {
		err = printJSON(stdout, res)
	} else {
		err = printTable(stdout, fmt.Sprintf("failover: %d kills of the owner of %d arena rooms x %d relayed clients, %d nodes, lease TTL %v (load avg at start %s)",
			len(res.PerKill), f.rooms, f.clients, f.cluster.nodes, f.cluster.leaseTTL, res.LoadAvgStart), res.rows())
	}
	if err != nil {
		return err
	}
	for _, p := range append(res.Skipped, res.Problems...) {
		fmt.Fprintln(stderr, "problem:", p)
	}
	if len(res.Problems) > 0 || len(res.Skipped) > 0 || res.ClientsLost > 0 {
		return errFailoverChecks
	}
	return nil
}

// skipKill is an attempt given up before its kill: the cluster is as it
// was, and the next attempt can go on.
type skipKill struct{ error }

// oneKill runs one kill of the victim's rooms; an error stops the run
// (the cluster is not in a state to go on).
func oneKill(ctx context.Context, cl *tickCluster, f *failoverFlags, k int, clk clock, stderr io.Writer) (*killRecord, error) {
	n := len(cl.nodes)
	v := k % n
	rec := &killRecord{Kill: k, Victim: v, LoadAvg: loadAvg()}
	var others []int
	for i := range n {
		if i != v {
			others = append(others, i)
		}
	}
	dialers := make([]*dialer, n)
	for i := range n {
		d, err := newDialer(cl.nodes[i].URL, 1, 4096, 1024)
		if err != nil {
			return rec, err
		}
		dialers[i] = d
	}
	killed := make(chan struct{})
	var rooms []*foRoom
	var all []*foClient
	defer func() {
		for _, c := range all {
			c.closeNow()
		}
	}()
	va := newAPI(cl.nodes[v].URL)
	for r := range f.rooms {
		id, err := va.createRoom(ctx, "arena", max(f.clients, 8))
		if err != nil {
			return rec, err
		}
		if owner, err := va.roomOwner(ctx, id); err != nil || owner != cl.addrs[v] {
			return rec, fmt.Errorf("room %s made on node %d is owned by %q (%v)", id, v, owner, err)
		}
		room := &foRoom{id: id}
		rooms = append(rooms, room)
		rec.Rooms = append(rec.Rooms, id)
		for j := range f.clients {
			node := others[(r*f.clients+j)%len(others)]
			c := &foClient{room: id, query: fmt.Sprintf("name=k%dr%dc%d", k, r, j), node: node, dialer: dialers[node], clock: clk, killed: killed,
				stop: make(chan struct{}), synced: make(chan struct{}), back: make(chan struct{}), done: make(chan struct{})}
			room.clients = append(room.clients, c)
			all = append(all, c)
			go c.run(f.deadline)
			go c.send(r*f.clients + j)
		}
	}
	defer func() {
		for _, c := range all {
			rec.Refused += c.refused
		}
	}()
	for _, c := range all {
		select {
		case <-c.synced:
		case <-c.done:
			return rec, &skipKill{fmt.Errorf("a client's connection (through node %d) ended before its snapshot: %s", c.node, c.problem)}
		case <-time.After(15 * time.Second):
			return rec, &skipKill{errors.New("a client had no snapshot within 15 s")}
		case <-ctx.Done():
			return rec, ctx.Err()
		}
	}
	if err := sleepCtx(ctx, f.warmup); err != nil {
		return rec, err
	}
	if err := cl.alive(); err != nil {
		return rec, err
	}
	for _, c := range all {
		if isClosed(c.done) {
			return rec, &skipKill{fmt.Errorf("a client's connection (through node %d) ended during the warm-up: %s", c.node, c.problem)}
		}
	}
	if m, err := scrapeMetrics(ctx, va); err == nil {
		rec.VictimRooms = m["tickroom_rooms_owned"]
	}
	killAt := clk.now()
	close(killed)
	cl.kill(v)
	for _, c := range all {
		select {
		case <-c.back:
		case <-ctx.Done():
			return rec, ctx.Err()
		}
	}
	if err := sleepCtx(ctx, f.hold); err != nil {
		return rec, err
	}
	for _, c := range all {
		c.closeNow()
	}
	// Who woke each room, at which tick.
	woken := map[string]uint64{}
	for i, t := range cl.nodes {
		if i == v {
			continue
		}
		for id, tick := range wokenTicks(t.logPath) {
			woken[id] = tick
		}
	}
	la := newAPI(cl.nodes[others[0]].URL)
	for _, room := range rooms {
		owner, err := la.roomOwner(ctx, room.id)
		if err != nil {
			rec.Problems = append(rec.Problems, err.Error())
		}
		rec.NewOwners = append(rec.NewOwners, owner)
		ownerIdx := cl.nodeIndex(owner)
		var oldTick uint64
		for _, c := range room.clients {
			oldTick = max(oldTick, c.oldTick)
			if c.problem != "" {
				rec.Problems = append(rec.Problems, fmt.Sprintf("room %s client via node %d: %s", room.id, c.node, c.problem))
			}
			if c.deltaAt == 0 {
				continue
			}
			if c.memberAfter != c.member || !c.resumed {
				rec.Problems = append(rec.Problems, fmt.Sprintf("room %s: member %d came back as %d (resumed %v)", room.id, c.member, c.memberAfter, c.resumed))
			}
			rec.FirstDelta = append(rec.FirstDelta, msf(c.deltaAt-killAt))
			rec.Closed = append(rec.Closed, msf(c.closeAt-killAt))
			rec.Snapshot = append(rec.Snapshot, msf(c.snapAt-killAt))
			rec.LastOld = append(rec.LastOld, msf(c.oldAt-killAt))
			rec.InputsLost = append(rec.InputsLost, int64(c.oldSeq)-int64(c.seqAfter))
			rec.Dials = append(rec.Dials, c.dials)
			if c.node != ownerIdx {
				rec.Relayed++
			}
			if c.maxSeqAfter <= c.seqAfter {
				rec.Problems = append(rec.Problems, fmt.Sprintf("room %s: no input of the client via node %d applied after the failover (seq %d)", room.id, c.node, c.seqAfter))
			}
		}
		if tick, ok := woken[room.id]; ok {
			rec.TicksLost = append(rec.TicksLost, int64(oldTick)-int64(tick))
		} else {
			rec.Problems = append(rec.Problems, fmt.Sprintf("room %s: no node logged waking it", room.id))
		}
	}
	restart := time.Now()
	if err := cl.restart(ctx, v); err != nil {
		return rec, err
	}
	if err := cl.waitNodes(ctx, n, 30*time.Second); err != nil {
		return rec, err
	}
	rec.RestartS = time.Since(restart).Seconds()
	worst := slices.Max(append([]float64{0}, rec.FirstDelta...))
	if !f.quiet {
		fmt.Fprintf(stderr, "kill %d (node %d owning %.0f rooms, load %s): back after %.0f ms (worst client), ticks lost %v, inputs lost %v, restart %.1f s\n",
			k, v, rec.VictimRooms, rec.LoadAvg, worst, rec.TicksLost, rec.InputsLost, rec.RestartS)
	}
	return rec, nil
}

func msf(ns int64) float64 { return float64(ns) / 1e6 }

// summarize computes the run's distributions from the kills.
func (res *failoverResult) summarize() {
	var first, closed, snap, worst []int64
	for _, k := range res.PerKill {
		w := int64(0)
		for _, v := range k.FirstDelta {
			first = append(first, int64(v*1e6))
			w = max(w, int64(v*1e6))
		}
		if len(k.FirstDelta) > 0 {
			worst = append(worst, w)
		}
		for _, v := range k.Closed {
			closed = append(closed, int64(v*1e6))
		}
		for _, v := range k.Snapshot {
			snap = append(snap, int64(v*1e6))
		}
		for _, t := range k.TicksLost {
			res.TicksLostHist[fmt.Sprint(t)]++
			if res.TicksLostMax == nil || t > *res.TicksLostMax {
				res.TicksLostMax = &t
			}
		}
		for _, t := range k.InputsLost {
			res.InputsLostHist[fmt.Sprint(t)]++
			if res.InputsLostMax == nil || t > *res.InputsLostMax {
				res.InputsLostMax = &t
			}
		}
		res.ClientsLost += len(k.Rooms)*res.ClientsPerRoom - len(k.FirstDelta)
		res.JoinsRefused += k.Refused
		for _, p := range k.Problems {
			if len(res.Problems) < 20 {
				res.Problems = append(res.Problems, fmt.Sprintf("kill %d: %s", k.Kill, p))
			}
		}
	}
	fd, wd, cd, sd := newDist(first), newDist(worst), newDist(closed), newDist(snap)
	res.Samples = len(fd)
	res.FirstDeltaP50Ms, res.FirstDeltaP99Ms, res.FirstDeltaMaxMs = fd.q(0.5), fd.q(0.99), fd.max()
	res.WorstPerKillP50, res.WorstPerKillP99 = wd.q(0.5), wd.q(0.99)
	res.ClosedP50Ms, res.ClosedP99Ms = cd.q(0.5), cd.q(0.99)
	res.SnapshotP50Ms, res.SnapshotP99Ms = sd.q(0.5), sd.q(0.99)
}

func (res *failoverResult) rows() []row {
	f0 := "%.0f"
	hist := func(h map[string]int) string {
		var keys []string
		for k := range h {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			var x, y int
			fmt.Sscan(a, &x)
			fmt.Sscan(b, &y)
			return x - y
		})
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s: %d", k, h[k]))
		}
		return strings.Join(parts, ", ")
	}
	i64 := func(p *int64) string {
		if p == nil {
			return "n/a"
		}
		return fmt.Sprint(*p)
	}
	return []row{
		{"kills / client samples", fmt.Sprintf("%d / %d", len(res.PerKill), res.Samples), ">= 20 kills"},
		{"kill -> first delta from the new owner p50 / p99 / max ms", num(res.FirstDeltaP50Ms, f0) + " / " + num(res.FirstDeltaP99Ms, f0) + " / " + num(res.FirstDeltaMaxMs, f0), "p99 <= 3000"},
		{"worst client of each kill p50 / p99 ms", num(res.WorstPerKillP50, f0) + " / " + num(res.WorstPerKillP99, f0), ""},
		{"kill -> 1012 close p50 / p99 ms", num(res.ClosedP50Ms, f0) + " / " + num(res.ClosedP99Ms, f0), ""},
		{"kill -> new owner's snapshot p50 / p99 ms", num(res.SnapshotP50Ms, f0) + " / " + num(res.SnapshotP99Ms, f0), ""},
		{"ticks lost per room (max; value: rooms)", i64(res.TicksLostMax) + "  (" + hist(res.TicksLostHist) + ")", "<= 10"},
		{"acknowledged inputs lost per client (max; value: clients)", i64(res.InputsLostMax) + "  (" + hist(res.InputsLostHist) + ")", ""},
		{"clients not back", fmt.Sprint(res.ClientsLost), "0"},
		{"first joins through another node right after the create closed 4004 (tried again)", fmt.Sprint(res.JoinsRefused), "0"},
		{"attempts skipped (a client's connection ended before the kill)", fmt.Sprint(len(res.Skipped)), "0"},
		{"load average start / end", res.LoadAvgStart + " / " + res.LoadAvgEnd, ""},
	}
}

// wholeTag is the tag of the whole-world message a view frame stands for
// (the arena sends view frames): a view snapshot counts as a snapshot, a
// view delta as a delta.
func wholeTag(tag int) int {
	switch tag {
	case state.MsgViewSnapshot:
		return state.MsgSnapshot
	case state.MsgViewDelta:
		return state.MsgDelta
	}
	return tag
}
