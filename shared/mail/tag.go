package mail

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Tag names of the messages the product sends. SES publishes a message's
// tags with every event about it: that is how an event finds its lead and
// step, and how a sales alert is told from a nurture email.
const (
	TagKind      = "kind"      // what the message is: KindNurture or KindAlert
	TagLead      = "lead"      // the lead's id
	TagTrack     = "track"     // nurture: the track's id
	TagStep      = "step"      // nurture: the step's index, from 0
	TagAsset     = "asset"     // nurture: the asset's id, on the message and on its asset link
	TagThreshold = "threshold" // alert: the threshold crossed
	TagAlert     = "alert"     // alert: the pending alert's id
	// TagLink is a link tag (ses:tags on an anchor, reported with a click):
	// which link it is, LinkAsset or LinkHoneypot.
	TagLink = "link"
)

// Values of TagKind.
const (
	KindNurture = "nurture"
	KindAlert   = "alert"
	// KindConfirm is a confirmation email (double opt-in).
	KindConfirm = "confirm"
)

// Values of TagLink.
const (
	LinkAsset    = "asset"    // the button to the asset
	LinkHoneypot = "honeypot" // hidden from people: only machines follow it
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
