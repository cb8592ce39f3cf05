package token_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/token"
)

var now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func secret(fill byte) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{fill}, 32))
}

func signer(t testing.TB, setting string) *token.Signer {
	t.Helper()
	s, err := token.ParseKeys(setting)
	if err != nil {
		t.Fatalf("ParseKeys: %v", err)
	}
	return s
}

const email = "ada.lovelace@example.com"

// leadID makes an id of the shape lead ids have (24 base32 characters),
// without depending on the lead package.
func leadID(email string) string {
	sum := sha256.Sum256([]byte("lead:" + email))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15]))
}

func typicalClaims() token.Claims {
	return token.Claims{
		Purpose: token.PurposeAnswer,
		LeadID:  leadID(email),
		Track:   "finops",
		Step:    3,
		Ref:     "company-size=201-1000",
		Expires: now.Add(90 * 24 * time.Hour),
	}
}

func TestSignVerify_roundTrip_returnsClaims(t *testing.T) {
	s := signer(t, "k1:"+secret(1))
	for _, c := range []token.Claims{
		typicalClaims(),
		{Purpose: token.PurposeUnsubscribe, LeadID: "x", Expires: now.Add(time.Second)},
		{Purpose: token.PurposeDossier, LeadID: strings.Repeat("é", 300), Track: "t", Step: -1, Ref: "asset-42", Expires: now.Add(time.Hour)},
	} {
		tok := s.Sign(c)
		got, err := s.Verify(tok, c.Purpose, now)
		if err != nil {
			t.Fatalf("Verify(%q): %v", tok, err)
		}
		if !got.Expires.Equal(c.Expires) {
			t.Errorf("Expires = %v, want %v", got.Expires, c.Expires)
		}
		got.Expires = c.Expires
		if got != c {
			t.Errorf("claims = %+v, want %+v", got, c)
		}
	}
}

func TestSign_typicalClaims_compactAndURLSafe(t *testing.T) {
	s := signer(t, "k2:"+secret(2)+",k1:"+secret(1))
	tok := s.Sign(typicalClaims())
	if len(tok) >= 120 {
		t.Errorf("token is %d characters, want < 120: %s", len(tok), tok)
	}
	for _, r := range tok {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			t.Fatalf("token has %q, not base64url without padding: %s", r, tok)
		}
	}
}

func TestSign_neverShowsLeadIDOrEmail(t *testing.T) {
	s := signer(t, "k1:"+secret(1))
	c := typicalClaims()
	c.Ref = email // even a careless caller putting the address in Ref
	tok := s.Sign(c)
	for _, secretText := range []string{
		c.LeadID, email, "ada", "lovelace", "finops",
		base64.RawURLEncoding.EncodeToString([]byte(c.LeadID)),
		base64.RawURLEncoding.EncodeToString([]byte(email)),
	} {
		if strings.Contains(strings.ToLower(tok), strings.ToLower(secretText)) {
			t.Errorf("token %s contains %q", tok, secretText)
		}
	}
	// Nor in the decoded bytes, for any 3-byte window of the id or address.
	raw, _ := base64.RawURLEncoding.DecodeString(tok)
	for _, plain := range []string{c.LeadID, email} {
		for i := 0; i+4 <= len(plain); i++ {
			if bytes.Contains(raw, []byte(plain[i:i+4])) {
				t.Errorf("token bytes contain %q from %q", plain[i:i+4], plain)
			}
		}
	}
}

func TestVerify_anyBitFlipped_invalid(t *testing.T) {
	s := signer(t, "k1:"+secret(1))
	c := typicalClaims()
	raw, err := base64.RawURLEncoding.DecodeString(s.Sign(c))
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		for bit := 0; bit < 8; bit++ {
			flipped := bytes.Clone(raw)
			flipped[i] ^= 1 << bit
			tok := base64.RawURLEncoding.EncodeToString(flipped)
			if _, err := s.Verify(tok, c.Purpose, now); !errors.Is(err, token.ErrInvalid) {
				t.Fatalf("byte %d bit %d flipped: err = %v, want ErrInvalid", i, bit, err)
			}
		}
	}
}

func TestVerify_anyCharacterChanged_invalid(t *testing.T) {
	s := signer(t, "k1:"+secret(1))
	c := typicalClaims()
	tok := s.Sign(c)
	for i := range tok {
		for _, r := range "AaQ_-z09" {
			if byte(r) == tok[i] {
				continue
			}
			changed := tok[:i] + string(r) + tok[i+1:]
			if _, err := s.Verify(changed, c.Purpose, now); !errors.Is(err, token.ErrInvalid) {
				t.Fatalf("character %d set to %q: err = %v, want ErrInvalid", i, r, err)
			}
		}
	}
}

