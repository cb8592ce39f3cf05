package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/engagement"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// Links serves the links in nurture emails, each carrying a signed token
// instead of a lead id or an address:
//
//	GET  /u/{token}  asks "Unsubscribe?" with a button; changes nothing
//	POST /u/{token}  unsubscribes: RFC 8058 one-click from mail clients, and the button
//	GET  /a/{token}  shows the question and the chosen answer with a button; changes nothing
//	POST /a/{token}  stores the answer
//
// A GET never changes state: security scanners and mail clients fetch every
// link of a message. Every bad link (tampered, truncated, expired, signed
// with an unknown key, meant for the other route, naming no lead or no
// known answer) gets one and the same page, so a response tells nobody why
// a link failed or whether a lead exists; the reason goes to the log.
type Links struct {
	Engagement *engagement.Service
	Signer     *token.Signer
	Program    *program.Program
	Clock      clock.Clock
	Log        *slog.Logger
}

// Route kinds, the first path segment; each kind verifies its own purpose.
const (
	linkUnsubscribe = "u"
	linkAnswer      = "a"
)

// InvalidLinkStatus is the one status every bad link is answered with.
const InvalidLinkStatus = http.StatusNotFound

// oneClickField and oneClickValue are the body of an RFC 8058 one-click post;
// the confirm button posts the same.
const (
	oneClickField = "List-Unsubscribe"
	oneClickValue = "One-Click"
)

// Handle answers one link request.
func (h *Links) Handle(ctx context.Context, req Request) (Response, error) {
	method, kind := linkRoute(req)
	tok := req.PathParameters["token"]
	log := h.Log.With("requestId", req.RequestContext.RequestID, "route", method+" /"+kind+"/{token}")

	if kind == "" {
		log.Info("link rejected", "reason", "unknown route")
		return h.invalid(), nil
	}
	if method != http.MethodGet && method != http.MethodPost {
		resp := linkPage(http.StatusMethodNotAllowed, Page{Title: "Method not allowed", Lead: "Open the link from the email in your browser.", Company: h.company()})
		resp.Headers["allow"] = "GET, POST"
		return resp, nil
	}
	oneClick := false
	if method == http.MethodPost {
		// What a post carries does not matter, only that it is a post: mail
		// clients send List-Unsubscribe=One-Click, urlencoded or multipart.
		// Only the cap applies, checked before the token so that the answer
		// says nothing about it.
		values, err := formValues(req)
		if errors.Is(err, errTooLarge) {
			log.Info("link rejected", "reason", "body too large")
			return linkPage(http.StatusRequestEntityTooLarge, Page{Title: "Too much data", Lead: "The request carried more data than this link accepts.", Company: h.company()}), nil
		}
		oneClick = values[oneClickField] == oneClickValue
	}

	purpose := token.PurposeUnsubscribe
	if kind == linkAnswer {
		purpose = token.PurposeAnswer
	}
	now := h.Clock.Now()
	claims, err := h.Signer.Verify(tok, purpose, now)
	if err != nil {
		log.Info("link rejected", "reason", "invalid or expired token")
		return h.invalid(), nil
	}
	log = log.With("leadId", claims.LeadID, "track", safeID(claims.Track), "step", claims.Step)
	action := formAction(req, kind, tok)

	switch kind {
	case linkUnsubscribe:
		if method == http.MethodGet {
			return h.ifLeadExists(ctx, log, claims.LeadID, h.unsubscribePage(action))
		}
		err := h.Engagement.Unsubscribe(ctx, claims.LeadID, now)
		if err == nil {
			log.Info("unsubscribed", "oneClick", oneClick)
		}
		return h.outcome(log, err, h.unsubscribedPage()), nil

	default: // linkAnswer
		q, opt, ok := h.answerOf(claims)
		if !ok {
			log.Info("link rejected", "reason", "unknown question or answer")
			return h.invalid(), nil
		}
		log = log.With("question", safeID(q.ID))
		if method == http.MethodGet {
			return h.ifLeadExists(ctx, log, claims.LeadID, h.answerPage(action, q, opt))
		}
		err := h.Engagement.Answer(ctx, claims.LeadID, claims.Track, claims.Step, q.ID, opt.Value, now)
		if err == nil {
			log.Info("answered")
		}
		return h.outcome(log, err, h.answeredPage(opt)), nil
	}
}

// linkRoute tells the route from API Gateway's route key, or from the
// method and path of an event without one ($default route, hand-made).
func linkRoute(req Request) (method, kind string) {
	method, path, ok := strings.Cut(req.RouteKey, " ")
	if !ok {
		method, path = req.RequestContext.HTTP.Method, req.RawPath
	}
	switch {
	case path == "/u/{token}" || strings.HasPrefix(path, "/u/"):
		return method, linkUnsubscribe
	case path == "/a/{token}" || strings.HasPrefix(path, "/a/"):
		return method, linkAnswer
	}
	return method, ""
}

