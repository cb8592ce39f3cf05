package crm

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var at = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

const (
	newSecret = "whsec_new_0123456789abcdefghijkl"
	oldSecret = "whsec_old_0123456789abcdefghijkl"
)

func TestSign_verifiesWithEachSecret_whileOneIsReplaced(t *testing.T) {
	body := []byte(`{"id":"evt_1","type":"lead.captured"}`)
	h := Sign(body, at, newSecret, oldSecret)
	if !strings.HasPrefix(h, "t=1796115600,v1=") || strings.Count(h, ",v1=") != 2 {
		t.Fatalf("header %q, want t= and one v1 per secret", h)
	}
	for _, s := range []string{newSecret, oldSecret} {
		if err := Verify(h, body, s, at.Add(time.Minute), DefaultTolerance); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestVerify_refusesWhatWasNotSignedSoOrNotNow(t *testing.T) {
	body := []byte(`{"id":"evt_1"}`)
	h := Sign(body, at, newSecret)
	for name, tc := range map[string]struct {
		header string
		body   string
		secret string
		now    time.Time
		want   error
	}{
		"another body":        {h, `{"id":"evt_2"}`, newSecret, at, ErrBadSignature},
		"another secret":      {h, string(body), oldSecret, at, ErrBadSignature},
		"replayed an hour on": {h, string(body), newSecret, at.Add(time.Hour), ErrTooOld},
		"from the future":     {h, string(body), newSecret, at.Add(-10 * time.Minute), ErrTooOld},
		"another timestamp":   {strings.Replace(h, "t=1796115600", "t=1796115601", 1), string(body), newSecret, at, ErrBadSignature},
		"no signature":        {"t=1796115600", string(body), newSecret, at, ErrNoSignature},
		"no header":           {"", string(body), newSecret, at, ErrNoSignature},
	} {
		if err := Verify(tc.header, []byte(tc.body), tc.secret, tc.now, DefaultTolerance); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func TestParseSecrets(t *testing.T) {
	if s, err := ParseSecrets(" " + newSecret + " , " + oldSecret); err != nil || len(s) != 2 || s[0] != newSecret {
		t.Errorf("two secrets: %q %v", s, err)
	}
	for _, bad := range []string{"", " , ", "short"} {
		if _, err := ParseSecrets(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

func TestNewReceiver_wantsHTTPSOrThisMachine(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://hooks.zapier.com/hooks/catch/1/abc": true,
		"http://127.0.0.1:9000/crm":                  true,
		"http://localhost:9000/crm":                  true,
		"http://crm.example.com/hook":                false,
		"ftp://crm.example.com":                      false,
		"not a url":                                  false,
	} {
		if _, err := NewReceiver(url, newSecret); (err == nil) != ok {
			t.Errorf("%s: %v", url, err)
		}
	}
	if _, err := NewReceiver("https://crm.example.com", ""); err == nil {
		t.Error("no secret: accepted")
	}
}
