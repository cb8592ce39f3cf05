package lead

import (
	"errors"
	"strings"
)

// Limits from RFC 5321: 64 octets of local part, 254 for the whole path,
// 63 for a domain label.
const (
	maxLocalPart = 64
	maxAddress   = 254
	maxLabel     = 63
)

var errAddressForm = errors.New("enter an email address like name@example.com")

// NormaliseEmail trims and lower-cases an address and checks it is one
// plain address of the kind real mailbox providers hand out: the RFC 5321
// dot-atom with letters, digits and . _ - + ' in the local part, and a
// domain of ASCII labels (an internationalised domain in its xn-- form).
// No display name, no quoting, no IP literal, and none of ? & = % # / or
// other characters that mean something in a mailto: link or a URL, so an
// address can be linked and shown as it is. Lower-casing the local part is
// technically lossy, but no mailbox provider in practice treats case as
// significant, and one person must be one lead.
func NormaliseEmail(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", errors.New("enter your email address")
	}
	if strings.ContainsAny(s, "\r\n\x00") {
		return "", errors.New("an email address is a single line")
	}
	if len(s) > maxAddress {
		return "", errors.New("an email address has at most 254 characters")
	}
	s = strings.ToLower(s)
	local, domain, ok := strings.Cut(s, "@")
	if !ok || strings.Contains(domain, "@") {
		return "", errAddressForm
	}
	if len(local) > maxLocalPart {
		return "", errors.New("the part before @ has at most 64 characters")
	}
	if !dotAtom(local, localChar) || !hostname(domain) {
		return "", errAddressForm
	}
	return s, nil
}

// IsAddress reports whether s is an address exactly as NormaliseEmail
// returns it, e.g. before it is put into a mailto: link.
func IsAddress(s string) bool {
	n, err := NormaliseEmail(s)
	return err == nil && n == s
}

// localChar: the letters, digits and marks of local parts that providers
// actually issue (Gmail: letters, digits, dots; Outlook adds _ and -; plus
// addressing; O'Brien at many company domains).
func localChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("._-+'", c) >= 0
}

func labelChar(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' }

// dotAtom reports whether s is atoms of allowed characters joined by single
// dots, with no dot first or last.
func dotAtom(s string, allowed func(byte) bool) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !allowed(s[i]) {
			return false
		}
	}
	return true
}

// hostname reports whether s is a domain of two or more ASCII labels (each
// 1 to 63 letters, digits or hyphens, no hyphen first or last) whose last
// label, the top-level domain, is letters or an xn-- name.
func hostname(s string) bool {
	if !dotAtom(s, func(c byte) bool { return labelChar(c) || c == '.' }) {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) > maxLabel || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
	}
	tld := labels[len(labels)-1]
	if strings.HasPrefix(tld, "xn--") {
		return true
	}
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if tld[i] < 'a' || tld[i] > 'z' {
			return false
		}
	}
	return true
}

// Domain returns the domain of a normalised address.
func Domain(email string) string {
	return email[strings.LastIndexByte(email, '@')+1:]
}
