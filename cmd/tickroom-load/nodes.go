package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// clusterFlags choose a cluster of tickroom nodes for the modes that
// measure one: -cluster N starts N nats-server processes (a JetStream
// cluster joined by routes) and N tickroom nodes on them as children;
// -urls A,B,C drives running nodes instead.
type clusterFlags struct {
	nodes    int
	urls     string
	pids     string
	natsPIDs string
	natsURL  string
	natsBin  string
	leaseTTL time.Duration
}

func (f *clusterFlags) register(fs *flag.FlagSet, defaultNodes int) {
	fs.IntVar(&f.nodes, "cluster", defaultNodes, "start this many nats-server processes (a JetStream cluster) and as many tickroom nodes on them as children; the rooms and clients are spread over the nodes (0: a single server, as -url or a child)")
	fs.StringVar(&f.urls, "urls", "", "instead of -cluster: base URLs of running tickroom nodes of one cluster, comma-separated (http://127.0.0.1:PORT,...)")
	fs.StringVar(&f.pids, "pids", "", "with -urls: the nodes' process ids, comma-separated, in the same order (for their CPU; empty: not measured)")
	fs.StringVar(&f.natsPIDs, "nats-pids", "", "with -urls: the nats-server process ids, comma-separated (for their CPU)")
	fs.StringVar(&f.natsURL, "nats-url", "", "with -urls: the NATS URLs the nodes use (for the log stream's size; empty: not measured)")
	fs.StringVar(&f.natsBin, "nats-bin", "", "with -cluster: run this nats-server binary instead of building the one in go.mod")
	fs.DurationVar(&f.leaseTTL, "lease-ttl", 3*time.Second, "with -cluster: the nodes' -lease-ttl")
}

// tickCluster is the tickroom nodes under test and their NATS.
type tickCluster struct {
	nats     *natsCluster // nil with -urls
	natsURL  string
	srv      serverFlags // how each node is started (bin set once built)
	nodes    []*target
	addrs    []string // each node's listen address, kept across restarts
	natsPIDs []int
	dir      string // the built tickroom binary
	ttl      time.Duration
	keepLogs bool
	logLevel string // the nodes' -log-level: warn, as a single child server; info where a mode reads the logs
	stderr   io.Writer
	starts   []int // incarnations of each node, for its name
}

