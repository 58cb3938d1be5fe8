package account

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
)

// tokenBytes is the entropy of every secret this package hands out (session cookies, links
// in mails, CSRF secrets): 256 bits.
const tokenBytes = 32

// maxTokenLen bounds what we hash from a caller: real tokens are 43 characters.
const maxTokenLen = 128

// newToken returns a fresh random token (base64url, no padding) and the hex SHA-256 under
// which it is stored. Only the hash reaches the database, so a leaked table holds no usable
// cookie or link.
func newToken() (token, hash string, err error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("random token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, hashToken(token), nil
}

// hashToken is the storage key of a token presented by a client.
func hashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// plausibleToken refuses empty and absurdly long strings before any hashing or lookup.
func plausibleToken(token string) bool { return token != "" && len(token) <= maxTokenLen }
