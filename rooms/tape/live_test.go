package tape_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/tape"
)

// TestConcurrentUse runs a room's recorder on one goroutine while others
// list the store, flush the tape and seek it (run under -race).
func TestConcurrentUse(t *testing.T) {
	s, err := tape.NewStore(t.TempDir(), tape.StoreOptions{})
	must(t, err)
	rec, err := s.Create(scenario{}.header())
	must(t, err)
	w := rec.(*tape.Writer)
	sc := scenario{Ticks: 200, Players: 3, KeyEvery: 20, HoldInput: 1}
	r0 := &memory{}
	sc.run(t, r0)

	// The first keyframe is flushed before anyone reads.
	must(t, w.Keyframe(r0.records[0].Tick, r0.records[0].Data))
	must(t, w.Flush())
	r, err := tape.Open(w.Path())
	must(t, err)
	defer r.Close()

	var wg sync.WaitGroup
	wg.Go(func() { // the room (t.Error, not t.Fatal, off the test goroutine)
		for i := 1; i < len(r0.records); i++ {
			var err error
			switch rec := r0.records[i]; rec.Kind {
			case tape.KindKeyframe:
				err = w.Keyframe(rec.Tick, rec.Data)
			case tape.KindEvent:
				err = w.Event(rec.Tick, rec.Data)
			default:
				err = w.Tick(rec.Tick, r0.ops[i], rec.Data)
			}
			if err != nil {
				t.Error(err)
				break
			}
		}
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	})
	for range 2 {
		wg.Go(func() { // HTTP handlers
			for range 50 {
				if _, err := s.List(); err != nil {
					t.Error(err)
					return
				}
				if err := w.Flush(); err != nil && !errors.Is(err, tape.ErrClosed) {
					t.Error(err)
					return
				}
				if _, err := r.Seek(0); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	list, err := s.List()
	must(t, err)
	if len(list) != 1 || list[0].InProgress || !list[0].Clean || list[0].LastTick != uint64(sc.Ticks) {
		t.Errorf("List after Close: got %+v, want one clean recording to tick %d", list, sc.Ticks)
	}
}

// TestKilledWriter kills (SIGKILL) a process in the middle of recording
// and reads what it left: every flushed frame, no end record, no index.
func TestKilledWriter(t *testing.T) {
	if os.Getenv("TAPE_KILL_CHILD") != "" {
		killedChild(t)
		return
	}
	path := filepath.Join(t.TempDir(), "killed.tape")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$")
	cmd.Env = append(os.Environ(), "TAPE_KILL_CHILD="+path)
	out, err := cmd.StdoutPipe()
	must(t, err)
	must(t, cmd.Start())
	// The child says when it has flushed 300 ticks, and then goes on
	// recording; it is killed somewhere after that.
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "flushed\n" {
		_ = cmd.Process.Kill() // the test has failed already
		t.Fatalf("child said %q, %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	_ = cmd.Wait() // "signal: killed" is the point

	r, err := tape.Open(path)
	must(t, err)
	defer r.Close()
	in := r.Info()
	t.Logf("killed after tick %d: %d records, %d bytes, damage %v", in.LastTick, in.Records, in.Size, in.Damage)
	if in.Clean || in.LastTick < 300 || (in.Damage != nil && !in.Damage.Truncated) {
		t.Fatalf("Info of the killed tape: clean %v, last tick %d, damage %v; want not clean, >= 300, at most a torn tail",
			in.Clean, in.LastTick, in.Damage)
	}
	if _, err := os.Stat(path + ".idx"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("index of the killed tape: %v, want none", err)
	}
	recs, err := readAll(r)
	var d *tape.DamageError
	if len(recs) != in.Records || (err != io.EOF && !errors.As(err, &d)) {
		t.Fatalf("read %d records then %v, want %d then io.EOF or the torn tail", len(recs), err, in.Records)
	}
	m, err := r.Seek(in.LastTick)
	if err != nil || m.Tick != in.LastTick {
		t.Fatalf("Seek(%d) on the killed tape: %v", in.LastTick, err)
	}
}

// killedChild records arena-bench until it is killed, flushing often. It
// stops by itself after 20,000 ticks (a few MB) should nobody kill it, and
// leaves the tape unclosed either way.
func killedChild(t *testing.T) {
	w, err := tape.Create(os.Getenv("TAPE_KILL_CHILD"), scenario{}.header(), tape.WriterOptions{BufferSize: 2000})
	must(t, err)
	rec := &signalAfter{Writer: w, tick: 300}
	scenario{Ticks: 20000, Players: 4, KeyEvery: 50, HoldInput: 1}.run(t, rec)
}

// signalAfter prints "flushed" once the tape holds tick.
type signalAfter struct {
	*tape.Writer
	tick uint64
	said bool
}

func (s *signalAfter) Tick(tick uint64, ops []rooms.Op, delta []byte) error {
	if err := s.Writer.Tick(tick, ops, delta); err != nil {
		return err
	}
	if !s.said && tick >= s.tick {
		if err := s.Writer.Flush(); err != nil {
			return err
		}
		fmt.Println("flushed")
		s.said = true
	}
	return nil
}
