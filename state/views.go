package state

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"
)

// Views (interest management). A world with views enabled places every
// entity in one interest group; each tick it encodes each group's changes
// once, as a segment, and a room sends a member the segments of the groups
// that member sees, concatenated into one view frame (docs/PROTOCOL.md,
// "views"). The segment bytes are the same for every member that sees the
// group: encode once per group, never per member.
//
// Invariant (a member's mirror equals the world restricted to its view):
// guarded by TestViewMirrorsFollowRandomWorlds.

// GroupID names an interest group. Group 0 (Everyone) is seen by every
// member; an entity is in it until SetGroup says otherwise.
type GroupID uint32

// Everyone is the group every member sees.
const Everyone GroupID = 0

// Message type tags of the view messages (docs/PROTOCOL.md).
const (
	MsgViewDelta    = 7
	MsgViewSnapshot = 8
)

// group is one interest group's entities and this tick's encoding.
type group struct {
	id   GroupID
	ents []*Entity // ascending id, as of the last publish

	// Scratch of one publish.
	touched  bool
	arrived  []*Entity // created, or moved in from another group
	changed  []changedRef
	departed []EntityID // moved to another group
	removed  []EntityID // despawned
	seg      [2]int     // this tick's segment in viewState.segs; seg[1] == 0: none
	body     int        // where a packed segment's body starts in segs (after its bin header); 0: not packed

	snap     []byte // [g, records] at snapTick, built on demand
	snapTick uint64
	gone     bool // deleted from viewState.groups: entities' cached pointers to it are stale
}

// viewState is a views world's groups and its per-publish buffers.
type viewState struct {
	groups      groupIndex
	order       []GroupID // every group ever used, ascending; nil: to be rebuilt
	touched     []*group
	removedFrom []GroupID // the group of each id in World.removed
	segs        []byte    // every segment of the last publish, back to back
	snapEncodes uint64    // group snapshots encoded, ever
	base        uint64    // the tick before the last publish
	wire        []int64   // this publish's wire integers of each changed entity's mask (changedRef.off)
	resid       []int64   // appendPacked scratch: residuals
	packed      []byte    // appendPacked scratch
}

// EnableViews switches the world to per-group publishing (PublishGroups
// instead of AppendDelta). Call it before the first publish.
func (w *World) EnableViews() {
	if w.views == nil {
		w.views = &viewState{}
		w.views.group(Everyone)
	}
}

// Views reports whether the world publishes per group.
func (w *World) Views() bool { return w.views != nil }

// Group returns the interest group the entity is in.
func (e *Entity) Group() GroupID { return e.group }

// SetGroup moves the entity into group g. Members that see g and not the
// entity's old group receive it as a creation; members that see the old
// group and not g see it leave their view. Only a views world has groups.
func (w *World) SetGroup(e *Entity, g GroupID) {
	if w.views == nil {
		panic("state: SetGroup on a world without views (EnableViews)")
	}
	if e.removed {
		panic(fmt.Sprintf("state: SetGroup on removed entity %d", e.id))
	}
	if e.group == g {
		return
	}
	e.group = g
	if !e.queued && !e.created {
		e.queued = true
		w.dirty = append(w.dirty, e)
	}
}

func (v *viewState) group(g GroupID) *group {
	gr := v.groups.get(g)
	if gr == nil {
		gr = &group{id: g}
		v.groups.put(gr)
		v.order = nil
	}
	return gr
}

// groupIndex finds a group by id: through a slice for the ids below
// denseGroups (the cells of a grid, teams: what room types use), a map
// above. A map lookup for every group of every member's frame was a tenth
// of field-bench's frame building.
type groupIndex struct {
	dense []*group
	high  map[GroupID]*group
	n     int
}

// denseGroups bounds the slice: at most 512 KiB of pointers a world.
const denseGroups = 1 << 16

func (x *groupIndex) get(g GroupID) *group {
	if g < denseGroups {
		if int(g) < len(x.dense) {
			return x.dense[g]
		}
		return nil
	}
	return x.high[g]
}

