package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/tape"
	"github.com/tickroom/tickroom/state"
)

// errDiverged is returned when a re-run does not match its recording.
var errDiverged = errors.New("replay diverged from the recording")

// runVerify is `tickroom verify TAPE`: re-run a recorded room of a
// deterministic type from its recorded seed, options and ops, and check
// that every tick's delta and every keyframe come out byte for byte as
// recorded. It reports the first differing tick and field.
func runVerify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tickroom verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tickroom verify TAPE\n\nRe-runs a recording of a deterministic room type and checks it against every recorded tick and keyframe.")
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("verify takes one tape file")
	}
	reg, err := builtinTypes()
	if err != nil {
		return err
	}
	return verifyTape(fs.Arg(0), reg, stdout)
}

func verifyTape(path string, reg *rooms.Registry, out io.Writer) error {
	r, err := tape.Open(path)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer r.Close()
	info := r.Info()
	t := reg.Get(info.Type)
	switch {
	case t == nil:
		return fmt.Errorf("verify: room type %q is unknown to this build", info.Type)
	case !t.Deterministic:
		return fmt.Errorf("verify: room type %q is not deterministic: a re-run cannot be checked", info.Type)
	}
	if info.StartTick != 0 {
		return fmt.Errorf("verify: the recording starts at tick %d; verify needs one from the room's start", info.StartTick)
	}
	sim, err := rooms.NewSim(t, info.Options, info.Seed)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	// A type that has views now may have been recorded before it had them
	// (the arena until issue 16): that part re-runs with views off, in a
	// second Sim that takes the same ops, and a room woken by a build with
	// views goes on in views frames from its wake's keyframe, which the
	// first Sim (views on all along: the same world, grouped) checks.
	var plain *rooms.Sim
	plainType := t
	if t.Views {
		off := *t
		off.Views = false
		plainType = &off
		if plain, err = rooms.NewSim(plainType, info.Options, info.Seed); err != nil {
			return fmt.Errorf("verify: %w", err)
		}
	}
	fmt.Fprintf(out, "verifying %s: %s room %s, %d ticks at %d Hz, %d keyframes\n",
		path, info.Type, info.RoomID, info.LastTick-info.FirstTick, info.TickRate, info.Keyframes)

	recorded := state.NewMirror(t.Schema) // the recorded stream, for naming a differing field
	var ticks, keyframes, checkpoints int
	// resumed is a room loaded from a checkpoint of the re-run, taken at the
	// last keyframe: it must go on exactly as the full re-run does, which
	// is what a wake relies on (checkpoint + tail equals the full run).
	var resumed *rooms.Sim
	var resumedAt uint64
	// checked is the Sim whose bytes the recording must match: plain while
	// its keyframes are whole-world snapshots.
	checked, checkedType, first := sim, t, true
	// A views room's tape (version 2) says which groups each member saw:
	// the views as its records left them, checked against the re-run's
	// members at the end of every tick.
	var views *viewCheck
	if info.Version >= 2 {
		views = &viewCheck{recorded: map[uint32]rooms.MemberView{}}
	}
	damaged := false
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		var dmg *tape.DamageError
		if errors.As(err, &dmg) {
			fmt.Fprintf(out, "warning: the tape is damaged at byte %d (%s): verified up to there\n", dmg.Offset, dmg.Reason)
			damaged = true
			break
		}
		if err != nil {
			return fmt.Errorf("verify: read: %w", err)
		}
		switch rec.Kind {
		case tape.KindKeyframe:
			if _, err := recorded.Apply(rec.Data); err != nil {
				return fmt.Errorf("verify: tick %d: recorded keyframe: %w", rec.Tick, err)
			}
			if typ, _, _, _ := state.Peek(rec.Data); plain != nil {
				switch {
				case typ == state.MsgSnapshot && first:
					checked, checkedType = plain, plainType
					fmt.Fprintf(out, "recorded before room type %s had views: re-run without them\n", t.Name)
				case typ == state.MsgViewSnapshot && checked == plain:
					if resumed != nil {
						checkpoints++ // it re-ran its tail up to here; a views room goes on from its own
					}
					checked, checkedType, plain, resumed = sim, t, nil, nil
					fmt.Fprintf(out, "views from tick %d on (the room woke under a build whose %s has views)\n", rec.Tick, t.Name)
				case typ == state.MsgViewSnapshot:
					plain = nil // recorded with views from the start
				}
			}
			first = false
			if checked.World.Tick() != rec.Tick {
				continue // the keyframe of tick 0 precedes any tick record
			}
			got, err := checked.Snapshot()
			if err != nil {
				return fmt.Errorf("verify: tick %d: %w", rec.Tick, err)
			}
			if !bytes.Equal(got, rec.Data) {
				return diverged(out, rec.Tick, "keyframe", checked, recorded)
			}
			keyframes++
			if resumed != nil {
				checkpoints++
			}
			if resumed, err = reloaded(checkedType, info.Options, checked); err != nil {
				return fmt.Errorf("verify: tick %d: %w", rec.Tick, err)
			}
			resumedAt = rec.Tick
		case tape.KindViews:
			if views == nil {
				continue
			}
			if err := views.apply(rec); err != nil {
				return fmt.Errorf("verify: %w", err)
			}
		case tape.KindOps, tape.KindDelta:
			if err := views.check(out, sim); err != nil { // the tick before this one
				return err
			}
			ops, err := rec.DecodeOps()
			if err != nil {
				return fmt.Errorf("verify: %w", err)
			}
			for _, s := range []*rooms.Sim{sim, plain, resumed} {
				if s == nil {
					continue
				}
				for _, op := range ops {
					if err := s.Apply(rec.Tick, op); err != nil {
						if s == resumed {
							return fmt.Errorf("verify: from the checkpoint at tick %d: %w", resumedAt, err)
						}
						return fmt.Errorf("verify: %w", err)
					}
				}
			}
			got := sim.Step(rec.Tick)
			if plain != nil {
				if alt := plain.Step(rec.Tick); checked == plain {
					got = alt
				}
			}
			if _, err := recorded.Apply(rec.Data); err != nil {
				return fmt.Errorf("verify: tick %d: recorded delta: %w", rec.Tick, err)
			}
			if !bytes.Equal(got, rec.Data) {
				return diverged(out, rec.Tick, "delta", checked, recorded)
			}
			if resumed != nil {
				if alt := resumed.Step(rec.Tick); !bytes.Equal(alt, rec.Data) {
					fmt.Fprintf(out, "DIVERGED at tick %d: the room loaded from the checkpoint of tick %d publishes other bytes than the recording\n", rec.Tick, resumedAt)
					return fmt.Errorf("%w at tick %d (checkpoint of tick %d)", errDiverged, rec.Tick, resumedAt)
				}
			}
			ticks++
		}
	}
	if resumed != nil {
		checkpoints++
	}
	if !damaged {
		if err := views.check(out, sim); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "ok: %d ticks and %d keyframes re-ran exactly as recorded\n", ticks, keyframes)
	if views != nil {
		fmt.Fprintf(out, "ok: every member's view as recorded (%d views records) at the end of %d ticks\n", views.records, views.checked)
	}
	if _, ok := rooms.CheckpointerOf(t); ok {
		fmt.Fprintf(out, "ok: %d checkpoints (one at each keyframe) loaded and re-ran their tails to the same bytes\n", checkpoints)
	}
	return nil
}

