package tape

import (
	"errors"
	"fmt"
	"io"

	"github.com/tickroom/tickroom/state"
)

// Seek rebuilds the room's state at tick: it loads the last keyframe at or
// before tick through the seek index and applies the deltas after it up to
// tick. With a keyframe every K ticks that is one snapshot and at most K-1
// deltas, whatever the tape's length. It works on a tape in progress too,
// as far as the writer has flushed.
//
// Invariant (replay equals live): the mirror Seek returns for tick T equals
// a mirror that applied the room's broadcast up to T. Guarded by
// TestRoundTrip and TestSeekInProgress.
func (r *Reader) Seek(tick uint64) (*state.Mirror, error) {
	if r.schemaErr != nil {
		return nil, fmt.Errorf("tape: seek %d: schema: %w", tick, r.schemaErr)
	}
	k, ok := r.keyframeAt(tick)
	if !ok {
		return nil, fmt.Errorf("tape: seek %d: %w: no keyframe at or before it", tick, ErrTickNotFound)
	}
	fr := newFrameReader(r.ra, k.Offset, k.Tick)
	m := state.NewMirror(r.schema)
	for {
		f, err := fr.read()
		if err == io.EOF {
			break
		}
		var d *DamageError
		if errors.As(err, &d) {
			break // the state stops where the good frames do
		} else if err != nil {
			return nil, fmt.Errorf("tape: seek %d: %w", tick, err)
		}
		if f.tick > tick || f.kind == KindEnd {
			break
		}
		switch f.kind {
		case KindDelta, KindOps:
			if m.Synced && f.tick <= m.Tick {
				continue // a delta already inside the keyframe
			}
		case KindKeyframe:
		default:
			continue
		}
		if _, err := m.Apply(f.msg); err != nil {
			return nil, fmt.Errorf("tape: seek %d: apply %s at tick %d: %w", tick, f.kind, f.tick, err)
		}
	}
	if !m.Synced || m.Tick != tick {
		return nil, fmt.Errorf("tape: seek %d: %w: the tape ends at tick %d", tick, ErrTickNotFound, m.Tick)
	}
	return m, nil
}
