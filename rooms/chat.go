package rooms

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tickroom/tickroom/state"
)

// chatFrom delivers a chat message from c: to every member, or to one
// member and back to the sender. Public messages are kept for the welcome
// of later joiners; direct ones only for their two members.
func (r *Room) chatFrom(c *Client, text string, to uint32, hasTo bool) {
	s := c.seat
	if s == nil || s.client != c || s.member == nil {
		return
	}
	text = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r != '\n' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r)) {
			return -1
		}
		return r
	}, text))
	switch n := utf8.RuneCountInString(text); {
	case n == 0:
		r.sendTo(s, state.EncodeError(state.ErrCodeTooLong, "chat message is empty"))
		return
	case n > r.cfg.ChatMaxLen:
		r.sendTo(s, state.EncodeError(state.ErrCodeTooLong, fmt.Sprintf("chat message has %d characters, the limit is %d", n, r.cfg.ChatMaxLen)))
		return
	}
	ev := state.Event{Type: "chat", From: s.member.Number, Name: s.member.Name, Text: text, Tick: r.world.Tick()}
	if !hasTo {
		r.remember(ev)
		r.broadcastEvent(&ev)
		return
	}
	var target *seat
	for _, x := range r.seats {
		if x.member.Number == to {
			target = x
		}
	}
	if target == nil {
		r.sendTo(s, state.EncodeError(state.ErrCodeNoSuchMember, fmt.Sprintf("no member %d in this room", to)))
		return
	}
	ev.To = &to
	r.remember(ev)
	b, err := state.EncodeEvent(&ev)
	if err != nil {
		r.log.Error("encode chat", "err", err)
		return
	}
	r.sendTo(target, b)
	if target != s {
		r.sendTo(s, b)
	}
}

func (r *Room) remember(ev state.Event) {
	r.chat = append(r.chat, ev)
	if over := len(r.chat) - r.cfg.ChatHistory; over > 0 {
		r.chat = append(r.chat[:0], r.chat[over:]...)
	}
}

// chatFor returns the recent chat member may see: public messages and the
// direct messages it sent or received.
func (r *Room) chatFor(member uint32) []state.Event {
	out := make([]state.Event, 0, len(r.chat))
	for _, ev := range r.chat {
		if ev.To == nil || *ev.To == member || ev.From == member {
			out = append(out, ev)
		}
	}
	return out
}
