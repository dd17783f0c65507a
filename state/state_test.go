package state_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/state"
)

var (
	testShip = state.MustKind(0, "ship", nil,
		state.Pos("x"), state.Pos("y"), state.Angle("angle"),
		state.Quant("speed", 10, 1), state.Quant("fuel", 4, 0),
		state.Float("mass"),
		state.Int("i8", state.I8), state.Int("i16", state.I16), state.Counter("i32", state.I32),
		state.Int("i64", state.I64), state.Counter("u8", state.U8), state.Int("u16", state.U16), state.Int("u32", state.U32),
		state.Flag("on"), state.Text("name"))
	testRock   = state.MustKind(1, "rock", &state.Draw{Shape: "circle", W: 10, H: 10}, state.Pos("x"), state.Pos("y"))
	testSchema = state.MustSchema(testShip, testRock)
)

func TestNewKindRejectsBadSchemas(t *testing.T) {
	tests := []struct {
		name   string
		fields []state.Field
	}{
		{"no fields", nil},
		{"q without scale", []state.Field{{Name: "x", Type: state.Q}}},
		{"duplicate names", []state.Field{state.Pos("x"), state.Pos("x")}},
		{"pred on string", []state.Field{{Name: "s", Type: state.String, Pred: 1}}},
		{"pred 2 on int", []state.Field{{Name: "n", Type: state.I32, Pred: 2}}},
		{"scale on int", []state.Field{{Name: "n", Type: state.I32, Scale: 2}}},
		{"unknown type", []state.Field{{Name: "n", Type: 99}}},
		{"no field name", []state.Field{{Type: state.Bool}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := state.NewKind(0, "k", nil, tt.fields...)
			if !errors.Is(err, state.ErrSchema) {
				t.Fatalf("NewKind: got err %v, want ErrSchema", err)
			}
		})
	}
	if _, err := state.NewSchema(testRock); err == nil {
		t.Fatal("NewSchema with kind id 1 at position 0: got nil error")
	}
}

func TestSchemaSurvivesTheWire(t *testing.T) {
	back, err := state.SchemaFromWire(testSchema.Wire())
	if err != nil {
		t.Fatalf("SchemaFromWire: %v", err)
	}
	for i, k := range testSchema.Kinds {
		got := back.Kinds[i]
		if got.Name != k.Name || len(got.Fields) != len(k.Fields) {
			t.Fatalf("kind %d: got %q with %d fields, want %q with %d", i, got.Name, len(got.Fields), k.Name, len(k.Fields))
		}
		for j := range k.Fields {
			if got.Fields[j] != k.Fields[j] {
				t.Errorf("kind %q field %d: got %+v, want %+v", k.Name, j, got.Fields[j], k.Fields[j])
			}
		}
	}
}

func TestSetterRejectsWrongTypeAndRange(t *testing.T) {
	w := state.NewWorld(testSchema)
	e := w.Spawn(testShip)
	for name, f := range map[string]func(){
		"float into string field": func() { e.SetFloat(testShip.MustIndex("name"), 1) },
		"u8 out of range":         func() { e.SetInt(testShip.MustIndex("u8"), 256) },
		"NaN":                     func() { e.SetFloat(0, math.NaN()) },
		"field out of range":      func() { e.SetFloat(99, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			f()
		})
	}
}

// randomize sets every field of e to a random value of its type.
func randomize(r *rand.Rand, e *state.Entity, only float64) {
	for i, f := range e.Kind().Fields {
		if r.Float64() > only {
			continue
		}
		switch f.Type {
		case state.Q:
			e.SetFloat(i, (r.Float64()-0.5)*4000)
		case state.F32:
			e.SetFloat(i, r.NormFloat64()*1e3)
		case state.I8:
			e.SetInt(i, int64(r.IntN(256))-128)
		case state.I16:
			e.SetInt(i, int64(r.IntN(65536))-32768)
		case state.I32:
			e.SetInt(i, int64(r.Int32())*int64(1-2*r.IntN(2)))
		case state.I64:
			e.SetInt(i, r.Int64()-math.MaxInt64/2)
		case state.U8:
			e.SetInt(i, int64(r.IntN(256)))
		case state.U16:
			e.SetInt(i, int64(r.IntN(65536)))
		case state.U32:
			e.SetInt(i, int64(r.Uint32()))
		case state.Bool:
			e.SetBool(i, r.IntN(2) == 1)
		case state.String:
			e.SetString(i, string(rune('a'+r.IntN(26)))+"ü")
		}
	}
}

