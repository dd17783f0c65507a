package server_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/rooms/arena"
	"github.com/tickroom/tickroom/rooms/arenabench"
	"github.com/tickroom/tickroom/rooms/board"
	"github.com/tickroom/tickroom/server"
)

// fuzzServer is a server with the built-in types, called in process (no
// socket: the fuzzers test what the handlers make of bodies, not net/http).
func fuzzServer(f *testing.F, sc server.Config) (*server.Server, *rooms.Manager) {
	reg := rooms.NewRegistry()
	for _, ty := range []*rooms.Type{arena.Type, board.Type, arenabench.Type} {
		if err := reg.Register(ty); err != nil {
			f.Fatal(err)
		}
	}
	log := slog.New(slog.DiscardHandler)
	sc.Logger = log
	mgr := rooms.NewManager(reg, rooms.Config{Logger: log, MaxRooms: 100000})
	f.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = mgr.Shutdown(ctx, rooms.CloseGoingAway, "fuzz over") // a fuzz run's rooms: nothing to report
	})
	return server.New(mgr, sc), mgr
}

// call sends one request to srv and checks what every API answer must be:
// JSON, and for an error a {code, message} body; never a 500.
func call(t *testing.T, srv *server.Server, method, path, contentType string, body []byte, allowed ...int) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(string(body)))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer fuzz-admin")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	ok := false
	for _, s := range allowed {
		ok = ok || rec.Code == s
	}
	if !ok {
		t.Fatalf("%s %s with body %q: status %d (%s), want one of %v", method, path, body, rec.Code, rec.Body.Bytes(), allowed)
	}
	if rec.Code >= 300 {
		var e struct{ Code, Message string }
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Code == "" || e.Message == "" {
			t.Fatalf("%s %s with body %q: error answer %q is not JSON {code, message}", method, path, body, rec.Body.Bytes())
		}
	}
	return rec
}

// FuzzCreateRoomBody: whatever a creator posts to /api/rooms, the answer is
// 201 with a room that exists, or a JSON error (400 for what is wrong with
// the request, 413 past 64 KiB, 503 at the room limit), never a 500 or a
// panic. Rooms it makes are closed at once.
func FuzzCreateRoomBody(f *testing.F) {
	srv, mgr := fuzzServer(f, server.Config{RoomCreateRate: -1})
	for _, b := range []string{
		`{"type":"arena"}`,
		`{"type":"arena","options":{"width":800,"height":500,"speed":4,"coins":20},"visibility":"unlisted","maxPlayers":4}`,
		`{"type":"board","options":{"maxShapes":10},"record":false}`,
		`{"type":"arena-bench","visibility":"public"}`,
		`{"type":"arena","options":{"width":"wide"}}`,
		`{"type":"arena","options":{"width":1e400}}`,
		`{"type":"nope"}`, `{"type":"arena","maxPlayers":-1}`, `{"type":"arena","extra":1}`,
		`{"type":"arena"} {"type":"board"}`, `[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := call(t, srv, "POST", "/api/rooms", "application/json", body,
			http.StatusCreated, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable)
		if rec.Code != http.StatusCreated {
			return
		}
		var c struct{ ID string }
		if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil {
			t.Fatalf("create answer %q: %v", rec.Body.Bytes(), err)
		}
		r := mgr.Get(c.ID)
		if r == nil {
			t.Fatalf("created room %q does not exist", c.ID)
		}
		r.Close(rooms.CloseRoomClosed, "fuzz")
	})
}

// FuzzAdminKickBody: the admin API's one body, under every content type
// echo's binder reads (JSON, XML, forms): a 204, or a JSON 400, 404, 413 or
// 503 (room_busy: the room did not answer in time); never a 500.
func FuzzAdminKickBody(f *testing.F) {
	srv, mgr := fuzzServer(f, server.Config{AdminToken: "fuzz-admin", RoomCreateRate: -1})
	r, err := mgr.Create(rooms.CreateRequest{Type: "arena", Public: true})
	if err != nil {
		f.Fatal(err)
	}
	path := "/api/admin/rooms/" + r.ID + "/kick"
	for _, tt := range []struct{ ct, body string }{
		{"application/json", `{"member":1}`}, {"application/json", `{"member":-1}`}, {"application/json", `{"member":1e99}`},
		{"application/json", `{"member":"1"}`}, {"application/json", `[1]`}, {"application/json", ``},
		{"application/xml", `<x><member>1</member></x>`}, {"text/xml", `<!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>`},
		{"application/x-www-form-urlencoded", `member=1`}, {"application/x-www-form-urlencoded", `member=%zz`},
		{"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"member\"\r\n\r\n1\r\n--b--\r\n"},
		{"", `{"member":2}`},
	} {
		f.Add(tt.ct, []byte(tt.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		if strings.ContainsAny(contentType, "\r\n") {
			return // not a header a request can carry
		}
		call(t, srv, "POST", path, contentType, body,
			http.StatusNoContent, http.StatusBadRequest, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusServiceUnavailable)
	})
}
