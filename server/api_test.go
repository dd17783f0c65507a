package server_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/server"
)

// apiErrorBody is the JSON every API error answers with.
type apiErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// roomInfo is one room as GET /api/rooms and /api/rooms/{id} show it.
type roomInfo struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Players    int       `json:"players"`
	MaxPlayers int       `json:"maxPlayers"`
	CreatedAt  time.Time `json:"createdAt"`
	Visibility string    `json:"visibility"`
}

// noCreateLimit turns the per-address room creation limit off, for tests
// that create more rooms than its burst.
var noCreateLimit = server.Config{RoomCreateRate: -1}

var roomIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

func TestCreateRoom(t *testing.T) {
	cases := []struct {
		name           string
		body           map[string]any
		wantType       string
		wantVisibility string
		wantMaxPlayers int
	}{
		{"arena with defaults", map[string]any{"type": "arena"}, "arena", "public", 32},
		{"arena with options", map[string]any{"type": "arena", "options": map[string]any{"speed": 10, "coins": 3}}, "arena", "public", 32},
		{"board unlisted", map[string]any{"type": "board", "visibility": "unlisted"}, "board", "unlisted", 64},
		{"arena-bench with max players", map[string]any{"type": "arena-bench", "visibility": "public", "maxPlayers": 4}, "arena-bench", "public", 4},
	}
	env := newEnv(t, rooms.Config{}, noCreateLimit)
	seen := map[string]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := doRequest(t, env, http.MethodPost, "/api/rooms", strings.NewReader(mustJSON(t, tc.body)))
			if res.StatusCode != http.StatusCreated {
				t.Fatalf("status: got %d (%s), want 201", res.StatusCode, body)
			}
			wantJSON(t, res)
			var got created
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if !roomIDPattern.MatchString(got.ID) {
				t.Fatalf("id %q: want 22 URL-safe base64 characters", got.ID)
			}
			if b, err := base64.RawURLEncoding.DecodeString(got.ID); err != nil || len(b) != 16 {
				t.Fatalf("id %q: decodes to %d bytes (%v), want 16", got.ID, len(b), err)
			}
			if seen[got.ID] {
				t.Fatalf("id %q given out twice", got.ID)
			}
			seen[got.ID] = true
			if got.Type != tc.wantType || got.ShareURL != "/r/"+got.ID || got.WSURL != "/ws/"+got.ID {
				t.Fatalf("created: got %+v, want type %s, shareUrl /r/{id}, wsUrl /ws/{id}", got, tc.wantType)
			}
			var info roomInfo
			if code := env.api(http.MethodGet, "/api/rooms/"+got.ID, nil, &info); code != http.StatusOK {
				t.Fatalf("GET the new room: status %d, want 200", code)
			}
			if info.ID != got.ID || info.Type != tc.wantType || info.Visibility != tc.wantVisibility ||
				info.MaxPlayers != tc.wantMaxPlayers || info.Players != 0 {
				t.Fatalf("room info: got %+v, want type %s, visibility %s, maxPlayers %d, 0 players",
					info, tc.wantType, tc.wantVisibility, tc.wantMaxPlayers)
			}
		})
	}
}

func TestCreateRoomErrors(t *testing.T) {
	cases := []struct {
		name       string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"malformed JSON", `{"type":`, http.StatusBadRequest, "bad_request"},
		{"empty body", ``, http.StatusBadRequest, "bad_request"},
		{"not an object", `["arena"]`, http.StatusBadRequest, "bad_request"},
		{"unknown field", `{"type":"arena","colour":"red"}`, http.StatusBadRequest, "bad_request"},
		{"type of the wrong JSON type", `{"type":7}`, http.StatusBadRequest, "bad_request"},
		{"options not an object", `{"type":"arena","options":[1]}`, http.StatusBadRequest, "bad_request"},
		{"maxPlayers not a number", `{"type":"arena","maxPlayers":"4"}`, http.StatusBadRequest, "bad_request"},
		{"unknown type", `{"type":"chess"}`, http.StatusBadRequest, "unknown_type"},
		{"no type", `{}`, http.StatusBadRequest, "unknown_type"},
		{"arena speed out of range", `{"type":"arena","options":{"speed":1000}}`, http.StatusBadRequest, "bad_options"},
		{"arena option of the wrong type", `{"type":"arena","options":{"coins":"many"}}`, http.StatusBadRequest, "bad_options"},
		{"arena unknown option", `{"type":"arena","options":{"gravity":1}}`, http.StatusBadRequest, "bad_options"},
		{"arena-bench takes no options", `{"type":"arena-bench","options":{"speed":1}}`, http.StatusBadRequest, "bad_options"},
		{"bad visibility", `{"type":"arena","visibility":"secret"}`, http.StatusBadRequest, "bad_request"},
		{"maxPlayers negative", `{"type":"arena","maxPlayers":-1}`, http.StatusBadRequest, "bad_request"},
		{"maxPlayers over the type's limit", `{"type":"arena","maxPlayers":33}`, http.StatusBadRequest, "bad_request"},
		{"maxPlayers huge", `{"type":"board","maxPlayers":1000000}`, http.StatusBadRequest, "bad_request"},
		{"body over 64K", `{"type":"arena","options":{"pad":"` + strings.Repeat("x", 70<<10) + `"}}`, http.StatusRequestEntityTooLarge, "too_large"},
	}
	env := newEnv(t, rooms.Config{}, noCreateLimit)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := doRequest(t, env, http.MethodPost, "/api/rooms", strings.NewReader(tc.body))
			wantAPIError(t, res, body, tc.wantStatus, tc.wantCode)
		})
	}
	if n := env.mgr.Len(); n != 0 {
		t.Fatalf("rooms open after refused creates: got %d, want 0", n)
	}
}

