package server

import (
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// playerClaims are the claims tickroom reads from an auth token: the
// subject is the player's id, name the display name to show.
type playerClaims struct {
	Name string `json:"name"`
	jwt.RegisteredClaims
}

// verifyPlayer checks an HS256 JWT signed with secret (expiry and
// not-before are enforced when present) and returns its subject and name.
func verifyPlayer(secret []byte, token string) (id, name string, err error) {
	if token == "" {
		return "", "", errors.New("this server needs an auth token (?auth=JWT)")
	}
	var claims playerClaims
	_, err = jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{"HS256"}))
	if err != nil {
		return "", "", fmt.Errorf("auth token refused: %w", err)
	}
	if claims.Subject == "" {
		return "", "", errors.New("auth token refused: no subject (player id)")
	}
	return claims.Subject, claims.Name, nil
}
