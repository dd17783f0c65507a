package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/gorilla/websocket"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/rooms/store/sqlite"
	"github.com/tickroom/tickroom/rooms/tape"
	"github.com/tickroom/tickroom/server"
	"github.com/tickroom/tickroom/state"
)

// The wake subcommand measures how long a stored room takes to come back:
// from a WebSocket dial of its share link to the first snapshot, through a
// real server (in this process, on loopback) over real stores on disk. It
// writes each room's history once (a board of N ops, an arena of N ticks:
// the tape a room of that age would have), then wakes it from a fresh copy
// of the stores again and again, in three cases: asleep (its checkpoint is
// at its last tick, as a sleep or a stop leaves it), after a crash (the
// newest checkpoint a checkpoint interval behind the log), and without
// checkpoints (the whole log re-run).

type wakeCase struct {
	Scene        string   `json:"scene"`
	Case         string   `json:"case"`
	HistoryTicks uint64   `json:"history_ticks"`
	HistoryOps   int      `json:"history_ops"`
	TailTicks    uint64   `json:"tail_ticks"`
	TapeBytes    int64    `json:"tape_bytes"`
	CheckpointB  int      `json:"checkpoint_bytes"`
	Wakes        int      `json:"wakes"`
	DialSnapP50  *float64 `json:"dial_to_snapshot_p50_ms"`
	DialSnapP99  *float64 `json:"dial_to_snapshot_p99_ms"`
	WakeP50      *float64 `json:"server_wake_p50_ms"`
	WakeP99      *float64 `json:"server_wake_p99_ms"`
}

type wakeResult struct {
	Mode         string     `json:"mode"`
	LoadAvgStart string     `json:"load_avg_start"`
	LoadAvgEnd   string     `json:"load_avg_end"`
	Cases        []wakeCase `json:"cases"`
}

func runWake(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wake", flag.ContinueOnError)
	fs.SetOutput(stderr)
	wakes := fs.Int("wakes", 30, "wakes measured per case (1..1000)")
	boardOps := fs.Int("board-ops", 10000, "ops in the board's history")
	arenaTicks := fs.Int("arena-ticks", 72000, "ticks in the arena's history (72,000: an hour at 20 Hz)")
	tail := fs.Int("tail", 600, "ticks between the newest checkpoint and the log's end after a crash (600: the default 30 s interval)")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *wakes < 1 || *wakes > 1000 || *boardOps < 1 || *arenaTicks < *tail+1 || *tail < 1 {
		return errors.New("wake: -wakes 1..1000, -board-ops >= 1, -tail >= 1 and below -arena-ticks")
	}
	dir, err := os.MkdirTemp("", "tickroom-wake-")
	if err != nil {
		return fmt.Errorf("wake: %w", err)
	}
	defer os.RemoveAll(dir)
	res := &wakeResult{Mode: "wake", LoadAvgStart: loadAvg()}
	prog := newProgress(stderr, false)
	defer prog.done()
	for _, sc := range []history{boardHistory(*boardOps), arenaHistory(*arenaTicks)} {
		prog.line("%s: writing %d ticks of history", sc.typ.Name, sc.ticks)
		h, err := sc.write(filepath.Join(dir, sc.typ.Name), uint64(*tail))
		if err != nil {
			return fmt.Errorf("wake: %s: %w", sc.typ.Name, err)
		}
		for _, c := range []string{"asleep", "crash", "no checkpoints"} {
			wc := wakeCase{Scene: sc.typ.Name, Case: c, HistoryTicks: sc.ticks, HistoryOps: h.ops, TapeBytes: h.tapeBytes, Wakes: *wakes}
			var dialSnap, wake []int64
			for i := range *wakes {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				d, w, cpBytes, err := h.wakeOnce(filepath.Join(dir, fmt.Sprintf("run-%d", i)), c)
				if err != nil {
					return fmt.Errorf("wake: %s %s: %w", sc.typ.Name, c, err)
				}
				dialSnap, wake, wc.CheckpointB = append(dialSnap, d), append(wake, w), cpBytes
				prog.line("%s, %s: wake %d/%d", sc.typ.Name, c, i+1, *wakes)
			}
			switch c {
			case "crash":
				wc.TailTicks = uint64(*tail)
			case "no checkpoints":
				wc.TailTicks = sc.ticks
			}
			ds, ws := newDist(dialSnap), newDist(wake)
			wc.DialSnapP50, wc.DialSnapP99, wc.WakeP50, wc.WakeP99 = ds.q(0.5), ds.q(0.99), ws.q(0.5), ws.q(0.99)
			res.Cases = append(res.Cases, wc)
		}
	}
	prog.done()
	res.LoadAvgEnd = loadAvg()
	if *asJSON {
		return printJSON(stdout, res)
	}
	var rows []row
	for _, c := range res.Cases {
		rows = append(rows, row{fmt.Sprintf("%s (%d ticks, %d ops), %s: re-run %d ticks", c.Scene, c.HistoryTicks, c.HistoryOps, c.Case, c.TailTicks),
			fmt.Sprintf("dial->snapshot %s / %s ms, server wake %s / %s ms", num(c.DialSnapP50, "%.1f"), num(c.DialSnapP99, "%.1f"),
				num(c.WakeP50, "%.1f"), num(c.WakeP99, "%.1f")), "p99 <= 100 ms with checkpoints"})
	}
	return printTable(stdout, fmt.Sprintf("wake latency, p50 / p99 over %d wakes per case (tape %s; load avg %s -> %s)",
		*wakes, mib(res.Cases[len(res.Cases)-1].TapeBytes), res.LoadAvgStart, res.LoadAvgEnd), rows)
}

