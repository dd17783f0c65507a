// Package storetest is the conformance suite every backend of the rooms
// stores passes (rooms.Directory, rooms.CheckpointStore, rooms.LogStore):
// the in-memory one, the local disk ones (store/sqlite, tape) and the ones
// to come. A backend's test calls the functions here with a constructor
// of a fresh, empty store.
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/state"
)

// row returns a directory row with every field set.
func row(id string, st rooms.RoomState, public bool, typ string, active time.Time) rooms.RoomRecord {
	return rooms.RoomRecord{ID: id, Type: typ, Options: map[string]any{"width": float64(800), "name": "x"}, Public: public,
		MaxPlayers: 16, Seed: 0xfeedface12345678, Secret: []byte("0123456789abcdef0123456789abcdef"), State: st,
		CreatedAt: active.Add(-time.Hour), LastActive: active, LogID: "log-" + id, Tick: 1234, Players: 3, MemberReserve: 70}
}

// Directory checks a rooms.Directory.
func Directory(t *testing.T, open func(t *testing.T) rooms.Directory) {
	base := time.UnixMilli(1_800_000_000_000).UTC()
	t.Run("PutGetReplaceDelete", func(t *testing.T) {
		d := open(t)
		if _, err := d.Get("nope"); !errors.Is(err, rooms.ErrNotFound) {
			t.Fatalf("Get of a missing row: got %v, want ErrNotFound", err)
		}
		want := row("a", rooms.StateLive, true, "board", base)
		if err := d.Put(want); err != nil {
			t.Fatalf("Put: %v", err)
		}
		got, err := d.Get("a")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		sameRow(t, got, want)
		want.State, want.Tick, want.Players, want.LastActive = rooms.StateDormant, 99999, 0, base.Add(time.Minute)
		if err := d.Put(want); err != nil {
			t.Fatalf("Put again: %v", err)
		}
		got, _ = d.Get("a")
		sameRow(t, got, want)
		if err := d.Delete("a"); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if _, err := d.Get("a"); !errors.Is(err, rooms.ErrNotFound) {
			t.Fatalf("Get after Delete: got %v, want ErrNotFound", err)
		}
		if err := d.Delete("a"); err != nil {
			t.Fatalf("Delete of a missing row: %v", err)
		}
	})
	t.Run("ListCountHasLog", func(t *testing.T) {
		d := open(t)
		for i, r := range []rooms.RoomRecord{
			row("live-pub", rooms.StateLive, true, "arena", base.Add(5*time.Minute)),
			row("dorm-pub-new", rooms.StateDormant, true, "board", base.Add(4*time.Minute)),
			row("dorm-pub-old", rooms.StateDormant, true, "board", base.Add(1*time.Minute)),
			row("dorm-unlisted", rooms.StateDormant, false, "board", base.Add(3*time.Minute)),
			row("dorm-arena", rooms.StateDormant, true, "arena", base.Add(2*time.Minute)),
		} {
			if err := d.Put(r); err != nil {
				t.Fatalf("Put %d: %v", i, err)
			}
		}
		for _, c := range []struct {
			name string
			q    rooms.DirectoryQuery
			want []string
		}{
			{"all", rooms.DirectoryQuery{}, []string{"live-pub", "dorm-pub-new", "dorm-unlisted", "dorm-arena", "dorm-pub-old"}},
			{"public dormant", rooms.DirectoryQuery{State: rooms.StateDormant, PublicOnly: true}, []string{"dorm-pub-new", "dorm-arena", "dorm-pub-old"}},
			{"live", rooms.DirectoryQuery{State: rooms.StateLive}, []string{"live-pub"}},
			{"type", rooms.DirectoryQuery{Type: "board", State: rooms.StateDormant}, []string{"dorm-pub-new", "dorm-unlisted", "dorm-pub-old"}},
			{"active before", rooms.DirectoryQuery{ActiveBefore: base.Add(3 * time.Minute)}, []string{"dorm-arena", "dorm-pub-old"}},
			{"limit", rooms.DirectoryQuery{Limit: 2}, []string{"live-pub", "dorm-pub-new"}},
		} {
			got, err := d.List(c.q)
			if err != nil {
				t.Fatalf("%s: List: %v", c.name, err)
			}
			if ids := idsOf(got); !reflect.DeepEqual(ids, c.want) {
				t.Errorf("%s: got %v, want %v", c.name, ids, c.want)
			}
		}
		for st, want := range map[rooms.RoomState]int{"": 5, rooms.StateLive: 1, rooms.StateDormant: 4} {
			if n, err := d.Count(st); err != nil || n != want {
				t.Errorf("Count(%q): got %d, %v; want %d", st, n, err, want)
			}
		}
		if ok, err := d.HasLog("log-dorm-arena"); err != nil || !ok {
			t.Errorf("HasLog of a room's log: got %v, %v; want true", ok, err)
		}
		if ok, err := d.HasLog("log-nobody"); err != nil || ok {
			t.Errorf("HasLog of no room's log: got %v, %v; want false", ok, err)
		}
	})
}

