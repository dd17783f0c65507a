package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/rooms/store/mem"
	"github.com/tickroom/tickroom/rooms/tape"
)

type discardConn struct{}

func (discardConn) Send([]byte) bool  { return true }
func (discardConn) Close(int, string) {}

// recordRoom runs a real arena-bench room recorded into a store, with two
// members sending inputs, and returns the tape's path once it is closed.
func recordRoom(t *testing.T) string {
	t.Helper()
	return recordRoomOf(t, "arena-bench", 10)
}

// recordRoomOf records a room of type typ for 30 ticks, two members
// steering for the first inputTicks of them.
func recordRoomOf(t *testing.T, typ string, inputTicks uint64) string {
	t.Helper()
	reg, err := builtinTypes()
	if err != nil {
		t.Fatal(err)
	}
	store, err := tape.NewStore(t.TempDir(), tape.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mgr := rooms.NewManager(reg, rooms.Config{Logs: store, KeyframeInterval: 250 * time.Millisecond,
		Logger: quiet()})
	r, err := mgr.Create(rooms.CreateRequest{Type: typ})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := r.Join(discardConn{}, "a", "")
	b, _ := r.Join(discardConn{}, "b", "")
	// Inputs for the first 10 ticks, then 20 ticks without: the players keep
	// steering, so a checkpoint after them that forgot the inputs is caught
	// whatever the timing (TestVerifyChecksCheckpoints).
	for seq := uint64(1); seq <= 30; seq++ {
		for i, c := range []*rooms.Client{a, b} {
			if seq > inputTicks {
				break
			}
			p, _ := msgpack.Marshal(map[string]float64{"dx": float64(1 - 2*i), "dy": 0.5})
			if err := r.Input(c, seq, p); err != nil {
				t.Fatal(err)
			}
		}
		for until := r.CurrentTick() + 1; r.CurrentTick() < until; {
			time.Sleep(2 * time.Millisecond) // wait for the room's next tick
		}
	}
	id := r.RecordingID()
	if id == "" {
		t.Fatal("the room has no recording id")
	}
	if err := mgr.Shutdown(t.Context(), rooms.CloseGoingAway, "test over"); err != nil {
		t.Fatal(err)
	}
	path, err := store.Path(id)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// rewrite copies a tape through a Writer, letting edit change each tick's ops.
func rewrite(t *testing.T, src, dst string, edit func(tick uint64, ops []rooms.Op)) {
	t.Helper()
	rewriteViews(t, src, dst, edit, func(uint64, bool, []rooms.MemberView) {})
}

// rewriteViews is rewrite that can also change each views record.
func rewriteViews(t *testing.T, src, dst string, edit func(tick uint64, ops []rooms.Op), editViews func(tick uint64, full bool, views []rooms.MemberView)) {
	t.Helper()
	r, err := tape.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	h := r.Info().Header
	w, err := tape.Create(dst, rooms.RecordingHeader{RoomID: h.RoomID, Type: h.Type, TickRate: h.TickRate, Seed: h.Seed,
		Options: h.Options, Schema: h.Schema, StartTick: h.StartTick, Views: h.Version >= 2}, tape.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch rec.Kind {
		case tape.KindKeyframe:
			err = w.Keyframe(rec.Tick, rec.Data)
		case tape.KindOps, tape.KindDelta:
			ops, derr := rec.DecodeOps()
			if derr != nil {
				t.Fatal(derr)
			}
			edit(rec.Tick, ops)
			err = w.Tick(rec.Tick, ops, rec.Data)
		case tape.KindEvent:
			err = w.Event(rec.Tick, rec.Data)
		case tape.KindViews:
			full, views, derr := rec.DecodeViews()
			if derr != nil {
				t.Fatal(derr)
			}
			editViews(rec.Tick, full, views)
			err = w.Views(rec.Tick, full, views)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestVerifyPassesAndCatchesAnAlteredInput(t *testing.T) {
	path := recordRoom(t)
	reg, _ := builtinTypes()
	var out bytes.Buffer
	if err := verifyTape(path, reg, &out); err != nil {
		t.Fatalf("verify of an untouched recording: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "ok: ") {
		t.Fatalf("verify output: %s", out.String())
	}

	altered := filepath.Join(t.TempDir(), "altered.tape")
	var editedTick uint64
	rewrite(t, path, altered, func(tick uint64, ops []rooms.Op) {
		for i := range ops {
			if ops[i].Kind == rooms.OpInput && editedTick == 0 && ops[i].Seq == 10 {
				ops[i].Payload, _ = msgpack.Marshal(map[string]float64{"dx": -1, "dy": -1})
				editedTick = tick
			}
		}
	})
	if editedTick == 0 {
		t.Fatal("found no input with seq 10 to alter")
	}
	out.Reset()
	err := verifyTape(altered, reg, &out)
	if !errors.Is(err, errDiverged) {
		t.Fatalf("verify of an altered recording: got %v, want errDiverged\n%s", err, out.String())
	}
	if want := "DIVERGED at tick "; !strings.Contains(out.String(), want) || !strings.Contains(out.String(), `field "`) {
		t.Fatalf("verify output %q: want the tick and the field", out.String())
	}
	t.Logf("altered input at tick %d; verify said: %s", editedTick, strings.TrimSpace(out.String()))
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// forgetfulBench is arena-bench whose checkpoints forget the players'
// inputs: a re-run is exact, a wake from a checkpoint is not.
func forgetfulBench() *rooms.Type {
	t := *arenabench.Type
	t.New = func(opts map[string]any) (rooms.Handler, map[string]any, error) {
		h, eff, err := arenabench.Type.New(opts)
		return forgetful{h, h.(rooms.Checkpointer)}, eff, err
	}
	return &t
}

type forgetful struct {
	rooms.Handler
	cp rooms.Checkpointer
}

func (f forgetful) SaveState(ctx *rooms.Context) ([]byte, error) { return f.cp.SaveState(ctx) }

func (f forgetful) LoadState(ctx *rooms.Context, b []byte) error {
	if err := f.cp.LoadState(ctx, b); err != nil {
		return err
	}
	for _, m := range ctx.Members() {
		m.Data.(*arenabench.Player).Input = arenabench.Input{}
	}
	return nil
}

// TestVerifyChecksCheckpoints: verify loads a checkpoint at every keyframe
// and re-runs the tail from it; a type whose checkpoints lose state is
// caught though its full re-run is exact.
func TestVerifyChecksCheckpoints(t *testing.T) {
	path := recordRoom(t)
	reg, _ := builtinTypes()
	var out bytes.Buffer
	if err := verifyTape(path, reg, &out); err != nil || !strings.Contains(out.String(), "checkpoints (one at each keyframe) loaded") {
		t.Fatalf("verify: %v\n%s", err, out.String())
	}
	bad := rooms.NewRegistry()
	if err := bad.Register(forgetfulBench()); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err := verifyTape(path, bad, &out)
	if !errors.Is(err, errDiverged) || !strings.Contains(out.String(), "loaded from the checkpoint of tick") {
		t.Fatalf("verify of forgetful checkpoints: %v\n%s", err, out.String())
	}
	t.Logf("verify said: %s", strings.TrimSpace(out.String()))
}

// TestVerifyChecksViews: a field-bench tape's views records match the
// re-run's members at the end of every tick, and a record naming a group
// the member did not see is reported as a divergence at its tick.
func TestVerifyChecksViews(t *testing.T) {
	reg, err := builtinTypes()
	if err != nil {
		t.Fatal(err)
	}
	src := recordRoomOf(t, "field-bench", 30) // 300 units each: the players cross cells
	var out bytes.Buffer
	if err := verifyTape(src, reg, &out); err != nil {
		t.Fatalf("verify of an intact views tape: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "every member's view as recorded") {
		t.Fatalf("verify did not check the views:\n%s", out.String())
	}
	altered := filepath.Join(t.TempDir(), "altered.tape")
	var at uint64
	rewriteViews(t, src, altered, func(uint64, []rooms.Op) {}, func(tick uint64, full bool, views []rooms.MemberView) {
		if at == 0 && tick > 10 && len(views) > 0 && !views[0].Gone {
			at = tick
			views[0].Groups = append(views[0].Groups, 4_000_000) // a group no member sees
		}
	})
	if at == 0 {
		t.Fatal("no views record with a member after tick 10 to alter")
	}
	out.Reset()
	err = verifyTape(altered, reg, &out)
	if !errors.Is(err, errDiverged) || !strings.Contains(out.String(), fmt.Sprintf("DIVERGED at tick %d", at)) || !strings.Contains(out.String(), "4000000") {
		t.Fatalf("verify of a tape with an altered view at tick %d: %v\n%s", at, err, out.String())
	}
}

// TestVerifyArenaRecordedBeforeViews: an arena recorded before the arena
// had views (its frames whole-world deltas) still verifies: that part
// re-runs with views off. Woken by a build with views (its checkpoints,
// which hold no groups, are refused and its log re-runs), the room records
// on in views frames from the wake's keyframe, and the whole tape,
// before and after, verifies too.
func TestVerifyArenaRecordedBeforeViews(t *testing.T) {
	oldArena := *arena.Type
	oldArena.Views = false
	oldReg := rooms.NewRegistry()
	if err := oldReg.Register(&oldArena); err != nil {
		t.Fatal(err)
	}
	newReg, err := builtinTypes()
	if err != nil {
		t.Fatal(err)
	}
	st := mem.New()
	logs, err := tape.NewStore(t.TempDir(), tape.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rooms.Config{Directory: st, Checkpoints: st, Logs: logs, KeyframeInterval: 250 * time.Millisecond,
		CheckpointInterval: 100 * time.Millisecond, Logger: quiet()}
	play := func(r *rooms.Room, name string, dx float64) {
		c, err := r.Join(discardConn{}, name, "")
		if err != nil {
			t.Fatal(err)
		}
		for seq := uint64(1); seq <= 20; seq++ {
			p, _ := msgpack.Marshal(map[string]float64{"dx": dx, "dy": 0.5})
			if err := r.Input(c, seq, p); err != nil {
				t.Fatal(err)
			}
			for until := r.CurrentTick() + 1; r.CurrentTick() < until; {
				time.Sleep(2 * time.Millisecond) // wait for the room's next tick
			}
		}
	}

	before := rooms.NewManager(oldReg, cfg)
	r, err := before.Create(rooms.CreateRequest{Type: "arena", Options: map[string]any{"width": 4000.0, "height": 3000.0, "coins": 60.0, "speed": 40.0}})
	if err != nil {
		t.Fatal(err)
	}
	play(r, "a", 1)
	if err := before.Shutdown(t.Context(), rooms.CloseRestart, "restart"); err != nil {
		t.Fatal(err)
	}
	path, err := logs.Path(r.RecordingID())
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "old.tape")
	copyFile(t, path, old)
	var out bytes.Buffer
	if err := verifyTape(old, newReg, &out); err != nil || !strings.Contains(out.String(), "before room type arena had views") {
		t.Fatalf("verify of a recording made before the arena had views: %v\n%s", err, out.String())
	}

	after := rooms.NewManager(newReg, cfg)
	woken, err := after.Open(r.ID)
	if err != nil {
		t.Fatalf("wake under the build with views: %v", err)
	}
	if n := after.Counters().BadCheckpoints.Load(); n == 0 {
		t.Fatal("a checkpoint without groups was loaded into the arena with views")
	}
	play(woken, "b", -1)
	if err := after.Shutdown(t.Context(), rooms.CloseGoingAway, "test over"); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := verifyTape(path, newReg, &out); err != nil || !strings.Contains(out.String(), "views from tick") {
		t.Fatalf("verify of a recording that went on with views after a wake: %v\n%s", err, out.String())
	}
	t.Logf("verify said: %s", strings.TrimSpace(out.String()))
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