// TestCreateRoomChunkedBodyOverLimit: a body over 64K without a
// Content-Length is refused like one with it, as 413.
func TestCreateRoomChunkedBodyOverLimit(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	body := io.MultiReader(strings.NewReader(`{"type":"arena","options":{"pad":"`),
		strings.NewReader(strings.Repeat("x", 70<<10)), strings.NewReader(`"}}`))
	res, b := doRequest(t, env, http.MethodPost, "/api/rooms", body)
	wantAPIError(t, res, b, http.StatusRequestEntityTooLarge, "too_large")
}

func TestRoomLimit(t *testing.T) {
	env := newEnv(t, rooms.Config{MaxRooms: 2}, noCreateLimit)
	first := env.createRoom("arena", nil)
	env.createRoom("board", nil)
	res, body := doRequest(t, env, http.MethodPost, "/api/rooms", strings.NewReader(`{"type":"arena"}`))
	wantAPIError(t, res, body, http.StatusServiceUnavailable, "room_limit")

	// A closed room frees its place.
	r := env.room(first)
	r.Close(rooms.CloseRoomClosed, "test")
	<-r.Done()
	// The manager forgets the room just after Done; poll for that.
	deadline := time.After(5 * time.Second)
	poll := time.NewTicker(5 * time.Millisecond)
	defer poll.Stop()
	for {
		res, body := doRequest(t, env, http.MethodPost, "/api/rooms", strings.NewReader(`{"type":"arena"}`))
		if res.StatusCode == http.StatusCreated {
			break
		}
		wantAPIError(t, res, body, http.StatusServiceUnavailable, "room_limit")
		select {
		case <-deadline:
			t.Fatalf("create after a room closed: still %d %s, want 201", res.StatusCode, body)
		case <-poll.C:
		}
	}
}

func TestListRooms(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	if got := listRooms(t, env); len(got) != 0 {
		t.Fatalf("rooms of a new server: got %+v, want none", got)
	}
	arenaID := env.createRoom("arena", nil)
	boardID := env.createRoom("board", map[string]any{"width": 800})
	var hidden created
	if code := env.api(http.MethodPost, "/api/rooms", map[string]any{"type": "arena", "visibility": "unlisted"}, &hidden); code != http.StatusCreated {
		t.Fatalf("create unlisted: status %d", code)
	}

	// Every listed room has the documented fields.
	var raw []map[string]any
	if code := env.api(http.MethodGet, "/api/rooms", nil, &raw); code != http.StatusOK {
		t.Fatalf("GET /api/rooms: status %d", code)
	}
	for _, r := range raw {
		for _, k := range []string{"id", "type", "players", "maxPlayers", "createdAt", "visibility"} {
			if _, ok := r[k]; !ok {
				t.Fatalf("listed room %v lacks %q", r, k)
			}
		}
	}

	got := listRooms(t, env)
	var ids []string
	for _, r := range got {
		ids = append(ids, r.ID)
	}
	if want := []string{boardID, arenaID}; !slices.Equal(ids, want) {
		t.Fatalf("listed ids: got %q, want %q (public only, newest first; %s is unlisted)", ids, want, hidden.ID)
	}
	for _, r := range got {
		if r.Visibility != "public" || r.Players != 0 || r.MaxPlayers < 1 || time.Since(r.CreatedAt) > time.Minute || r.CreatedAt.After(time.Now()) {
			t.Fatalf("listed room: got %+v, want public, 0 players, a max and a createdAt of just now", r)
		}
	}
	if got[0].Type != "board" || got[1].Type != "arena" {
		t.Fatalf("listed types: got %s, %s; want board, arena", got[0].Type, got[1].Type)
	}

	// The player count follows joins and leaves.
	a := env.join(arenaID, "alice")
	b := env.join(arenaID, "bob")
	if p := roomPlayers(t, env, arenaID); p != 2 {
		t.Fatalf("players after two joins: got %d, want 2", p)
	}
	closeNormally(t, a)
	// The room counts the leave before it tells the others.
	b.waitFor("alice's leave", func() bool { return len(b.eventsOf("leave")) == 1 })
	if p := roomPlayers(t, env, arenaID); p != 1 {
		t.Fatalf("players after a leave: got %d, want 1", p)
	}
}

