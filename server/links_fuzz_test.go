package server

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzLinkRole: a join's query, whatever it holds, gives a player, or a
// spectator only with the signature this server makes for that room, role
// and expiry, before the expiry; anything else is refused. A link the
// server signs for the room always works.
func FuzzLinkRole(f *testing.F) {
	l := newLinkSigner("fuzz-link-secret")
	now := time.Unix(1_800_000_000, 0)
	for _, q := range []string{
		l.query("room1", RoleSpectator, 0, now), l.query("room1", RoleSpectator, time.Hour, now),
		l.query("room1", RoleSpectator, time.Hour, now.Add(-2*time.Hour)), l.query("room1", RolePlayer, 0, now),
		"role=spectator", "role=spectator&sig=", "role=spectator&sig=AAAA&exp=1", "role=admin",
		"role=player&sig=x", "exp=-1&role=spectator&sig=x", "role=spectator&role=player", "", "%zz&role=spectator",
	} {
		f.Add("room1", q)
	}
	f.Fuzz(func(t *testing.T, room, rawQuery string) {
		q, _ := url.ParseQuery(rawQuery) // as r.URL.Query() does: bad pairs are dropped
		role, err := l.role(room, q, now)
		switch {
		case err != nil:
			if role != "" {
				t.Fatalf("refused with role %q", role)
			}
		case role == RolePlayer:
		case role == RoleSpectator:
			var exp int64
			if s := q.Get("exp"); s != "" {
				exp, _ = strconv.ParseInt(s, 10, 64)
			}
			if q.Get("sig") != l.mac(room, RoleSpectator, exp) {
				t.Fatalf("spectator for room %q without this server's signature: %q", room, rawQuery)
			}
			if exp != 0 && now.Unix() > exp {
				t.Fatalf("spectator on a link that expired at %d: %q", exp, rawQuery)
			}
		default:
			t.Fatalf("role %q from %q", role, rawQuery)
		}
		own, _ := url.ParseQuery(l.query(room, RoleSpectator, time.Minute, now))
		if got, err := l.role(room, own, now); got != RoleSpectator || err != nil {
			t.Fatalf("the server's own link for room %q: %q, %v", room, got, err)
		}
	})
}

// FuzzVerifyPlayer: any ?auth= value is refused, or names a player (a
// subject) under a token signed with the secret by HS256.
func FuzzVerifyPlayer(f *testing.F) {
	secret := []byte("fuzz-jwt-secret")
	sign := func(m jwt.SigningMethod, key any, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	f.Add(sign(jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "p1", "name": "Ann"}))
	f.Add(sign(jwt.SigningMethodHS256, secret, jwt.MapClaims{"sub": "p1", "exp": 1}))
	f.Add(sign(jwt.SigningMethodHS512, secret, jwt.MapClaims{"sub": "p1"}))
	f.Add(sign(jwt.SigningMethodHS256, []byte("other"), jwt.MapClaims{"sub": "p1"}))
	f.Add(sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": "p1"}))
	f.Add("e30.e30.")
	f.Add("")
	f.Fuzz(func(t *testing.T, token string) {
		id, _, err := verifyPlayer(secret, token)
		if err != nil {
			return
		}
		if id == "" {
			t.Fatal("accepted a token without a subject")
		}
		tok, _, perr := jwt.NewParser().ParseUnverified(token, jwt.MapClaims{})
		if perr != nil || tok.Method.Alg() != "HS256" {
			t.Fatalf("accepted a token that is not HS256: %q", token)
		}
	})
}