// nudge moves Q fields a little, the common case prediction is made for.
func nudge(r *rand.Rand, e *state.Entity) {
	for i, f := range e.Kind().Fields {
		if f.Type == state.Q && r.IntN(2) == 0 {
			e.SetFloat(i, e.Float(i)+r.NormFloat64()*3)
		}
	}
}

// TestMirrorFollowsRandomChanges guards the invariant "a client mirror equals
// server state": random spawns, despawns, big jumps and small moves, checked
// after every tick, for a mirror that saw every delta and for mirrors that
// joined later through a snapshot.
func TestMirrorFollowsRandomChanges(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		w := state.NewWorld(testSchema)
		early := state.NewMirror(testSchema)
		var late []*state.Mirror
		snap, err := w.AppendSnapshot(nil)
		if err != nil {
			t.Fatalf("first snapshot: %v", err)
		}
		mustApply(t, early, snap)
		for tick := uint64(1); tick <= 200; tick++ {
			for range r.IntN(3) {
				k := testSchema.Kinds[r.IntN(2)]
				randomize(r, w.Spawn(k), 1)
			}
			ents := w.Entities()
			for _, e := range ents {
				switch x := r.IntN(20); {
				case x == 0:
					randomize(r, e, 0.3)
				case x < 12:
					nudge(r, e)
				}
			}
			if len(ents) > 0 && r.IntN(4) == 0 {
				w.Despawn(ents[r.IntN(len(ents))].ID())
			}
			delta := w.AppendDelta(nil, tick)
			for _, m := range append(late, early) {
				mustApply(t, m, delta)
				if d := state.Compare(w, m); d != nil {
					t.Fatalf("seed %d tick %d: %v", seed, tick, d)
				}
			}
			if tick%50 == 0 {
				m := state.NewMirror(testSchema)
				snap, err := w.AppendSnapshot(nil)
				if err != nil {
					t.Fatalf("snapshot: %v", err)
				}
				mustApply(t, m, snap)
				if d := state.Compare(w, m); d != nil {
					t.Fatalf("seed %d tick %d snapshot: %v", seed, tick, d)
				}
				late = append(late, m)
			}
		}
	}
}

func mustApply(t *testing.T, m *state.Mirror, msg []byte) {
	t.Helper()
	if _, err := m.Apply(msg); err != nil {
		t.Fatalf("Apply: %v", err)
	}
}

func TestMirrorRefusesDeltaWithWrongBase(t *testing.T) {
	w := state.NewWorld(testSchema)
	m := state.NewMirror(testSchema)
	if _, err := m.Apply(w.AppendDelta(nil, 1)); !errors.Is(err, state.ErrNotSynced) {
		t.Fatalf("delta before snapshot: got %v, want ErrNotSynced", err)
	}
	snap, _ := w.AppendSnapshot(nil)
	mustApply(t, m, snap)
	w.Spawn(testRock)
	_ = w.AppendDelta(nil, 2) // the mirror misses this one
	_, err := m.Apply(w.AppendDelta(nil, 3))
	if !errors.Is(err, state.ErrBaseMismatch) {
		t.Fatalf("skipped delta: got %v, want ErrBaseMismatch", err)
	}
	if m.Tick != 1 || len(m.Entities) != 0 {
		t.Fatalf("mirror changed by a refused delta: tick %d, %d entities", m.Tick, len(m.Entities))
	}
}

func TestSnapshotRefusedWithPendingChanges(t *testing.T) {
	w := state.NewWorld(testSchema)
	w.Spawn(testRock)
	if _, err := w.AppendSnapshot(nil); !errors.Is(err, state.ErrPending) {
		t.Fatalf("got %v, want ErrPending", err)
	}
}

func TestQuietTickIsTiny(t *testing.T) {
	w := state.NewWorld(testSchema)
	e := w.Spawn(testRock)
	e.SetFloat(0, 10)
	_ = w.AppendDelta(nil, 1)
	e.SetFloat(0, 10.001) // under half a grid step: nothing to send
	got := w.AppendDelta(nil, 2)
	want := []byte{0x96, 0x03, 0x02, 0x01, 0x90, 0x90, 0x90}
	if string(got) != string(want) {
		t.Fatalf("quiet delta: got % x, want % x", got, want)
	}
}

