package state

import (
	"cmp"
	"errors"
	"math"
	"math/bits"
	"slices"

	"github.com/vmihailenco/msgpack/v5"
)

// Server message type tags (docs/PROTOCOL.md).
const (
	MsgWelcome  = 1
	MsgSnapshot = 2
	MsgDelta    = 3
	MsgEvent    = 4
	MsgError    = 5
	MsgPong     = 6
)

// ErrPending is returned by AppendSnapshot while changes are unpublished: a
// snapshot must show exactly the state the last delta led to.
var ErrPending = errors.New("state: snapshot with unpublished changes")

// sliceWriter appends to a byte slice; msgpack writes through it so that
// encoding into a reused buffer allocates nothing. It never fails.
type sliceWriter struct{ b []byte }

func (s *sliceWriter) Write(p []byte) (int, error) { s.b = append(s.b, p...); return len(p), nil }
func (s *sliceWriter) WriteByte(c byte) error      { s.b = append(s.b, c); return nil }

// changedRef is one entity going into a delta's changed groups.
type changedRef struct {
	mask uint64
	e    *Entity
	off  int // views: where the mask's wire integers start in viewState.wire
}

// encoder holds the scratch space reused by every publish of one World.
type encoder struct {
	sw      sliceWriter
	m       *msgpack.Encoder
	changed []changedRef
}

// The msgpack calls below only fail when the writer fails, and sliceWriter
// never does: their errors are dropped on purpose.
func (c *encoder) init() {
	if c.m == nil {
		c.m = msgpack.NewEncoder(&c.sw)
	}
}
func (c *encoder) arr(n int)     { _ = c.m.EncodeArrayLen(n) }
func (c *encoder) int(n int64)   { _ = c.m.EncodeInt(n) }
func (c *encoder) uint(n uint64) { _ = c.m.EncodeUint(n) }

// quantize maps a Q value onto its grid.
func quantize(f *Field, v float64) int64 {
	q := int64(math.Round(v * f.Scale))
	if f.Mod > 0 {
		q = floorMod(q, f.Mod)
	}
	return q
}

func floorMod(a, m int64) int64 {
	if m&(m-1) == 0 {
		// A power of two (AngleSteps): the low bits are the non-negative
		// remainder in two's complement, without a 64-bit division.
		return a & (m - 1)
	}
	r := a % m
	if r < 0 {
		r += m
	}
	return r
}

// wrap maps a difference on a circular grid into [-m/2, m/2).
func wrap(d, m int64) int64 {
	if m == 0 {
		return d
	}
	return floorMod(d+m/2, m) - m/2
}

// wireInt is the integer a coded field publishes for its current value.
func (e *Entity) wireInt(i int) int64 {
	f := &e.kind.Fields[i] // a pointer: no copy of the Field (48 bytes) per value
	if f.Type == Q {
		return quantize(f, e.vals[i].f)
	}
	return e.vals[i].i
}

// residual codes the integer v of field i against the entity's history.
func (e *Entity) residual(i int, v int64) int64 {
	f := &e.kind.Fields[i]
	switch f.Pred {
	case 1:
		return wrap(v-e.h1[i], f.Mod)
	case 2:
		return wrap(v-(2*e.h1[i]-e.h0[i]), f.Mod)
	}
	return v
}

// sendMaskWire is sendMask that also appends to wire, for each field of
// the mask it returns in ascending order, the field's wire integer (0 for
// an uncoded field): the encoder then does not quantize a second time.
func (e *Entity) sendMaskWire(wire []int64) (uint64, []int64) {
	mask := e.dirty
	for m := mask; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		var x int64
		if e.kind.Fields[i].Type.coded() {
			if x = e.wireInt(i); x == e.h1[i] {
				mask &^= 1 << uint(i)
				continue
			}
		}
		wire = append(wire, x)
	}
	return mask, wire
}

// sendMask returns the dirty fields whose published value really changes:
// a Q field that moved less than half a grid step, or an integer set back to
// its published value, costs no bytes.
func (e *Entity) sendMask() uint64 {
	mask := e.dirty
	for m := mask; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		if e.kind.Fields[i].Type.coded() && e.wireInt(i) == e.h1[i] {
			mask &^= 1 << uint(i)
		}
	}
	return mask
}

