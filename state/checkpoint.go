package state

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"

	"github.com/vmihailenco/msgpack/v5"
)

// A world checkpoint is an exact image of a World between publishes: every
// entity's exact values (not their wire quantization) and its prediction
// history, the next entity id and the tick. A world loaded from it
// publishes, from then on, exactly the bytes the original would have: the
// room layer relies on that to wake a room from a checkpoint and re-run only
// the ops after it (rooms.TestCheckpointThenTailEqualsFullRun).
//
// Layout (MessagePack): [1, fingerprint, tick, nextID, [entity...]] where
// an entity is [kind, id, value per field..., h1 per coded field..., h0 per
// coded field...]. Q and F32 values are float64, integers and bools int64,
// strings str.
//
// A views world (EnableViews) writes version 2, which adds its interest
// groups: [2, fingerprint, tick, nextID, [entity...], [group...]] where a
// group is [g, [id...]], the groups ascending from Everyone and each one's
// ids ascending; every entity is in exactly one. A group the last publish
// emptied is listed with no ids: it is freed by the next publish, in the
// loaded world as in the original. Members' views are not world state
// (the room keeps them beside the world, rooms.CheckpointMember.View). A
// world without views still writes version 1, byte for byte as before, so
// that builds from before views read its checkpoints.

// Checkpoint layout versions: without views, and with interest groups.
const (
	checkpointVersion      = 1
	checkpointVersionViews = 2
)

// ErrCheckpoint is wrapped by every error loading a world checkpoint.
var ErrCheckpoint = errors.New("state: bad world checkpoint")

// Fingerprint identifies the parts of a schema that a world's state depends
// on (kinds, fields, types, grids, predictions; not draw hints). A
// checkpoint taken under one fingerprint is refused under another.
func (s *Schema) Fingerprint() uint64 {
	h := fnv.New64a()
	var b []byte
	for _, k := range s.Kinds {
		b = append(b[:0], k.ID)
		b = append(b, k.Name...)
		b = append(b, 0)
		for _, f := range k.Fields {
			b = append(b, f.Name...)
			b = append(b, 0, byte(f.Type), f.Pred)
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(f.Scale))
			b = binary.LittleEndian.AppendUint64(b, uint64(f.Mod))
		}
		_, _ = h.Write(b) // hash writes never fail
	}
	return h.Sum64()
}

// AppendCheckpoint appends the world's checkpoint to dst. Like a snapshot it
// needs every change published: it fails with ErrPending otherwise. The
// MessagePack is appended by hand (a running room takes a checkpoint on its
// own goroutine, of up to 10,000 entities for a full board).
func (w *World) AppendCheckpoint(dst []byte) ([]byte, error) {
	if w.Pending() {
		return dst, ErrPending
	}
	if dst == nil {
		dst = make([]byte, 0, 64+len(w.entities)*(8+16*len(w.schema.Kinds[0].Fields)))
	}
	b := append(dst, 0x95)
	b = AppendInt(b, checkpointVersion)
	if w.views != nil {
		b = append(dst, 0x96)
		b = AppendInt(b, checkpointVersionViews)
	}
	b = AppendUint(b, w.schema.Fingerprint())
	b = AppendUint(b, w.tick)
	b = AppendUint(b, uint64(w.nextID))
	b = AppendArrayLen(b, len(w.entities))
	for _, e := range w.entities {
		coded := 0
		for _, f := range e.kind.Fields {
			if f.Type.coded() {
				coded++
			}
		}
		b = AppendArrayLen(b, 2+len(e.vals)+2*coded)
		b = AppendUint(b, uint64(e.kind.ID))
		b = AppendUint(b, uint64(e.id))
		for i, f := range e.kind.Fields {
			switch {
			case f.Type == Q || f.Type == F32:
				b = binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(e.vals[i].f))
			case f.Type == String:
				b = AppendString(b, e.vals[i].s)
			default:
				b = AppendInt(b, e.vals[i].i)
			}
		}
		for _, h := range [][]int64{e.h1, e.h0} {
			for i, f := range e.kind.Fields {
				if f.Type.coded() {
					b = AppendInt(b, h[i])
				}
			}
		}
	}
	if w.views != nil {
		b = w.appendGroups(b)
	}
	return b, nil
}

// SeesAll reports whether the view is of every group (SeeAll, SeeAllBut)
// rather than of the groups Set gave it: a room's checkpoint keeps a
// member's groups, not such a view.
func (v *View) SeesAll() bool { return v.all }

