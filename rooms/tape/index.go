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

// indexVersion is the seek index's own format version (not the tape's).
const indexVersion = 1

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
	EndOffset int64    `msgpack:"endOffset"`  // offset of the end record, when Clean
	Members   []string `msgpack:"members"`    // names from join ops, in join order
	Numbers   []uint32 `msgpack:"memberNums"` // their member numbers
	Ticks     []uint64 `msgpack:"ticks"`      // keyframe ticks, ascending
	Offsets   []int64  `msgpack:"offsets"`    // keyframe frame offsets

	Keyframes []Keyframe `msgpack:"-"`
	members   []member
}

var errStaleIndex = errors.New("index does not describe this tape")

// writeIndex writes s to path atomically: a temporary file in the same
// directory, fsynced when sync is set, then renamed over path. An index a
// crash left empty or torn fails its checksum and is ignored.
func writeIndex(path string, s *summary, sync bool) error {
	s.Ticks, s.Offsets = make([]uint64, len(s.Keyframes)), make([]int64, len(s.Keyframes))
	for i, k := range s.Keyframes {
		s.Ticks[i], s.Offsets[i] = k.Tick, k.Offset
	}
	s.Members, s.Numbers = memberNames(s.members), make([]uint32, len(s.members))
	for i, m := range s.members {
		s.Numbers[i] = m.num
	}
	body, err := msgpack.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode index: %w", err)
	}
	b := make([]byte, 0, fixedHeader+len(body)+crcSize)
	b = append(b, IndexMagic...)
	b = binary.LittleEndian.AppendUint16(b, indexVersion)
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
	if sync {
		if err := tmp.Sync(); err != nil {
			_ = tmp.Close() // the sync error is the one to report
			return fmt.Errorf("write index: sync: %w", err)
		}
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
// of the given header checksum, as it was at some size up to tapeSize: an
// index describes a prefix of the tape (tapes only grow), and a scan from
// its ValidSize completes it (loadSummary).
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
	case binary.LittleEndian.Uint16(b[len(IndexMagic):]) != indexVersion:
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
	switch {
	case s.TapeSize > tapeSize || s.ValidSize > s.TapeSize || s.HeaderCRC != hdrCRC || len(s.Ticks) != len(s.Offsets):
		return nil, errStaleIndex
	case s.TapeSize != tapeSize && (s.Clean || s.ValidSize != s.TapeSize):
		return nil, fmt.Errorf("%w: the tape changed after its end", errStaleIndex)
	case len(s.Numbers) != len(s.Members):
		return nil, fmt.Errorf("%w: no member numbers (an older index)", errStaleIndex)
	}
	for i, name := range s.Members {
		s.members = append(s.members, member{s.Numbers[i], name})
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

// loadSummary learns what a tape holds: from its index when that
// describes the whole file, else from the index's prefix and a scan of
// the rest, else from a scan of every frame. It returns the damage that
// stopped the scan, if any; io.EOF at a frame boundary is not damage (a
// tape in progress, or one a crash cut between frames). fromIndex says
// whether the index described the file as it is.
func loadSummary(ra io.ReaderAt, idxPath string, start int64, h *Header, size int64, hdrCRC uint32) (s *summary, d *DamageError, fromIndex bool, err error) {
	s, ierr := readIndex(idxPath, size, hdrCRC)
	switch {
	case ierr == nil && s.TapeSize == size:
		return s, nil, true, nil
	case ierr == nil:
		s.TapeSize = size
	default:
		s = &summary{TapeSize: size, ValidSize: start, HeaderCRC: hdrCRC, FirstTick: h.StartTick, LastTick: h.StartTick}
	}
	j := joinScanner{members: s.members}
	d, err = scanFrames(newFrameReader(ra, s.ValidSize, s.LastTick), s, &j)
	if err != nil {
		return nil, nil, false, err
	}
	s.members = j.members
	s.Members = memberNames(j.members)
	return s, d, false, nil
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
			s.Clean, s.EndOffset = true, f.off
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
