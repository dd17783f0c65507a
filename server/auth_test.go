package server_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tickroom/tickroom/rooms"
	"github.com/tickroom/tickroom/server"
)

func signed(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuthTokenIsRequiredAndChecked(t *testing.T) {
	secret := []byte("jwt-secret")
	env := newEnv(t, rooms.Config{}, server.Config{JWTSecret: string(secret)})
	id := env.createRoom("arena", nil)
	future := time.Now().Add(time.Hour).Unix()
	refused := map[string]string{
		"no token":           "",
		"garbage":            "not.a.jwt",
		"wrong secret":       signed(t, jwt.SigningMethodHS256, []byte("other"), jwt.MapClaims{"sub": "p1", "exp": future}),
		"expired":            signed(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "p1", "exp": time.Now().Add(-time.Minute).Unix()}),
		"no subject":         signed(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"name": "x", "exp": future}),
		"other hmac (HS512)": signed(t, jwt.SigningMethodHS512, secret, jwt.MapClaims{"sub": "p1", "exp": future}),
		"alg none":           signed(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": "p1"}),
	}
	for name, tok := range refused {
		t.Run(name, func(t *testing.T) {
			c, err := env.dial(id, url.Values{"name": {"x"}, "auth": {tok}}.Encode())
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if ce := c.waitClose(); ce.Code != rooms.CloseRefused {
				t.Fatalf("close %d %q, want %d", ce.Code, ce.Text, rooms.CloseRefused)
			}
		})
	}
	if got := env.room(id).Players(); got != 0 {
		t.Fatalf("players after refused joins: %d", got)
	}
}

// TestSeatBelongsToItsPlayer: with auth on, the name comes from the token,
// the same player joining again takes its seat back without a resume
// token, and another player's resume token cannot take it.
func TestSeatBelongsToItsPlayer(t *testing.T) {
	secret := []byte("jwt-secret")
	env := newEnv(t, rooms.Config{SeatGrace: time.Minute}, server.Config{JWTSecret: string(secret)})
	id := env.createRoom("arena", nil)
	tok := func(sub, name string) string {
		return signed(t, jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": sub, "name": name, "exp": time.Now().Add(time.Hour).Unix()})
	}
	first, err := env.dial(id, url.Values{"name": {"ignored"}, "auth": {tok("player-1", "Ann")}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	first.waitSynced()
	if first.welcome.Members[len(first.welcome.Members)-1].Name != "Ann" {
		t.Fatalf("display name: %+v, want Ann from the token", first.welcome.Members)
	}
	again, err := env.dial(id, url.Values{"auth": {tok("player-1", "Ann")}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	again.waitSynced()
	if !again.welcome.Resumed || again.welcome.Member != first.welcome.Member || *again.welcome.Entity != *first.welcome.Entity {
		t.Fatalf("same player again: resumed %v member %d (first %d)", again.welcome.Resumed, again.welcome.Member, first.welcome.Member)
	}
	if ce := first.waitClose(); ce.Code != rooms.CloseReplaced {
		t.Fatalf("the older connection: close %d, want %d", ce.Code, rooms.CloseReplaced)
	}
	thief, err := env.dial(id, url.Values{"auth": {tok("player-2", "Bo")}, "token": {first.welcome.Token}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	thief.waitSynced()
	if thief.welcome.Resumed || thief.welcome.Member == first.welcome.Member {
		t.Fatalf("another player with a stolen token: resumed %v member %d", thief.welcome.Resumed, thief.welcome.Member)
	}
}