// history is a room type and a script of ops to give it a past.
type history struct {
	typ     *rooms.Type
	options map[string]any
	ticks   uint64
	// ops returns the ops of a tick, drawn from r, for the world as it is.
	ops func(r *mrand.Rand, tick uint64, w *state.World) []rooms.Op
}

// boardHistory is a board with 4 members who make n ops, one a tick:
// creating, moving, recolouring and deleting shapes.
func boardHistory(n int) history {
	return history{typ: board.Type, options: map[string]any{"maxShapes": float64(2000)}, ticks: uint64(n) + 4,
		ops: func(r *mrand.Rand, tick uint64, w *state.World) []rooms.Op {
			if tick <= 4 {
				return []rooms.Op{{Kind: rooms.OpJoin, Member: uint32(tick), Name: fmt.Sprint("m", tick)}}
			}
			var shapes []state.EntityID
			for _, e := range w.Entities() {
				if e.Kind() == board.ShapeKind {
					shapes = append(shapes, e.ID())
				}
			}
			in := map[string]any{"op": "create", "shape": r.IntN(2), "x": r.Float64() * 1600, "y": r.Float64() * 1000,
				"w": 20 + r.Float64()*100, "h": 20 + r.Float64()*100, "color": r.Uint32()}
			if len(shapes) > 0 {
				id := shapes[r.IntN(len(shapes))]
				switch x := r.IntN(10); {
				case x < 4:
					in = map[string]any{"op": "move", "id": id, "x": r.Float64() * 1600, "y": r.Float64() * 1000}
				case x < 5:
					in = map[string]any{"op": "color", "id": id, "color": r.Uint32()}
				case x < 6:
					in = map[string]any{"op": "delete", "id": id}
				}
			}
			p, _ := msgpack.Marshal(in)
			return []rooms.Op{{Kind: rooms.OpInput, Member: uint32(1 + r.IntN(4)), Seq: tick, Payload: p}}
		}}
}