// reloaded takes a checkpoint of sim, passes it through its stored form
// and loads it into a new Sim; nil when the type keeps no checkpoints.
func reloaded(t *rooms.Type, options map[string]any, sim *rooms.Sim) (*rooms.Sim, error) {
	if _, ok := rooms.CheckpointerOf(t); !ok {
		return nil, nil
	}
	cp, err := sim.Checkpoint()
	if err != nil {
		return nil, err
	}
	b, err := rooms.EncodeCheckpoint(cp)
	if err != nil {
		return nil, err
	}
	back, err := rooms.DecodeCheckpoint(b)
	if err != nil {
		return nil, err
	}
	return rooms.NewSimFromCheckpoint(t, options, back)
}

// diverged reports the first difference between the re-run world and the
// recorded state at tick.
func diverged(out io.Writer, tick uint64, what string, sim *rooms.Sim, recorded *state.Mirror) error {
	if d := state.Compare(sim.World, recorded); d != nil {
		fmt.Fprintf(out, "DIVERGED at tick %d: entity %d field %q: recorded %v, re-run %v\n",
			tick, d.Entity, d.Field, d.Client, d.Server)
	} else {
		fmt.Fprintf(out, "DIVERGED at tick %d: the re-run's %s bytes differ from the recording (the state agrees within the wire's precision)\n", tick, what)
	}
	return fmt.Errorf("%w at tick %d", errDiverged, tick)
}

// viewCheck holds the members' views as a tape's views records say.
type viewCheck struct {
	recorded         map[uint32]rooms.MemberView
	records, checked int
}

func (v *viewCheck) apply(rec tape.Record) error {
	full, vs, err := rec.DecodeViews()
	if err != nil {
		return err
	}
	if full {
		clear(v.recorded)
	}
	for _, mv := range vs {
		if mv.Gone {
			delete(v.recorded, mv.Member)
		} else {
			v.recorded[mv.Member] = mv
		}
	}
	v.records++
	return nil
}

// check compares the recorded views with the re-run's members (nil: not
// a views tape, nothing to check).
func (v *viewCheck) check(out io.Writer, sim *rooms.Sim) error {
	if v == nil {
		return nil
	}
	live := sim.Views()
	tick := sim.Tick()
	fail := func(format string, args ...any) error {
		fmt.Fprintf(out, "DIVERGED at tick %d: %s\n", tick, fmt.Sprintf(format, args...))
		return fmt.Errorf("%w at tick %d (views)", errDiverged, tick)
	}
	for _, m := range live {
		rec, ok := v.recorded[m.Member]
		switch {
		case !ok:
			return fail("member %d has a view in the re-run, none in the recording", m.Member)
		case rec.Entity != m.Entity:
			return fail("member %d's entity: recorded %d, re-run %d", m.Member, rec.Entity, m.Entity)
		case !slices.Equal(rec.Groups, m.Groups):
			return fail("member %d's view: recorded groups %v, re-run %v", m.Member, rec.Groups, m.Groups)
		}
	}
	if len(live) != len(v.recorded) {
		return fail("the recording has views of %d members, the re-run %d", len(v.recorded), len(live))
	}
	v.checked++
	return nil
}
