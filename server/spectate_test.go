package server_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/server"
	"github.com/tickroom/tickroom/state"
)

func createWithLinks(t *testing.T, env *testEnv, typ string) (id string, spectateQuery string) {
	t.Helper()
	var res struct {
		ID          string `json:"id"`
		SpectateURL string `json:"spectateUrl"`
	}
	if code := env.api("POST", "/api/rooms", map[string]any{"type": typ}, &res); code != 201 {
		t.Fatalf("create: %d", code)
	}
	prefix := "/r/" + res.ID + "?"
	if !strings.HasPrefix(res.SpectateURL, prefix) {
		t.Fatalf("spectateUrl %q does not start with %q", res.SpectateURL, prefix)
	}
	return res.ID, strings.TrimPrefix(res.SpectateURL, prefix)
}

// TestSpectatorLinkCannotPlay: a spectator link watches the same stream as
// the players but cannot send inputs or chat, and is no member.
func TestSpectatorLinkCannotPlay(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{})
	id, q := createWithLinks(t, env, "arena")
	player := env.join(id, "player")
	spec, err := env.dial(id, q)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	spec.waitSynced()
	if !spec.welcome.Spectator || spec.welcome.Entity != nil || spec.welcome.Member != 0 {
		t.Fatalf("spectator welcome: spectator=%v entity=%v member=%d", spec.welcome.Spectator, spec.welcome.Entity, spec.welcome.Member)
	}
	spec.input(map[string]any{"dx": 1, "dy": 0})
	spec.send([]any{state.ClientChat, "hi"})
	spec.waitFor("spectator errors", func() bool { return len(spec.errors) >= 2 })
	for _, code := range spec.errorCodes() {
		if code != state.ErrCodeSpectator {
			t.Fatalf("spectator error codes: got %v, want only %q", spec.errorCodes(), state.ErrCodeSpectator)
		}
	}
	player.input(map[string]any{"dx": 1, "dy": 0})
	player.waitTick(spec.mirror.Tick + 5)
	env.checkMirror(id, spec)
	if got := env.room(id).Players(); got != 1 {
		t.Fatalf("players: got %d, want 1 (a spectator is no player)", got)
	}
	if got := env.room(id).Spectators(); got != 1 {
		t.Fatalf("spectators: got %d, want 1", got)
	}
	if n := len(player.eventsOf("join")); n != 1 || len(player.eventsOf("chat")) != 0 {
		t.Fatalf("player saw %d joins and %d chats; want only its own join and no chat", n, len(player.eventsOf("chat")))
	}
}

func TestForgedAndExpiredLinksAreRefused(t *testing.T) {
	env := newEnv(t, rooms.Config{}, server.Config{LinkSecret: "s3cret", SpectateLinkTTL: time.Hour})
	id, q := createWithLinks(t, env, "arena")
	good, _ := url.ParseQuery(q)
	if good.Get("exp") == "" {
		t.Fatal("a link with a TTL has no exp")
	}
	forged := url.Values{"role": {"spectator"}, "sig": {"AAAA"}}
	expired := url.Values{"role": {"spectator"}, "exp": {"1000"}, "sig": {good.Get("sig")}}
	tampered := url.Values{"role": {"spectator"}, "exp": {good.Get("exp") + "0"}, "sig": {good.Get("sig")}}
	for name, v := range map[string]url.Values{"forged": forged, "expired": expired, "tampered expiry": tampered,
		"unknown role": {"role": {"admin"}}} {
		t.Run(name, func(t *testing.T) {
			c, err := env.dial(id, v.Encode())
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if ce := c.waitClose(); ce.Code != rooms.CloseRefused {
				t.Fatalf("close: got %d %q, want %d", ce.Code, ce.Text, rooms.CloseRefused)
			}
		})
	}
	ok, err := env.dial(id, q)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	ok.waitSynced()
}
