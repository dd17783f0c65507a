package state

// Peek reads a server message's type tag and, for a snapshot or a delta,
// its tick (and a delta's base tick) from the first bytes of its
// MessagePack array, without decoding the rest: what a relay needs to
// keep a member's stream gap-free. ok is false for bytes that do not
// start like a server message.
func Peek(msg []byte) (typ int, tick, base uint64, ok bool) {
	p := msg
	n, p, ok := peekArrayLen(p)
	if !ok || n < 1 {
		return 0, 0, 0, false
	}
	t, p, ok := uintAt(p)
	if !ok {
		return 0, 0, 0, false
	}
	typ = int(t)
	switch typ {
	case MsgSnapshot:
		if n < 2 {
			return 0, 0, 0, false
		}
		tick, _, ok = uintAt(p)
		return typ, tick, 0, ok
	case MsgDelta:
		if n < 3 {
			return 0, 0, 0, false
		}
		if tick, p, ok = uintAt(p); !ok {
			return 0, 0, 0, false
		}
		base, _, ok = uintAt(p)
		return typ, tick, base, ok
	}
	return typ, 0, 0, true
}

// peekArrayLen reads a MessagePack array header.
func peekArrayLen(p []byte) (int, []byte, bool) {
	switch {
	case len(p) >= 1 && p[0]&0xf0 == 0x90:
		return int(p[0] & 0x0f), p[1:], true
	case len(p) >= 3 && p[0] == 0xdc:
		return int(p[1])<<8 | int(p[2]), p[3:], true
	case len(p) >= 5 && p[0] == 0xdd:
		return int(p[1])<<24 | int(p[2])<<16 | int(p[3])<<8 | int(p[4]), p[5:], true
	}
	return 0, p, false
}

// uintAt reads a non-negative MessagePack integer.
func uintAt(p []byte) (uint64, []byte, bool) {
	if len(p) == 0 {
		return 0, p, false
	}
	switch b := p[0]; {
	case b <= 0x7f:
		return uint64(b), p[1:], true
	case (b == 0xcc || b == 0xd0) && len(p) >= 2:
		if b == 0xd0 && p[1]&0x80 != 0 {
			return 0, p, false
		}
		return uint64(p[1]), p[2:], true
	case (b == 0xcd || b == 0xd1) && len(p) >= 3:
		if b == 0xd1 && p[1]&0x80 != 0 {
			return 0, p, false
		}
		return uint64(p[1])<<8 | uint64(p[2]), p[3:], true
	case (b == 0xce || b == 0xd2) && len(p) >= 5:
		if b == 0xd2 && p[1]&0x80 != 0 {
			return 0, p, false
		}
		return uint64(p[1])<<24 | uint64(p[2])<<16 | uint64(p[3])<<8 | uint64(p[4]), p[5:], true
	case (b == 0xcf || b == 0xd3) && len(p) >= 9:
		if b == 0xd3 && p[1]&0x80 != 0 {
			return 0, p, false
		}
		var v uint64
		for _, c := range p[1:9] {
			v = v<<8 | uint64(c)
		}
		return v, p[9:], true
	}
	return 0, p, false
}
