package state

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"math/bits"
	"slices"

	"github.com/vmihailenco/msgpack/v5/msgpcode"
)

// The mirror's side of views (docs/PROTOCOL.md, "views"): it keeps each
// group's ids so that a short segment, which names no ids, and a left
// group, which names only the group, can be applied.

func (m *Mirror) applyViewSnapshot(n int) error {
	tick, err := m.dec.DecodeUint64()
	if err != nil {
		return fmt.Errorf("state: view snapshot tick: %w", err)
	}
	clear(m.Entities)
	clear(m.groups)
	for range n - 2 {
		if err := m.readSegment(true); err != nil {
			return fmt.Errorf("state: view snapshot: %w", err)
		}
	}
	m.Tick, m.Synced = tick, true
	return nil
}

func (m *Mirror) applyViewDelta(n int) error {
	tick, err := m.dec.DecodeUint64()
	if err != nil {
		return fmt.Errorf("state: view delta tick: %w", err)
	}
	base, err := m.dec.DecodeUint64()
	if err != nil {
		return fmt.Errorf("state: view delta base: %w", err)
	}
	if !m.Synced {
		return ErrNotSynced
	}
	if base != m.Tick {
		return fmt.Errorf("%w: base %d, mirror at %d", ErrBaseMismatch, base, m.Tick)
	}
	if n < 4 {
		return fmt.Errorf("state: view delta of %d elements", n)
	}
	left, err := m.dec.DecodeArrayLen()
	if err != nil {
		return fmt.Errorf("state: view delta left: %w", err)
	}
	for range left {
		g, err := m.dec.DecodeUint32()
		if err != nil {
			return fmt.Errorf("state: view delta left: %w", err)
		}
		m.forgetGroup(GroupID(g))
	}
	m.departed = m.departed[:0]
	for range n - 4 {
		if err := m.readSegment(false); err != nil {
			return fmt.Errorf("state: view delta: %w", err)
		}
	}
	// Departures last: an entity that left one group for another this
	// mirror sees arrived there (whatever the segments' order) and stays.
	for _, d := range m.departed {
		if e := m.Entities[d.id]; e != nil && e.Group == d.g {
			m.unlist(d.g, d.id)
			delete(m.Entities, d.id)
			m.LeftView++
		}
	}
	m.Tick = tick
	return nil
}

// departure is an entity that left group g for another group.
type departure struct {
	id EntityID
	g  GroupID
}

// forgetGroup removes every entity of a group the mirror no longer sees.
func (m *Mirror) forgetGroup(g GroupID) {
	for _, id := range m.groups[g] {
		if e := m.Entities[id]; e != nil && e.Group == g {
			delete(m.Entities, id)
			m.LeftView++
		}
	}
	delete(m.groups, g)
}

// place records that entity e is in group g now.
func (m *Mirror) place(e *MirrorEntity, g GroupID, was *MirrorEntity) {
	if was != nil && was.Group != g {
		m.unlist(was.Group, e.ID)
	}
	e.Group = g
	ids := m.groups[g]
	if i, ok := slices.BinarySearch(ids, e.ID); !ok {
		m.groups[g] = slices.Insert(ids, i, e.ID)
	}
}

func (m *Mirror) unlist(g GroupID, id EntityID) {
	ids := m.groups[g]
	if i, ok := slices.BinarySearch(ids, id); ok {
		m.groups[g] = slices.Delete(ids, i, i+1)
	}
}

// readSegment applies one segment: a group snapshot [g, records] (the only
// form a view snapshot holds), a delta [g, arrived, changed, departed,
// removed], or a short delta [g, mask, values...].
func (m *Mirror) readSegment(snapshotOnly bool) error {
	if m.groups == nil {
		m.groups = make(map[GroupID][]EntityID)
	}
	if code, err := m.dec.PeekCode(); err == nil && msgpcode.IsBin(code) && !snapshotOnly {
		return m.readPacked()
	}
	n, err := m.dec.DecodeArrayLen()
	if err != nil {
		return fmt.Errorf("segment: %w", err)
	}
	if n < 2 {
		return fmt.Errorf("segment of %d elements", n)
	}
	g32, err := m.dec.DecodeUint32()
	if err != nil {
		return fmt.Errorf("segment group: %w", err)
	}
	g := GroupID(g32)
	code, err := m.dec.PeekCode()
	if err != nil {
		return fmt.Errorf("segment %d: %w", g, err)
	}
	isArray := msgpcode.IsFixedArray(code) || code == msgpcode.Array16 || code == msgpcode.Array32
	switch {
	case isArray && n == 2:
		m.forgetGroup(g) // entering: whatever was there is replaced
		return m.readArrivals(g)
	case snapshotOnly:
		return fmt.Errorf("segment %d: not a group snapshot", g)
	case isArray && n == 5:
		return m.readGroupDelta(g)
	case !isArray:
		return m.readShort(g, n)
	}
	return fmt.Errorf("segment %d of %d elements", g, n)
}

func (m *Mirror) readArrivals(g GroupID) error {
	k, err := m.dec.DecodeArrayLen()
	if err != nil {
		return fmt.Errorf("segment %d records: %w", g, err)
	}
	for range k {
		e, err := m.decodeRecord()
		if err != nil {
			return fmt.Errorf("segment %d record: %w", g, err)
		}
		was := m.Entities[e.ID]
		if was == nil {
			m.Entered++
		}
		m.place(e, g, was)
		m.Entities[e.ID] = e
	}
	return nil
}

