package state

import (
	"bytes"
	"errors"
	"fmt"
	"math/bits"

	"github.com/vmihailenco/msgpack/v5"
)

// ErrBaseMismatch is returned by Mirror.Apply for a delta whose base tick is
// not the mirror's tick: the client missed a message and must resync.
var ErrBaseMismatch = errors.New("state: delta base tick does not match the mirror")

// ErrNotSynced is returned for a delta before any snapshot was applied.
var ErrNotSynced = errors.New("state: delta before the first snapshot")

// MirrorEntity is a client's copy of one entity.
type MirrorEntity struct {
	ID     EntityID
	Kind   *Kind
	Group  GroupID // its interest group (view messages; 0 otherwise)
	vals   []value
	h1, h0 []int64
}

// Float returns a Q or F32 field as the client reconstructs it.
func (m *MirrorEntity) Float(i int) float64 { return m.vals[i].f }

// Int returns an integer field.
func (m *MirrorEntity) Int(i int) int64 { return m.vals[i].i }

// Bool returns a Bool field.
func (m *MirrorEntity) Bool(i int) bool { return m.vals[i].i != 0 }

// String returns a String field.
func (m *MirrorEntity) String(i int) string { return m.vals[i].s }

// Value returns field i as a Go value: float64, int64, bool or string.
func (m *MirrorEntity) Value(i int) any {
	switch t := m.Kind.Fields[i].Type; {
	case t == Q || t == F32:
		return m.vals[i].f
	case t == Bool:
		return m.vals[i].i != 0
	case t == String:
		return m.vals[i].s
	default:
		return m.vals[i].i
	}
}

// Mirror is the state a client rebuilds from snapshots and deltas. The load
// generator and the tests use it; packages/client/src/core is its TypeScript twin.
type Mirror struct {
	Schema   *Schema
	Tick     uint64
	Synced   bool
	Entities map[EntityID]*MirrorEntity
	// LeftView and Removed count entities that left the mirror's view and
	// that were removed from the world (view messages tell them apart).
	LeftView, Removed uint64
	// Entered counts entities that entered the view (view deltas only).
	Entered uint64

	groups   map[GroupID][]EntityID // view messages: each group's ids, ascending
	departed []departure            // view delta scratch
	rd       bytes.Reader
	msg      []byte // the message being applied; rd reads it
	dec      *msgpack.Decoder
}

// NewMirror returns an empty, unsynced mirror for a schema.
func NewMirror(s *Schema) *Mirror {
	m := &Mirror{Schema: s, Entities: make(map[EntityID]*MirrorEntity)}
	m.dec = msgpack.NewDecoder(&m.rd)
	return m
}

// Apply decodes one snapshot or delta message into the mirror and returns
// its type tag. Other message types are returned without being applied. A
// delta is applied whole or not at all only as far as its base tick goes:
// on ErrBaseMismatch nothing changed.
func (m *Mirror) Apply(msg []byte) (int, error) {
	m.msg = msg
	m.rd.Reset(msg)
	m.dec.Reset(&m.rd)
	n, err := m.dec.DecodeArrayLen()
	if err != nil || n < 1 {
		return 0, fmt.Errorf("state: mirror: message header: %v", errOr(err, "empty array"))
	}
	tag, err := m.dec.DecodeInt()
	if err != nil {
		return 0, fmt.Errorf("state: mirror: type tag: %w", err)
	}
	switch tag {
	case MsgSnapshot:
		return tag, m.applySnapshot()
	case MsgDelta:
		return tag, m.applyDelta()
	case MsgViewDelta:
		return tag, m.applyViewDelta(n)
	case MsgViewSnapshot:
		return tag, m.applyViewSnapshot(n)
	}
	return tag, nil
}

func errOr(err error, s string) any {
	if err != nil {
		return err
	}
	return s
}

func (m *Mirror) applySnapshot() error {
	tick, err := m.dec.DecodeUint64()
	if err != nil {
		return fmt.Errorf("state: snapshot tick: %w", err)
	}
	n, err := m.dec.DecodeArrayLen()
	if err != nil {
		return fmt.Errorf("state: snapshot entities: %w", err)
	}
	clear(m.Entities)
	clear(m.groups)
	for range n {
		if err := m.readRecord(); err != nil {
			return fmt.Errorf("state: snapshot: %w", err)
		}
	}
	m.Tick, m.Synced = tick, true
	return nil
}

func (m *Mirror) applyDelta() error {
	tick, err := m.dec.DecodeUint64()
	if err != nil {
		return fmt.Errorf("state: delta tick: %w", err)
	}
	base, err := m.dec.DecodeUint64()
	if err != nil {
		return fmt.Errorf("state: delta base: %w", err)
	}
	if !m.Synced {
		return ErrNotSynced
	}
	if base != m.Tick {
		return fmt.Errorf("%w: base %d, mirror at %d", ErrBaseMismatch, base, m.Tick)
	}
	n, err := m.dec.DecodeArrayLen()
	if err != nil {
		return fmt.Errorf("state: delta created: %w", err)
	}
	for range n {
		if err := m.readRecord(); err != nil {
			return fmt.Errorf("state: delta created: %w", err)
		}
	}
	if n, err = m.dec.DecodeArrayLen(); err != nil {
		return fmt.Errorf("state: delta changed: %w", err)
	}
	for range n {
		if err := m.readGroup(); err != nil {
			return fmt.Errorf("state: delta changed: %w", err)
		}
	}
	if n, err = m.dec.DecodeArrayLen(); err != nil {
		return fmt.Errorf("state: delta removed: %w", err)
	}
	id := EntityID(0)
	for range n {
		gap, err := m.dec.DecodeUint32()
		if err != nil {
			return fmt.Errorf("state: delta removed: %w", err)
		}
		id += EntityID(gap)
		delete(m.Entities, id)
	}
	m.Tick = tick
	m.Synced = true
	return nil
}

