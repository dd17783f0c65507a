package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/server"
)

func adminCall(t *testing.T, env *testEnv, method, path, token, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, env.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if out != nil {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return res.StatusCode
}

func TestAdminRefusesWithoutTheToken(t *testing.T) {
	off := newEnv(t, rooms.Config{}, server.Config{})
	if code := adminCall(t, off, "GET", "/api/admin/rooms", "anything", "", nil); code != http.StatusNotFound {
		t.Fatalf("admin API without a configured token: %d, want 404", code)
	}
	env := newEnv(t, rooms.Config{}, server.Config{AdminToken: "right"})
	for name, tok := range map[string]string{"no token": "", "wrong token": "wrong", "prefix of the token": "righ"} {
		if code := adminCall(t, env, "GET", "/api/admin/rooms", tok, "", nil); code != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", name, code)
		}
	}
	id := env.createRoom("arena", nil)
	if code := adminCall(t, env, "POST", "/api/admin/rooms/"+id+"/close", "wrong", "", nil); code != http.StatusUnauthorized {
		t.Fatalf("close with a wrong token: %d, want 401", code)
	}
	if env.mgr.Get(id) == nil {
		t.Fatal("a refused close closed the room")
	}
}

func TestAdminListsKicksSpectatesAndCloses(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{AdminToken: "tok"})
	id := env.createRoom("arena", nil)
	a := env.join(id, "alice")
	b := env.join(id, "bob")
	a.waitTick(a.mirror.Tick + 3)

	var list []struct {
		ID      string  `json:"id"`
		Players int     `json:"players"`
		Ticks   uint64  `json:"ticks"`
		P99     float64 `json:"tickP99Ms"`
	}
	if code := adminCall(t, env, "GET", "/api/admin/rooms", "tok", "", &list); code != 200 || len(list) != 1 {
		t.Fatalf("list: %d, %d rooms", code, len(list))
	}
	if list[0].ID != id || list[0].Players != 2 || list[0].Ticks == 0 || list[0].P99 <= 0 {
		t.Fatalf("room info: %+v", list[0])
	}
	var detail struct {
		Members []struct {
			Member uint32 `json:"member"`
			Name   string `json:"name"`
		} `json:"members"`
	}
	if code := adminCall(t, env, "GET", "/api/admin/rooms/"+id, "tok", "", &detail); code != 200 || len(detail.Members) != 2 {
		t.Fatalf("detail: %d, members %+v", code, detail.Members)
	}

	var link struct{ WSURL string }
	if code := adminCall(t, env, "POST", "/api/admin/rooms/"+id+"/spectate", "tok", "", &link); code != 200 {
		t.Fatalf("spectate: %d", code)
	}
	spec, err := env.dial(id, strings.SplitN(link.WSURL, "?", 2)[1])
	if err != nil {
		t.Fatalf("dial spectator: %v", err)
	}
	spec.waitSynced()
	if !spec.welcome.Spectator {
		t.Fatal("admin spectator link did not give a spectator")
	}

	if code := adminCall(t, env, "POST", "/api/admin/rooms/"+id+"/kick", "tok", `{"member": 2}`, nil); code != http.StatusNoContent {
		t.Fatalf("kick: %d", code)
	}
	if ce := b.waitClose(); ce.Code != rooms.CloseKicked {
		t.Fatalf("kicked member closed with %d, want %d", ce.Code, rooms.CloseKicked)
	}
	a.waitFor("leave event", func() bool { return len(a.eventsOf("leave")) == 1 })
	if ev := a.eventsOf("leave")[0]; ev.Reason != "kicked" || ev.Name != "bob" {
		t.Fatalf("leave event: %+v", ev)
	}
	if code := adminCall(t, env, "POST", "/api/admin/rooms/"+id+"/close", "tok", "", nil); code != http.StatusNoContent {
		t.Fatalf("close: %d", code)
	}
	if ce := a.waitClose(); ce.Code != rooms.CloseRoomClosed {
		t.Fatalf("member of a closed room: %d, want %d", ce.Code, rooms.CloseRoomClosed)
	}
}
