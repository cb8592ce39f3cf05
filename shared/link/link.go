// Package link is the one table of the signed links our emails carry: the
// path each kind of link lives at, and the token purposes it accepts. The
// mail that builds a link and the handler that answers it both read it, so a
// path is written once.
package link

import (
	"strings"

	"github.com/leadnurture/nurture/shared/token"
)

// Kind is a kind of link, spelt as the first segment of its path.
type Kind string

// The kinds of link. A GET of any of them only shows a page; a POST acts.
const (
	Unsubscribe Kind = "u"       // in nurture emails: unsubscribe, RFC 8058 one-click included
	Answer      Kind = "a"       // in nurture emails: one-click answer to a question
	Keep        Kind = "k"       // in the re-engagement email: "keep them coming"
	Sales       Kind = "s"       // in sales alerts: the lead's dossier, accept or return
	Inbox       Kind = "i"       // in sales mail and on the demo page: an owner's open alerts
	Rate        Kind = "r"       // in nurture emails: "Was this useful?" Yes or Not really
	Help        Kind = "h"       // in nurture emails: "What would help you most next?"
	Preferences Kind = "p"       // in nurture emails: the lead's topics and cadence
	Confirm     Kind = "c"       // in the confirmation email: confirm the address (double opt-in)
	Results     Kind = "results" // in the weekly results digest and on the demo page: the program's results
)

// Kinds lists every kind of link.
var Kinds = []Kind{Unsubscribe, Answer, Keep, Sales, Inbox, Rate, Help, Preferences, Confirm, Results}

// purposes are the token purposes each kind accepts, in the order tried.
var purposes = map[Kind][]string{
	Unsubscribe: {token.PurposeUnsubscribe},
	Answer:      {token.PurposeAnswer},
	Keep:        {token.PurposeKeep},
	// An alert's three links lead to the same page; the purpose says which
	// form it highlights.
	Sales: {token.PurposeDossier, token.PurposeAccept, token.PurposeReturn},
	Inbox: {token.PurposeInbox},
	// The answer a rating link records is its purpose.
	Rate:        {token.PurposeUseful, token.PurposeNotUseful},
	Help:        {token.PurposeHelp},
	Preferences: {token.PurposePrefs},
	Confirm:     {token.PurposeConfirm},
	Results:     {token.PurposeResults},
}

// Purposes are the token purposes a link of this kind accepts, in the order
// they are tried.
func (k Kind) Purposes() []string { return purposes[k] }

// Path is the path of the link that carries tok: "/u/<tok>".
func (k Kind) Path(tok string) string { return "/" + string(k) + "/" + tok }

// URL is the absolute link under base, the API's public URL (a trailing
// slash on it is ignored).
func (k Kind) URL(base, tok string) string { return strings.TrimRight(base, "/") + k.Path(tok) }

// Route is the API Gateway route path of the kind: "/u/{token}".
func (k Kind) Route() string { return k.Path("{token}") }

// Parse tells which kind of link a path is: a request path ("/u/AQVr…") or
// the route path API Gateway matched ("/u/{token}"). The token itself is
// read from the path parameters API Gateway decoded, not from here.
func Parse(path string) (Kind, bool) {
	for _, k := range Kinds {
		if strings.HasPrefix(path, "/"+string(k)+"/") {
			return k, true
		}
	}
	return "", false
}
