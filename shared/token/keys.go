package token

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// LeadIDKeyID names the entry of the keys setting that holds the lead id
// key (lead.IDKey) rather than a link signing key, e.g.
// "lead-id:BASE64,k2:BASE64,k1:BASE64". It is kept with the signing keys
// because it is as secret and read the same way (one SecureString), but
// apart from them because it lives differently: lead ids are the table's
// keys, so the lead-id key is never rotated (a new one would orphan every
// stored lead and erasure marker), while signing keys are rotated freely.
const LeadIDKeyID = "lead-id"

// Keys is the keys setting read: the link signer and the lead id key.
type Keys struct {
	// Signer is nil when the setting holds no signing key.
	Signer *Signer
	// LeadID is the lead-id entry's secret, nil when there is none.
	LeadID []byte
}

// ParseKeys builds a signer from a setting such as "k2:BASE64,k1:BASE64".
// The first key signs and every listed key verifies, so rotating is: put the
// new key first, wait until links signed with the old one no longer matter,
// then remove it. Secrets may be in standard or URL-safe base64, padded or
// not, and must decode to at least 32 bytes. The lead-id entry
// (LeadIDKeyID), wherever it stands, is no signing key: Parse returns it.
//
// Errors name the entry and its key id, never the secret.
func ParseKeys(s string) (*Signer, error) {
	k, err := Parse(s)
	if err != nil {
		return nil, err
	}
	if k.Signer == nil {
		return nil, errNoKeys
	}
	return k.Signer, nil
}

var errNoKeys = errors.New("token: no keys: want id:base64secret[,id:base64secret...]")

// Parse reads the keys setting: the signing keys, in order, and the
// lead-id entry. Either may be missing; an empty setting holds neither.
func Parse(s string) (Keys, error) {
	var out Keys
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	var keys []Key
	for i, entry := range strings.Split(s, ",") {
		entry = strings.TrimSpace(entry)
		id, secret, ok := strings.Cut(entry, ":")
		if !ok {
			// Only the position is named: a pasted bare secret would be echoed otherwise.
			return out, &keyError{index: i, problem: "missing \"id:\" before the secret"}
		}
		id = strings.TrimSpace(id)
		if err := checkKeyID(id); err != nil {
			return out, &keyError{index: i, id: id, problem: err.Error()}
		}
		secret = strings.TrimSpace(secret)
		if secret == "" {
			return out, &keyError{index: i, id: id, problem: "empty secret"}
		}
		b, err := decodeSecret(secret)
		if err != nil {
			return out, &keyError{index: i, id: id, problem: "secret is not base64"}
		}
		if id != LeadIDKeyID {
			keys = append(keys, Key{ID: id, Secret: b})
			continue
		}
		switch {
		case out.LeadID != nil:
			return out, &keyError{index: i, id: id, problem: "key id listed twice"}
		case len(b) < MinSecretLen:
			return out, &keyError{index: i, id: id, problem: "secret too short: want at least 32 bytes"}
		}
		out.LeadID = b
	}
	if len(keys) > 0 {
		signer, err := NewSigner(keys...)
		if err != nil {
			return out, err
		}
		out.Signer = signer
	}
	return out, nil
}

// keyError reports a bad key without ever printing its secret.
type keyError struct {
	index   int
	id      string
	problem string
}

func (e *keyError) Error() string {
	if e.id == "" || checkKeyID(e.id) != nil {
		return fmt.Sprintf("token: key %d: %s", e.index+1, e.problem)
	}
	return fmt.Sprintf("token: key %d (%q): %s", e.index+1, e.id, e.problem)
}

// checkKeyID keeps key ids short and URL-harmless: they travel in every token.
func checkKeyID(id string) error {
	if id == "" {
		return errors.New("empty key id")
	}
	if len(id) > maxKeyID {
		return fmt.Errorf("key id longer than %d characters", maxKeyID)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return errors.New("key id may hold only letters, digits, '-', '_' and '.'")
		}
	}
	return nil
}

func decodeSecret(s string) ([]byte, error) {
	var err error
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		var b []byte
		if b, err = enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, err
}