func (x *groupIndex) put(gr *group) {
	x.n++
	if g := gr.id; g < denseGroups {
		if int(g) >= len(x.dense) {
			x.dense = append(x.dense, make([]*group, int(g)+1-len(x.dense))...)
		}
		x.dense[g] = gr
		return
	}
	if x.high == nil {
		x.high = make(map[GroupID]*group)
	}
	x.high[gr.id] = gr
}

func (x *groupIndex) del(g GroupID) {
	x.n--
	if g < denseGroups {
		x.dense[g] = nil
		return
	}
	delete(x.high, g)
}

// appendIDs appends every group's id, in no order.
func (x *groupIndex) appendIDs(ids []GroupID) []GroupID {
	for _, gr := range x.dense {
		if gr != nil {
			ids = append(ids, gr.id)
		}
	}
	for g := range x.high {
		ids = append(ids, g)
	}
	return ids
}

// pubGroupOf returns the group e was in at the last publish, from the
// entity's cached pointer when it is still the world's (a map lookup a
// changed entity a tick is a tenth of field-bench's publish).
func (v *viewState) pubGroupOf(e *Entity) *group {
	if gr := e.pubGr; gr != nil && !gr.gone && gr.id == e.pubGroup {
		return gr
	}
	e.pubGr = v.group(e.pubGroup)
	return e.pubGr
}

func (v *viewState) touch(gr *group) *group {
	if !gr.touched {
		gr.touched = true
		v.touched = append(v.touched, gr)
	}
	return gr
}

// GroupIDs returns Everyone and every group that holds an entity (or was
// emptied by the last publish), ascending. The slice is the world's own.
func (w *World) GroupIDs() []GroupID {
	v := w.views
	if v.order == nil {
		v.order = v.groups.appendIDs(make([]GroupID, 0, v.groups.n))
		slices.Sort(v.order)
	}
	return v.order
}

func byID(e *Entity, id EntityID) int { return cmp.Compare(e.id, id) }

func (gr *group) insert(e *Entity) {
	i, _ := slices.BinarySearchFunc(gr.ents, e.id, byID)
	gr.ents = slices.Insert(gr.ents, i, e)
}

func (gr *group) drop(id EntityID) {
	if i, ok := slices.BinarySearchFunc(gr.ents, id, byID); ok {
		gr.ents = slices.Delete(gr.ents, i, i+1)
	}
}

// PublishGroups publishes every change since the last publish of a views
// world as one segment per group that changed (GroupSegment); the world's
// tick becomes tick. Each entity's change is encoded once, in the segment of
// the group it is in now.
func (w *World) PublishGroups(tick uint64) {
	v := w.views
	for _, gr := range v.touched {
		gr.touched, gr.seg, gr.body = false, [2]int{}, 0
		gr.arrived, gr.changed = gr.arrived[:0], gr.changed[:0]
		gr.departed, gr.removed = gr.departed[:0], gr.removed[:0]
		// A group the last publish left empty has sent its removals: it
		// goes, so that groups used once (a member's private group, a
		// match's) cost nothing after their entities are gone. Views that
		// held it see it leave (one group number on the wire); it comes
		// back as a new group if something is placed in it again.
		if len(gr.ents) == 0 && gr.id != Everyone {
			v.groups.del(gr.id)
			gr.gone = true
			v.order = nil
		}
	}
	v.touched = v.touched[:0]

	for _, e := range w.created {
		if e.removed {
			continue
		}
		e.resetHistory()
		gr := v.touch(v.group(e.group))
		gr.arrived = append(gr.arrived, e)
		gr.insert(e)
		e.pubGroup, e.pubGr = e.group, gr
	}
	v.wire = v.wire[:0]
	for _, e := range w.dirty {
		if e.removed || e.created {
			continue
		}
		off := len(v.wire)
		var mask uint64
		mask, v.wire = e.sendMaskWire(v.wire)
		if e.group == e.pubGroup {
			if mask != 0 {
				gr := v.touch(v.pubGroupOf(e))
				gr.changed = append(gr.changed, changedRef{mask: mask, e: e, off: off})
			}
			continue
		}
		e.advance(mask)
		old := v.touch(v.pubGroupOf(e))
		old.departed = append(old.departed, e.id)
		old.drop(e.id)
		gr := v.touch(v.group(e.group))
		gr.arrived = append(gr.arrived, e)
		gr.insert(e)
		e.pubGroup, e.pubGr = e.group, gr
	}
	for i, id := range w.removed {
		gr := v.touch(v.group(v.removedFrom[i]))
		gr.removed = append(gr.removed, id)
		gr.drop(id)
	}

	c := &w.enc
	c.init()
	c.sw.b = v.segs[:0]
	for _, gr := range v.touched {
		start := len(c.sw.b)
		if w.appendSegment(gr) {
			gr.body = len(c.sw.b) - len(v.packed)
		}
		gr.seg = [2]int{start, len(c.sw.b)}
	}
	v.segs = c.sw.b
	v.removedFrom = v.removedFrom[:0]
	v.base = w.tick
	w.commit(tick)
}

