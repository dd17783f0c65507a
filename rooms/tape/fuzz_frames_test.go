package tape

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// FuzzReaderChecksummed is FuzzReader behind the checksums: random bytes
// almost never pass a CRC32C, so FuzzReader mostly reaches the damage
// paths. Here the fuzzer writes a header map and a list of frames, and the
// harness frames them with correct lengths and checksums, so that what a
// crafted tape file holds reaches the decoders: the header map (schema,
// options), the ops (the reader's join scan, DecodeOps) and the messages
// Seek applies to a mirror built from the fuzzed schema. None may panic or
// allocate beyond the input's size.
func FuzzReaderChecksummed(f *testing.F) {
	hdr, err := encodeHeader(Header{RoomID: "room", Type: "fuzz", TickRate: 20, Seed: 1,
		Options: map[string]any{"w": 10}, StartedAt: time.UnixMilli(0),
		Schema: state.MustSchema(state.MustKind(0, "dot", nil, state.Pos("x"), state.Counter("n", state.U16), state.Text("s"))).Wire()})
	if err != nil {
		f.Fatal(err)
	}
	body := hdr[fixedHeader : len(hdr)-crcSize]
	snapshot := []byte{0x93, state.MsgSnapshot, 0x00, 0x91, 0x96, 0x00, 0x01, 0x10, 0x05, 0xa1, 'a', 0x00}
	delta := []byte{0x95, state.MsgDelta, 0x01, 0x00, 0x90, 0x90, 0x90}
	join := appendOps(nil, []rooms.Op{{Kind: rooms.OpJoin, Member: 1, Name: "ann"}, {Kind: rooms.OpInput, Member: 1, Seq: 1, Payload: []byte{0x80}}})
	opsFrame := append(binary.AppendUvarint(nil, uint64(len(join))), join...)
	f.Add(body, fuzzFrames(fuzzFrame{KindKeyframe, 0, snapshot}, fuzzFrame{KindOps, 1, append(opsFrame, delta...)}, fuzzFrame{KindEnd, 0, []byte{0x80}}))
	f.Add(body, fuzzFrames(fuzzFrame{KindKeyframe, 0, snapshot}, fuzzFrame{KindOps, 1, append([]byte{6, 0xdd, 0xff, 0xff, 0xff, 0xff, 0x01}, delta...)}))
	f.Add([]byte{0xdd, 0xff, 0xff, 0xff, 0xff}, []byte{})
	f.Fuzz(func(t *testing.T, hdrBody, frames []byte) {
		if len(hdrBody) > 1<<16 {
			return
		}
		tape := checksummed(hdrBody, frames)
		r, err := NewReader(bytes.NewReader(tape), int64(len(tape)))
		if err != nil {
			return
		}
		in := r.Info()
		for range 1000 {
			rec, err := r.Next()
			var d *DamageError
			if err == io.EOF || errors.As(err, &d) {
				break
			}
			if err != nil {
				t.Fatalf("Next: %v", err)
			}
			_, _ = rec.DecodeOps() // errors are fine; a panic or a huge allocation is not
		}
		for _, tick := range []uint64{in.FirstTick, in.LastTick} {
			_, _ = r.Seek(tick)
		}
	})
}

type fuzzFrame struct {
	kind    Kind
	advance byte
	payload []byte
}

// fuzzFrames writes frames in the form checksummed reads: kind (from 0
// for a keyframe), tick advance, a two-byte payload length and the payload.
func fuzzFrames(fs ...fuzzFrame) []byte {
	var b []byte
	for _, fr := range fs {
		b = append(b, byte(fr.kind-KindKeyframe), fr.advance)
		b = binary.BigEndian.AppendUint16(b, uint16(len(fr.payload)))
		b = append(b, fr.payload...)
	}
	return b
}

// checksummed builds a tape: the fixed header around hdrBody, then each
// frame of frames (as fuzzFrames writes them; a cut-short last one takes
// what is left) with its tick, length and CRC as the writer writes them.
func checksummed(hdrBody, frames []byte) []byte {
	out := append([]byte(Magic), 0, 0, 0, 0, 0, 0)
	binary.LittleEndian.PutUint16(out[len(Magic):], Version)
	binary.LittleEndian.PutUint32(out[len(Magic)+2:], uint32(len(hdrBody)))
	out = append(out, hdrBody...)
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(out[len(Magic):], castagnoli))
	var tick uint64
	for len(frames) >= 4 {
		k := KindKeyframe + Kind(frames[0]%byte(KindEnd))
		tick += uint64(frames[1])
		n := int(binary.BigEndian.Uint16(frames[2:]))
		frames = frames[4:]
		n = min(n, len(frames))
		start := len(out)
		out = appendFrameHead(out, k, tick, 0, true, n)
		out = append(out, frames[:n]...)
		out = appendCRC(out, out[start:])
		frames = frames[n:]
	}
	return out
}
