package rooms_test

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/board"
)

// FuzzDecodeCheckpoint: a stored checkpoint read back from disk may be
// anything; decoding it and loading it into a room of each built-in type
// returns an error or a room that steps like any other, never a panic.
// Seeded with real checkpoints of both types.
func FuzzDecodeCheckpoint(f *testing.F) {
	types := []*rooms.Type{arena.Type, board.Type}
	for _, typ := range types {
		sim, err := rooms.NewSim(typ, nil, 3)
		if err != nil {
			f.Fatal(err)
		}
		in, _ := msgpack.Marshal(map[string]any{"dx": 1, "dy": 0})
		if typ == board.Type {
			in, _ = msgpack.Marshal(map[string]any{"op": "create", "shape": 0, "x": 5, "y": 5, "w": 9, "h": 9, "color": 1})
		}
		for tick := uint64(1); tick <= 5; tick++ {
			_ = sim.Apply(tick, rooms.Op{Kind: rooms.OpJoin, Member: uint32(tick), Name: "m"})
			_ = sim.Apply(tick, rooms.Op{Kind: rooms.OpInput, Member: uint32(tick), Seq: 1, Payload: in})
			sim.Step(tick)
		}
		cp, err := sim.Checkpoint()
		if err != nil {
			f.Fatal(err)
		}
		b, _ := rooms.EncodeCheckpoint(cp)
		f.Add(b)
		f.Add(b[12:]) // the body alone: framed() gives it back its frame
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// As stored, and as a body with a good frame around it, so that
		// the fuzzer gets past the checksum to the decoding and loading.
		for _, data := range [][]byte{b, framed(b)} {
			cp, err := rooms.DecodeCheckpoint(data)
			if err == nil {
				loadEach(t, types, cp)
			}
		}
	})
}

// framed puts body in a checkpoint frame with a good checksum.
func framed(body []byte) []byte {
	out := binary.LittleEndian.AppendUint16([]byte("TRCKPT"), 1)
	out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(body, crc32.MakeTable(crc32.Castagnoli)))
	return append(out, body...)
}

func loadEach(t *testing.T, types []*rooms.Type, cp *rooms.Checkpoint) {
	for _, typ := range types {
		sim, err := rooms.NewSimFromCheckpoint(typ, nil, cp)
		if err != nil {
			continue
		}
		sim.Step(sim.Tick() + 1)
		if _, err := sim.Checkpoint(); err != nil {
			t.Fatalf("%s: a loaded room cannot take a checkpoint: %v", typ.Name, err)
		}
	}
}

// TestCheckpointWithLyingLengthsIsRefused: a checkpoint whose frame is
// good but whose MessagePack claims 4 billion members (or a 4 GiB name) is
// refused before anything is allocated for it (msgpack v5 would allocate
// the claimed length and kill the process).
func TestCheckpointWithLyingLengthsIsRefused(t *testing.T) {
	for name, body := range map[string][]byte{
		"members": append([]byte{0x81, 0xa7}, append([]byte("members"), 0xdd, 0xff, 0xff, 0xff, 0xff)...),
		"name":    append([]byte{0x81, 0xa4}, append([]byte("type"), 0xdb, 0xff, 0xff, 0xff, 0xff)...),
	} {
		if _, err := rooms.DecodeCheckpoint(framed(body)); !errors.Is(err, rooms.ErrBadCheckpoint) {
			t.Errorf("%s: got %v, want ErrBadCheckpoint", name, err)
		}
	}
}