// TestArenaBenchDeltaBudget keeps the codec inside the bandwidth budget of
// the load-generator issue: 5.6 KB per client per second at 20 Hz is 280
// bytes per tick. Byte counts are deterministic, so this is a plain check.
func TestArenaBenchDeltaBudget(t *testing.T) {
	s, _ := benchScene(8)
	m := state.NewMirror(arenabench.Schema)
	snap, _ := s.World.AppendSnapshot(nil)
	mustApply(t, m, snap)
	var total, ticks int
	for tick := uint64(2); tick < 2+20*60; tick++ {
		for c, p := range s.Players() {
			p.Input = arenabench.ClientInput(c, tick)
		}
		s.Step(tick)
		b := s.World.AppendDelta(nil, tick)
		mustApply(t, m, b)
		if tick > 100 {
			total += len(b)
			ticks++
		}
	}
	if d := state.Compare(s.World, m); d != nil {
		t.Fatalf("mirror diverged: %v", d)
	}
	perSecond := float64(total) / float64(ticks) * arenabench.TickRate
	t.Logf("arena-bench, 8 players: %.1f bytes/tick, %.0f bytes/s per client", float64(total)/float64(ticks), perSecond)
	if perSecond > 5600 {
		t.Fatalf("delta stream %.0f bytes/s per client, over the 5600 budget", perSecond)
	}
}

// benchScene returns the arena-bench scene with n players after tick 1 was
// published, so that the next publish is a steady-state one.
func benchScene(n int) (*arenabench.Scene, uint64) {
	s := arenabench.NewScene()
	for range n {
		s.AddPlayer("")
	}
	s.Step(1)
	_ = s.World.AppendDelta(nil, 1)
	return s, 1
}

func BenchmarkEncodeArenaBenchTick(b *testing.B) {
	s, tick := benchScene(8)
	buf := make([]byte, 0, 4096)
	var size int
	b.ReportAllocs()
	for b.Loop() {
		tick++
		for c, p := range s.Players() {
			p.Input = arenabench.ClientInput(c, tick)
		}
		s.Step(tick)
		buf = s.World.AppendDelta(buf[:0], tick)
		size += len(buf)
	}
	b.ReportMetric(float64(size)/float64(b.N), "bytes/tick")
}

func BenchmarkMirrorApplyArenaBenchTick(b *testing.B) {
	s, tick := benchScene(8)
	const n = 1000
	msgs := make([][]byte, n)
	m := state.NewMirror(arenabench.Schema)
	snap, _ := s.World.AppendSnapshot(nil)
	if _, err := m.Apply(snap); err != nil {
		b.Fatal(err)
	}
	for i := range msgs {
		tick++
		for c, p := range s.Players() {
			p.Input = arenabench.ClientInput(c, tick)
		}
		s.Step(tick)
		msgs[i] = s.World.AppendDelta(nil, tick)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == n { // start the sequence again from its snapshot (1 in 1000 applies)
			if _, err := m.Apply(snap); err != nil {
				b.Fatal(err)
			}
			i = 0
		}
		if _, err := m.Apply(msgs[i]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkSnapshotArenaBench(b *testing.B) {
	s, _ := benchScene(8)
	buf := make([]byte, 0, 8192)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = s.World.AppendSnapshot(buf[:0])
	}
	b.ReportMetric(float64(len(buf)), "bytes")
}

// TestWelcomeIntegersAreCompact: the protocol promises the shortest integer
// forms; a u8/i64-sized Go field must not travel at full width.
func TestWelcomeIntegersAreCompact(t *testing.T) {
	b, err := state.EncodeWelcome(&state.Welcome{V: 1, Kinds: testSchema.Wire(), TickRate: 20})
	if err != nil {
		t.Fatal(err)
	}
	for _, wide := range []byte{0xd3, 0xcf} { // int64, uint64
		for i, c := range b {
			if c == wide {
				t.Fatalf("welcome has a 64-bit integer (0x%x) at byte %d", wide, i)
			}
		}
	}
}

// BenchmarkDecodeClientInput: the edge decodes every client frame; this is
// the cost of one input message.
func BenchmarkDecodeClientInput(b *testing.B) {
	msg, _ := msgpack.Marshal([]any{state.ClientInput, 1234, map[string]float64{"dx": 0.5, "dy": -1}})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := state.DecodeClient(msg); err != nil {
			b.Fatal(err)
		}
	}
}