func TestGetRoom(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	var hidden created
	if code := env.api(http.MethodPost, "/api/rooms", map[string]any{"type": "board", "visibility": "unlisted", "maxPlayers": 3}, &hidden); code != http.StatusCreated {
		t.Fatalf("create unlisted: status %d", code)
	}
	var info roomInfo
	if code := env.api(http.MethodGet, "/api/rooms/"+hidden.ID, nil, &info); code != http.StatusOK {
		t.Fatalf("GET unlisted room by id: status %d, want 200", code)
	}
	if info.ID != hidden.ID || info.Type != "board" || info.Visibility != "unlisted" || info.MaxPlayers != 3 || info.Players != 0 {
		t.Fatalf("unlisted room: got %+v, want board, unlisted, maxPlayers 3, 0 players", info)
	}
	env.join(hidden.ID, "alice")
	if p := roomPlayers(t, env, hidden.ID); p != 1 {
		t.Fatalf("players after a join: got %d, want 1", p)
	}

	for _, id := range []string{"AAAAAAAAAAAAAAAAAAAAAA", "no-such-room", url.PathEscape("../types")} {
		t.Run("unknown "+id, func(t *testing.T) {
			res, body := doRequest(t, env, http.MethodGet, "/api/rooms/"+id, nil)
			wantAPIError(t, res, body, http.StatusNotFound, "not_found")
		})
	}
}

func TestListTypes(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	type typeInfo struct {
		Name       string `json:"name"`
		TickRate   int    `json:"tickRate"`
		MaxPlayers int    `json:"maxPlayers"`
	}
	var got []typeInfo
	if code := env.api(http.MethodGet, "/api/types", nil, &got); code != http.StatusOK {
		t.Fatalf("GET /api/types: status %d", code)
	}
	want := []typeInfo{{"arena", 20, 32}, {"arena-bench", 20, 64}, {"board", 20, 64}}
	if !slices.Equal(got, want) {
		t.Fatalf("types: got %+v, want %+v", got, want)
	}
}

func TestLivezAndHealthz(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	for _, path := range []string{"/livez", "/healthz"} {
		res, body := doRequest(t, env, http.MethodGet, path, nil)
		if res.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "ok" {
			t.Fatalf("GET %s: got %d %q, want 200 ok", path, res.StatusCode, body)
		}
	}
}

func TestPages(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	id := env.createRoom("arena", nil)
	cases := []struct {
		name, path, wantType, wantBody string
	}{
		{"lobby", "/", "text/html", `<div id="app">`},
		{"room", "/r/" + id, "text/html", `<div id="app">`},
		{"unknown room", "/r/no-such-room", "text/html", `<div id="app">`}, // the client says so
		{"replay", "/replay/" + id, "text/html", `<div id="app">`},
		{"bundle", "/dist/app.js", "javascript", ""},
		{"styles", "/dist/app.css", "text/css", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, body := doRequest(t, env, http.MethodGet, tc.path, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s: status %d, want 200", tc.path, res.StatusCode)
			}
			if ct := res.Header.Get("Content-Type"); !strings.Contains(ct, tc.wantType) {
				t.Fatalf("GET %s: Content-Type %q, want %s", tc.path, ct, tc.wantType)
			}
			if len(body) == 0 || !strings.Contains(string(body), tc.wantBody) {
				t.Fatalf("GET %s: body of %d bytes without %q", tc.path, len(body), tc.wantBody)
			}
		})
	}
	t.Run("missing bundle file", func(t *testing.T) {
		if res, _ := doRequest(t, env, http.MethodGet, "/dist/no-such-file.js", nil); res.StatusCode != http.StatusNotFound {
			t.Fatalf("GET a missing bundle file: status %d, want 404", res.StatusCode)
		}
	})
}

