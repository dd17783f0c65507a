package melody

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/gorilla/websocket"
)

// feed parses the client frames in data (RFC 6455 section 5) and acts on
// each: messages go to the handlers, pings are answered, a close frame is
// answered and ends the session. Payloads are unmasked in place and handed
// to the handlers without a copy when a message is one frame; an incomplete
// frame at the end is kept in s.pending (data itself is reused by the
// caller). It returns true when the session ended.
//
// The checks are gorilla's (conn.go advanceFrame), with the same close codes
// and texts: a protocol error is closed with 1002 and a message over
// MaxMessageSize with 1009.
func (s *Session) feed(data []byte) bool {
	if len(s.pending) > 0 {
		s.pending = append(s.pending, data...)
		data = s.pending
	}
	for len(data) > 0 {
		if s.ended.Load() {
			return true
		}
		n, err := s.frame(data)
		if err != nil {
			s.fail(err)
			return true
		}
		if n == 0 { // incomplete
			break
		}
		data = data[n:]
	}
	if s.ended.Load() {
		return true
	}
	switch {
	case len(data) == 0:
		s.pending = s.pending[:0]
		if cap(s.pending) > 4096 {
			s.pending = nil
		}
	case len(s.pending) > 0 && &data[0] != &s.pending[0]:
		s.pending = append(s.pending[:0], data...) // copy down: the ranges may overlap, append handles it (memmove)
	case len(s.pending) == 0:
		s.pending = append([]byte(nil), data...)
	}
	return false
}

// protocolError is a frame gorilla would refuse: the session is closed
// with code and text.
type protocolError struct {
	code int
	text string
}

func (e *protocolError) Error() string { return "websocket: " + e.text }

func protoErr(format string, a ...any) error {
	return &protocolError{CloseProtocolError, fmt.Sprintf(format, a...)}
}

// errReadLimit is gorilla's ErrReadLimit, closed with 1009.
var errReadLimit = &protocolError{CloseMessageTooBig, "read limit exceeded"}

// fail closes the session for a bad frame, as gorilla does: a close frame
// with the code and text, then the end.
func (s *Session) fail(err error) {
	if pe, ok := err.(*protocolError); ok {
		text := pe.text
		if pe.code == CloseMessageTooBig {
			text = ""
		}
		s.mu.Lock()
		open := s.open
		s.open = false
		s.mu.Unlock()
		if open {
			_ = s.writeFrame(websocket.CloseMessage, FormatCloseMessage(pe.code, text))
		}
		if pe == errReadLimit {
			err = websocket.ErrReadLimit
		}
	}
	s.end(err)
}

// frame handles the first frame in b and returns its length, or 0 when b
// does not hold all of it yet.
func (s *Session) frame(b []byte) (int, error) {
	if len(b) < 2 {
		return 0, nil
	}
	b0, b1 := b[0], b[1]
	final, op := b0&0x80 != 0, b0&0x0f
	if rsv := b0 & 0x70; rsv != 0 {
		return 0, protoErr("unexpected reserved bits 0x%x", rsv)
	}
	h, n := 2, uint64(b1&0x7f)
	switch n {
	case 126:
		if len(b) < 4 {
			return 0, nil
		}
		n, h = uint64(binary.BigEndian.Uint16(b[2:])), 4
	case 127:
		if len(b) < 10 {
			return 0, nil
		}
		n, h = binary.BigEndian.Uint64(b[2:]), 10
		if n>>63 != 0 {
			return 0, errReadLimit
		}
	}
	switch op {
	case websocket.CloseMessage, websocket.PingMessage, websocket.PongMessage:
		if n > 125 {
			return 0, protoErr("len > 125 for control")
		}
		if !final {
			return 0, protoErr("FIN not set on control")
		}
	case websocket.TextMessage, websocket.BinaryMessage:
		if s.msgOp != 0 {
			return 0, protoErr("data before FIN")
		}
	case 0: // continuation
		if s.msgOp == 0 {
			return 0, protoErr("continuation after FIN")
		}
	default:
		return 0, protoErr("unknown opcode %d", op)
	}
	if b1&0x80 == 0 {
		return 0, protoErr("incorrect mask flag")
	}
	if op < websocket.CloseMessage {
		if lim := s.melody.Config.MaxMessageSize; lim > 0 && uint64(len(s.msg))+n > uint64(lim) {
			return 0, errReadLimit
		}
	}
	h += 4
	if uint64(len(b)-h) < n {
		return 0, nil
	}
	key := b[h-4 : h]
	p := b[h : h+int(n)]
	unmask(key, p)
	size := h + int(n)

	switch op {
	case websocket.TextMessage, websocket.BinaryMessage:
		if final {
			s.deliver(op, p)
		} else {
			s.msgOp = op
			s.msg = append(s.msg[:0], p...)
		}
	case 0:
		s.msg = append(s.msg, p...)
		if final {
			op, msg := s.msgOp, s.msg
			s.msgOp, s.msg = 0, nil
			s.deliver(op, msg)
		}
	case websocket.PingMessage:
		if !s.closed() {
			_ = s.writeFrame(websocket.PongMessage, p)
		}
	case websocket.PongMessage:
		s.melody.pongHandler(s)
	case websocket.CloseMessage:
		code, text := CloseNoStatusReceived, ""
		if len(p) == 1 {
			return 0, protoErr("invalid close frame")
		}
		if len(p) >= 2 {
			code = int(binary.BigEndian.Uint16(p))
			if !validReceivedCloseCode(code) {
				return 0, protoErr("invalid close code")
			}
			text = string(p[2:])
			if !utf8.ValidString(text) {
				return 0, protoErr("invalid utf8 payload in close frame")
			}
		}
		if h := s.melody.closeHandler; h != nil {
			_ = h(s, code, text)
		} else {
			_ = s.CloseWithMsg(FormatCloseMessage(code, ""))
		}
		s.end(&websocket.CloseError{Code: code, Text: text})
	}
	return size, nil
}

func (s *Session) deliver(op byte, p []byte) {
	if op == websocket.TextMessage {
		s.melody.messageHandler(s, p)
	} else {
		s.melody.messageHandlerBinary(s, p)
	}
}

// unmask XORs p with the 4-byte masking key (RFC 6455 section 5.3).
func unmask(key, p []byte) {
	k := binary.LittleEndian.Uint32(key)
	k8 := uint64(k) | uint64(k)<<32
	i := 0
	for ; i+8 <= len(p); i += 8 {
		binary.LittleEndian.PutUint64(p[i:], binary.LittleEndian.Uint64(p[i:])^k8)
	}
	for ; i < len(p); i++ {
		p[i] ^= key[i&3]
	}
}

// validReceivedCloseCode is gorilla's isValidReceivedCloseCode.
func validReceivedCloseCode(code int) bool {
	switch code {
	case CloseNormalClosure, CloseGoingAway, CloseProtocolError, CloseUnsupportedData,
		CloseInvalidFramePayloadData, ClosePolicyViolation, CloseMessageTooBig,
		CloseMandatoryExtension, CloseInternalServerErr, CloseServiceRestart, CloseTryAgainLater:
		return true
	}
	return code >= 3000 && code <= 4999
}
