package httpapi

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/limit"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// InvalidLinkStatus is the one status every bad link is answered with.
const InvalidLinkStatus = http.StatusNotFound

// linkSite is what every link handler shares: one preamble that checks a
// request the same way for every kind of link, and the pages of the
// failures they have in common.
type linkSite struct {
	Signer  *token.Signer
	Program *program.Program
	Clock   clock.Clock
	// Limits counts the posts of valid links per source IP and per lead,
	// an unsubscribe's excepted (nil: no limits).
	Limits *limit.Limiter
	Log    *slog.Logger
}

// linkRequest is a link request that passed the preamble.
type linkRequest struct {
	Method string // GET or POST
	Kind   link.Kind
	Claims token.Claims
	Form   map[string]string // a POST's fields; nil for a GET or a body that could not be read
	Action string            // where the page's forms post: the link itself
	Token  string            // the link's token, verified
	Now    time.Time
	Log    *slog.Logger // with the request id, the route and the lead id
	// SourceIP and UserAgent are the client's, for evidence only: never
	// logged.
	SourceIP, UserAgent string
}

// open runs what every link does first, in this order: the path must be a
// link of one of kinds (else the invalid-link page), the method GET or POST
// (405), a POST's body within the cap (413; checked before the token, so
// that the answer says nothing about the token), and the token must verify
// for one of the kind's purposes (the invalid-link page); then a POST of
// any kind but an unsubscribe counts against the client's and the lead's
// limits (429). A bad token is thus turned away without a read or a write,
// and it counts against nobody: a flood of junk links can neither cost us
// a write each nor use up a limit that a real link needs. An unsubscribe
// is never limited: it must always work (RFC 8058, and the law). What the fields
// of a post mean is the handler's business; a body that cannot be read has
// none. When ok is false, resp is the answer.
func (s linkSite) open(ctx context.Context, req Request, kinds ...link.Kind) (r linkRequest, resp Response, ok bool) {
	method, kind, known := linkRoute(req)
	log := s.Log.With("requestId", req.RequestContext.RequestID)
	if !known || !slices.Contains(kinds, kind) {
		log.Info("link rejected", "reason", "unknown route")
		return r, s.invalid(), false
	}
	log = log.With("route", method+" "+kind.Route())
	if method != http.MethodGet && method != http.MethodPost {
		return r, s.methodNotAllowed("GET, POST", "Open the link from the email in your browser."), false
	}
	var form map[string]string
	if method == http.MethodPost {
		var err error
		form, err = formValues(req)
		if errors.Is(err, errTooLarge) {
			log.Info("link rejected", "reason", "body too large")
			return r, linkPage(http.StatusRequestEntityTooLarge, Page{Title: "Too much data", Lead: "The request carried more data than this link accepts.", Company: s.company()}), false
		}
	}
	tok := req.PathParameters["token"]
	now := s.Clock.Now()
	claims, verified := s.verify(kind, tok, now)
	if !verified {
		log.Info("link rejected", "reason", "invalid or expired token")
		return r, s.invalid(), false
	}
	if method == http.MethodPost && kind != link.Unsubscribe {
		err := s.Limits.Link(ctx, req.RequestContext.HTTP.SourceIP, claims.LeadID)
		if e, limited := limit.AsExceeded(err); limited {
			log.Info("link rejected", "reason", "limited", "limit", e.Rule.Name, "leadId", claims.LeadID)
			return r, s.limited(e), false
		}
	}
	return linkRequest{
		Method: method, Kind: kind, Claims: claims, Form: form, Now: now,
		Action: formAction(req, kind, tok), Token: tok,
		SourceIP: req.RequestContext.HTTP.SourceIP, UserAgent: userAgent(req),
		Log: log.With("leadId", claims.LeadID),
	}, Response{}, true
}

// linkRoute tells the method and the kind of link from API Gateway's route
// key, or from the request itself for an event without one (the $default
// route, a hand-made event).
func linkRoute(req Request) (method string, kind link.Kind, ok bool) {
	method, path := routeOf(req)
	kind, ok = link.Parse(path)
	return method, kind, ok
}

// verify accepts a token signed for any of the kind's purposes.
func (s linkSite) verify(kind link.Kind, tok string, now time.Time) (token.Claims, bool) {
	for _, p := range kind.Purposes() {
		if c, err := s.Signer.Verify(tok, p, now); err == nil {
			return c, true
		}
	}
	return token.Claims{}, false
}

// linkPath is the path of another link for a page of r to point at:
// under the same prefix (a stage, a custom domain's base path) as r's own.
func (r linkRequest) linkPath(kind link.Kind, tok string) string {
	return strings.TrimSuffix(r.Action, r.Kind.Path(r.Token)) + kind.Path(tok)
}

// formAction is where a page's forms post: the link's own path. The
// request path is kept when it ends with it (a stage or a custom domain's
// base path before it); the token was verified, so it is URL-safe.
func formAction(req Request, kind link.Kind, tok string) string {
	own := kind.Path(tok)
	if p := req.RawPath; strings.HasSuffix(p, own) && strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") {
		return p
	}
	return own
}

func (s linkSite) company() string { return s.Program.Sender.Company }

// invalid is the one page for every bad link: the same status and body
// whatever the reason and whichever kind of link, and nothing taken from
// the request.
func (s linkSite) invalid() Response {
	return linkPage(InvalidLinkStatus, Page{
		Title: "This link does not work",
		Lead:  "It may be incomplete or too old. Nothing was changed.",
		Items: []string{
			"If you copied the link, check that you copied all of it.",
			"To stop our emails, use the unsubscribe link in the latest one, or reply to it and ask.",
		},
		Company: s.company(),
	})
}

// limited answers a post over a limit: 429, with when to try again.
func (s linkSite) limited(e *limit.Exceeded) Response {
	resp := linkPage(http.StatusTooManyRequests, Page{
		Title:   "Too many requests",
		Lead:    "This link was used too often just now. Nothing was changed. Please try again in " + waitText(e) + ".",
		Company: s.company(),
	})
	resp.Headers["retry-after"] = strconv.Itoa(e.RetryAfterSeconds())
	return resp
}

// unavailable answers an infrastructure failure with a retryable 503 that
// names no internal error; the error goes to the log.
func (s linkSite) unavailable(log *slog.Logger, err error, text string) Response {
	log.Error("link failed", "error", err.Error())
	resp := linkPage(http.StatusServiceUnavailable, Page{Title: "Please try again", Lead: text, Company: s.company()})
	resp.Headers["retry-after"] = "5"
	return resp
}

// linkPage is a simple page behind a link.
func linkPage(status int, p Page) Response { return linkHTML(status, pageTemplate, p) }

// linkHTML renders a page behind a link: never stored (the security
// headers say no-store) and never indexed, as its URL holds a token.
func linkHTML(status int, t *template.Template, data any) Response {
	resp := render(status, t, data)
	if resp.Headers != nil {
		resp.Headers["x-robots-tag"] = "noindex, nofollow"
	}
	return resp
}

// userAgent is the client's user agent: API Gateway's, else the header's.
func userAgent(req Request) string {
	if ua := req.RequestContext.HTTP.UserAgent; ua != "" {
		return ua
	}
	return header(req, "user-agent")
}

// methodNotAllowed answers a link page asked with a method it does not
// take: 405, the methods it does take, and what to do instead.
func (s linkSite) methodNotAllowed(allow, lead string) Response {
	resp := linkPage(http.StatusMethodNotAllowed, Page{Title: "Method not allowed", Lead: lead, Company: s.company()})
	resp.Headers["allow"] = allow
	return resp
}