// startCluster starts (or, with -urls, finds) the cluster. Stop must be
// called either way.
func startCluster(ctx context.Context, cf *clusterFlags, sf *serverFlags, logLevel string, stderr io.Writer) (*tickCluster, error) {
	c := &tickCluster{ttl: cf.leaseTTL, keepLogs: sf.keepLog, logLevel: logLevel, stderr: stderr}
	if cf.urls != "" {
		pids, err := parsePIDs(cf.pids)
		if err != nil {
			return nil, err
		}
		if c.natsPIDs, err = parsePIDs(cf.natsPIDs); err != nil {
			return nil, err
		}
		for i, u := range strings.Split(cf.urls, ",") {
			u = strings.TrimSuffix(strings.TrimSpace(u), "/")
			if err := checkLoopback(u); err != nil {
				return nil, err
			}
			t := &target{URL: u}
			if i < len(pids) {
				t.PID = pids[i]
			}
			c.nodes = append(c.nodes, t)
			c.addrs = append(c.addrs, strings.TrimPrefix(u, "http://"))
		}
		c.natsURL = cf.natsURL
		return c, nil
	}
	if cf.nodes < 1 || cf.nodes > 5 {
		return nil, fmt.Errorf("cluster: -cluster %d: want 1..5", cf.nodes)
	}
	var err error
	if c.nats, err = startNATS(ctx, cf.nodes, cf.natsBin, stderr); err != nil {
		return nil, err
	}
	c.natsURL, c.natsPIDs = c.nats.URLs(), c.nats.PIDs()
	c.srv = *sf
	if c.srv.bin == "" {
		if c.dir, err = os.MkdirTemp("", "tickroom-load-bin-"); err != nil {
			c.Stop()
			return nil, fmt.Errorf("cluster: temp dir: %w", err)
		}
		c.srv.bin = filepath.Join(c.dir, "tickroom")
		fmt.Fprintf(stderr, "building github.com/tickroom/tickroom/cmd/tickroom ...\n")
		build := exec.CommandContext(ctx, "go", "build", "-o", c.srv.bin, "github.com/tickroom/tickroom/cmd/tickroom")
		if out, err := build.CombinedOutput(); err != nil {
			c.Stop()
			return nil, fmt.Errorf("cluster: go build ./cmd/tickroom (run from the module, or pass -server-bin): %w\n%s", err, out)
		}
	}
	c.nodes = make([]*target, cf.nodes)
	c.starts = make([]int, cf.nodes)
	for range cf.nodes {
		port, err := freePort()
		if err != nil {
			c.Stop()
			return nil, err
		}
		c.addrs = append(c.addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	for i := range cf.nodes {
		if err := c.startNode(ctx, i); err != nil {
			c.Stop()
			return nil, err
		}
	}
	if err := c.waitNodes(ctx, cf.nodes, 30*time.Second); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func parsePIDs(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		pid, err := strconv.Atoi(f)
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("cluster: bad process id %q", f)
		}
		out = append(out, pid)
	}
	return out, nil
}

// startNode starts node i (again) on its address.
func (c *tickCluster) startNode(ctx context.Context, i int) error {
	dir, err := os.MkdirTemp("", "tickroom-load-node-")
	if err != nil {
		return fmt.Errorf("cluster: temp dir: %w", err)
	}
	c.starts[i]++
	t := &target{dir: dir, addr: c.addrs[i], logPath: filepath.Join(dir, "server.log"), keepLog: c.keepLogs, exited: make(chan struct{})}
	f := c.srv
	f.modeArgs = append(append([]string(nil), f.modeArgs...), "-nats", c.natsURL,
		"-node-name", fmt.Sprintf("n%d-%d", i, c.starts[i]), "-lease-ttl", c.ttl.String(), "-log-level", c.logLevel)
	if err := t.start(ctx, &f, c.stderr); err != nil {
		t.Stop()
		return fmt.Errorf("cluster: node %d: %w", i, err)
	}
	c.nodes[i] = t
	return nil
}

// kill ends node i with SIGKILL and returns when it is gone.
func (c *tickCluster) kill(i int) time.Time {
	at := time.Now()
	c.nodes[i].Kill()
	return at
}

// restart starts node i again after kill (a new process, a new node id,
// the same address).
func (c *tickCluster) restart(ctx context.Context, i int) error {
	c.nodes[i].Stop() // already dead: removes its dir
	return c.startNode(ctx, i)
}

// waitNodes waits until every node sees want nodes alive.
func (c *tickCluster) waitNodes(ctx context.Context, want int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		ok, last := true, ""
		for i, t := range c.nodes {
			m, err := scrapeMetrics(ctx, newAPI(t.URL))
			if err != nil || m["tickroom_cluster_nodes"] != float64(want) {
				ok = false
				last = fmt.Sprintf("node %d sees %v nodes (%v)", i, m["tickroom_cluster_nodes"], err)
				break
			}
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster: not %d nodes after %v: %s", want, limit, last)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// URLs are the nodes' base URLs.
func (c *tickCluster) URLs() []string {
	var out []string
	for _, t := range c.nodes {
		out = append(out, t.URL)
	}
	return out
}

// PIDs are the tickroom nodes' process ids (those known).
func (c *tickCluster) PIDs() []int {
	var out []int
	for _, t := range c.nodes {
		if t.PID != 0 {
			out = append(out, t.PID)
		}
	}
	return out
}

// alive reports whether every child (node and NATS server) still runs.
func (c *tickCluster) alive() error {
	for i, t := range c.nodes {
		if !t.Alive() {
			return fmt.Errorf("node %d exited during the run:\n%s", i, t.logTail(20))
		}
	}
	if c.nats != nil && !c.nats.Alive() {
		return fmt.Errorf("a nats-server exited during the run")
	}
	return nil
}

// Stop ends every child this cluster started and removes its temp dirs.
func (c *tickCluster) Stop() {
	for _, t := range c.nodes {
		if t != nil {
			t.Stop()
		}
	}
	if c.nats != nil {
		c.nats.Stop()
	}
	if c.dir != "" {
		_ = os.RemoveAll(c.dir) // a temp dir; nothing to do if it fails
	}
}

// nodeIndex returns the index of the node listening at addr (host:port),
// or -1.
func (c *tickCluster) nodeIndex(addr string) int {
	for i, a := range c.addrs {
		if a == addr {
			return i
		}
	}
	return -1
}

// scrapeMetrics reads the unlabelled samples of a node's /metrics.
func scrapeMetrics(ctx context.Context, a *api) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/metrics", nil)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	res, err := a.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("metrics: status %d", res.StatusCode)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, labels, v, ok := parseSample(sc.Text())
		if ok && len(labels) == 0 {
			out[name] = v
		}
	}
	return out, sc.Err()
}

// roomOwner is the owner address GET /api/rooms/{id} names.
func (a *api) roomOwner(ctx context.Context, id string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+"/api/rooms/"+id, nil)
	if err != nil {
		return "", err
	}
	res, err := a.http.Do(req)
	if err != nil {
		return "", fmt.Errorf("room %s: %w", id, err)
	}
	defer res.Body.Close()
	var info struct {
		Owner string `json:"owner"`
		State string `json:"state"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&info); err != nil {
		return "", fmt.Errorf("room %s: status %d: %w", id, res.StatusCode, err)
	}
	return info.Owner, nil
}

// wokenRE matches a node's log line for a room it woke (rooms/life.go:
// "room woken" with the tick its state was rebuilt to), in the text
// format.
var wokenRE = regexp.MustCompile(`msg="room woken".*\broom=(\S+).*\btick=(\d+)`)

// wokenTicks reads a node's log for the rooms it woke and the tick each
// was rebuilt at (the last wake of each, when there are several).
func wokenTicks(logPath string) map[string]uint64 {
	out := map[string]uint64{}
	fh, err := os.Open(logPath)
	if err != nil {
		return out
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if m := wokenRE.FindStringSubmatch(sc.Text()); m != nil {
			if tick, err := strconv.ParseUint(m[2], 10, 64); err == nil {
				out[m[1]] = tick
			}
		}
	}
	return out
}
