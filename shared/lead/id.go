package lead

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"hash"
	"strings"
)

// IDKey makes lead ids: the HMAC-SHA256 of the normalised address under a
// secret, so one person is one lead without a lookup item, and neither
// keys, links nor logs carry the address. The secret is what keeps an id
// from confirming a guessed address: a plain hash of the address could be
// recomputed by anyone holding the logs or a copy of the table. The secret
// sits with the link signing keys (token.LeadIDKeyID) but apart from them:
// lead ids are stored as keys, so this secret must never change, while
// signing keys rotate.
type IDKey struct {
	secret []byte
}

// MinIDSecretLen is the least secret length accepted: 256 bits.
const MinIDSecretLen = 32

// ErrNoIDKey is a product wired without the lead id key: it refuses to
// start rather than fall back to unkeyed ids.
var ErrNoIDKey = errors.New("lead: no lead id key")

// NewIDKey returns the key for secret, which must hold at least 32 bytes.
func NewIDKey(secret []byte) (IDKey, error) {
	if len(secret) == 0 {
		return IDKey{}, ErrNoIDKey
	}
	if len(secret) < MinIDSecretLen {
		return IDKey{}, errors.New("lead: the lead id key is too short: want at least 32 bytes")
	}
	return IDKey{secret: append([]byte(nil), secret...)}, nil
}

// IsZero reports a key without a secret (the zero IDKey).
func (k IDKey) IsZero() bool { return len(k.secret) == 0 }

// ID is the lead id of a normalised address: 24 lower-case base32
// characters (120 bits). It panics on the zero IDKey: app.New refuses to
// build the product without a key, so only a miswired test gets there.
func (k IDKey) ID(normalisedEmail string) string {
	m := k.mac("lead:")
	m.Write([]byte(normalisedEmail))
	sum := m.Sum(nil)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15]))
}

// Hash is a keyed hash of value under domain, never a lead id, e.g. a
// client's IP in the per-client limits' counters: it keys a value as
// steadily as an id, and nobody without the key can recompute it from a
// guess (the IPv4 space is small enough to hash whole).
func (k IDKey) Hash(domain, value string) string {
	m := k.mac("hash:" + domain + ":")
	m.Write([]byte(value))
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(m.Sum(nil)[:15])
}

// mac is an HMAC-SHA256 under the key, started with a domain so that no
// two uses of the key can give the same hash.
func (k IDKey) mac(domain string) hash.Hash {
	if k.IsZero() {
		panic(ErrNoIDKey)
	}
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(domain))
	return m
}
