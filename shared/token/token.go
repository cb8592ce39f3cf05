// Package token makes and checks the signed tokens that links in emails carry
// instead of a lead id or an email address.
//
// A token is sealed with deterministic authenticated encryption in the SIV
// style (RFC 5297's construction, with HMAC-SHA256 as the PRF):
//
//	tag        = HMAC-SHA256(macKey, domain | version | key id | purpose | payload)[:16]
//	ciphertext = AES-256-CTR(encKey, iv = tag, payload)
//	token      = base64url(version | len(key id) | key id | tag | ciphertext)
//
// Why this shape:
//   - The HMAC authenticates everything, including the purpose, which is never
//     written into the token: an unsubscribe token cannot pass as an accept
//     token, and the URL stays short.
//   - Encrypting costs no extra bytes (the tag doubles as the IV), so nothing
//     in a URL (lead id, track, answer) can be read back by whoever sees it:
//     a forwarded mail, a proxy log, a security scanner.
//   - Sealing is deterministic: the same claims give the same token. That
//     reveals only that two links are identical, and it lets tests and the
//     fuzzer check that an accepted token is exactly what Sign would produce.
//
// A 128-bit tag is well above what an online forger can search; the key id
// travels in clear so that verification can pick the key during rotation.
package token

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"time"
)

// Purposes say what a link may do. They are short because purposes shape
// URLs; the purpose a token was signed for is bound into its MAC.
const (
	PurposeUnsubscribe = "u"
	PurposeAnswer      = "a"
	PurposeKeep        = "k" // "keep them coming", the answer to the re-engagement email
	PurposeAccept      = "accept"
	PurposeReturn      = "return"
	PurposeDossier     = "dossier"
	// PurposeInbox opens an owner's sales inbox; its Ref is the owner's
	// address and it names no lead.
	PurposeInbox = "inbox"
	// "Was this useful?": one purpose per answer, so a link for one cannot
	// record the other.
	PurposeUseful    = "useful"
	PurposeNotUseful = "not-useful"
	PurposeHelp      = "help"  // "What would help you most next?"
	PurposePrefs     = "prefs" // the lead's preference page
	// PurposeResults opens the program's results; it names no lead.
	PurposeResults = "results"
	// PurposeConfirm confirms an address (double opt-in); its Ref names
	// the wait it confirms.
	PurposeConfirm = "confirm"
)

// ErrInvalid is the only error Verify returns: tampered, truncated, expired,
// for another purpose, signed with an unknown key, or not a token at all.
// Callers answer the same way to all of them and so reveal nothing.
var ErrInvalid = errors.New("token: invalid or expired")

// Claims is what a token asserts about the link it sits in.
type Claims struct {
	Purpose string
	LeadID  string
	Track   string
	Step    int
	// Ref names the thing acted on, e.g. a question id and answer value
	// ("role=cto") or an asset id.
	Ref string
	// Expires is when the token stops verifying. It is kept to the second,
	// rounded down. A zero Expires is long past, so a token signed without
	// one never verifies: forgetting the lifetime fails closed.
	Expires time.Time
}

const (
	version  = 1
	tagSize  = 16
	maxKeyID = 16
	// maxTokenLen bounds the work done on hostile input; real tokens are
	// around 100 characters.
	maxTokenLen = 1024
	domain      = "leadnurture/token"
)

var encoding = base64.RawURLEncoding.Strict()

// Signer signs with its first key and verifies with any of its keys.
type Signer struct {
	keys []key // keys[0] signs
}

type key struct {
	id     string
	macKey []byte
	block  cipher.Block
}

// Key is one named secret, as it appears in the TOKEN_KEYS setting.
type Key struct {
	ID     string
	Secret []byte
}

// MinSecretLen is the least secret length accepted: 256 bits, the strength
// of HMAC-SHA256 and of AES-256.
const MinSecretLen = 32

// NewSigner builds a signer from keys, the first of which signs. Old keys stay
// in the list only to verify links already sent, until they are removed.
func NewSigner(keys ...Key) (*Signer, error) {
	if len(keys) == 0 {
		return nil, errors.New("token: no keys")
	}
	s := &Signer{}
	seen := map[string]bool{}
	for i, k := range keys {
		if err := checkKeyID(k.ID); err != nil {
			return nil, &keyError{index: i, id: k.ID, problem: err.Error()}
		}
		if seen[k.ID] {
			return nil, &keyError{index: i, id: k.ID, problem: "key id listed twice"}
		}
		seen[k.ID] = true
		if len(k.Secret) < MinSecretLen {
			return nil, &keyError{index: i, id: k.ID, problem: "secret too short: want at least 32 bytes"}
		}
		dk, err := derive(k)
		if err != nil {
			return nil, &keyError{index: i, id: k.ID, problem: err.Error()}
		}
		s.keys = append(s.keys, dk)
	}
	return s, nil
}

// derive splits one secret into independent MAC and encryption keys, so the
// same bytes never serve two algorithms.
func derive(k Key) (key, error) {
	macKey, err := hkdf.Key(sha256.New, k.Secret, nil, domain+"/mac", 32)
	if err != nil {
		return key{}, err
	}
	encKey, err := hkdf.Key(sha256.New, k.Secret, nil, domain+"/enc", 32)
	if err != nil {
		return key{}, err
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return key{}, err
	}
	return key{id: k.ID, macKey: macKey, block: block}, nil
}