// advance moves the history of the masked fields to their current values
// without writing them: the entity is about to travel as a record.
func (e *Entity) advance(mask uint64) {
	for m := mask; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(m)
		if e.kind.Fields[i].Type.coded() {
			e.h0[i], e.h1[i] = e.h1[i], e.wireInt(i)
		}
	}
}

// short reports whether a group's change fits the short segment: every one
// of its entities changed with the same mask, and nothing came or went.
func (gr *group) short() bool {
	if len(gr.arrived)+len(gr.departed)+len(gr.removed) > 0 || len(gr.changed) != len(gr.ents) || len(gr.ents) == 0 {
		return false
	}
	mask := gr.changed[0].mask
	for _, ref := range gr.changed[1:] {
		if ref.mask != mask {
			return false
		}
	}
	return true
}

// appendSegment writes a group's delta segment: the packed form or the
// short form [g, mask, values...] when it fits, else [g, arrived, changed,
// departed, removed]. It reports whether it wrote the packed form (whose
// body is then in w.views.packed).
func (w *World) appendSegment(gr *group) bool {
	c := &w.enc
	slices.SortFunc(gr.changed, func(a, b changedRef) int {
		if a.mask != b.mask {
			return cmp.Compare(a.mask, b.mask)
		}
		return cmp.Compare(a.e.id, b.e.id)
	})
	if gr.short() {
		mask := gr.changed[0].mask
		if w.appendPacked(gr, mask) {
			return true
		}
		c.arr(2 + len(gr.changed)*bits.OnesCount64(mask))
		c.uint(uint64(gr.id))
		c.uint(mask)
		for _, ref := range gr.changed {
			w.appendChanged(ref.e, mask)
		}
		return false
	}
	c.arr(5)
	c.uint(uint64(gr.id))
	c.arr(len(gr.arrived))
	slices.SortFunc(gr.arrived, func(a, b *Entity) int { return cmp.Compare(a.id, b.id) })
	for _, e := range gr.arrived {
		w.appendRecord(e)
	}
	w.appendChangedGroups(gr.changed)
	w.appendIDs(gr.departed)
	w.appendIDs(gr.removed)
	return false
}

