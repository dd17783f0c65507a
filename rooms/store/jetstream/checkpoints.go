package jetstream

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickroom/tickroom/rooms"
)

// Checkpoints: two objects per room in the PREFIX_checkpoints object store,
// ROOM.0 and ROOM.1, each with its tick in its metadata. A save replaces
// the older of the two, so the newest two are always kept (a damaged
// newest one leaves one to wake from). The object store writes an object's
// chunks before its description, so a reader sees a whole checkpoint or
// the one before it, never half of one.

const tickMeta = "tick"

func slotName(room string, slot int) string { return room + "." + strconv.Itoa(slot) }

// slots returns the ticks held in a room's two slots (ok false: empty).
func (s *Store) slots(room string) (ticks [2]uint64, ok [2]bool, err error) {
	ctx, cancel := s.ctx()
	defer cancel()
	for i := range 2 {
		info, err := s.cps.GetInfo(ctx, slotName(room, i))
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			continue
		}
		if err != nil {
			return ticks, ok, err
		}
		t, perr := strconv.ParseUint(info.Metadata[tickMeta], 10, 64)
		if perr != nil {
			continue // not ours to read: the slot is free
		}
		ticks[i], ok[i] = t, true
	}
	return ticks, ok, nil
}

// SaveCheckpoint stores a room's checkpoint taken at tick
// (rooms.CheckpointStore).
func (s *Store) SaveCheckpoint(room string, tick uint64, data []byte) error {
	if !validKey(room) {
		return fmt.Errorf("jetstream: checkpoint of %q: not a valid room id", room)
	}
	ticks, ok, err := s.slots(room)
	if err != nil {
		return fmt.Errorf("jetstream: checkpoint %s@%d: %w", room, tick, err)
	}
	slot := 0
	switch {
	case !ok[0]:
	case !ok[1]:
		slot = 1
	case ticks[1] < ticks[0]:
		slot = 1
	}
	ctx, cancel := s.ctx()
	defer cancel()
	meta := jetstream.ObjectMeta{Name: slotName(room, slot), Metadata: map[string]string{tickMeta: strconv.FormatUint(tick, 10)}}
	if _, err := s.cps.Put(ctx, meta, bytes.NewReader(data)); err != nil {
		return fmt.Errorf("jetstream: checkpoint %s@%d: %w", room, tick, err)
	}
	return nil
}

// LoadCheckpoints calls fn with a room's checkpoints, newest first, until
// fn returns true (rooms.CheckpointStore).
func (s *Store) LoadCheckpoints(room string, fn func(tick uint64, data []byte) bool) error {
	if !validKey(room) {
		return nil
	}
	ticks, ok, err := s.slots(room)
	if err != nil {
		return fmt.Errorf("jetstream: checkpoints of %s: %w", room, err)
	}
	order := []int{}
	for i := range 2 {
		if ok[i] {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		if ticks[a] > ticks[b] {
			return -1
		}
		if ticks[a] < ticks[b] {
			return 1
		}
		return 0
	})
	for _, i := range order {
		ctx, cancel := s.ctx()
		data, err := s.cps.GetBytes(ctx, slotName(room, i))
		cancel()
		if errors.Is(err, jetstream.ErrObjectNotFound) {
			continue // replaced or deleted meanwhile
		}
		if err != nil {
			// A chunk that does not match its digest is a damaged
			// checkpoint: give fn nothing of it and try the other.
			s.opts.Logger.Warn("checkpoint not read", "room", room, "tick", ticks[i], "err", err)
			continue
		}
		if fn(ticks[i], data) {
			return nil
		}
	}
	return nil
}

// DeleteCheckpoints forgets a room's checkpoints (rooms.CheckpointStore).
func (s *Store) DeleteCheckpoints(room string) error {
	if !validKey(room) {
		return nil
	}
	ctx, cancel := s.ctx()
	defer cancel()
	for i := range 2 {
		if err := s.cps.Delete(ctx, slotName(room, i)); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
			return fmt.Errorf("jetstream: delete checkpoints of %s: %w", room, err)
		}
	}
	return nil
}

var _ rooms.CheckpointStore = (*Store)(nil)
