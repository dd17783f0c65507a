package state_test

import (
	"testing"

	"github.com/tickroom/tickroom/state"
)

// TestPeekReadsWhatTheEncodersWrite: Peek agrees with the real encoders
// on every message kind, for ticks of every integer width.
func TestPeekReadsWhatTheEncodersWrite(t *testing.T) {
	schema := state.MustSchema(state.MustKind(0, "dot", nil, state.Pos("x")))
	for _, tick := range []uint64{2, 127, 128, 255, 256, 65535, 65536, 1 << 32, 1<<40 + 3} {
		w := state.NewWorld(schema)
		_ = w.AppendDelta(nil, tick-1)
		e := w.Spawn(schema.Kind(0))
		e.SetFloat(0, 1)
		delta := w.AppendDelta(nil, tick)
		if typ, got, base, ok := state.Peek(delta); !ok || typ != state.MsgDelta || got != tick || base != tick-1 {
			t.Fatalf("delta at %d: Peek gave %d %d %d %v", tick, typ, got, base, ok)
		}
		snap, err := w.AppendSnapshot(nil)
		if err != nil {
			t.Fatal(err)
		}
		if typ, got, _, ok := state.Peek(snap); !ok || typ != state.MsgSnapshot || got != tick {
			t.Fatalf("snapshot at %d: Peek gave %d %d %v", tick, typ, got, ok)
		}
	}
	ev, _ := state.EncodeEvent(&state.Event{Type: "chat", Text: "hi"})
	if typ, _, _, ok := state.Peek(ev); !ok || typ != state.MsgEvent {
		t.Fatalf("event: Peek gave %d %v", typ, ok)
	}
	for _, bad := range [][]byte{nil, {0x90}, {0xc0}, {0x93, 0x03, 0xd0, 0xff, 0x00}, {0x93, 0x03, 0x05}} {
		if typ, _, _, ok := state.Peek(bad); ok && (typ == state.MsgDelta || typ == state.MsgSnapshot) {
			t.Fatalf("Peek(%x) gave %d, ok", bad, typ)
		}
	}
}
