package rooms

import (
	"cmp"
	"errors"
	"slices"

	"github.com/tickroom/tickroom/state"
)

// OpKind says what a recorded operation did to a room.
type OpKind uint8

// Operation kinds, in the order a room may apply them within one tick.
const (
	OpJoin  OpKind = 1 // a new member was seated: Member, Name
	OpLeave OpKind = 2 // a member left for good: Member
	OpInput OpKind = 3 // an input was applied: Member, Seq, Payload
)

// Op is one operation a room applied to its handler. The ops of a tick, in
// the order they ran, plus the room's seed and options, are all a
// deterministic room type needs to re-run the room exactly (tickroom verify).
type Op struct {
	Kind    OpKind `msgpack:"k"`
	Member  uint32 `msgpack:"m"`
	Name    string `msgpack:"n,omitempty"`
	Seq     uint64 `msgpack:"s,omitempty"`
	Payload []byte `msgpack:"p,omitempty"` // MessagePack, as the client sent it
}

// RecordingHeader is what a recording knows about its room from the start.
type RecordingHeader struct {
	RoomID   string
	Type     string
	TickRate int
	Seed     uint64
	// Options are the options the creator asked for (Type.New makes the
	// same handler from them again), not the effective ones.
	Options map[string]any
	// Schema is the room's schema in its welcome form (state.WireKind list,
	// encoded by the recorder as it likes).
	Schema any
	// StartTick is the tick of the first Keyframe (0 for a new room).
	StartTick uint64
	// Views says the room's type has Views: its recording also keeps each
	// member's view (ViewRecorder), so that a replay can follow one member.
	Views bool
}

// Recorder receives a room's broadcast stream, on the room's goroutine.
// Implementations must not block for long: buffer, and flush elsewhere or
// periodically. An error stops recording for that room (logged), never the
// room itself.
type Recorder interface {
	// Keyframe records a full snapshot message (as sent to members) at tick.
	Keyframe(tick uint64, snapshot []byte) error
	// Tick records one tick: the ops applied during it in order, and the
	// delta message exactly as broadcast.
	Tick(tick uint64, ops []Op, delta []byte) error
	// Event records an event message (join, leave, chat, custom) as broadcast
	// or, for direct messages, as delivered; tick is the tick it followed.
	Event(tick uint64, event []byte) error
	// Close flushes and closes the recording; the room is gone.
	Close() error
}

// MemberView is one member's view as a recording keeps it: the groups it
// sees besides state.Everyone, ascending, and its entity (0: none). Gone
// says the member left: it has no view any more.
type MemberView struct {
	Member uint32
	Entity state.EntityID
	Groups []state.GroupID
	Gone   bool
}

// ViewRecorder is a Recorder that also keeps members' views (a views
// room's recording, docs/TAPE.md "views"). The room calls Views after a
// tick's record with the members whose view changed in that tick (their
// whole group list, not a difference: a view holds tens of groups), and
// after each keyframe with every member's view (full), so that a reader
// starting at a keyframe knows every view at once. The slices are the
// room's: use them before returning.
type ViewRecorder interface {
	Views(tick uint64, full bool, views []MemberView) error
}

// startRecording opens a new log for the room from its published tick,
// with a keyframe of that tick first. A failure leaves the room unrecorded.
func (r *Room) startRecording(tick uint64) {
	if r.cfg.Logs == nil {
		return
	}
	w, err := r.cfg.Logs.Create(RecordingHeader{RoomID: r.ID, Type: r.Type.Name, TickRate: r.Type.TickRate, Seed: r.Seed,
		Options: r.requested, Schema: r.Type.Schema.Wire(), StartTick: tick, Views: r.Type.Views})
	if err != nil {
		r.log.Error("recording not started", "err", err)
		return
	}
	r.recordingID = w.ID()
	r.continueRecording(w, tick)
}

// continueRecording records on into w (a new log, or the room's own
// continued after a wake) from the published tick, with a keyframe of
// that tick: a replay can seek to the wake, and the part after it reads
// on its own even if the log before it was damaged.
func (r *Room) continueRecording(w LogWriter, tick uint64) {
	r.recorder = w
	r.recording.Store(true)
	r.lastKeyframe = tick
	r.record("keyframe", func() error { return w.Keyframe(tick, r.currentSnapshot()) })
	r.recordViews(tick, true)
}

