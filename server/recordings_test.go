package server_test

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/tape"
	"github.com/tickroom/tickroom/server"
	"github.com/tickroom/tickroom/state"
)

func newRecordingEnv(t *testing.T, sc server.Config) (*testEnv, *tape.Store) {
	t.Helper()
	store, err := tape.NewStore(filepath.Join(t.TempDir(), "recordings"), tape.StoreOptions{Writer: tape.WriterOptions{FlushInterval: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	sc.Recordings = store
	return newEnv(t, rooms.Config{Logs: store, KeyframeInterval: 500 * time.Millisecond}, sc), store
}

// mirrorState copies a mirror's entities as comparable values.
func mirrorState(m *state.Mirror) map[state.EntityID]string {
	out := make(map[state.EntityID]string, len(m.Entities))
	for id, e := range m.Entities {
		var vals []any
		for i := range e.Kind.Fields {
			vals = append(vals, e.Value(i))
		}
		out[id] = fmt.Sprint(e.Kind.Name, vals)
	}
	return out
}

// groupsHeld returns the groups of a mirror's entities, Everyone always.
func groupsHeld(m *state.Mirror) map[state.GroupID]bool {
	held := map[state.GroupID]bool{state.Everyone: true}
	for _, e := range m.Entities {
		held[e.Group] = true
	}
	return held
}

// TestRecordingRoundTrip: the state a live client mirrored at every tick
// equals what the tape rebuilds by seeking to that tick, restricted to
// the interest groups the client held (replay equals live; the arena has
// views: the tape holds the whole world, a member what is near it).
func TestRecordingRoundTrip(t *testing.T) {
	env, store := newRecordingEnv(t, server.Config{AdminToken: "tok"})
	id := env.createRoom("arena", nil)
	var info struct {
		RecordingID string `json:"recordingId"`
	}
	if code := env.api("GET", "/api/rooms/"+id, nil, &info); code != 200 || info.RecordingID == "" {
		t.Fatalf("room info: %d, recordingId %q", code, info.RecordingID)
	}
	a := env.join(id, "alice")
	b := env.join(id, "bob")
	live := map[uint64]map[state.EntityID]string{}
	held := map[uint64]map[state.GroupID]bool{}
	for i := range 40 {
		a.input(map[string]any{"dx": 1, "dy": float64(i%5) / 5})
		if i%3 == 0 {
			b.input(map[string]any{"dx": -1, "dy": 0})
		}
		a.send([]any{state.ClientChat, fmt.Sprintf("msg %d", i)})
		target := a.mirror.Tick + 1
		for a.mirror.Tick < target {
			a.next(5 * time.Second)
			live[a.mirror.Tick] = mirrorState(a.mirror)
			held[a.mirror.Tick] = groupsHeld(a.mirror)
		}
	}

	// While the room runs, the recording is listed as in progress.
	var list []struct {
		ID         string   `json:"id"`
		InProgress bool     `json:"inProgress"`
		Members    []string `json:"members"`
	}
	if code := env.api("GET", "/api/recordings", nil, &list); code != 200 || len(list) != 1 || !list[0].InProgress || list[0].ID != info.RecordingID {
		t.Fatalf("recordings while live: %d %+v", code, list)
	}

	r := env.room(id)
	r.Close(rooms.CloseRoomClosed, "test over")
	<-r.Done()

	tr, err := store.Open(info.RecordingID)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if !tr.Info().Clean {
		t.Fatal("the tape of a closed room has no end record")
	}
	checked := 0
	for tick, want := range live {
		m, err := tr.Seek(tick)
		if err != nil {
			t.Fatalf("seek %d: %v", tick, err)
		}
		got := mirrorState(m)
		for eid, w := range want {
			if got[eid] != w {
				t.Fatalf("tick %d entity %d: tape %s, live %s", tick, eid, got[eid], w)
			}
		}
		for eid, e := range m.Entities {
			if _, ok := want[eid]; !ok && held[tick][e.Group] {
				t.Fatalf("tick %d entity %d: in the tape and in group %d, which the live member held, but not in its mirror", tick, eid, e.Group)
			}
		}
		if len(got) < len(want) {
			t.Fatalf("tick %d: tape has %d entities, live had %d", tick, len(got), len(want))
		}
		// The tape holds every coin (the replay page shows the whole field),
		// the member only those near it.
		coins := 0
		for _, e := range m.Entities {
			if e.Kind.Name == arena.CoinKind.Name {
				coins++
			}
		}
		if coins != arena.DefaultOptions().Coins {
			t.Fatalf("tick %d: the tape holds %d coins, want all %d", tick, coins, arena.DefaultOptions().Coins)
		}
		checked++
	}
	if checked < 40 {
		t.Fatalf("checked %d ticks, want >= 40", checked)
	}
	var one struct {
		InProgress bool     `json:"inProgress"`
		Members    []string `json:"members"`
		Keyframes  int      `json:"keyframes"`
	}
	if code := env.api("GET", "/api/recordings/"+info.RecordingID, nil, &one); code != 200 || one.InProgress || len(one.Members) != 2 || one.Keyframes < 2 {
		t.Fatalf("finished recording: %d %+v", code, one)
	}
}

func TestTapeDownloadAndDelete(t *testing.T) {
	env, _ := newRecordingEnv(t, server.Config{AdminToken: "tok"})
	id := env.createRoom("board", nil)
	c := env.join(id, "c")
	c.waitTick(c.mirror.Tick + 5)
	var info struct {
		RecordingID string `json:"recordingId"`
	}
	env.api("GET", "/api/rooms/"+id, nil, &info)
	r := env.room(id)
	r.Close(rooms.CloseRoomClosed, "test over")
	<-r.Done()

	url := env.ts.URL + "/api/recordings/" + info.RecordingID + "/tape"
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	whole, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || string(whole[:8]) != tape.Magic {
		t.Fatalf("tape: status %d, starts %q", res.StatusCode, whole[:min(8, len(whole))])
	}
	// The download is a readable tape.
	p := filepath.Join(t.TempDir(), "dl.tape")
	if err := os.WriteFile(p, whole, 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := tape.Open(p)
	if err != nil {
		t.Fatalf("open the downloaded tape: %v", err)
	}
	tr.Close()

	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Range", "bytes=8-15")
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusPartialContent || string(part) != string(whole[8:16]) {
		t.Fatalf("range: status %d, %d bytes", res.StatusCode, len(part))
	}

	if code := adminCall(t, env, "DELETE", "/api/recordings/"+info.RecordingID, "", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("delete without the token: %d, want 401", code)
	}
	if code := adminCall(t, env, "DELETE", "/api/recordings/"+info.RecordingID, "tok", "", nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d, want 204", code)
	}
	if code := env.api("GET", "/api/recordings/"+info.RecordingID, nil, nil); code != http.StatusNotFound {
		t.Fatalf("get after delete: %d, want 404", code)
	}
}

func TestRecordingsOffAnswersNotFound(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	if code := env.api("GET", "/api/recordings", nil, nil); code != http.StatusNotFound {
		t.Fatalf("recordings API without a store: %d, want 404", code)
	}
}

func TestRoomCanOptOutOfRecording(t *testing.T) {
	env, _ := newRecordingEnv(t, server.Config{})
	var off, on struct {
		ID string `json:"id"`
	}
	if code := env.api("POST", "/api/rooms", map[string]any{"type": "arena", "record": false}, &off); code != 201 {
		t.Fatalf("create unrecorded: %d", code)
	}
	if code := env.api("POST", "/api/rooms", map[string]any{"type": "arena"}, &on); code != 201 {
		t.Fatalf("create: %d", code)
	}
	var info struct {
		RecordingID string `json:"recordingId"`
	}
	env.api("GET", "/api/rooms/"+off.ID, nil, &info)
	if info.RecordingID != "" {
		t.Fatalf("a room created with record:false is recorded as %s", info.RecordingID)
	}
	env.api("GET", "/api/rooms/"+on.ID, nil, &info)
	if info.RecordingID == "" {
		t.Fatal("a room created without record is not recorded (the default is on)")
	}
}
