package lead

import (
	"errors"
	"net/mail"
	"strings"
)

// Limits from RFC 5321: 64 octets of local part, 254 for the whole path.
const (
	maxLocalPart = 64
	maxAddress   = 254
)

// NormaliseEmail trims and lower-cases an address and checks it is one plain
// address (no display name, no header injection). Lower-casing the local
// part is technically lossy, but no mailbox provider in practice treats
// case as significant, and one person must be one lead.
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
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		return "", errors.New("enter an email address like name@example.com")
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if len(local) > maxLocalPart {
		return "", errors.New("the part before @ has at most 64 characters")
	}
	if !strings.Contains(domain, ".") || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") || strings.HasPrefix(domain, "[") {
		return "", errors.New("enter an email address like name@example.com")
	}
	return strings.ToLower(s), nil
}

// Domain returns the domain of a normalised address.
func Domain(email string) string {
	return email[strings.LastIndexByte(email, '@')+1:]
}
