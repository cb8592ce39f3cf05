package crm

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of a delivery. The signature follows Stripe's scheme: the
// receiver recomputes HMAC-SHA256(secret, "<t>.<body>") over the raw body,
// compares it in constant time with each v1 and refuses a t too far from
// its own clock, so a recorded delivery cannot be replayed later.
const (
	SignatureHeader = "Nurture-Signature" // t=<unix seconds>,v1=<hex>[,v1=<hex>]
	EventIDHeader   = "Nurture-Event-Id"
	EventTypeHeader = "Nurture-Event-Type"
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock.
const DefaultTolerance = 5 * time.Minute

// Verification errors.
var (
	ErrNoSignature  = errors.New("no v1 signature with a timestamp in the header")
	ErrBadSignature = errors.New("no signature matches the body")
	ErrTooOld       = errors.New("signature timestamp outside the tolerance")
)

// ParseSecrets reads EVENTS_SECRET: one signing secret, or several
// separated by commas while one is being replaced (newest first). Every
// delivery is signed with each, so a receiver may switch to the new one
// at any time, then the old one is dropped.
func ParseSecrets(s string) ([]string, error) {
	var secrets []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			if len(part) < 24 {
				return nil, errors.New("a signing secret shorter than 24 characters is too easy to guess")
			}
			secrets = append(secrets, part)
		}
	}
	if len(secrets) == 0 {
		return nil, errors.New("no signing secret")
	}
	return secrets, nil
}

// Sign returns the signature header of body sent at t, one v1 per secret.
func Sign(body []byte, t time.Time, secrets ...string) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	var b strings.Builder
	b.WriteString("t=" + ts)
	for _, s := range secrets {
		b.WriteString(",v1=" + signature(s, ts, body))
	}
	return b.String()
}

func signature(secret, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// Verify checks a delivery the way a receiver does: the header's timestamp
// within tolerance of now, and one of its v1 signatures that of the raw
// body under secret.
func Verify(header string, body []byte, secret string, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return ErrNoSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %s", ErrTooOld, d.Round(time.Second))
	}
	want := []byte(signature(secret, ts, body))
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			return nil
		}
	}
	return ErrBadSignature
}
