package tape

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/state"
)

// IndexMagic opens every seek index file (TAPE.idx).
const IndexMagic = "TICKTIDX"

// Keyframe is one seek index entry: a keyframe's tick and the file offset
// of its frame.
type Keyframe struct {
	Tick   uint64
	Offset int64
}

// summary is what a full scan learns about a tape, and what the index file
// stores so that the next reader need not scan.
type summary struct {
	TapeSize  int64    `msgpack:"tapeSize"`  // file size the summary describes
	ValidSize int64    `msgpack:"validSize"` // end of the last good frame
	HeaderCRC uint32   `msgpack:"headerCrc"` // ties the index to its tape
	Records   int      `msgpack:"records"`   // records before the end record
	FirstTick uint64   `msgpack:"firstTick"`
	LastTick  uint64   `msgpack:"lastTick"`
	Clean     bool     `msgpack:"clean"`
	Members   []string `msgpack:"members"`
	Ticks     []uint64 `msgpack:"ticks"`   // keyframe ticks, ascending
	Offsets   []int64  `msgpack:"offsets"` // keyframe frame offsets

	Keyframes []Keyframe `msgpack:"-"`
}

var errStaleIndex = errors.New("index does not describe this tape")

// writeIndex writes s to path atomically: a temporary file in the same
// directory, fsynced, then renamed over path.
func writeIndex(path string, s *summary) error {
	s.Ticks, s.Offsets = make([]uint64, len(s.Keyframes)), make([]int64, len(s.Keyframes))
	for i, k := range s.Keyframes {
		s.Ticks[i], s.Offsets[i] = k.Tick, k.Offset
	}
	body, err := msgpack.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode index: %w", err)
	}
	b := make([]byte, 0, fixedHeader+len(body)+crcSize)
	b = append(b, IndexMagic...)
	b = binary.LittleEndian.AppendUint16(b, Version)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))

	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }() // fails harmlessly once renamed
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close() // the write error is the one to report
		return fmt.Errorf("write index: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close() // the sync error is the one to report
		return fmt.Errorf("write index: sync: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	return nil
}

// readIndex loads the index at path if it is intact and describes the tape
// of the given size and header checksum.
func readIndex(path string, tapeSize int64, hdrCRC uint32) (*summary, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < fixedHeader+crcSize || string(b[:len(IndexMagic)]) != IndexMagic {
		return nil, fmt.Errorf("%w: no index magic", errStaleIndex)
	}
	body := b[fixedHeader : len(b)-crcSize]
	switch {
	case binary.LittleEndian.Uint16(b[len(IndexMagic):]) != Version:
		return nil, fmt.Errorf("%w: version", errStaleIndex)
	case int(binary.LittleEndian.Uint32(b[len(IndexMagic)+2:])) != len(body):
		return nil, fmt.Errorf("%w: length", errStaleIndex)
	case crc32.Checksum(b[:len(b)-crcSize], castagnoli) != binary.LittleEndian.Uint32(b[len(b)-crcSize:]):
		return nil, fmt.Errorf("%w: checksum", errStaleIndex)
	}
	var s summary
	if err := state.WellSized(body); err != nil {
		return nil, fmt.Errorf("%w: %v", errStaleIndex, err)
	}
	if err := msgpack.Unmarshal(body, &s); err != nil {
		return nil, fmt.Errorf("%w: %v", errStaleIndex, err)
	}
	if s.TapeSize != tapeSize || s.HeaderCRC != hdrCRC || len(s.Ticks) != len(s.Offsets) {
		return nil, errStaleIndex
	}
	s.Keyframes = make([]Keyframe, len(s.Ticks))
	for i := range s.Ticks {
		if s.Offsets[i] >= tapeSize || (i > 0 && (s.Ticks[i] < s.Ticks[i-1] || s.Offsets[i] <= s.Offsets[i-1])) {
			return nil, fmt.Errorf("%w: keyframe %d out of order", errStaleIndex, i)
		}
		s.Keyframes[i] = Keyframe{Tick: s.Ticks[i], Offset: s.Offsets[i]}
	}
	s.Ticks, s.Offsets = nil, nil
	return &s, nil
}

// scan reads every frame from start to learn what the index would hold. It
// returns the damage that stopped it, if any; io.EOF at a frame boundary
// is not damage (a tape in progress, or one a crash cut between frames).
func scan(ra io.ReaderAt, start int64, h *Header, size int64, hdrCRC uint32) (*summary, *DamageError, error) {
	s := &summary{TapeSize: size, ValidSize: start, HeaderCRC: hdrCRC, FirstTick: h.StartTick, LastTick: h.StartTick}
	var j joinScanner
	d, err := scanFrames(newFrameReader(ra, start, h.StartTick), s, &j)
	if err != nil {
		return nil, nil, err
	}
	s.Members = memberNames(j.members)
	return s, d, nil
}

func scanFrames(fr *frameReader, s *summary, j *joinScanner) (*DamageError, error) {
	for {
		f, err := fr.read()
		if err == io.EOF {
			return nil, nil
		}
		var d *DamageError
		if errors.As(err, &d) {
			d.Records = s.Records
			return d, nil
		} else if err != nil {
			return nil, err
		}
		s.ValidSize = fr.off
		if f.kind == KindEnd {
			s.Clean = true
			if fr.off < s.TapeSize {
				return &DamageError{Offset: fr.off, Records: s.Records, Reason: "data after the end record"}, nil
			}
			return nil, nil
		}
		if s.Records == 0 {
			s.FirstTick = f.tick
		}
		s.Records++
		s.LastTick = f.tick
		switch f.kind {
		case KindKeyframe:
			s.Keyframes = append(s.Keyframes, Keyframe{Tick: f.tick, Offset: f.off})
		case KindOps:
			j.scan(f.ops)
		}
	}
}
