package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Roles a share link can carry.
const (
	RolePlayer    = "player"
	RoleSpectator = "spectator"
)

// linkSigner signs and checks role-carrying share links: a room id, a role
// and an optional expiry, with HMAC-SHA256 under the server's link secret.
// An unsigned /r/{id} link is a player link; a spectator link must be signed.
type linkSigner struct{ key []byte }

func newLinkSigner(secret string) *linkSigner {
	if secret == "" {
		// No secret configured: links stay valid until this process stops.
		key := make([]byte, 32)
		_, _ = rand.Read(key) // crypto/rand.Read never fails on supported platforms
		return &linkSigner{key: key}
	}
	return &linkSigner{key: []byte(secret)}
}

func (l *linkSigner) mac(room, role string, exp int64) string {
	h := hmac.New(sha256.New, l.key)
	fmt.Fprintf(h, "%s\n%s\n%d", room, role, exp)
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}

// query returns the query string of a signed link; ttl 0 never expires.
func (l *linkSigner) query(room, role string, ttl time.Duration, now time.Time) string {
	var exp int64
	if ttl > 0 {
		exp = now.Add(ttl).Unix()
	}
	v := url.Values{"role": {role}, "sig": {l.mac(room, role, exp)}}
	if exp != 0 {
		v.Set("exp", strconv.FormatInt(exp, 10))
	}
	return v.Encode()
}

// Errors from role checking.
var (
	errBadLink     = errors.New("the link's signature is not valid")
	errExpiredLink = errors.New("the link has expired")
)

// role reads the role a join asks for from its query: no role is a player;
// a spectator role needs a valid signature.
func (l *linkSigner) role(room string, q url.Values, now time.Time) (string, error) {
	role := q.Get("role")
	switch role {
	case "", RolePlayer:
		if q.Get("sig") == "" {
			return RolePlayer, nil
		}
	case RoleSpectator:
	default:
		return "", fmt.Errorf("unknown role %q", role)
	}
	if role == "" {
		role = RolePlayer
	}
	var exp int64
	if s := q.Get("exp"); s != "" {
		var err error
		if exp, err = strconv.ParseInt(s, 10, 64); err != nil {
			return "", errBadLink
		}
	}
	if !hmac.Equal([]byte(q.Get("sig")), []byte(l.mac(room, role, exp))) {
		return "", errBadLink
	}
	if exp != 0 && now.Unix() > exp {
		return "", errExpiredLink
	}
	return role, nil
}
