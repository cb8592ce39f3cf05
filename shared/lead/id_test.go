package lead

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func testIDKey(t *testing.T, fill byte) IDKey {
	t.Helper()
	k, err := NewIDKey(bytes.Repeat([]byte{fill}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// unkeyedIDs are what an id would be if it were a plain hash of the
// address: what anyone holding the logs could compute for a guess.
func unkeyedIDs(email string) []string {
	lead := sha256.Sum256([]byte("lead:" + email))
	plain := sha256.Sum256([]byte(email))
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	return []string{
		strings.ToLower(enc.EncodeToString(lead[:15])), strings.ToLower(enc.EncodeToString(plain[:15])),
		hex.EncodeToString(lead[:]), hex.EncodeToString(plain[:]),
	}
}

func TestIDKey_sameAddressSameKey_sameID_otherKey_otherID(t *testing.T) {
	k1, k2 := testIDKey(t, 1), testIDKey(t, 2)
	a := k1.ID("ada@example.com")
	if b := k1.ID("ada@example.com"); a != b {
		t.Fatalf("one address, one key, two ids: %s %s", a, b)
	}
	if k1.ID("bob@example.com") == a {
		t.Fatal("two addresses share an id")
	}
	if k2.ID("ada@example.com") == a {
		t.Fatal("another key gives the same id: the id is not keyed")
	}
	if strings.Contains(a, "ada") || len(a) != 24 || strings.ToLower(a) != a {
		t.Fatalf("id %q should be 24 opaque lower-case characters", a)
	}
}

func TestIDKey_idIsNotAPlainHashOfTheAddress(t *testing.T) {
	id := testIDKey(t, 1).ID("ada@example.com")
	for _, h := range unkeyedIDs("ada@example.com") {
		if strings.Contains(h, id) || strings.Contains(id, h[:24]) {
			t.Fatalf("id %s is an unkeyed hash of the address (%s)", id, h)
		}
	}
}

func TestNewIDKey_refusesMissingOrShortSecrets(t *testing.T) {
	if _, err := NewIDKey(nil); err != ErrNoIDKey {
		t.Errorf("no secret: %v, want ErrNoIDKey", err)
	}
	if _, err := NewIDKey(make([]byte, 31)); err == nil || !strings.Contains(err.Error(), "32 bytes") {
		t.Errorf("31 bytes: %v, want too short", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("the zero IDKey made an id: unkeyed ids must never be made")
		}
	}()
	IDKey{}.ID("ada@example.com")
}

func TestSubmissionKey_keyed(t *testing.T) {
	s := Submission{Fields: map[string]string{"email": "ada@example.com"}, ReceivedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	a := submissionKey(testIDKey(t, 1), "f", "ada@example.com", s)
	if a != submissionKey(testIDKey(t, 1), "f", "ada@example.com", s) {
		t.Fatal("one submission, two keys")
	}
	if a == submissionKey(testIDKey(t, 2), "f", "ada@example.com", s) {
		t.Fatal("another lead id key gives the same submission key: a guessed address could be checked against it")
	}
}

// Hash keys other values (the limits' client IPs) the same way: stable
// under one key, another under another key or domain, never the value's
// plain hash or a lead id.
func TestIDKey_hash_keyedAndApartFromIDs(t *testing.T) {
	k1, k2 := testIDKey(t, 1), testIDKey(t, 2)
	h := k1.Hash("limit", "198.51.100.4")
	if h != k1.Hash("limit", "198.51.100.4") || h == k2.Hash("limit", "198.51.100.4") || h == k1.Hash("other", "198.51.100.4") {
		t.Fatal("Hash is not stable per key and domain")
	}
	plain := sha256.Sum256([]byte("198.51.100.4"))
	if strings.Contains(h, "198") || strings.EqualFold(h, base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(plain[:15])) {
		t.Fatalf("hash %q shows or plainly hashes the value", h)
	}
	if strings.EqualFold(k1.Hash("lead", "ada@example.com"), k1.ID("ada@example.com")) {
		t.Fatal("Hash under the domain lead gives lead ids")
	}
}