// RecordingID returns the id of the room's recording, or "" when the room
// is not recorded (or its recorder has no id).
func (r *Room) RecordingID() string { return r.recordingID }

// Recording reports whether the room is being recorded.
func (r *Room) Recording() bool { return r.recording.Load() }

// record runs one recorder call; a failure stops recording this room (the
// room itself carries on) and is logged once.
func (r *Room) record(step string, fn func() error) {
	if r.recorder == nil {
		return
	}
	if err := fn(); err != nil {
		if errors.Is(err, ErrFenced) {
			// Another node took the room over and writes its log: this
			// node must not tick it once more (the loop ends on endLost).
			r.end = endLost
			r.recorder = nil
			r.recording.Store(false)
			return
		}
		r.log.Error("recording stopped", "step", step, "err", err)
		_ = r.recorder.Close() // already failing; the first error is the one logged
		r.recorder = nil
	}
	r.recording.Store(r.recorder != nil)
}

// logOp notes an op for the recording of the current tick.
func (r *Room) logOp(op Op) {
	if r.recorder != nil {
		r.ops = append(r.ops, op)
	}
}

// recordTick hands the tick's ops and delta bytes (the very bytes sent) to
// the recorder, and a keyframe every KeyframeInterval.
func (r *Room) recordTick(tick uint64, delta []byte) {
	if r.recorder == nil {
		return
	}
	r.record("tick", func() error { return r.recorder.Tick(tick, r.ops, delta) })
	clear(r.ops)
	r.ops = r.ops[:0]
	if r.recorder != nil && tick-r.lastKeyframe >= r.keyframeEvery {
		r.lastKeyframe = tick
		r.record("keyframe", func() error { return r.recorder.Keyframe(tick, r.currentSnapshot()) })
		r.recordViews(tick, true)
		return
	}
	r.recordViews(tick, false)
}

// recordedView is a member's view as the recording last wrote it.
type recordedView struct {
	groups []state.GroupID
	tick   uint64 // the last tick it was seen seated
}

// recordViews records the members' views of tick in a views room whose
// recorder keeps them: every member's when full, otherwise only those
// that changed since the last record (and the members who left). Nothing
// is allocated on a tick where no view changed.
func (r *Room) recordViews(tick uint64, full bool) {
	vr, ok := r.recorder.(ViewRecorder)
	if !ok || !r.world.Views() {
		return
	}
	if r.recViews == nil {
		r.recViews = make(map[uint32]*recordedView)
	}
	out := r.viewOut[:0]
	for _, s := range r.seats {
		v := viewRecord(s.member)
		rv := r.recViews[v.Member]
		if rv == nil {
			rv = &recordedView{}
			r.recViews[v.Member] = rv
		} else if !full && slices.Equal(rv.groups, v.Groups) {
			rv.tick = tick
			continue
		}
		rv.groups = append(rv.groups[:0], v.Groups...)
		rv.tick = tick
		v.Groups = rv.groups
		out = append(out, v)
	}
	for n, rv := range r.recViews {
		if rv.tick != tick {
			delete(r.recViews, n)
			if !full {
				out = append(out, MemberView{Member: n, Gone: true})
			}
		}
	}
	r.viewOut = out
	if len(out) == 0 && !full {
		return
	}
	slices.SortFunc(out, func(a, b MemberView) int { return cmp.Compare(a.Member, b.Member) })
	r.record("views", func() error { return vr.Views(tick, full, out) })
	clear(r.viewOut)
}

// viewRecord is m's view as a recording keeps it. Its Groups are the
// view's own slice.
func viewRecord(m *Member) MemberView {
	groups := m.View().Groups()
	if len(groups) > 0 && groups[0] == state.Everyone {
		groups = groups[1:]
	}
	v := MemberView{Member: m.Number, Groups: groups}
	if m.Entity != nil {
		v.Entity = m.Entity.ID()
	}
	return v
}