func idsOf(rs []rooms.RoomRecord) []string {
	out := []string{}
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func sameRow(t *testing.T, got, want rooms.RoomRecord) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.LastActive.Equal(want.LastActive) {
		t.Fatalf("times: got %v/%v, want %v/%v", got.CreatedAt, got.LastActive, want.CreatedAt, want.LastActive)
	}
	got.CreatedAt, got.LastActive = want.CreatedAt, want.LastActive
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("row:\n got %+v\nwant %+v", got, want)
	}
}

// Checkpoints checks a rooms.CheckpointStore.
func Checkpoints(t *testing.T, open func(t *testing.T) rooms.CheckpointStore) {
	load := func(t *testing.T, s rooms.CheckpointStore, room string) (ticks []uint64, data [][]byte) {
		t.Helper()
		err := s.LoadCheckpoints(room, func(tick uint64, b []byte) bool {
			ticks, data = append(ticks, tick), append(data, b)
			return false
		})
		if err != nil {
			t.Fatalf("LoadCheckpoints(%s): %v", room, err)
		}
		return ticks, data
	}
	t.Run("NewestFirstAndKeepsTwo", func(t *testing.T) {
		s := open(t)
		if ticks, _ := load(t, s, "r"); len(ticks) != 0 {
			t.Fatalf("a new store has checkpoints %v", ticks)
		}
		for _, tick := range []uint64{10, 30, 20, 40} {
			if err := s.SaveCheckpoint("r", tick, []byte(fmt.Sprintf("cp-%d", tick))); err != nil {
				t.Fatalf("SaveCheckpoint %d: %v", tick, err)
			}
		}
		if err := s.SaveCheckpoint("other", 5, bytes.Repeat([]byte{7}, 1<<20)); err != nil {
			t.Fatalf("SaveCheckpoint of 1 MiB: %v", err)
		}
		ticks, data := load(t, s, "r")
		if len(ticks) < 2 || ticks[0] != 40 || ticks[1] != 30 {
			t.Fatalf("ticks: got %v, want 40, 30 first", ticks)
		}
		for i := 1; i < len(ticks); i++ {
			if ticks[i] >= ticks[i-1] {
				t.Fatalf("ticks not newest first: %v", ticks)
			}
		}
		if string(data[0]) != "cp-40" || string(data[1]) != "cp-30" {
			t.Fatalf("data: got %q, %q", data[0], data[1])
		}
		if _, big := load(t, s, "other"); len(big) != 1 || len(big[0]) != 1<<20 {
			t.Fatalf("the 1 MiB checkpoint came back as %d", len(big))
		}
		var seen []uint64
		_ = s.LoadCheckpoints("r", func(tick uint64, _ []byte) bool { seen = append(seen, tick); return true })
		if len(seen) != 1 {
			t.Fatalf("fn returning true did not stop the walk: %v", seen)
		}
		if err := s.DeleteCheckpoints("r"); err != nil {
			t.Fatalf("DeleteCheckpoints: %v", err)
		}
		if ticks, _ := load(t, s, "r"); len(ticks) != 0 {
			t.Fatalf("after DeleteCheckpoints: %v", ticks)
		}
		if ticks, _ := load(t, s, "other"); len(ticks) != 1 {
			t.Fatalf("another room's checkpoints went with it: %v", ticks)
		}
	})
}