// appendPacked writes a short segment whose residuals all fit in a signed
// nibble as a bin: uvarint(g<<4 | m), then uvarint(mask) only when m is
// 15 (else mask = m), then the residuals two a byte, high nibble first.
// Smooth motion that the prediction follows costs half a byte a value,
// and a group of a 32 x 32 grid with a mask of x, y and angle a 2-byte
// head. It reports false, having written nothing, when a value does not
// fit. The values are the wire integers PublishGroups took (changedRef.off).
func (w *World) appendPacked(gr *group, mask uint64) bool {
	v := w.views
	v.resid = v.resid[:0]
	for m := mask; m != 0; m &= m - 1 {
		if !gr.changed[0].e.kind.Fields[bits.TrailingZeros64(m)].Type.coded() {
			return false
		}
	}
	for _, ref := range gr.changed {
		e := ref.e
		if bits.Len64(mask) > len(e.kind.Fields) {
			return false
		}
		k := ref.off
		for m := mask; m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(m)
			if !e.kind.Fields[i].Type.coded() {
				return false
			}
			r := e.residual(i, v.wire[k])
			k++
			if r < -8 || r > 7 {
				return false
			}
			v.resid = append(v.resid, r)
		}
	}
	body := v.packed[:0]
	if mask < 15 {
		body = binary.AppendUvarint(body, uint64(gr.id)<<4|mask)
	} else {
		body = binary.AppendUvarint(body, uint64(gr.id)<<4|15)
		body = binary.AppendUvarint(body, mask)
	}
	for i := 0; i < len(v.resid); i += 2 {
		b := byte(v.resid[i]&0xf) << 4
		if i+1 < len(v.resid) {
			b |= byte(v.resid[i+1] & 0xf)
		}
		body = append(body, b)
	}
	v.packed = body
	c := &w.enc
	c.sw.b = AppendBin(c.sw.b, body)
	for _, ref := range gr.changed { // the history moves on to the values just coded
		e, k := ref.e, ref.off
		for m := mask; m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(m)
			e.h0[i], e.h1[i] = e.h1[i], v.wire[k]
			k++
		}
	}
	return true
}

// appendChangedGroups writes changed entities, sorted by mask then id, as
// the delta's list of mask groups.
func (w *World) appendChangedGroups(changed []changedRef) {
	c := &w.enc
	groups := 0
	for i := range changed {
		if i == 0 || changed[i].mask != changed[i-1].mask {
			groups++
		}
	}
	c.arr(groups)
	for start := 0; start < len(changed); {
		mask := changed[start].mask
		end := start
		for end < len(changed) && changed[end].mask == mask {
			end++
		}
		c.arr(1 + (end-start)*(1+bits.OnesCount64(mask)))
		c.uint(mask)
		prev := EntityID(0)
		for _, ref := range changed[start:end] {
			c.uint(uint64(ref.e.id - prev))
			prev = ref.e.id
			w.appendChanged(ref.e, mask)
		}
		start = end
	}
}

// appendIDs writes ids ascending, the first absolute and the rest as gaps.
func (w *World) appendIDs(ids []EntityID) {
	c := &w.enc
	slices.Sort(ids)
	c.arr(len(ids))
	prev := EntityID(0)
	for _, id := range ids {
		c.uint(uint64(id - prev))
		prev = id
	}
}

// ChangedGroupCount returns how many groups the last publish wrote a
// segment for (ChangedGroups without the slice).
func (w *World) ChangedGroupCount() int { return len(w.views.touched) }

// ChangedGroups returns the groups whose segment the last publish wrote, in
// no particular order. The slice is valid until the next publish.
func (w *World) ChangedGroups() []GroupID {
	out := make([]GroupID, 0, len(w.views.touched))
	for _, gr := range w.views.touched {
		out = append(out, gr.id)
	}
	return out
}

// GroupSegment returns group g's segment of the last publish, or nil when
// nothing in g changed. The bytes are the world's own until the next
// publish: copy them into a frame.
func (w *World) GroupSegment(g GroupID) []byte {
	seg, _ := w.segment(g)
	return seg
}

// segment returns group g's segment of the last publish (nil: none) and,
// when it is packed, its body: the segment without its bin header, which
// a frame puts in its packed run.
func (w *World) segment(g GroupID) (seg, body []byte) {
	gr := w.views.groups.get(g)
	if gr == nil || !gr.touched || gr.seg[1] == 0 || w.views.segs == nil {
		return nil, nil
	}
	seg = w.views.segs[gr.seg[0]:gr.seg[1]]
	if gr.body != 0 {
		body = w.views.segs[gr.body:gr.seg[1]]
	}
	return seg, body
}

