package lead

import (
	"strings"
	"testing"
)

func TestNormaliseEmail(t *testing.T) {
	long := strings.Repeat("a", 65) + "@example.com"
	tooLong := "a@" + strings.Repeat("b", 250) + ".com"
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "case and spaces folded", in: "  Ada.Lovelace@Example.COM ", want: "ada.lovelace@example.com"},
		{name: "plus addressing kept", in: "ada+news@example.com", want: "ada+news@example.com"},
		{name: "empty", in: "  ", wantErr: true},
		{name: "no at", in: "ada.example.com", wantErr: true},
		{name: "display name rejected", in: "Ada <ada@example.com>", wantErr: true},
		{name: "header injection rejected", in: "ada@example.com\r\nBcc: x@evil.example", wantErr: true},
		{name: "nul rejected", in: "ada@example.com\x00", wantErr: true},
		{name: "local part over 64", in: long, wantErr: true},
		{name: "address over 254", in: tooLong, wantErr: true},
		{name: "domain without dot", in: "ada@localhost", wantErr: true},
		{name: "two addresses", in: "a@example.com, b@example.com", wantErr: true},
		{name: "ip literal rejected", in: "ada@[127.0.0.1]", wantErr: true},
		{name: "dots, underscore, hyphen and apostrophe kept", in: "o'brien_jr-x.y@mail.example.co.uk", want: "o'brien_jr-x.y@mail.example.co.uk"},
		{name: "punycode domain kept", in: "ada@xn--mller-kva.example", want: "ada@xn--mller-kva.example"},
		{name: "mailto cc smuggled in the local part", in: "ada?cc=boss@example.com", wantErr: true},
		{name: "ampersand", in: "a&b@example.com", wantErr: true},
		{name: "equals", in: "a=b@example.com", wantErr: true},
		{name: "percent routing", in: "ada%evil.example@example.com", wantErr: true},
		{name: "fragment", in: "ada#x@example.com", wantErr: true},
		{name: "slash", in: "ada/x@example.com", wantErr: true},
		{name: "quoted local part", in: `"ada lovelace"@example.com`, wantErr: true},
		{name: "right-to-left override", in: "ada\u202e@example.com", wantErr: true},
		{name: "zero-width space", in: "a\u200bda@example.com", wantErr: true},
		{name: "right-to-left mark in the domain", in: "ada@exa\u200fmple.com", wantErr: true},
		{name: "unicode local part", in: "zoë@example.com", wantErr: true},
		{name: "unicode domain not in its xn-- form", in: "ada@müller.example", wantErr: true},
		{name: "leading dot", in: ".ada@example.com", wantErr: true},
		{name: "double dot", in: "ada..l@example.com", wantErr: true},
		{name: "trailing dot in the local part", in: "ada.@example.com", wantErr: true},
		{name: "hyphen at a label's edge", in: "ada@-example.com", wantErr: true},
		{name: "numeric top-level domain", in: "ada@example.123", wantErr: true},
		{name: "label over 63", in: "ada@" + strings.Repeat("b", 64) + ".com", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NormaliseEmail(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("NormaliseEmail(%q) = %q, want an error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("NormaliseEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestIsAddress_onlyWhatNormaliseEmailReturns(t *testing.T) {
	for in, want := range map[string]bool{
		"ada@example.com":         true,
		"Ada@example.com":         false, // not normalised
		"ada?cc=boss@example.com": false,
		"ada\u202e@example.com":   false,
		"":                        false,
		" ada@example.com":        false,
	} {
		if got := IsAddress(in); got != want {
			t.Errorf("IsAddress(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestMarkApplied_keepsNewestBounded(t *testing.T) {
	var l Lead
	for i := 0; i < maxApplied+10; i++ {
		l.MarkApplied(strings.Repeat("k", i+1))
	}
	if len(l.Applied) != maxApplied {
		t.Fatalf("kept %d keys, want %d", len(l.Applied), maxApplied)
	}
	if !l.HasApplied(strings.Repeat("k", maxApplied+10)) || l.HasApplied("k") {
		t.Fatal("the newest keys must be kept and the oldest dropped")
	}
}