// TestWebSocketOriginCheck: pages from this server and from configured
// origins may open WebSockets; other pages are refused at the handshake.
func TestWebSocketOriginCheck(t *testing.T) {
	const self = "<self>" // the test server's own origin
	cases := []struct {
		name    string
		allowed []string
		origin  string // "" sends no Origin header
		wantOK  bool
	}{
		{"no origin (not a browser)", nil, "", true},
		{"own origin", nil, self, true},
		{"foreign origin", nil, "http://evil.example", false},
		{"own host on another port", nil, "http://127.0.0.1:1", false},
		{"opaque origin", nil, "null", false},
		{"allowed origin", []string{"http://friend.example"}, "http://friend.example", true},
		{"allowed origin listed with a slash", []string{"http://friend.example/"}, "http://friend.example", true},
		{"own origin with an allow-list", []string{"http://friend.example"}, self, true},
		{"foreign origin with an allow-list", []string{"http://friend.example"}, "http://evil.example", false},
		{"allowed host, other scheme", []string{"http://friend.example"}, "https://friend.example", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newEnv(t, rooms.Config{}, server.Config{AllowedOrigins: tc.allowed})
			id := env.createRoom("arena", nil)
			origin := tc.origin
			if origin == self {
				origin = env.ts.URL
			}
			h := http.Header{}
			if origin != "" {
				h.Set("Origin", origin)
			}
			c, res, err := env.dialWithHeader(id, "name=visitor", h)
			if !tc.wantOK {
				if err == nil {
					t.Fatalf("origin %q: handshake succeeded, want it refused", origin)
				}
				if res == nil || res.StatusCode != http.StatusForbidden {
					t.Fatalf("origin %q: got %v (response %v), want a 403 handshake failure", origin, err, res)
				}
				if p := env.room(id).Players(); p != 0 {
					t.Fatalf("players after a refused handshake: got %d, want 0", p)
				}
				return
			}
			if err != nil {
				t.Fatalf("origin %q: dial: %v (response %v), want it accepted", origin, err, res)
			}
			c.waitSynced()
			if c.welcome.Room != id {
				t.Fatalf("welcome room: got %q, want %q", c.welcome.Room, id)
			}
		})
	}
}

// dialWithHeader is dial with request headers; it also returns the
// handshake response, which tells why a refused handshake failed.
func (e *testEnv) dialWithHeader(roomID, query string, h http.Header) (*wsClient, *http.Response, error) {
	u := "ws" + strings.TrimPrefix(e.ts.URL, "http") + "/ws/" + roomID + "?" + query
	conn, res, err := websocket.DefaultDialer.Dial(u, h)
	if res != nil && res.Body != nil {
		_ = res.Body.Close() // only the status is needed
	}
	if err != nil {
		return nil, res, err
	}
	c := &wsClient{t: e.t, conn: conn, msgs: make(chan []byte, 4096), closed: make(chan struct{})}
	go c.read()
	e.t.Cleanup(func() { conn.Close() })
	return c, res, nil
}

// doRequest sends a request and returns the response and its whole body.
func doRequest(t *testing.T, env *testEnv, method, path string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, env.ts.URL+path, body)
	if err != nil {
		t.Fatalf("request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return res, b
}

// wantAPIError checks an API error answer: the status, a JSON body, the
// code and a message for people.
func wantAPIError(t *testing.T, res *http.Response, body []byte, wantStatus int, wantCode string) {
	t.Helper()
	if res.StatusCode != wantStatus {
		t.Fatalf("status: got %d (%s), want %d", res.StatusCode, body, wantStatus)
	}
	wantJSON(t, res)
	var e apiErrorBody
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body %q is not JSON {code, message}: %v", body, err)
	}
	if e.Code != wantCode || e.Message == "" {
		t.Fatalf("error: got code %q message %q, want code %q and a message", e.Code, e.Message, wantCode)
	}
}

func wantJSON(t *testing.T, res *http.Response) {
	t.Helper()
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type: got %q, want application/json", ct)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

func listRooms(t *testing.T, env *testEnv) []roomInfo {
	t.Helper()
	var out []roomInfo
	if code := env.api(http.MethodGet, "/api/rooms", nil, &out); code != http.StatusOK {
		t.Fatalf("GET /api/rooms: status %d", code)
	}
	return out
}

func roomPlayers(t *testing.T, env *testEnv, id string) int {
	t.Helper()
	var info roomInfo
	if code := env.api(http.MethodGet, "/api/rooms/"+id, nil, &info); code != http.StatusOK {
		t.Fatalf("GET /api/rooms/%s: status %d", id, code)
	}
	for _, r := range listRooms(t, env) {
		if r.ID == id && r.Players != info.Players {
			t.Fatalf("players: the list says %d, the room says %d", r.Players, info.Players)
		}
	}
	return info.Players
}