// arenaHistory is an arena of n ticks with 8 players who change their
// steering every 10 ticks (so they collect coins and push each other), on
// the one-screen field without rounds that docs/BENCHMARKS.md measured
// (the default field has since grown).
func arenaHistory(n int) history {
	return history{typ: arena.Type, ticks: uint64(n),
		options: map[string]any{"width": float64(1000), "height": float64(600), "coins": float64(12), "round": float64(0)},
		ops: func(r *mrand.Rand, tick uint64, _ *state.World) []rooms.Op {
			if tick <= 8 {
				return []rooms.Op{{Kind: rooms.OpJoin, Member: uint32(tick), Name: fmt.Sprint("p", tick)}}
			}
			if tick%10 != 0 {
				return nil
			}
			var ops []rooms.Op
			for m := uint32(1); m <= 8; m++ {
				p, _ := msgpack.Marshal(map[string]any{"dx": r.Float64()*2 - 1, "dy": r.Float64()*2 - 1})
				ops = append(ops, rooms.Op{Kind: rooms.OpInput, Member: m, Seq: tick, Payload: p})
			}
			return ops
		}}
}

// written is a history on disk: a pristine data directory per case.
type written struct {
	typ       *rooms.Type
	id        string
	dirs      map[string]string // case -> data directory to copy
	ops       int
	tapeBytes int64
}

// write runs the history through a Sim, writing its tape as a room would
// (ops and deltas every tick, a keyframe every 100), and stores its row and
// checkpoints: one data directory per case.
func (h history) write(dir string, tail uint64) (*written, error) {
	seed := mrand.Uint64()
	sim, err := rooms.NewSim(h.typ, h.options, seed)
	if err != nil {
		return nil, err
	}
	base := filepath.Join(dir, "base")
	if err := os.MkdirAll(base, 0o755); err != nil {
		return nil, err
	}
	db, err := sqlite.Open(filepath.Join(base, "rooms.db"))
	if err != nil {
		return nil, err
	}
	tapes, err := tape.NewStore(filepath.Join(base, "recordings"), tape.StoreOptions{})
	if err != nil {
		return nil, err
	}
	id := "wake-" + h.typ.Name
	w, err := tapes.Create(rooms.RecordingHeader{RoomID: id, Type: h.typ.Name, TickRate: h.typ.TickRate, Seed: seed,
		Options: h.options, Schema: h.typ.Schema.Wire()})
	if err != nil {
		return nil, err
	}
	snap, _ := sim.World.AppendSnapshot(nil)
	if err := w.Keyframe(0, snap); err != nil {
		return nil, err
	}
	r := mrand.New(mrand.NewPCG(seed, 1))
	out := &written{typ: h.typ, id: id, dirs: map[string]string{}}
	checkpoint := func() ([]byte, uint64, error) {
		pos, err := w.Position()
		if err != nil {
			return nil, 0, err
		}
		cp, err := sim.Checkpoint()
		if err != nil {
			return nil, 0, err
		}
		cp.Log = pos
		b, err := rooms.EncodeCheckpoint(cp)
		return b, cp.Tick, err
	}
	var crashCP []byte
	var crashTick uint64
	for tick := uint64(1); tick <= h.ticks; tick++ {
		ops := h.ops(r, tick, sim.World)
		for _, op := range ops {
			if err := sim.Apply(tick, op); err != nil {
				return nil, err
			}
		}
		out.ops += len(ops)
		if err := w.Tick(tick, ops, sim.Step(tick)); err != nil {
			return nil, err
		}
		if tick%100 == 0 {
			snap, _ = sim.World.AppendSnapshot(snap[:0])
			if err := w.Keyframe(tick, snap); err != nil {
				return nil, err
			}
		}
		if tick == h.ticks-tail {
			if crashCP, crashTick, err = checkpoint(); err != nil {
				return nil, err
			}
		}
	}
	sleepCP, sleepTick, err := checkpoint()
	if err != nil {
		return nil, err
	}
	if err := w.Pause(); err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	row := rooms.RoomRecord{ID: id, Type: h.typ.Name, Options: h.options, Public: true, MaxPlayers: h.typ.PlayerLimit(),
		Seed: seed, Secret: secret, State: rooms.StateDormant, CreatedAt: time.Now().Add(-time.Hour), LastActive: time.Now(),
		LogID: w.ID(), Tick: sim.Tick(), Players: 0}
	if err := db.Put(row); err != nil {
		return nil, err
	}
	if err := db.Close(); err != nil {
		return nil, err
	}
	tp, _ := filepath.Glob(filepath.Join(base, "recordings", "*.tape"))
	if st, err := os.Stat(tp[0]); err == nil {
		out.tapeBytes = st.Size()
	}
	for c, cp := range map[string]struct {
		data []byte
		tick uint64
	}{"asleep": {sleepCP, sleepTick}, "crash": {crashCP, crashTick}, "no checkpoints": {}} {
		d := filepath.Join(dir, "case-"+c)
		if err := copyDir(base, d); err != nil {
			return nil, err
		}
		cdb, err := sqlite.Open(filepath.Join(d, "rooms.db"))
		if err != nil {
			return nil, err
		}
		if cp.data != nil {
			err = cdb.SaveCheckpoint(id, cp.tick, cp.data)
		}
		if err2 := cdb.Close(); err == nil {
			err = err2
		}
		if err != nil {
			return nil, err
		}
		out.dirs[c] = d
	}
	return out, nil
}

