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

// checkpointVersion is the world checkpoint layout this package writes.
const checkpointVersion = 1

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
	return b, nil
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
	if n, err := d.DecodeArrayLen(); err != nil || n != 5 {
		return nil, fmt.Errorf("want a 5-element array (%v)", err)
	}
	if v, err := d.DecodeInt(); err != nil || v != checkpointVersion {
		return nil, fmt.Errorf("version %d (%v), this build reads %d", v, err, checkpointVersion)
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
	n, err := d.DecodeArrayLen()
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
	return w, nil
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
