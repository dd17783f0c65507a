package tape

import (
	"fmt"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// Views records members' views at tick (docs/TAPE.md, "views"): after a
// tick's record, the members whose view changed; after a keyframe
// (full), every member's. A tape that is not version 2 (an old tape
// continued) cannot hold them: the call does nothing there.
func (w *Writer) Views(tick uint64, full bool, views []rooms.MemberView) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return fmt.Errorf("tape: views %d: %w", tick, err)
	}
	if w.hdr.Version < versionViews {
		return nil
	}
	w.ops = appendViews(w.ops[:0], full, views)
	if err := w.appendFrame(KindViews, tick, nil, w.ops); err != nil {
		return fmt.Errorf("tape: views %d: %w", tick, err)
	}
	return w.maybeFlush("views", tick)
}

var _ rooms.ViewRecorder = (*Writer)(nil)

// appendViews encodes a views record's payload: [full, [view...]], each
// view [member, entity, groups]: entity nil for none, groups the ids
// ascending without state.Everyone, or nil when the member left.
func appendViews(b []byte, full bool, views []rooms.MemberView) []byte {
	b = state.AppendArrayLen(b, 2)
	if full {
		b = append(b, 0xc3)
	} else {
		b = append(b, 0xc2)
	}
	b = state.AppendArrayLen(b, len(views))
	for _, v := range views {
		b = state.AppendArrayLen(b, 3)
		b = state.AppendUint(b, uint64(v.Member))
		if v.Entity == 0 {
			b = append(b, 0xc0)
		} else {
			b = state.AppendUint(b, uint64(v.Entity))
		}
		if v.Gone {
			b = append(b, 0xc0)
			continue
		}
		b = state.AppendArrayLen(b, len(v.Groups))
		for _, g := range v.Groups {
			b = state.AppendUint(b, uint64(g))
		}
	}
	return b
}

// DecodeViews decodes a views record: whether it holds every member's
// view (after a keyframe) and the views. It returns false, nil for other
// kinds.
func (r Record) DecodeViews() (full bool, views []rooms.MemberView, err error) {
	if r.Kind != KindViews {
		return false, nil, nil
	}
	var raw struct {
		_msgpack struct{} `msgpack:",as_array"`
		Full     bool
		Views    [][]any
	}
	if err := state.WellSized(r.Data); err != nil {
		return false, nil, fmt.Errorf("tape: decode views at tick %d: %w", r.Tick, err)
	}
	if err := msgpack.Unmarshal(r.Data, &raw); err != nil {
		return false, nil, fmt.Errorf("tape: decode views at tick %d: %w", r.Tick, err)
	}
	views = make([]rooms.MemberView, 0, len(raw.Views))
	for _, v := range raw.Views {
		mv, ok := memberView(v)
		if !ok {
			return false, nil, fmt.Errorf("tape: decode views at tick %d: bad view %v", r.Tick, v)
		}
		views = append(views, mv)
	}
	return raw.Full, views, nil
}

// memberView reads one [member, entity, groups] view.
func memberView(v []any) (rooms.MemberView, bool) {
	if len(v) != 3 {
		return rooms.MemberView{}, false
	}
	m, ok := uintOf(v[0])
	if !ok || m > 1<<32-1 {
		return rooms.MemberView{}, false
	}
	mv := rooms.MemberView{Member: uint32(m)}
	if v[1] != nil {
		e, ok := uintOf(v[1])
		if !ok || e > 1<<32-1 {
			return rooms.MemberView{}, false
		}
		mv.Entity = state.EntityID(e)
	}
	if v[2] == nil {
		mv.Gone = true
		return mv, true
	}
	gs, ok := v[2].([]any)
	if !ok {
		return rooms.MemberView{}, false
	}
	mv.Groups = make([]state.GroupID, 0, len(gs))
	for _, g := range gs {
		n, ok := uintOf(g)
		if !ok || n > 1<<32-1 {
			return rooms.MemberView{}, false
		}
		mv.Groups = append(mv.Groups, state.GroupID(n))
	}
	return mv, true
}

func uintOf(v any) (uint64, bool) {
	switch n := v.(type) {
	case int8:
		return uint64(n), n >= 0
	case int16:
		return uint64(n), n >= 0
	case int32:
		return uint64(n), n >= 0
	case int64:
		return uint64(n), n >= 0
	case uint8:
		return uint64(n), true
	case uint16:
		return uint64(n), true
	case uint32:
		return uint64(n), true
	case uint64:
		return n, true
	}
	return 0, false
}
