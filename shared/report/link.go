package report

import (
	"time"

	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/token"
)

// LinkTTL is how long a link to the results works: the weekly digest
// brings a fresh one well before it lapses.
const LinkTTL = 35 * 24 * time.Hour

// LinkURL is a signed link to the results page under baseURL, for LinkTTL
// from now. It names no lead: whoever holds it reads the program's
// numbers (counts, and the words leads wrote), like whoever reads the
// digest.
func LinkURL(signer *token.Signer, baseURL string, now time.Time) string {
	return link.Results.URL(baseURL, signer.Sign(token.Claims{Purpose: token.PurposeResults, Expires: now.Add(LinkTTL)}))
}
