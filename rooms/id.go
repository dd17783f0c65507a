package rooms

import (
	"encoding/base64"

	"github.com/google/uuid"
)

// newID returns a room id: a random UUID's 16 bytes (122 random bits) in
// URL-safe base64, 22 characters, so share links cannot be guessed.
func newID() string {
	u := uuid.New()
	return base64.RawURLEncoding.EncodeToString(u[:])
}