func (m *Mirror) readGroupDelta(g GroupID) error {
	if err := m.readArrivals(g); err != nil {
		return err
	}
	k, err := m.dec.DecodeArrayLen()
	if err != nil {
		return fmt.Errorf("segment %d changed: %w", g, err)
	}
	for range k {
		if err := m.readGroup(); err != nil {
			return fmt.Errorf("segment %d changed: %w", g, err)
		}
	}
	for _, removed := range []bool{false, true} {
		k, err := m.dec.DecodeArrayLen()
		if err != nil {
			return fmt.Errorf("segment %d ids: %w", g, err)
		}
		id := EntityID(0)
		for range k {
			gap, err := m.dec.DecodeUint32()
			if err != nil {
				return fmt.Errorf("segment %d ids: %w", g, err)
			}
			id += EntityID(gap)
			if !removed {
				m.departed = append(m.departed, departure{id, g})
				continue
			}
			if e := m.Entities[id]; e != nil && e.Group == g {
				m.unlist(g, id)
				delete(m.Entities, id)
				m.Removed++
			}
		}
	}
	return nil
}

// readPacked applies a packed run: a bin of one or more packed segments
// back to back, groups strictly ascending, each [uvarint(g<<4 | m),
// uvarint(mask) when m is 15 (else mask = m), residuals as signed nibbles,
// two a byte, high one first, ceil(entities * popcount(mask) / 2) bytes].
// A segment's length follows from its group's size in the mirror, so a
// segment for a group the mirror holds no entity of is refused, and the
// run must end exactly at the bin's end.
func (m *Mirror) readPacked() error {
	// Read in place, the length checked against what is left of the
	// message: msgpack's DecodeBytes allocates whatever length a bin header
	// claims (5 bytes asked for 2 GiB; found by FuzzMirrorApplyView).
	n, err := m.dec.DecodeBytesLen()
	if err != nil {
		return fmt.Errorf("packed run: %w", err)
	}
	if n < 0 || n > m.rd.Len() {
		return fmt.Errorf("packed run: %d bytes claimed, %d left: %w", n, m.rd.Len(), errOversized)
	}
	at := len(m.msg) - m.rd.Len()
	b := m.msg[at : at+n]
	if _, err := m.rd.Seek(int64(n), io.SeekCurrent); err != nil {
		return fmt.Errorf("packed run: %w", err)
	}
	if len(b) == 0 {
		return fmt.Errorf("packed run: empty")
	}
	prev := int64(-1)
	for len(b) > 0 {
		g, n, err := m.applyPacked(b, prev)
		if err != nil {
			return err
		}
		prev, b = int64(g), b[n:]
	}
	return nil
}

// applyPacked applies the packed segment at the start of b, whose group
// must be above prev, and returns its group and length.
func (m *Mirror) applyPacked(b []byte, prev int64) (GroupID, int, error) {
	head, n := binary.Uvarint(b)
	if n <= 0 || head>>4 > math.MaxUint32 {
		return 0, 0, fmt.Errorf("packed segment: bad head")
	}
	g, mask := GroupID(head>>4), head&15
	if int64(g) <= prev {
		return 0, 0, fmt.Errorf("packed segment %d after %d: groups must ascend", g, prev)
	}
	if mask == 15 {
		var n2 int
		if mask, n2 = binary.Uvarint(b[n:]); n2 <= 0 {
			return 0, 0, fmt.Errorf("packed segment %d: bad mask", g)
		}
		n += n2
	}
	if mask == 0 {
		return 0, 0, fmt.Errorf("packed segment %d: empty mask", g)
	}
	ids := m.groups[g]
	if len(ids) == 0 {
		return 0, 0, fmt.Errorf("packed segment %d: the mirror holds no entity of the group", g)
	}
	per := bits.OnesCount64(mask)
	size := (len(ids)*per + 1) / 2
	if len(b)-n < size {
		return 0, 0, fmt.Errorf("packed segment %d: %d bytes left for %d entities and mask %#x, want %d", g, len(b)-n, len(ids), mask, size)
	}
	nib := b[n : n+size]
	if (len(ids)*per)%2 == 1 && nib[size-1]&0xf != 0 {
		return 0, 0, fmt.Errorf("packed segment %d: padding nibble not 0", g)
	}
	k := 0
	for _, id := range ids {
		e := m.Entities[id]
		if e == nil {
			return 0, 0, fmt.Errorf("packed segment %d: entity %d missing", g, id)
		}
		if bits.Len64(mask) > len(e.Kind.Fields) {
			return 0, 0, fmt.Errorf("packed segment %d: mask %#x too wide for kind %q", g, mask, e.Kind.Name)
		}
		for bm := mask; bm != 0; bm &= bm - 1 {
			i := bits.TrailingZeros64(bm)
			f := e.Kind.Fields[i]
			if !f.Type.coded() {
				return 0, 0, fmt.Errorf("packed segment %d: field %q is not coded", g, f.Name)
			}
			x := nib[k/2]
			if k%2 == 0 {
				x >>= 4
			}
			r := int64(int8(x<<4) >> 4) // sign-extend the nibble
			k++
			e.applyResidual(i, r)
		}
	}
	return g, n + size, nil
}

// readShort applies [g, mask, values...]: every entity of the group, in
// ascending id order, changed the masked fields.
func (m *Mirror) readShort(g GroupID, n int) error {
	mask, err := m.dec.DecodeUint64()
	if err != nil {
		return fmt.Errorf("segment %d mask: %w", g, err)
	}
	ids := m.groups[g]
	if mask == 0 || n-2 != len(ids)*bits.OnesCount64(mask) {
		return fmt.Errorf("short segment %d: %d values for %d entities and mask %#x", g, n-2, len(ids), mask)
	}
	for _, id := range ids {
		e := m.Entities[id]
		if e == nil {
			return fmt.Errorf("short segment %d: entity %d missing", g, id)
		}
		if err := m.readChange(e, mask); err != nil {
			return err
		}
	}
	return nil
}