// Logs checks a rooms.LogStore.
func Logs(t *testing.T, open func(t *testing.T) rooms.LogStore) {
	schema := state.MustSchema(state.MustKind(0, "dot", nil, state.Pos("x")))
	header := rooms.RecordingHeader{RoomID: "room-1", Type: "dots", TickRate: 20, Seed: 42,
		Options: map[string]any{"n": float64(3)}, Schema: schema.Wire()}
	ops := func(tick uint64) []rooms.Op {
		if tick%3 == 0 {
			return nil
		}
		return []rooms.Op{{Kind: rooms.OpJoin, Member: uint32(tick), Name: "m"},
			{Kind: rooms.OpInput, Member: uint32(tick), Seq: tick, Payload: []byte{0x81, 0xa1, 'x', byte(tick)}}}
	}
	write := func(t *testing.T, w rooms.LogWriter, from, to uint64) {
		t.Helper()
		for tick := from; tick <= to; tick++ {
			if err := w.Tick(tick, ops(tick), []byte{3, byte(tick)}); err != nil {
				t.Fatalf("Tick %d: %v", tick, err)
			}
			if tick%4 == 0 {
				if err := w.Event(tick, []byte{4, byte(tick)}); err != nil {
					t.Fatalf("Event %d: %v", tick, err)
				}
			}
			if tick%10 == 0 {
				if err := w.Keyframe(tick, []byte{2, byte(tick)}); err != nil {
					t.Fatalf("Keyframe %d: %v", tick, err)
				}
			}
		}
	}
	// check reads the log after from and wants ticks from+1..to in order
	// with their ops, and the events among them.
	check := func(t *testing.T, s rooms.LogStore, id string, from rooms.LogPosition, to uint64) {
		t.Helper()
		next := from.Tick + 1
		err := s.Read(id, from, func(r rooms.LogRecord) error {
			if !r.IsTick {
				if r.Tick != next-1 || r.Tick%4 != 0 || !bytes.Equal(r.Event, []byte{4, byte(r.Tick)}) {
					return fmt.Errorf("event %x after tick %d", r.Event, r.Tick)
				}
				return nil
			}
			if r.Tick != next {
				return fmt.Errorf("tick %d, want %d", r.Tick, next)
			}
			if want := ops(r.Tick); len(r.Ops) != len(want) || (len(want) > 0 && !reflect.DeepEqual(r.Ops, want)) {
				return fmt.Errorf("tick %d: ops %+v, want %+v", r.Tick, r.Ops, want)
			}
			next++
			return nil
		})
		if err != nil {
			t.Fatalf("Read from %+v: %v", from, err)
		}
		if next != to+1 {
			t.Fatalf("Read from %+v stopped before tick %d, want through %d", from, next, to)
		}
	}
	t.Run("WriteReadPauseContinue", func(t *testing.T) {
		s := open(t)
		if _, _, err := s.Continue("no-such-log"); !errors.Is(err, rooms.ErrNotFound) {
			t.Fatalf("Continue of a missing log: got %v, want ErrNotFound", err)
		}
		w, err := s.Create(header)
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		id := w.ID()
		if err := w.Keyframe(0, []byte{2, 0}); err != nil {
			t.Fatalf("Keyframe: %v", err)
		}
		write(t, w, 1, 25)
		mid, err := w.Position()
		if err != nil || mid.Tick != 25 {
			t.Fatalf("Position: got %+v, %v; want tick 25", mid, err)
		}
		write(t, w, 26, 40)
		if err := w.Pause(); err != nil {
			t.Fatalf("Pause: %v", err)
		}
		check(t, s, id, rooms.LogPosition{}, 40)
		check(t, s, id, mid, 40)

		w, end, err := s.Continue(id)
		if err != nil {
			t.Fatalf("Continue: %v", err)
		}
		if end.Tick != 40 || end.Damage != nil || end.Header.RoomID != "room-1" || end.Header.Seed != 42 {
			t.Fatalf("Continue's end: got %+v", end)
		}
		if w.ID() != id {
			t.Fatalf("continued log has id %q, want %q", w.ID(), id)
		}
		write(t, w, 41, 50)
		if err := w.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		check(t, s, id, rooms.LogPosition{}, 50)
		check(t, s, id, mid, 50)

		// A log that was ended goes on when continued (a deleted room's
		// log is ended through Continue, and a room may outlive an end).
		w, end, err = s.Continue(id)
		if err != nil || end.Tick != 50 {
			t.Fatalf("Continue of an ended log: got %+v, %v; want tick 50", end, err)
		}
		write(t, w, 51, 52)
		if err := w.Pause(); err != nil {
			t.Fatalf("Pause: %v", err)
		}
		check(t, s, id, rooms.LogPosition{}, 52)
	})
}