// appendGroups appends a views world's groups, each with its entities' ids
// (as of the last publish, which is now: nothing is pending).
func (w *World) appendGroups(b []byte) []byte {
	ids := w.GroupIDs()
	b = AppendArrayLen(b, len(ids))
	for _, g := range ids {
		gr := w.views.groups.get(g)
		b = AppendUint(AppendArrayLen(b, 2), uint64(g))
		b = AppendArrayLen(b, len(gr.ents))
		for _, e := range gr.ents {
			b = AppendUint(b, uint64(e.id))
		}
	}
	return b
}

// LoadWorld rebuilds a world over s from a checkpoint. The checkpoint comes
// from disk or the network, so every part of it is checked: a damaged or
// foreign checkpoint is an error wrapping ErrCheckpoint, never a panic or a
// world that would later panic.
func LoadWorld(s *Schema, b []byte) (*World, error) {
	if err := WellSized(b); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCheckpoint, err)
	}
	rd := bytes.NewReader(b)
	w, err := loadWorld(s, msgpack.NewDecoder(rd), rd)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCheckpoint, err)
	}
	if rd.Len() > 0 {
		return nil, fmt.Errorf("%w: bytes after the checkpoint", ErrCheckpoint)
	}
	return w, nil
}

// rd is d's reader (a bytes.Reader, which msgpack reads without buffering),
// so that its length bounds counts before anything is allocated.
func loadWorld(s *Schema, d *msgpack.Decoder, rd *bytes.Reader) (*World, error) {
	n, err := d.DecodeArrayLen()
	if err != nil || (n != 5 && n != 6) {
		return nil, fmt.Errorf("want a 5- or 6-element array, not %d (%v)", n, err)
	}
	version, err := d.DecodeInt()
	switch {
	case err != nil:
		return nil, fmt.Errorf("version: %v", err)
	case version == checkpointVersion && n == 5, version == checkpointVersionViews && n == 6:
	case version == checkpointVersion || version == checkpointVersionViews:
		return nil, fmt.Errorf("version %d with %d elements", version, n)
	default:
		return nil, fmt.Errorf("version %d, this build reads %d and %d", version, checkpointVersion, checkpointVersionViews)
	}
	fp, err := d.DecodeUint64()
	if err != nil {
		return nil, fmt.Errorf("fingerprint: %v", err)
	}
	if fp != s.Fingerprint() {
		return nil, errors.New("taken under another schema (the room type's kinds changed)")
	}
	w := NewWorld(s)
	if w.tick, err = d.DecodeUint64(); err != nil {
		return nil, fmt.Errorf("tick: %v", err)
	}
	next, err := d.DecodeUint64()
	if err != nil || next > math.MaxUint32 {
		return nil, fmt.Errorf("next id %d (%v)", next, err)
	}
	w.nextID = EntityID(next)
	n, err = d.DecodeArrayLen()
	if err != nil || n < 0 || n > rd.Len() {
		return nil, fmt.Errorf("entity count %d (%v)", n, err)
	}
	w.entities = make([]*Entity, 0, n)
	for range n {
		e, err := loadEntity(w, d)
		if err != nil {
			return nil, err
		}
		if len(w.entities) > 0 && e.id <= w.entities[len(w.entities)-1].id {
			return nil, fmt.Errorf("entity %d out of order", e.id)
		}
		if e.id >= w.nextID {
			return nil, fmt.Errorf("entity %d not below the next id %d", e.id, w.nextID)
		}
		w.entities = append(w.entities, e)
		w.byID[e.id] = e
	}
	if version == checkpointVersionViews {
		if err := loadGroups(w, d, rd); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// GroupAllInEveryone makes a world loaded from a checkpoint without groups
// (taken before its room type had views) a views world with every entity
// in Everyone, as if each had been published there: every member sees all
// of them until the room type places them in groups of their own. Call it
// on a freshly loaded world, before any change or publish.
func (w *World) GroupAllInEveryone() {
	if w.views != nil {
		panic("state: GroupAllInEveryone on a views world")
	}
	w.EnableViews()
	gr := w.views.group(Everyone)
	gr.ents = append(gr.ents[:0], w.entities...) // ascending ids, as a group keeps them
	for _, e := range w.entities {
		e.group, e.pubGroup, e.pubGr = Everyone, Everyone, gr
	}
}

// loadGroups reads a views world's groups into w, which it makes a views
// world: every entity in exactly one group, as the original had it at its
// last publish.
func loadGroups(w *World, d *msgpack.Decoder, rd *bytes.Reader) error {
	n, err := d.DecodeArrayLen()
	if err != nil || n < 1 || n > rd.Len() {
		return fmt.Errorf("group count %d (%v)", n, err)
	}
	w.EnableViews()
	v := w.views
	placed := make(map[EntityID]struct{}, len(w.entities))
	prev := Everyone
	for i := range n {
		if k, err := d.DecodeArrayLen(); err != nil || k != 2 {
			return fmt.Errorf("group %d: want [g, ids], not %d elements (%v)", i, k, err)
		}
		id, err := d.DecodeUint64()
		if err != nil || id > math.MaxUint32 {
			return fmt.Errorf("group id %d (%v)", id, err)
		}
		g := GroupID(id)
		switch {
		case i == 0 && g != Everyone:
			return fmt.Errorf("groups start with %d, not Everyone", g)
		case i > 0 && g <= prev:
			return fmt.Errorf("group %d out of order", g)
		}
		prev = g
		m, err := d.DecodeArrayLen()
		if err != nil || m < 0 || m > rd.Len() {
			return fmt.Errorf("group %d: entity count %d (%v)", g, m, err)
		}
		gr := v.group(g)
		gr.ents = make([]*Entity, 0, m)
		for range m {
			id, err := d.DecodeUint64()
			if err != nil || id > math.MaxUint32 {
				return fmt.Errorf("group %d: entity id %d (%v)", g, id, err)
			}
			e := w.byID[EntityID(id)]
			if e == nil {
				return fmt.Errorf("group %d: entity %d is not in the world", g, id)
			}
			if len(gr.ents) > 0 && e.id <= gr.ents[len(gr.ents)-1].id {
				return fmt.Errorf("group %d: entity %d out of order", g, id)
			}
			if _, ok := placed[e.id]; ok {
				return fmt.Errorf("entity %d in two groups", id)
			}
			placed[e.id] = struct{}{}
			e.group, e.pubGroup, e.pubGr = g, g, gr
			gr.ents = append(gr.ents, e)
		}
		if m == 0 && g != Everyone {
			// Emptied by the last publish: the next one frees it, as it
			// does the original's (and views of every group see it leave).
			v.touch(gr)
		}
	}
	if len(placed) != len(w.entities) {
		return fmt.Errorf("%d of %d entities in a group", len(placed), len(w.entities))
	}
	return nil
}

func loadEntity(w *World, d *msgpack.Decoder) (*Entity, error) {
	n, err := d.DecodeArrayLen()
	if err != nil {
		return nil, fmt.Errorf("entity: %v", err)
	}
	kid, err := d.DecodeUint64()
	if err != nil {
		return nil, fmt.Errorf("entity kind: %v", err)
	}
	k := w.schema.Kind(int(min(kid, math.MaxInt32)))
	if k == nil {
		return nil, fmt.Errorf("unknown kind %d", kid)
	}
	coded := 0
	for _, f := range k.Fields {
		if f.Type.coded() {
			coded++
		}
	}
	if n != 2+len(k.Fields)+2*coded {
		return nil, fmt.Errorf("kind %q entity has %d elements, want %d", k.Name, n, 2+len(k.Fields)+2*coded)
	}
	id, err := d.DecodeUint64()
	if err != nil || id > math.MaxUint32 {
		return nil, fmt.Errorf("entity id %d (%v)", id, err)
	}
	nf := len(k.Fields)
	hist := make([]int64, 2*nf)
	e := &Entity{id: EntityID(id), kind: k, world: w, vals: make([]value, nf), h1: hist[:nf:nf], h0: hist[nf:]}
	for i, f := range k.Fields {
		v := &e.vals[i]
		switch {
		case f.Type == Q || f.Type == F32:
			if v.f, err = d.DecodeFloat64(); err != nil || math.IsNaN(v.f) || math.IsInf(v.f, 0) {
				return nil, fmt.Errorf("entity %d field %q: %v (%v)", id, f.Name, v.f, err)
			}
			if f.Type == F32 && v.f != float64(float32(v.f)) {
				return nil, fmt.Errorf("entity %d field %q: %v is not a float32", id, f.Name, v.f)
			}
		case f.Type == String:
			if v.s, err = d.DecodeString(); err != nil {
				return nil, fmt.Errorf("entity %d field %q: %v", id, f.Name, err)
			}
		default:
			if v.i, err = d.DecodeInt64(); err != nil {
				return nil, fmt.Errorf("entity %d field %q: %v", id, f.Name, err)
			}
			lo, hi := f.Type.intRange()
			if f.Type == Bool {
				lo, hi = 0, 1
			}
			if v.i < lo || v.i > hi {
				return nil, fmt.Errorf("entity %d field %q: %d out of range", id, f.Name, v.i)
			}
		}
	}
	for _, h := range [][]int64{e.h1, e.h0} {
		for i, f := range k.Fields {
			if !f.Type.coded() {
				continue
			}
			if h[i], err = d.DecodeInt64(); err != nil {
				return nil, fmt.Errorf("entity %d field %q history: %v", id, f.Name, err)
			}
		}
	}
	return e, nil
}
