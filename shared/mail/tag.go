package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// maxTagLen is SES's limit for tag names and values.
const maxTagLen = 256

// Tag maps any string into SES's tag charset [A-Za-z0-9_-], at most 256
// characters. A value already in the charset comes back unchanged, so ids
// put in tags read back as the same ids from SES events. Anything else has
// each other character replaced by '_' and a short hash of the original
// appended, so two different inputs do not end up as the same tag.
func Tag(value string) string {
	if validTag(value) {
		return value
	}
	var b strings.Builder
	for _, r := range value {
		if tagChar(r) {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	sum := sha256.Sum256([]byte(value))
	suffix := "-" + hex.EncodeToString(sum[:4])
	mapped := b.String()
	if len(mapped) > maxTagLen-len(suffix) {
		mapped = mapped[:maxTagLen-len(suffix)]
	}
	return mapped + suffix
}

func validTag(s string) bool {
	if s == "" || len(s) > maxTagLen {
		return false
	}
	for _, r := range s {
		if !tagChar(r) {
			return false
		}
	}
	return true
}

func tagChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-'
}
