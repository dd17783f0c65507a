package tape

import (
	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// Ops are stored as a msgpack array of 5-element arrays [kind, member,
// name, seq, payload]: rooms.Op with array-encoded structs, which
// msgpack.Unmarshal decodes straight into []rooms.Op. The room hands over
// a tick's ops 20+ times a second, so they are appended by hand here (no
// allocation, no interface calls) rather than through a msgpack.Encoder.

// appendOps appends ops in their stored form.
func appendOps(b []byte, ops []rooms.Op) []byte {
	b = state.AppendArrayLen(b, len(ops))
	for i := range ops {
		op := &ops[i]
		b = append(b, 0x95)
		b = state.AppendUint(b, uint64(op.Kind))
		b = state.AppendUint(b, uint64(op.Member))
		b = state.AppendString(b, op.Name)
		b = state.AppendUint(b, op.Seq)
		b = state.AppendBin(b, op.Payload)
	}
	return b
}

// joinScanner collects member names from join ops while a reader scans a
// tape, without decoding every op into a rooms.Op.
type joinScanner struct {
	members []member
}

func (j *joinScanner) scan(ops []byte) {
	if j.scanArrays(ops) {
		return
	}
	// Not the form this package writes: decode it the slow way, once its
	// lengths are known to be honest (state.WellSized: a lying one would
	// make the decoder allocate without bound).
	var all []rooms.Op
	if state.WellSized(ops) != nil || msgpack.Unmarshal(ops, &all) != nil {
		return // the checksum was right, so the writer wrote it so: no names to learn
	}
	for _, op := range all {
		if op.Kind == rooms.OpJoin {
			j.members = addMember(j.members, op.Member, op.Name)
		}
	}
}

// scanArrays walks ops in the form appendOps writes. It reports false on
// anything else, having possibly noted some joins (noting one twice is
// harmless).
func (j *joinScanner) scanArrays(b []byte) bool {
	p := opParser{b: b}
	n := p.arrayLen()
	for range n {
		if p.arrayLen() != 5 {
			return false
		}
		kind, num := p.uint(), p.uint()
		name := p.str()
		p.uint()
		p.bin()
		if p.bad {
			return false
		}
		if rooms.OpKind(kind) == rooms.OpJoin {
			j.members = addMember(j.members, uint32(num), string(name))
		}
	}
	return !p.bad && p.i == len(b)
}

// opParser reads the msgpack forms appendOps writes; any other byte sets
// bad, and every read after that returns zero values.
type opParser struct {
	b   []byte
	i   int
	bad bool
}

func (p *opParser) next(n int) []byte {
	if p.bad || n < 0 || len(p.b)-p.i < n {
		p.bad = true
		return nil
	}
	s := p.b[p.i : p.i+n]
	p.i += n
	return s
}

func (p *opParser) byte() byte {
	if s := p.next(1); s != nil {
		return s[0]
	}
	return 0
}

func (p *opParser) be(n int) uint64 {
	var v uint64
	for _, c := range p.next(n) {
		v = v<<8 | uint64(c)
	}
	return v
}

func (p *opParser) arrayLen() int {
	switch c := p.byte(); {
	case c&0xf0 == 0x90:
		return int(c & 0x0f)
	case c == 0xdc:
		return int(p.be(2))
	case c == 0xdd:
		return int(p.be(4))
	}
	p.bad = true
	return 0
}

func (p *opParser) uint() uint64 {
	switch c := p.byte(); {
	case c < 0x80:
		return uint64(c)
	case c >= 0xcc && c <= 0xcf:
		return p.be(1 << (c - 0xcc))
	}
	p.bad = true
	return 0
}

func (p *opParser) str() []byte {
	switch c := p.byte(); {
	case c&0xe0 == 0xa0:
		return p.next(int(c & 0x1f))
	case c >= 0xd9 && c <= 0xdb:
		return p.next(int(p.be(1 << (c - 0xd9))))
	}
	p.bad = true
	return nil
}

func (p *opParser) bin() {
	switch c := p.byte(); {
	case c == 0xc0:
	case c >= 0xc4 && c <= 0xc6:
		p.next(int(p.be(1 << (c - 0xc4))))
	default:
		p.bad = true
	}
}
