package arena_test

import (
	"testing"

	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/state"
)

// shortRounds: 1 s (20 ticks) of play, then 1 s of break. Round n plays
// ticks 40(n-1)+1 .. 40(n-1)+20.
var shortRounds = map[string]any{"coins": 1, "round": 1, "break": 1}

// roundEvents returns the round_over events emitted so far.
func roundEvents(r *room) []*state.Event {
	var out []*state.Event
	for _, ev := range r.ctx.Emitted {
		if ev.Data["kind"] == "round_over" {
			out = append(out, ev)
		}
	}
	return out
}

// stepTo runs ticks until the room is at tick.
func (r *room) stepTo(tick uint64) {
	for r.ctx.Tick < tick {
		r.step(1)
	}
}

// pickUp places e on the coin and runs one tick; it returns whether a
// pickup event came out of that tick.
func (r *room) pickUp(e *state.Entity) bool {
	c := r.coins()[0]
	place(e, c.Float(arena.FieldX), c.Float(arena.FieldY))
	before := len(r.ctx.Emitted)
	r.step(1)
	for _, ev := range r.ctx.Emitted[before:] {
		if ev.Data["kind"] == "pickup" {
			return true
		}
	}
	return false
}

func TestRoundEndsWithWinnerThenBreakThenFreshScores(t *testing.T) {
	r := newRoom(t, shortRounds, 4)
	alice, a := r.join(1)
	_, b := r.join(2)
	place(b, 900, 500)
	r.stepTo(4)
	if !r.pickUp(a) || !r.pickUp(a) {
		t.Fatal("no pickup while round 1 is on")
	}
	r.stepTo(19)
	if got := roundEvents(r); len(got) != 0 {
		t.Fatalf("tick 19: got round events %v, want none before the round's last tick", got[0].Data)
	}
	r.stepTo(20)
	got := roundEvents(r)
	if len(got) != 1 {
		t.Fatalf("after tick 20: got %d round events, want 1", len(got))
	}
	want := map[string]any{"kind": "round_over", "round": int64(1), "winner": alice.Number, "name": alice.Name, "score": int64(2)}
	if ev := got[0]; ev.Tick != 20 || !sameData(ev.Data, want) {
		t.Errorf("round event: got tick %d %v, want tick 20 %v", ev.Tick, ev.Data, want)
	}

	// The break: scores frozen, coins cannot be picked up.
	if r.pickUp(b) {
		t.Error("tick 21: a pickup in the break")
	}
	r.stepTo(40)
	if sa, sb := a.Int(arena.FieldScore), b.Int(arena.FieldScore); sa != 2 || sb != 0 {
		t.Errorf("end of the break: scores got %d and %d, want 2 and 0 (frozen)", sa, sb)
	}

	// Round 2 starts at tick 41 with every score at 0, and pays again.
	if !r.pickUp(b) {
		t.Fatal("tick 41: no pickup when round 2 starts")
	}
	if sa, sb := a.Int(arena.FieldScore), b.Int(arena.FieldScore); sa != 0 || sb != 1 {
		t.Errorf("tick 41: scores got %d and %d, want 0 and 1", sa, sb)
	}
	r.stepTo(60)
	if got := roundEvents(r); len(got) != 2 || got[1].Tick != 60 || got[1].Data["round"] != int64(2) || got[1].Data["winner"] != uint32(2) {
		t.Errorf("round 2: got events %v, want a second at tick 60 won by member 2", dataOf(got))
	}
}

func TestRoundWithoutWinner(t *testing.T) {
	tests := []struct {
		name   string
		scores []int // pickups per member in round 1
		top    int64
	}{
		{"nobody scored", []int{0, 0}, 0},
		{"tie at the top is a draw", []int{2, 2, 1}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRoom(t, shortRounds, 9)
			var avatars []*state.Entity
			for i := range tt.scores {
				_, e := r.join(uint32(i + 1))
				place(e, float64(100+100*i), 500)
				avatars = append(avatars, e)
			}
			r.stepTo(2)
			for i, n := range tt.scores {
				for range n {
					if !r.pickUp(avatars[i]) {
						t.Fatalf("member %d: no pickup", i+1)
					}
				}
				place(avatars[i], float64(100+100*i), 500)
			}
			r.stepTo(20)
			got := roundEvents(r)
			want := map[string]any{"kind": "round_over", "round": int64(1), "winner": uint32(0), "name": "", "score": tt.top}
			if len(got) != 1 || !sameData(got[0].Data, want) {
				t.Errorf("round events: got %v, want one %v", dataOf(got), want)
			}
		})
	}
}

// TestRoundZeroMeansNoRounds: scores only grow and no round ends, however
// long the room runs (a room made before rounds can ask for that).
func TestRoundZeroMeansNoRounds(t *testing.T) {
	r := newRoom(t, map[string]any{"coins": 1, "round": 0, "break": 1}, 2)
	_, e := r.join(1)
	for i := range 3 {
		r.stepTo(uint64(1000 * i))
		if !r.pickUp(e) {
			t.Fatalf("tick %d: no pickup", r.ctx.Tick)
		}
	}
	if got := e.Int(arena.FieldScore); got != 3 {
		t.Errorf("score: got %d, want 3", got)
	}
	if got := roundEvents(r); len(got) != 0 {
		t.Errorf("round events: got %v, want none", dataOf(got))
	}
}

// TestDefaultRoundsAreMinutes pins the default timing the page shows: a
// 180 s round ends on tick 3600, the next starts after a 6 s break.
func TestDefaultRoundsAreMinutes(t *testing.T) {
	r := newRoom(t, map[string]any{"coins": 0}, 1)
	_, e := r.join(1)
	r.stepTo(3599)
	if got := roundEvents(r); len(got) != 0 {
		t.Fatalf("tick 3599: got %v, want no round over yet", dataOf(got))
	}
	r.stepTo(3600)
	if got := roundEvents(r); len(got) != 1 || got[0].Tick != 3600 {
		t.Fatalf("tick 3600: got %v, want round 1 over", dataOf(got))
	}
	e.SetInt(arena.FieldScore, 5) // as if scored: the new round must reset it
	r.stepTo(3720)
	if got := e.Int(arena.FieldScore); got != 5 {
		t.Errorf("tick 3720 (break): score got %d, want 5", got)
	}
	r.stepTo(3721)
	if got := e.Int(arena.FieldScore); got != 0 {
		t.Errorf("tick 3721 (round 2): score got %d, want 0", got)
	}
}

func sameData(got, want map[string]any) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func dataOf(evs []*state.Event) []map[string]any {
	out := make([]map[string]any, len(evs))
	for i, ev := range evs {
		out[i] = ev.Data
	}
	return out
}