// GroupSnapshot returns [g, records] of every entity in g at the world's
// tick, encoded at most once per tick. Like a snapshot it needs every
// change published (ErrPending otherwise). The bytes are kept by the world
// for the tick: copy them into a frame.
func (w *World) GroupSnapshot(g GroupID) ([]byte, error) {
	if w.Pending() {
		return nil, ErrPending
	}
	gr := w.views.groups.get(g)
	if gr == nil {
		// A group nothing was ever placed in: empty, and not made to exist
		// by being looked at (what exists is what every-group views see).
		return AppendArrayLen(AppendUint(AppendArrayLen(nil, 2), uint64(g)), 0), nil
	}
	if gr.snap != nil && gr.snapTick == w.tick {
		return gr.snap, nil
	}
	c := &w.enc
	c.init()
	c.sw.b = gr.snap[:0]
	c.arr(2)
	c.uint(uint64(g))
	c.arr(len(gr.ents))
	for _, e := range gr.ents {
		w.appendRecord(e)
	}
	gr.snap, gr.snapTick = c.sw.b, w.tick
	w.views.snapEncodes++
	return gr.snap, nil
}

// AppendViewDeltaHead appends the head of a view delta,
// [7, tick, baseTick, left, then nsegs segments the caller appends]: left
// lists the groups the member stopped seeing, ascending.
func AppendViewDeltaHead(dst []byte, tick, base uint64, left []GroupID, nsegs int) []byte {
	dst = AppendArrayLen(dst, 4+nsegs)
	dst = AppendInt(dst, MsgViewDelta)
	dst = AppendUint(dst, tick)
	dst = AppendUint(dst, base)
	dst = AppendArrayLen(dst, len(left))
	for _, g := range left {
		dst = AppendUint(dst, uint64(g))
	}
	return dst
}

// AppendViewSnapshotHead appends the head of a view snapshot,
// [8, tick, then nsegs group snapshots the caller appends].
func AppendViewSnapshotHead(dst []byte, tick uint64, nsegs int) []byte {
	dst = AppendArrayLen(dst, 2+nsegs)
	dst = AppendInt(dst, MsgViewSnapshot)
	return AppendUint(dst, tick)
}

// View is what one member sees: the groups it wants and the groups its
// mirror holds, as of the last frame built for it. Everyone is always in.
// A View belongs to the goroutine that owns the world.
type View struct {
	want []GroupID // ascending, with Everyone
	has  []GroupID // ascending: the groups the member's mirror holds
	all  bool      // every group (spectators, recordings)
	// hidden names the groups an all view leaves out (SeeAllBut); nil: none.
	hidden func(GroupID) bool
	vis    []GroupID // scratch: the groups an all view sees this frame

	segs [][]byte  // scratch of one frame
	run  [][]byte  // scratch of one frame: the packed bodies of its packed run
	left []GroupID // scratch of one frame
}

// NewView returns a view of Everyone only.
func NewView() *View { return &View{want: []GroupID{Everyone}} }

// Set makes the view the groups given (in any order, repeats allowed) and
// Everyone. The next frame sends what entered and what left.
func (v *View) Set(groups []GroupID) {
	v.all = false
	v.want = append(v.want[:0], Everyone)
	v.want = append(v.want, groups...)
	slices.Sort(v.want)
	v.want = slices.Compact(v.want)
}

// SeeAll makes the view every group of the world, now and later.
func (v *View) SeeAll() { v.SeeAllBut(nil) }

// SeeAllBut makes the view every group of the world, now and later, except
// those hidden reports true for (nil: none): what a room's spectators and
// recording see when some groups are private to the members that hold them.
func (v *View) SeeAllBut(hidden func(GroupID) bool) { v.all, v.hidden = true, hidden }

