package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/rooms/store/sqlite"
	"github.com/tickroom/tickroom/server"
)

// The dormant subcommand measures what sleeping rooms cost a node: it fills
// a directory with N sleeping rooms (rows as a sleep writes them, a
// checkpoint each), serves it in this process, and reports the Go heap
// with none and with N rooms, the database's size per room, and the
// latency of the lobby (GET /api/rooms), of finding a room (GET
// /api/rooms/{id}) and of an unknown id, and of an expiry pass.

type dormantResult struct {
	Mode           string   `json:"mode"`
	Rooms          int      `json:"rooms"`
	InsertPerSec   float64  `json:"insert_rows_per_s"`
	DBBytesPerRoom float64  `json:"db_bytes_per_room"`
	HeapEmptyMiB   float64  `json:"heap_empty_mib"`
	HeapFullMiB    float64  `json:"heap_full_mib"`
	HeapPerRoomB   float64  `json:"heap_bytes_per_room"`
	RSSEmptyMiB    float64  `json:"rss_empty_mib"`
	RSSFullMiB     float64  `json:"rss_full_mib"`
	RSSEndMiB      float64  `json:"rss_end_mib"`
	LobbyP50       *float64 `json:"lobby_p50_ms"`
	LobbyP99       *float64 `json:"lobby_p99_ms"`
	FindP50        *float64 `json:"find_p50_ms"`
	FindP99        *float64 `json:"find_p99_ms"`
	MissP50        *float64 `json:"unknown_p50_ms"`
	MissP99        *float64 `json:"unknown_p99_ms"`
	ExpireMs       float64  `json:"expire_pass_ms"`
	LoadAvg        string   `json:"load_avg"`
}