// wakeOnce copies a case's data directory to dir, serves it, and times a
// join of the room from the dial to the first snapshot. It returns that,
// the server's own wake time, and the size of the checkpoint it woke from.
func (h *written) wakeOnce(dir, c string) (dialToSnap, wake int64, cpBytes int, err error) {
	defer os.RemoveAll(dir)
	if err := copyDir(h.dirs[c], dir); err != nil {
		return 0, 0, 0, err
	}
	db, err := sqlite.Open(filepath.Join(dir, "rooms.db"))
	if err != nil {
		return 0, 0, 0, err
	}
	defer db.Close()
	_ = db.LoadCheckpoints(h.id, func(_ uint64, b []byte) bool { cpBytes = len(b); return true })
	tapes, err := tape.NewStore(filepath.Join(dir, "recordings"), tape.StoreOptions{})
	if err != nil {
		return 0, 0, 0, err
	}
	reg := rooms.NewRegistry()
	if err := reg.Register(h.typ); err != nil {
		return 0, 0, 0, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := rooms.NewManager(reg, rooms.Config{Directory: db, Checkpoints: db, Logs: tapes, Logger: quiet})
	srv := server.New(mgr, server.Config{Logger: quiet})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, 0, 0, err
	}
	hs := srv.HTTPServer()
	go func() { _ = hs.Serve(srv.Listener(ln)) }()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
		_ = mgr.Shutdown(sctx, rooms.CloseGoingAway, "bench over")
		_ = srv.CloseSessions(sctx, rooms.CloseGoingAway, "bench over")
	}()
	start := time.Now()
	conn, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/ws/"+h.id+"?name=bench", nil)
	if err != nil {
		return 0, 0, 0, err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			return 0, 0, 0, fmt.Errorf("read: %w", err)
		}
		if typ, _, _, ok := state.Peek(b); ok && (typ == state.MsgSnapshot || typ == state.MsgViewSnapshot) {
			break // the arena's first frame is a view snapshot
		}
	}
	dialToSnap = int64(time.Since(start))
	_, _, sum := mgr.Counters().WakeTime.Snapshot()
	if mgr.Counters().Wakes.Load() != 1 {
		return 0, 0, 0, fmt.Errorf("%d wakes, want 1", mgr.Counters().Wakes.Load())
	}
	return dialToSnap, int64(sum), cpBytes, nil
}

// copyDir copies a directory tree of regular files.
func copyDir(from, to string) error {
	return filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}