// Groups returns the groups the view wants (not with SeeAll), ascending.
// The slice is the view's own.
func (v *View) Groups() []GroupID { return v.want }

// Holds returns the groups the member's mirror holds, ascending.
func (v *View) Holds() []GroupID { return v.has }

func (v *View) target(w *World) []GroupID {
	if v.all {
		if v.hidden == nil {
			return w.GroupIDs()
		}
		v.vis = v.vis[:0]
		for _, g := range w.GroupIDs() {
			if !v.hidden(g) {
				v.vis = append(v.vis, g)
			}
		}
		return v.vis
	}
	return v.want
}

// AppendViewDelta appends the member's view delta for the world's last
// publish: the groups that left its view, a group snapshot of each group
// that entered it, and the segment of each group it kept that changed,
// packed segments last, all in one bin (the packed run: a packed
// segment's length follows from its group's size in the member's mirror,
// so the run saves each a bin header, 2 of its about 10 bytes). The
// segments are the world's shared bytes, copied, never re-encoded. Call it
// right after PublishGroups, before the world changes.
func (w *World) AppendViewDelta(dst []byte, v *View) ([]byte, error) {
	want := v.target(w)
	v.segs, v.run, v.left = v.segs[:0], v.run[:0], v.left[:0]
	size, run := 0, 0
	i, j := 0, 0
	for i < len(v.has) || j < len(want) {
		switch {
		case j == len(want) || (i < len(v.has) && v.has[i] < want[j]):
			v.left = append(v.left, v.has[i])
			size += 5
			i++
		case i == len(v.has) || want[j] < v.has[i]:
			snap, err := w.GroupSnapshot(want[j])
			if err != nil {
				return dst, err
			}
			v.segs = append(v.segs, snap)
			size += len(snap)
			j++
		default:
			if seg, body := w.segment(want[j]); body != nil {
				v.run = append(v.run, body)
				run += len(body)
			} else if seg != nil {
				v.segs = append(v.segs, seg)
				size += len(seg)
			}
			i++
			j++
		}
	}
	if dst == nil {
		dst = make([]byte, 0, size+run+40)
	}
	nsegs := len(v.segs)
	if run > 0 {
		nsegs++
	}
	dst = AppendViewDeltaHead(dst, w.tick, w.views.base, v.left, nsegs)
	for _, s := range v.segs {
		dst = append(dst, s...)
	}
	if run > 0 {
		// One packed segment alone makes the same bin as its GroupSegment.
		dst = AppendBinLen(dst, run)
		for _, b := range v.run {
			dst = append(dst, b...)
		}
	}
	v.has = append(v.has[:0], want...)
	clear(v.segs)
	clear(v.run)
	return dst, nil
}

// AppendViewSnapshot appends the member's view snapshot at the world's
// tick: a group snapshot of every group it sees. After it, deltas continue
// from there (a member that missed a frame gets this, not the whole world).
func (w *World) AppendViewSnapshot(dst []byte, v *View) ([]byte, error) {
	want := v.target(w)
	v.segs = v.segs[:0]
	size := 0
	for _, g := range want {
		snap, err := w.GroupSnapshot(g)
		if err != nil {
			return dst, err
		}
		v.segs = append(v.segs, snap)
		size += len(snap)
	}
	if dst == nil {
		dst = make([]byte, 0, size+16)
	}
	dst = AppendViewSnapshotHead(dst, w.tick, len(v.segs))
	for _, s := range v.segs {
		dst = append(dst, s...)
	}
	v.has = append(v.has[:0], want...)
	clear(v.segs)
	return dst, nil
}

// GroupSnapshotsEncoded returns how many group snapshots the world has
// encoded (each at most once a tick, however many members entered).
func (w *World) GroupSnapshotsEncoded() uint64 { return w.views.snapEncodes }

// SegmentBytes returns the bytes of every segment the last publish wrote.
func (w *World) SegmentBytes() int { return len(w.views.segs) }