// formAction is where the confirm button posts: the link's own path. The
// request path is kept when it ends with it (a stage or a custom domain's
// base path before it); the token was verified, so it is URL-safe.
func formAction(req Request, kind, tok string) string {
	own := "/" + kind + "/" + tok
	if p := req.RawPath; strings.HasSuffix(p, own) && strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") {
		return p
	}
	return own
}

// answerOf finds the question and option the token's Ref ("questionId=value")
// names.
func (h *Links) answerOf(c token.Claims) (program.Question, program.Option, bool) {
	qid, value, ok := strings.Cut(c.Ref, "=")
	if !ok {
		return program.Question{}, program.Option{}, false
	}
	q, ok := h.Program.Question(qid)
	if !ok {
		return program.Question{}, program.Option{}, false
	}
	for _, o := range q.Options {
		if o.Value == value {
			return q, o, true
		}
	}
	return program.Question{}, program.Option{}, false
}

// ifLeadExists answers a GET with page when the lead exists, and with the
// invalid-link page otherwise, so a link of an erased lead fails on its
// page already and every bad link looks the same whatever the method. It
// reads through the engagement store: UpdateLead writes nothing when the
// change returns lead.ErrNoChange.
func (h *Links) ifLeadExists(ctx context.Context, log *slog.Logger, leadID string, page Response) (Response, error) {
	_, err := h.Engagement.Store.UpdateLead(ctx, leadID, func(_ *lead.Lead, isNew bool) error {
		if isNew {
			return engagement.ErrUnknownLead
		}
		return lead.ErrNoChange
	})
	if errors.Is(err, lead.ErrNoChange) {
		err = nil
	}
	return h.outcome(log, err, page), nil
}

// outcome maps the domain's answer to a response: the link's failures to
// the one invalid-link page, anything else to a retryable 503 that names
// no internal error.
func (h *Links) outcome(log *slog.Logger, err error, ok Response) Response {
	switch {
	case err == nil:
		return ok
	case errors.Is(err, engagement.ErrUnknownLead):
		log.Info("link rejected", "reason", "unknown lead")
		return h.invalid()
	case errors.Is(err, engagement.ErrUnknownQuestion), errors.Is(err, lead.ErrUnknownAnswer):
		log.Info("link rejected", "reason", "unknown question or answer")
		return h.invalid()
	default:
		log.Error("link failed", "error", err.Error())
		return unavailablePage("We could not complete this just now. Please open the link again in a minute.", h.company())
	}
}

// unavailablePage answers an infrastructure failure behind a link with a
// retryable 503 that names no internal error.
func unavailablePage(text, company string) Response {
	resp := linkPage(http.StatusServiceUnavailable, Page{Title: "Please try again", Lead: text, Company: company})
	resp.Headers["retry-after"] = "5"
	return resp
}

func (h *Links) company() string { return h.Program.Sender.Company }

// invalid is the one page for every bad link: the same status and body
// whatever the reason, and nothing taken from the request.
func (h *Links) invalid() Response {
	return linkPage(InvalidLinkStatus, Page{
		Title: "This link does not work",
		Lead:  "It may be incomplete or too old. Nothing was changed.",
		Items: []string{
			"If you copied the link, check that you copied all of it.",
			"To stop our emails, use the unsubscribe link in the latest one, or reply to it and ask.",
		},
		Company: h.company(),
	})
}

func (h *Links) unsubscribePage(action string) Response {
	return linkPage(http.StatusOK, Page{
		Title: "Unsubscribe from " + h.company() + " emails?",
		Lead:  "Confirm, and we stop sending you emails at once.",
		Form: &PageForm{
			Action: action,
			Hidden: []PageField{{Name: oneClickField, Value: oneClickValue}},
			Button: "Unsubscribe",
		},
		Company: h.company(),
	})
}

// unsubscribedPage is the same however often the link is posted.
func (h *Links) unsubscribedPage() Response {
	return linkPage(http.StatusOK, Page{
		Title:   "You are unsubscribed",
		Lead:    "We will not send you any more emails.",
		Company: h.company(),
	})
}

func (h *Links) answerPage(action string, q program.Question, o program.Option) Response {
	return linkPage(http.StatusOK, Page{
		Title:   "Confirm your answer",
		Lead:    q.Text,
		Items:   []string{o.Label},
		Form:    &PageForm{Action: action, Button: "Confirm"},
		Company: h.company(),
	})
}

func (h *Links) answeredPage(o program.Option) Response {
	return linkPage(http.StatusOK, Page{
		Title:   "Thanks, we'll tailor what we send you",
		Lead:    "You answered: " + o.Label,
		Company: h.company(),
	})
}

// linkPage is an HTML page that is never stored (the security headers say
// no-store) and never indexed: its URL holds a token.
func linkPage(status int, p Page) Response {
	resp := htmlResponse(status, p)
	if resp.Headers != nil {
		resp.Headers["x-robots-tag"] = "noindex, nofollow"
	}
	return resp
}
