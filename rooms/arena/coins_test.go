package arena_test

import (
	"math"
	"testing"

	"github.com/tickroom/tickroom/rooms/arena"
)

func TestInitScattersCoins(t *testing.T) {
	for _, n := range []int{0, 1, 12, 200} {
		r := newRoom(t, map[string]any{"coins": n, "width": 300, "height": 200}, 1)
		coins := r.coins()
		if len(coins) != n {
			t.Fatalf("coins %d: got %d coin entities, want %d", n, len(coins), n)
		}
		for _, c := range coins {
			x, y := c.Float(arena.FieldX), c.Float(arena.FieldY)
			if x < 0 || x > 300 || y < 0 || y > 200 {
				t.Errorf("coin %d at (%v, %v), want inside 300 x 200", c.ID(), x, y)
			}
			if got := c.Int(arena.CoinFieldColor); got != arena.CoinColor {
				t.Errorf("coin %d color: got %#x, want %#x", c.ID(), got, arena.CoinColor)
			}
		}
	}
}

func TestPickupScoresAndEmits(t *testing.T) {
	tests := []struct {
		name      string
		offset    float64 // avatar's distance from the coin, along x
		wantScore int64
	}{
		{"on the coin", 0, 1},
		{"just inside reach", arena.PickupDistance - 0.5, 1},
		{"just out of reach", arena.PickupDistance + 0.5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRoom(t, map[string]any{"coins": 1}, 7)
			coin := r.coins()[0]
			m, e := r.join(3)
			cx, cy := coin.Float(arena.FieldX), coin.Float(arena.FieldY)
			// Step toward the middle so the avatar stays inside the field.
			if cx > 500 {
				place(e, cx-tt.offset, cy)
			} else {
				place(e, cx+tt.offset, cy)
			}
			r.step(1)
			if got := e.Int(arena.FieldScore); got != tt.wantScore {
				t.Fatalf("score: got %d, want %d", got, tt.wantScore)
			}
			if got, want := len(r.ctx.Emitted), int(tt.wantScore); got != want {
				t.Fatalf("events: got %d, want %d", got, want)
			}
			coins := r.coins()
			if len(coins) != 1 {
				t.Fatalf("coins after the tick: got %d, want 1", len(coins))
			}
			now := coins[0]
			if tt.wantScore == 0 {
				if now != coin || now.Float(arena.FieldX) != cx || now.Float(arena.FieldY) != cy {
					t.Errorf("coin %d at (%v, %v) replaced or moved without a pickup", now.ID(), now.Float(arena.FieldX), now.Float(arena.FieldY))
				}
				return
			}
			// A pickup despawns the coin and spawns a new one elsewhere, so
			// that clients see one vanish and another appear.
			if r.ctx.World.Get(coin.ID()) != nil {
				t.Errorf("picked-up coin %d still in the world", coin.ID())
			}
			if now.ID() <= coin.ID() || now.Int(arena.CoinFieldColor) != arena.CoinColor {
				t.Errorf("new coin: got id %d colour %#x, want an id above %d and colour %#x", now.ID(), now.Int(arena.CoinFieldColor), coin.ID(), arena.CoinColor)
			}
			if now.Float(arena.FieldX) == cx && now.Float(arena.FieldY) == cy {
				t.Errorf("new coin at the old spot (%v, %v), want a new spot", cx, cy)
			}
			ev := r.ctx.Emitted[0]
			if ev.Type != "custom" || ev.Tick != 1 {
				t.Errorf("event: got type %q tick %d, want custom at tick 1", ev.Type, ev.Tick)
			}
			if ev.Data["kind"] != "pickup" || ev.Data["member"] != m.Number || ev.Data["score"] != int64(1) {
				t.Errorf("event data: got %v, want kind pickup, member %d, score 1", ev.Data, m.Number)
			}
		})
	}
}

func TestScoreAccumulates(t *testing.T) {
	r := newRoom(t, map[string]any{"coins": 1}, 3)
	_, e := r.join(1)
	for i := range 5 {
		coin := r.coins()[0]
		place(e, coin.Float(arena.FieldX), coin.Float(arena.FieldY))
		r.step(1)
		if got, want := e.Int(arena.FieldScore), int64(i+1); got != want {
			t.Fatalf("pickup %d: score got %d, want %d", i+1, got, want)
		}
	}
	if got := r.ctx.Emitted[4].Data["score"]; got != int64(5) {
		t.Errorf("fifth event score: got %v, want 5", got)
	}
}

// A player does not score by arriving: an avatar spawns out of every coin's
// reach (with 12 coins on the old 1000 x 600 field, or the default 80 on
// 3000 x 1800, about one join in twenty would land on one if spawns
// ignored them).
func TestJoinSpawnsOutOfCoinReach(t *testing.T) {
	for _, opts := range []map[string]any{{"coins": 12}, {"width": 3000, "height": 1800}} {
		for seed := uint64(1); seed <= 200; seed++ {
			spawnsOutOfCoinReach(t, opts, seed)
		}
	}
}

func spawnsOutOfCoinReach(t *testing.T, opts map[string]any, seed uint64) {
	t.Helper()
	r := newRoom(t, opts, seed)
	for n := uint32(1); n <= 4; n++ {
		_, a := r.join(n)
		for _, c := range r.coins() {
			dx, dy := a.Float(arena.FieldX)-c.Float(arena.FieldX), a.Float(arena.FieldY)-c.Float(arena.FieldY)
			if d := math.Hypot(dx, dy); d < arena.PickupDistance {
				t.Fatalf("%v seed %d: member %d spawned %.1f from coin %d, within pickup reach (%d)", opts, seed, n, d, c.ID(), arena.PickupDistance)
			}
		}
	}
}