func TestVerify_truncatedOrExtended_invalid(t *testing.T) {
	s := signer(t, "k1:"+secret(1))
	c := typicalClaims()
	tok := s.Sign(c)
	for n := 0; n < len(tok); n++ {
		if _, err := s.Verify(tok[:n], c.Purpose, now); !errors.Is(err, token.ErrInvalid) {
			t.Fatalf("first %d characters: err = %v, want ErrInvalid", n, err)
		}
	}
	for _, extra := range []string{"A", "AA", "AAAA", "=", "==", " ", "\n"} {
		if _, err := s.Verify(tok+extra, c.Purpose, now); !errors.Is(err, token.ErrInvalid) {
			t.Errorf("token+%q: err = %v, want ErrInvalid", extra, err)
		}
	}
}

func TestVerify_signedWithAnotherKey_invalid(t *testing.T) {
	mine := signer(t, "k1:"+secret(1))
	for name, theirs := range map[string]*token.Signer{
		"same key id, other secret": signer(t, "k1:"+secret(9)),
		"unknown key id":            signer(t, "k9:"+secret(1)),
	} {
		c := typicalClaims()
		if _, err := mine.Verify(theirs.Sign(c), c.Purpose, now); !errors.Is(err, token.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

func TestVerify_afterRotation_listedOldKeyVerifiesRemovedKeyFails(t *testing.T) {
	c := typicalClaims()
	before := signer(t, "k1:"+secret(1))
	oldTok := before.Sign(c)

	during := signer(t, "k2:"+secret(2)+",k1:"+secret(1))
	if _, err := during.Verify(oldTok, c.Purpose, now); err != nil {
		t.Errorf("old key still listed: err = %v, want it to verify", err)
	}
	newTok := during.Sign(c)
	if newTok == oldTok {
		t.Fatal("the new first key did not sign")
	}

	after := signer(t, "k2:"+secret(2))
	if _, err := after.Verify(newTok, c.Purpose, now); err != nil {
		t.Errorf("token of the current key: err = %v", err)
	}
	if _, err := after.Verify(oldTok, c.Purpose, now); !errors.Is(err, token.ErrInvalid) {
		t.Errorf("old key removed: err = %v, want ErrInvalid", err)
	}
}

func TestVerify_expiry(t *testing.T) {
	s := signer(t, "k1:"+secret(1))
	c := typicalClaims()
	c.Expires = now.Add(time.Hour)
	tok := s.Sign(c)
	for _, tc := range []struct {
		name  string
		at    time.Time
		valid bool
	}{
		{"a second before expiry is valid", c.Expires.Add(-time.Second), true},
		{"at expiry is invalid", c.Expires, false},
		{"after expiry is invalid", c.Expires.Add(24 * time.Hour), false},
	} {
		_, err := s.Verify(tok, c.Purpose, tc.at)
		if tc.valid && err != nil || !tc.valid && !errors.Is(err, token.ErrInvalid) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}

func TestVerify_zeroExpires_neverValid(t *testing.T) {
	s := signer(t, "k1:"+secret(1))
	c := typicalClaims()
	c.Expires = time.Time{}
	if _, err := s.Verify(s.Sign(c), c.Purpose, now); !errors.Is(err, token.ErrInvalid) {
		t.Errorf("err = %v, want ErrInvalid", err)
	}
}

func TestVerify_wrongPurpose_invalid(t *testing.T) {
	s := signer(t, "k1:"+secret(1))
	purposes := []string{token.PurposeUnsubscribe, token.PurposeAnswer, token.PurposeAccept, token.PurposeReturn, token.PurposeDossier}
	for _, signed := range purposes {
		c := typicalClaims()
		c.Purpose = signed
		tok := s.Sign(c)
		for _, asked := range append(purposes, "") {
			_, err := s.Verify(tok, asked, now)
			if asked == signed && err != nil {
				t.Errorf("signed %q, verified as %q: err = %v", signed, asked, err)
			}
			if asked != signed && !errors.Is(err, token.ErrInvalid) {
				t.Errorf("signed %q, verified as %q: err = %v, want ErrInvalid", signed, asked, err)
			}
		}
	}
}

// An attacker who knows the format and even a lead's id cannot move a token
// to another lead: every splice of a well-formed token fails.
func TestVerify_leadSwappedWithoutKey_invalid(t *testing.T) {
	s := signer(t, "k1:"+secret(1))
	mine := typicalClaims()
	theirs := mine
	theirs.LeadID = leadID("grace.hopper@example.com")

	mineRaw, _ := base64.RawURLEncoding.DecodeString(s.Sign(mine))
	theirsRaw, _ := base64.RawURLEncoding.DecodeString(s.Sign(theirs))
	if len(mineRaw) != len(theirsRaw) {
		t.Fatalf("same-shaped claims gave tokens of %d and %d bytes", len(mineRaw), len(theirsRaw))
	}
	// Keep my header and tag, take their ciphertext, and the other way round.
	headerAndTag := 2 + len("k1") + 16
	for name, raw := range map[string][]byte{
		"my tag, their ciphertext": append(bytes.Clone(mineRaw[:headerAndTag]), theirsRaw[headerAndTag:]...),
		"their tag, my ciphertext": append(bytes.Clone(theirsRaw[:headerAndTag]), mineRaw[headerAndTag:]...),
		// XOR the plaintext difference into the stream cipher text.
		"ciphertext edited in place": xorLeadID(mineRaw, mine.LeadID, theirs.LeadID),
	} {
		if _, err := s.Verify(base64.RawURLEncoding.EncodeToString(raw), mine.Purpose, now); !errors.Is(err, token.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

// xorLeadID flips the ciphertext bits where the two ids differ; with a bare
// stream cipher that would decrypt to the other lead, so the MAC must catch it.
func xorLeadID(raw []byte, from, to string) []byte {
	out := bytes.Clone(raw)
	// Counting from the end: ref, its length, track, its length, then the id.
	start := len(out) - len(from) - 1 - len("finops") - 1 - len("company-size=201-1000")
	for i := range len(from) {
		out[start+i] ^= from[i] ^ to[i]
	}
	return out
}

func TestVerify_garbage_invalid(t *testing.T) {
	s := signer(t, "k1:"+secret(1))
	for _, tok := range []string{
		"", "x", "====", "not a token", "AQJrMQ", strings.Repeat("A", 5000),
		"%00%00", "../../etc/passwd", "AQJrMf_____________________w",
	} {
		if _, err := s.Verify(tok, token.PurposeUnsubscribe, now); !errors.Is(err, token.ErrInvalid) {
			t.Errorf("Verify(%.20q): err = %v, want ErrInvalid", tok, err)
		}
	}
}

func TestParseKeys_errors(t *testing.T) {
	const hidden = "c2VjcmV0LXNlY3JldC1zZWNyZXQ" // must never be echoed
	for _, tc := range []struct {
		name, setting, want string
	}{
		{"empty setting", "", "no keys"},
		{"only spaces", "  ", "no keys"},
		{"no key id", hidden + "c2VjcmV0LXNlY3JldC1zZWNyZXQ", "key 1: missing \"id:\""},
		{"empty key id", ":" + secret(1), "key 1: empty key id"},
		{"key id with a slash", "a/b:" + secret(1), "key 1: key id may hold only"},
		{"key id too long", strings.Repeat("k", 17) + ":" + secret(1), "longer than 16"},
		{"empty secret", "k1:", "key 1 (\"k1\"): empty secret"},
		{"secret not base64", "k1:" + hidden + "!!", "key 1 (\"k1\"): secret is not base64"},
		{"secret too short", "k1:" + base64.StdEncoding.EncodeToString(make([]byte, 31)), "at least 32 bytes"},
		{"second entry bad", "k2:" + secret(2) + ",k1:" + hidden, "key 2 (\"k1\"): secret too short"},
		{"duplicate key id", "k1:" + secret(1) + ",k1:" + secret(2), "key 2 (\"k1\"): key id listed twice"},
		{"trailing comma", "k1:" + secret(1) + ",", "key 2: missing"},
		{"only the lead-id key", "lead-id:" + secret(9), "no keys"},
		{"lead-id key twice", "lead-id:" + secret(9) + ",k1:" + secret(1) + ",lead-id:" + secret(8), "key 3 (\"lead-id\"): key id listed twice"},
		{"lead-id key too short", "lead-id:" + base64.StdEncoding.EncodeToString(make([]byte, 31)) + ",k1:" + secret(1), "key 1 (\"lead-id\"): secret too short"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := token.ParseKeys(tc.setting)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if strings.Contains(err.Error(), hidden[:12]) || strings.Contains(err.Error(), secret(1)[:12]) {
				t.Errorf("error %q echoes the secret", err)
			}
		})
	}
}

func TestParseKeys_acceptsEveryBase64FlavourAndSpaces(t *testing.T) {
	b := bytes.Repeat([]byte{0xfb, 0xff}, 20) // makes '+' '/' or '-' '_' appear
	c := typicalClaims()
	want := signer(t, "k1:"+base64.StdEncoding.EncodeToString(b)).Sign(c)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		s := signer(t, " k1 : "+enc.EncodeToString(b)+" , k0:"+secret(0))
		if got := s.Sign(c); got != want {
			t.Errorf("secret decoded differently: %s != %s", got, want)
		}
	}
}

// The lead-id entry is no signing key wherever it stands: rotating the
// signing keys around it changes neither the links nor the lead id key.
func TestParse_leadIDEntryIsKeptApartFromTheSigningKeys(t *testing.T) {
	c := typicalClaims()
	want := signer(t, "k2:"+secret(2)+",k1:"+secret(1)).Sign(c)
	for _, setting := range []string{
		"lead-id:" + secret(9) + ",k2:" + secret(2) + ",k1:" + secret(1),
		"k2:" + secret(2) + ", lead-id : " + secret(9) + ",k1:" + secret(1),
	} {
		k, err := token.Parse(setting)
		if err != nil {
			t.Fatalf("Parse(%q): %v", setting, err)
		}
		if !bytes.Equal(k.LeadID, bytes.Repeat([]byte{9}, 32)) {
			t.Errorf("Parse(%q): lead id key %x", setting, k.LeadID)
		}
		if k.Signer == nil || k.Signer.Sign(c) != want {
			t.Errorf("Parse(%q): the signing keys changed with the lead-id entry", setting)
		}
	}
	k, err := token.Parse("k1:" + secret(1))
	if err != nil || k.LeadID != nil || k.Signer == nil {
		t.Errorf("Parse without a lead-id entry = %+v, %v; want a signer and no lead id key", k, err)
	}
	if k, err := token.Parse(""); err != nil || k.Signer != nil || k.LeadID != nil {
		t.Errorf("Parse(\"\") = %+v, %v; want nothing", k, err)
	}
}

func FuzzVerify(f *testing.F) {
	s := signer(f, "k1:"+secret(1))
	c := typicalClaims()
	valid := s.Sign(c)
	f.Add(valid, c.Purpose)
	f.Add(valid[:len(valid)-1], c.Purpose)
	f.Add(valid, token.PurposeAccept)
	f.Add("", "")
	f.Add("AQJrMQ", "u")
	f.Fuzz(func(t *testing.T, tok, purpose string) {
		got, err := s.Verify(tok, purpose, now)
		if err != nil {
			if err != token.ErrInvalid { //nolint:errorlint // the very sentinel, unwrapped
				t.Fatalf("err = %v, want exactly ErrInvalid", err)
			}
			return
		}
		// Sealing is deterministic, so the only tokens that can pass are the
		// exact ones the signer produces: anything else is a forgery.
		if again := s.Sign(got); again != tok {
			t.Fatalf("accepted %q for %+v, but the signer makes %q", tok, got, again)
		}
		if tok != valid {
			t.Fatalf("accepted a token that was never signed: %q", tok)
		}
	})
}

func TestVerifyExpired_onlyOurExpiredTokens_withinGrace(t *testing.T) {
	s := signer(t, "k1:"+secret(1))
	c := typicalClaims()
	c.Purpose = token.PurposeDossier
	c.Expires = now
	tok := s.Sign(c)
	grace := 365 * 24 * time.Hour
	got, err := s.VerifyExpired(tok, c.Purpose, now.Add(time.Hour), grace)
	if err != nil || got != c {
		t.Fatalf("an expired token of ours: %+v, %v; want its claims", got, err)
	}
	for name, check := range map[string]func() error{
		"still valid": func() error { _, err := s.VerifyExpired(tok, c.Purpose, now.Add(-time.Second), grace); return err },
		"expired longer ago than grace": func() error {
			_, err := s.VerifyExpired(tok, c.Purpose, now.Add(grace+time.Second), grace)
			return err
		},
		"another purpose": func() error {
			_, err := s.VerifyExpired(tok, token.PurposeAccept, now.Add(time.Hour), grace)
			return err
		},
		"another key": func() error {
			_, err := signer(t, "k1:"+secret(2)).VerifyExpired(tok, c.Purpose, now.Add(time.Hour), grace)
			return err
		},
		"tampered": func() error {
			b := []byte(tok)
			b[len(b)-3] ^= 1
			_, err := s.VerifyExpired(string(b), c.Purpose, now.Add(time.Hour), grace)
			return err
		},
	} {
		if err := check(); !errors.Is(err, token.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}
