// Command tickroom-load measures a tickroom server: bandwidth, CPU, memory
// and latency on the standard arena-bench scene, memory per idle
// connection, and join latency. docs/BENCHMARKS.md shows how each published
// figure was produced.
//
//	go run ./cmd/tickroom-load scene -rooms 10 -duration 30s -json
//	go run ./cmd/tickroom-load scene -url http://127.0.0.1:8080 -pid 1234
//	go run ./cmd/tickroom-load idle -conns 10000
//	go run ./cmd/tickroom-load join -busy 100 -joins 200
//	go run ./cmd/tickroom-load scene -cluster 3 -rooms 50 -json
//	go run ./cmd/tickroom-load failover -kills 24 -lease-ttl 1s
//
// Without -url each mode starts its own server as a child process on a free
// loopback port and stops it at the end; -cluster N (scene, failover)
// starts N nats-server processes and N tickroom nodes instead. Traffic goes to 127.0.0.0/8 only,
// and every mode is bounded in connections and time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		// errDiverged too: the report is out, the run failed its checks.
		fmt.Fprintln(os.Stderr, "tickroom-load:", err)
		os.Exit(1)
	}
}

// subcommands maps a name to its runner; one file each.
var subcommands = map[string]func(ctx context.Context, args []string, stdout, stderr io.Writer) error{
	"scene":    runScene,
	"idle":     runIdle,
	"join":     runJoin,
	"serve":    runServe,
	"wake":     runWake,
	"dormant":  runDormant,
	"failover": runFailover,
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return errors.New("no subcommand")
		}
		return flag.ErrHelp
	}
	fn, ok := subcommands[args[0]]
	if !ok {
		usage(stderr)
		return fmt.Errorf("unknown subcommand %q", args[0])
	}
	return fn(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: tickroom-load <subcommand> [flags]   (tickroom-load <subcommand> -help for its flags)

  scene   R rooms x C clients of arena-bench: bandwidth, CPU, RSS, latency, divergences
  idle    N idle connections: server RSS per connection
  join    join latency (POST /api/rooms and WebSocket open to first snapshot) while R rooms are busy
  wake    wake latency of stored rooms (a board of 10,000 ops, an arena hour): share link to first snapshot
  dormant what N sleeping rooms cost: heap, disk, lobby and lookup latency
  failover  SIGKILL the owner node of rooms in a 3-node cluster (NATS + tickroom children), N times:
          time to the new owner's first delta for relayed clients, ticks and inputs lost
  serve   run a tickroom server (the same packages) with the built-in room types plus idle-bench
          (1 Hz, no entities), pprof on and per-address limits off; idle uses it by default
`)
}