// Sign seals the claims into a URL-safe token (base64url, no padding),
// about 110 characters for a lead id, a track, a step and a short ref. A
// token signed with an empty Purpose never verifies.
func (s *Signer) Sign(c Claims) string {
	k := s.keys[0]
	payload := encodePayload(c)
	header := make([]byte, 0, 2+len(k.id))
	header = append(header, version, byte(len(k.id)))
	header = append(header, k.id...)

	tag := k.tag(header, c.Purpose, payload)
	out := make([]byte, 0, len(header)+tagSize+len(payload))
	out = append(out, header...)
	out = append(out, tag...)
	out = append(out, k.crypt(tag, payload)...)
	return encoding.EncodeToString(out)
}

// Verify opens a token signed for purpose and not expired at now. Every
// failure is ErrInvalid.
func (s *Signer) Verify(tok string, purpose string, now time.Time) (Claims, error) {
	c, err := s.open(tok, purpose)
	if err != nil || !now.Before(c.Expires) {
		return Claims{}, ErrInvalid
	}
	return c, nil
}

// VerifyExpired opens a token we signed for purpose that has expired at
// now, at most grace ago: a page may then offer what is safe whoever holds
// the link (a fresh link sent to the address it was meant for). A token
// still valid, or expired longer ago, is ErrInvalid, like any other.
func (s *Signer) VerifyExpired(tok string, purpose string, now time.Time, grace time.Duration) (Claims, error) {
	c, err := s.open(tok, purpose)
	if err != nil || now.Before(c.Expires) || now.Sub(c.Expires) > grace {
		return Claims{}, ErrInvalid
	}
	return c, nil
}

// open checks a token's seal and reads its claims, expired or not.
func (s *Signer) open(tok string, purpose string) (Claims, error) {
	if purpose == "" || len(tok) > maxTokenLen || !urlSafe(tok) {
		return Claims{}, ErrInvalid
	}
	raw, err := encoding.DecodeString(tok)
	if err != nil || len(raw) < 2 || raw[0] != version {
		return Claims{}, ErrInvalid
	}
	idLen := int(raw[1])
	if len(raw) < 2+idLen+tagSize {
		return Claims{}, ErrInvalid
	}
	header := raw[:2+idLen]
	k, ok := s.key(string(header[2:]))
	if !ok {
		return Claims{}, ErrInvalid
	}
	tag := raw[len(header) : len(header)+tagSize]
	payload := k.crypt(tag, raw[len(header)+tagSize:])
	if !hmac.Equal(tag, k.tag(header, purpose, payload)) {
		return Claims{}, ErrInvalid
	}
	c, ok := decodePayload(payload)
	if !ok {
		return Claims{}, ErrInvalid
	}
	c.Purpose = purpose
	return c, nil
}

// urlSafe checks the alphabet before decoding, because the base64 decoder
// skips line breaks: a token must have exactly one spelling.
func urlSafe(tok string) bool {
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (s *Signer) key(id string) (key, bool) {
	for _, k := range s.keys {
		if k.id == id {
			return k, true
		}
	}
	return key{}, false
}

// tag is the MAC over everything the token stands for. Each variable-length
// part is length-prefixed, so no two different inputs share an encoding.
func (k key) tag(header []byte, purpose string, payload []byte) []byte {
	m := hmac.New(sha256.New, k.macKey)
	m.Write([]byte(domain))
	m.Write(header)
	m.Write(binary.AppendUvarint(nil, uint64(len(purpose))))
	m.Write([]byte(purpose))
	m.Write(payload)
	return m.Sum(nil)[:tagSize]
}

// crypt runs AES-CTR with the tag as IV; it both encrypts and decrypts.
func (k key) crypt(iv, in []byte) []byte {
	out := make([]byte, len(in))
	cipher.NewCTR(k.block, iv).XORKeyStream(out, in)
	return out
}

// encodePayload packs the claims other than the purpose:
// varint expires (unix seconds) | varint step | lead id | track | ref,
// each string as uvarint length then bytes.
func encodePayload(c Claims) []byte {
	b := make([]byte, 0, 16+len(c.LeadID)+len(c.Track)+len(c.Ref))
	b = binary.AppendVarint(b, c.Expires.Unix())
	b = binary.AppendVarint(b, int64(c.Step))
	for _, s := range []string{c.LeadID, c.Track, c.Ref} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	return b
}

// decodePayload is strict: any leftover or missing byte is a failure. The MAC
// was checked first, so this only guards against our own encoding bugs.
func decodePayload(b []byte) (Claims, bool) {
	r := bytes.NewReader(b)
	exp, err := binary.ReadVarint(r)
	if err != nil {
		return Claims{}, false
	}
	step, err := binary.ReadVarint(r)
	if err != nil || int64(int(step)) != step {
		return Claims{}, false
	}
	var fields [3]string
	for i := range fields {
		n, err := binary.ReadUvarint(r)
		if err != nil || n > uint64(r.Len()) {
			return Claims{}, false
		}
		s := make([]byte, n)
		_, _ = r.Read(s)
		fields[i] = string(s)
	}
	if r.Len() != 0 {
		return Claims{}, false
	}
	return Claims{
		LeadID:  fields[0],
		Track:   fields[1],
		Step:    int(step),
		Ref:     fields[2],
		Expires: time.Unix(exp, 0).UTC(),
	}, true
}