func (m *Mirror) readRecord() error {
	_, err := m.readRecordIn(Everyone)
	return err
}

// readRecordIn reads an entity record into the mirror, in group g.
func (m *Mirror) readRecordIn(g GroupID) (*MirrorEntity, error) {
	e, err := m.decodeRecord()
	if err != nil {
		return nil, err
	}
	e.Group = g
	m.Entities[e.ID] = e
	return e, nil
}

func (m *Mirror) decodeRecord() (*MirrorEntity, error) {
	if _, err := m.dec.DecodeArrayLen(); err != nil {
		return nil, err
	}
	kid, err := m.dec.DecodeInt()
	if err != nil {
		return nil, err
	}
	k := m.Schema.Kind(kid)
	if k == nil {
		return nil, fmt.Errorf("unknown kind %d", kid)
	}
	id, err := m.dec.DecodeUint32()
	if err != nil {
		return nil, err
	}
	n := len(k.Fields)
	e := &MirrorEntity{ID: EntityID(id), Kind: k, vals: make([]value, n)}
	hist := make([]int64, 2*n)
	e.h1, e.h0 = hist[:n:n], hist[n:]
	for i, f := range k.Fields {
		if f.Type.coded() {
			v, err := m.dec.DecodeInt64()
			if err != nil {
				return nil, fmt.Errorf("field %q: %w", f.Name, err)
			}
			e.h1[i], e.h0[i] = v, v
			e.setCoded(i, v)
		} else if err := m.readPlain(&e.vals[i], f); err != nil {
			return nil, fmt.Errorf("field %q: %w", f.Name, err)
		}
	}
	for i, f := range k.Fields {
		if f.Pred == 2 {
			vel, err := m.dec.DecodeInt64()
			if err != nil {
				return nil, fmt.Errorf("field %q velocity: %w", f.Name, err)
			}
			e.h0[i] = e.h1[i] - vel
			if f.Mod > 0 {
				e.h0[i] = floorMod(e.h0[i], f.Mod)
			}
		}
	}
	return e, nil
}

func (m *Mirror) readGroup() error {
	n, err := m.dec.DecodeArrayLen()
	if err != nil {
		return err
	}
	mask, err := m.dec.DecodeUint64()
	if err != nil {
		return err
	}
	per := 1 + bits.OnesCount64(mask)
	if mask == 0 || (n-1)%per != 0 {
		return fmt.Errorf("group of %d values does not fit mask %#x", n, mask)
	}
	id := EntityID(0)
	for range (n - 1) / per {
		gap, err := m.dec.DecodeUint32()
		if err != nil {
			return err
		}
		id += EntityID(gap)
		e := m.Entities[id]
		if e == nil {
			return fmt.Errorf("change to unknown entity %d", id)
		}
		if err := m.readChange(e, mask); err != nil {
			return err
		}
	}
	return nil
}

// readChange reads the residuals of the masked fields of one entity.
func (m *Mirror) readChange(e *MirrorEntity, mask uint64) error {
	if bits.Len64(mask) > len(e.Kind.Fields) {
		return fmt.Errorf("mask %#x too wide for kind %q", mask, e.Kind.Name)
	}
	for b := mask; b != 0; b &= b - 1 {
		i := bits.TrailingZeros64(b)
		f := e.Kind.Fields[i]
		if !f.Type.coded() {
			if err := m.readPlain(&e.vals[i], f); err != nil {
				return fmt.Errorf("entity %d field %q: %w", e.ID, f.Name, err)
			}
			continue
		}
		r, err := m.dec.DecodeInt64()
		if err != nil {
			return fmt.Errorf("entity %d field %q: %w", e.ID, f.Name, err)
		}
		e.applyResidual(i, r)
	}
	return nil
}

// applyResidual decodes residual r of coded field i against its history.
func (e *MirrorEntity) applyResidual(i int, r int64) {
	f := e.Kind.Fields[i]
	v := r
	switch f.Pred {
	case 1:
		v = e.h1[i] + r
	case 2:
		v = 2*e.h1[i] - e.h0[i] + r
	}
	if f.Mod > 0 {
		v = floorMod(v, f.Mod)
	}
	e.h0[i], e.h1[i] = e.h1[i], v
	e.setCoded(i, v)
}

func (e *MirrorEntity) setCoded(i int, v int64) {
	f := e.Kind.Fields[i]
	if f.Type == Q {
		e.vals[i].f = float64(v) / f.Scale
	} else {
		e.vals[i].i = v
	}
}

func (m *Mirror) readPlain(dst *value, f Field) error {
	var err error
	switch f.Type {
	case F32:
		var v float32
		v, err = m.dec.DecodeFloat32()
		dst.f = float64(v)
	case Bool:
		var v bool
		v, err = m.dec.DecodeBool()
		dst.i = 0
		if v {
			dst.i = 1
		}
	case String:
		// The decoder grows its buffer toward the length a string claims
		// and keeps it: a lie must not get that far (see DecodeClient).
		if _, err := skipValue(m.msg[len(m.msg)-m.rd.Len():], maxNesting); err != nil {
			return err
		}
		dst.s, err = m.dec.DecodeString()
	}
	return err
}