func runDormant(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dormant", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("rooms", 100000, "sleeping rooms to store (1..1000000)")
	requests := fs.Int("requests", 1000, "requests timed per kind")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n < 1 || *n > 1_000_000 || *requests < 1 {
		return errors.New("dormant: -rooms 1..1000000, -requests >= 1")
	}
	dir, err := os.MkdirTemp("", "tickroom-dormant-")
	if err != nil {
		return fmt.Errorf("dormant: %w", err)
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(filepath.Join(dir, "rooms.db"))
	if err != nil {
		return fmt.Errorf("dormant: %w", err)
	}
	defer db.Close()
	res := &dormantResult{Mode: "dormant", Rooms: *n, LoadAvg: loadAvg()}
	reg := rooms.NewRegistry()
	for _, t := range []*rooms.Type{arena.Type, board.Type} {
		if err := reg.Register(t); err != nil {
			return err
		}
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	mgr := rooms.NewManager(reg, rooms.Config{Directory: db, Checkpoints: db, Logger: quiet})
	defer func() { _ = mgr.Shutdown(context.Background(), rooms.CloseGoingAway, "bench over") }()
	res.HeapEmptyMiB, res.RSSEmptyMiB = liveHeapMiB(), rssMiB()

	prog := newProgress(stderr, false)
	defer prog.done()
	// Ids are derived from their index, so that the bench holds no slice
	// of them while it measures the heap.
	id := func(i int) string {
		h := sha256.Sum256(binary.LittleEndian.AppendUint64(nil, uint64(i)))
		return base64.RawURLEncoding.EncodeToString(h[:16])
	}
	cp := make([]byte, 900) // about a small board's checkpoint
	now := time.Now()
	start := time.Now()
	for i := range *n {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		typ := "board"
		if i%3 == 0 {
			typ = "arena"
		}
		err := db.Put(rooms.RoomRecord{ID: id(i), Type: typ, Options: map[string]any{}, Public: i%2 == 0, MaxPlayers: 16,
			Seed: uint64(i), Secret: cp[:32], State: rooms.StateDormant, CreatedAt: now.Add(-48 * time.Hour),
			LastActive: dormantLastActive(now, i, *n), LogID: newRoomID(), Tick: 1000})
		if err == nil {
			err = db.SaveCheckpoint(id(i), 1000, cp)
		}
		if err != nil {
			return fmt.Errorf("dormant: store room %d: %w", i, err)
		}
		if i%5000 == 0 {
			prog.line("stored %d/%d sleeping rooms", i, *n)
		}
	}
	res.InsertPerSec = float64(*n) / time.Since(start).Seconds()
	var size int64
	for _, f := range []string{"rooms.db", "rooms.db-wal"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err == nil {
			size += st.Size()
		}
	}
	res.DBBytesPerRoom = float64(size) / float64(*n)
	res.HeapFullMiB, res.RSSFullMiB = liveHeapMiB(), rssMiB()
	res.HeapPerRoomB = (res.HeapFullMiB - res.HeapEmptyMiB) * (1 << 20) / float64(*n)

	srv := server.New(mgr, server.Config{Logger: quiet})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := srv.HTTPServer()
	go func() { _ = hs.Serve(srv.Listener(ln)) }()
	defer hs.Close()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second}
	timeGets := func(what string, path func(i int) string, want int) (dist, error) {
		var d []int64
		for i := range *requests {
			t0 := time.Now()
			r, err := client.Get(base + path(i))
			if err != nil {
				return nil, err
			}
			_, _ = io.Copy(io.Discard, r.Body)
			r.Body.Close()
			if r.StatusCode != want {
				return nil, fmt.Errorf("%s: status %d, want %d", what, r.StatusCode, want)
			}
			d = append(d, int64(time.Since(t0)))
		}
		prog.line("timed %d %s", *requests, what)
		return newDist(d), nil
	}
	lobby, err := timeGets("lobby listings", func(int) string { return "/api/rooms" }, 200)
	if err != nil {
		return fmt.Errorf("dormant: %w", err)
	}
	find, err := timeGets("lookups", func(i int) string { return "/api/rooms/" + id((i*7919)%*n) }, 200)
	if err != nil {
		return fmt.Errorf("dormant: %w", err)
	}
	miss, err := timeGets("unknown ids", func(int) string { return "/api/rooms/" + newRoomID() }, 404)
	if err != nil {
		return fmt.Errorf("dormant: %w", err)
	}
	res.LobbyP50, res.LobbyP99 = lobby.q(0.5), lobby.q(0.99)
	res.FindP50, res.FindP99 = find.q(0.5), find.q(0.99)
	res.MissP50, res.MissP99 = miss.q(0.5), miss.q(0.99)
	t0 := time.Now()
	if deleted, err := mgr.Expire(now); err != nil || deleted != 0 {
		return fmt.Errorf("dormant: expire: %d deleted, %v (want none: the rooms are younger than their max age)", deleted, err)
	}
	res.ExpireMs = float64(time.Since(t0)) / 1e6
	_ = liveHeapMiB()
	res.RSSEndMiB = rssMiB()
	prog.done()
	if *asJSON {
		return printJSON(stdout, res)
	}
	return printTable(stdout, fmt.Sprintf("%d sleeping rooms (load avg %s)", *n, res.LoadAvg), []row{
		{"store a room (row + checkpoint), rows/s", fmt.Sprintf("%.0f", res.InsertPerSec), ""},
		{"database bytes per room (900-byte checkpoint)", fmt.Sprintf("%.0f", res.DBBytesPerRoom), ""},
		{"Go heap with none / with all, MiB", fmt.Sprintf("%.1f / %.1f", res.HeapEmptyMiB, res.HeapFullMiB), ""},
		{"Go heap per sleeping room, bytes", fmt.Sprintf("%.2f", res.HeapPerRoomB), "nothing beyond its row"},
		{"RSS with none / with all / after the requests, MiB", fmt.Sprintf("%.1f / %.1f / %.1f", res.RSSEmptyMiB, res.RSSFullMiB, res.RSSEndMiB), "SQLite's page cache is outside the Go heap"},
		{"GET /api/rooms (lobby) p50/p99 ms", num(res.LobbyP50, "%.2f") + " / " + num(res.LobbyP99, "%.2f"), ""},
		{"GET /api/rooms/{id} p50/p99 ms", num(res.FindP50, "%.2f") + " / " + num(res.FindP99, "%.2f"), ""},
		{"GET /api/rooms/{unknown} p50/p99 ms", num(res.MissP50, "%.2f") + " / " + num(res.MissP99, "%.2f"), ""},
		{"expiry pass (nothing to expire), ms", fmt.Sprintf("%.1f", res.ExpireMs), ""},
	})
}

// dormantLastActive spreads the rooms' last activity over the 12 hours
// before now, so that none is old enough to expire (arena, the stored type
// kept the shortest, keeps sleeping rooms 24 hours) whatever their number:
// the expiry pass is timed with nothing to delete, as it runs most of the
// time.
func dormantLastActive(now time.Time, i, n int) time.Time {
	return now.Add(-time.Duration(int64(i) * int64(12*time.Hour) / int64(n)))
}

// liveHeapMiB is the Go heap in use after a full collection.
func liveHeapMiB() float64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return float64(ms.HeapAlloc) / (1 << 20)
}

// rssMiB is this process's resident memory after returning freed memory
// to the OS. It counts what the Go heap does not: SQLite's page cache
// (modernc.org/sqlite allocates outside the Go heap), code and stacks.
func rssMiB() float64 {
	debug.FreeOSMemory()
	m, err := procMem(os.Getpid())
	if err != nil {
		return 0
	}
	return float64(m.RSS) / (1 << 20)
}

func newRoomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
