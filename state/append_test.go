package state_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/state"
)

// TestAppendersDecode: every appender's bytes decode to the value, at the
// edges of each encoding's range, and are as short as msgpack's own
// compact encoding.
func TestAppendersDecode(t *testing.T) {
	for _, v := range []int64{0, 1, 127, 128, 255, 256, 65535, 65536, math.MaxUint32, math.MaxUint32 + 1, math.MaxInt64,
		-1, -32, -33, -128, -129, -32768, -32769, math.MinInt32, math.MinInt32 - 1, math.MinInt64} {
		b := state.AppendInt(nil, v)
		var got int64
		if err := msgpack.Unmarshal(b, &got); err != nil || got != v {
			t.Errorf("AppendInt(%d) = % x: decodes to %d, %v", v, b, got, err)
		}
		var want bytes.Buffer
		enc := msgpack.NewEncoder(&want)
		enc.UseCompactInts(true)
		_ = enc.EncodeInt(v)
		if len(b) != want.Len() {
			t.Errorf("AppendInt(%d): %d bytes, msgpack's compact form has %d", v, len(b), want.Len())
		}
	}
	for _, n := range []int{0, 15, 16, 65535, 65536} {
		b := state.AppendArrayLen(nil, n)
		got, err := msgpack.NewDecoder(bytes.NewReader(b)).DecodeArrayLen()
		if err != nil || got != n {
			t.Errorf("AppendArrayLen(%d) = % x: %d, %v", n, b, got, err)
		}
	}
	for _, n := range []int{0, 31, 32, 255, 256, 65535, 65536} {
		s := string(bytes.Repeat([]byte{'x'}, n))
		var got string
		if err := msgpack.Unmarshal(state.AppendString(nil, s), &got); err != nil || got != s {
			t.Errorf("AppendString of %d bytes: %v", n, err)
		}
		p := bytes.Repeat([]byte{7}, n)
		var gp []byte
		if err := msgpack.Unmarshal(state.AppendBin(nil, p), &gp); err != nil || !bytes.Equal(gp, p) {
			t.Errorf("AppendBin of %d bytes: %v", n, err)
		}
	}
	if b := state.AppendBin(nil, nil); !bytes.Equal(b, []byte{0xc0}) {
		t.Errorf("AppendBin(nil) = % x, want c0", b)
	}
}
