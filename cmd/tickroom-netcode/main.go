// Command tickroom-netcode is a latency proxy for measuring how the client
// feels on a real network (docs/NETCODE.md): it forwards TCP connections
// from a loopback port to a loopback server, holding each direction for a
// set latency plus jitter, in order, with periodic stalls and one freeze
// (see Shape). Browsers cannot delay WebSocket frames themselves and this
// machine has no netem, so it is done in user space.
//
//	tickroom-netcode -target 127.0.0.1:8080 -latency 50ms -jitter 20ms
//
// It prints one JSON line, {"addr": "127.0.0.1:PORT", "startUnixMs": N},
// once listening (the stall and freeze times count from startUnixMs), and
// exits on SIGINT/SIGTERM, at the end of its standard input when -control
// is set, or after -max-duration. With -control, a line "freeze DURATION"
// on standard input freezes the server-to-client direction from then on.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on (port 0 picks one)")
	target := flag.String("target", "", "loopback host:port of the server (required)")
	latency := flag.Duration("latency", 0, "delay of each direction")
	jitter := flag.Duration("jitter", 0, "uniform jitter in [-jitter, +jitter] added to each chunk's delay (order is kept)")
	stallEvery := flag.Duration("stall-every", 0, "period of the stalls of the server-to-client direction (0 = none)")
	stallFor := flag.Duration("stall", 0, "length of each stall")
	freezeAt := flag.Duration("freeze-at", 0, "when (from the start) the server-to-client direction freezes once (0 = never)")
	freezeFor := flag.Duration("freeze", 0, "length of the freeze")
	stallUp := flag.Bool("stall-up", false, "stall and freeze the client-to-server direction as well")
	seed := flag.Uint64("seed", 1, "seed of the jitter")
	control := flag.Bool("control", false, "read commands (\"freeze 1s\") from standard input; exit at its end")
	maxDuration := flag.Duration("max-duration", 10*time.Minute, "exit by itself after this long")
	flag.Parse()
	if *target == "" {
		fmt.Fprintln(os.Stderr, "tickroom-netcode: -target is required")
		os.Exit(2)
	}
	down := Shape{Latency: *latency, Jitter: *jitter, StallEvery: *stallEvery, StallFor: *stallFor, FreezeAt: *freezeAt, FreezeFor: *freezeFor}
	up := Shape{Latency: *latency, Jitter: *jitter}
	if *stallUp {
		up = down
	}
	p, err := Listen(*listen, *target, up, down, *seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	line, _ := json.Marshal(map[string]any{"addr": p.Addr(), "startUnixMs": p.Start().UnixMilli()})
	fmt.Println(string(line))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	eof := make(chan struct{})
	if *control {
		go func() {
			defer close(eof)
			sc := bufio.NewScanner(os.Stdin)
			for sc.Scan() {
				var d time.Duration
				f := strings.Fields(sc.Text())
				if len(f) == 2 && f[0] == "freeze" {
					if v, err := time.ParseDuration(f[1]); err == nil && v > 0 && v <= time.Minute {
						d = v
					}
				}
				if d == 0 {
					fmt.Fprintf(os.Stderr, "tickroom-netcode: unknown command %q\n", sc.Text())
					continue
				}
				p.Freeze(d)
				line, _ := json.Marshal(map[string]any{"freezeUnixMs": time.Now().UnixMilli(), "ms": d.Milliseconds()})
				fmt.Println(string(line))
			}
		}()
	}
	select {
	case <-sig:
	case <-eof:
	case <-time.After(*maxDuration):
	}
	p.Close()
}