// AppendDelta publishes every change since the last publish as one delta
// message for tick, appended to dst (docs/PROTOCOL.md, "delta"). The world's
// tick becomes tick. With a dst of enough capacity it allocates nothing.
func (w *World) AppendDelta(dst []byte, tick uint64) []byte {
	if w.views != nil {
		panic("state: AppendDelta on a views world: use PublishGroups")
	}
	c := &w.enc
	c.init()
	c.sw.b = dst

	c.changed = c.changed[:0]
	for _, e := range w.dirty {
		if e.removed || e.created {
			continue
		}
		if mask := e.sendMask(); mask != 0 {
			c.changed = append(c.changed, changedRef{mask: mask, e: e})
		}
	}
	slices.SortFunc(c.changed, func(a, b changedRef) int {
		if a.mask != b.mask {
			return cmp.Compare(a.mask, b.mask)
		}
		return cmp.Compare(a.e.id, b.e.id)
	})

	c.arr(6)
	c.int(MsgDelta)
	c.uint(tick)
	c.uint(w.tick)

	live := 0
	for _, e := range w.created {
		if !e.removed {
			live++
		}
	}
	c.arr(live)
	for _, e := range w.created {
		if !e.removed {
			e.resetHistory()
			w.appendRecord(e)
		}
	}

	groups := 0
	for i := range c.changed {
		if i == 0 || c.changed[i].mask != c.changed[i-1].mask {
			groups++
		}
	}
	c.arr(groups)
	for start := 0; start < len(c.changed); {
		mask := c.changed[start].mask
		end := start
		for end < len(c.changed) && c.changed[end].mask == mask {
			end++
		}
		c.arr(1 + (end-start)*(1+bits.OnesCount64(mask)))
		c.uint(mask)
		prev := EntityID(0)
		for _, ref := range c.changed[start:end] {
			c.uint(uint64(ref.e.id - prev))
			prev = ref.e.id
			w.appendChanged(ref.e, mask)
		}
		start = end
	}

	slices.Sort(w.removed)
	c.arr(len(w.removed))
	prev := EntityID(0)
	for _, id := range w.removed {
		c.uint(uint64(id - prev))
		prev = id
	}

	w.commit(tick)
	return c.sw.b
}

// appendChanged writes the residuals of the masked fields and advances the
// entity's history past them.
func (w *World) appendChanged(e *Entity, mask uint64) {
	c := &w.enc
	for m := mask; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		f := e.kind.Fields[i]
		if f.Type.coded() {
			v := e.wireInt(i)
			c.int(e.residual(i, v))
			e.h0[i], e.h1[i] = e.h1[i], v
			continue
		}
		w.appendPlain(f, e.vals[i])
	}
}

// appendPlain writes an uncoded value (F32, Bool, String).
func (w *World) appendPlain(f Field, v value) {
	c := &w.enc
	switch f.Type {
	case F32:
		_ = c.m.EncodeFloat32(float32(v.f))
	case Bool:
		_ = c.m.EncodeBool(v.i != 0)
	case String:
		_ = c.m.EncodeString(v.s)
	}
}

// resetHistory starts a new entity's history at its current values, with no
// velocity: that is what its created record tells clients.
func (e *Entity) resetHistory() {
	for i, f := range e.kind.Fields {
		if f.Type.coded() {
			v := e.wireInt(i)
			e.h1[i], e.h0[i] = v, v
		}
	}
}

// appendRecord writes an entity record: [kind, id, values..., velocities...].
func (w *World) appendRecord(e *Entity) {
	c := &w.enc
	k := e.kind
	c.arr(2 + len(k.Fields) + k.pred2)
	c.uint(uint64(k.ID))
	c.uint(uint64(e.id))
	for i, f := range k.Fields {
		if f.Type.coded() {
			c.int(e.h1[i])
		} else {
			w.appendPlain(f, e.vals[i])
		}
	}
	for i, f := range k.Fields {
		if f.Pred == 2 {
			c.int(wrap(e.h1[i]-e.h0[i], f.Mod))
		}
	}
}

// commit clears the change tracking after a publish.
func (w *World) commit(tick uint64) {
	for _, e := range w.dirty {
		e.dirty, e.queued = 0, false
	}
	for _, e := range w.created {
		e.dirty, e.created = 0, false
	}
	clear(w.dirty)
	w.dirty = w.dirty[:0]
	clear(w.created)
	w.created = w.created[:0]
	w.removed = w.removed[:0]
	w.tick = tick
}

// AppendSnapshot appends a snapshot of every live entity at the world's tick
// (docs/PROTOCOL.md, "snapshot"). It fails with ErrPending when changes are
// unpublished: call it right after AppendDelta.
func (w *World) AppendSnapshot(dst []byte) ([]byte, error) {
	if w.Pending() {
		return dst, ErrPending
	}
	c := &w.enc
	c.init()
	c.sw.b = dst
	c.arr(3)
	c.int(MsgSnapshot)
	c.uint(w.tick)
	c.arr(len(w.entities))
	for _, e := range w.entities {
		w.appendRecord(e)
	}
	return c.sw.b, nil
}
