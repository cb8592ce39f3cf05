package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/engagement"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/limit"
	"github.com/leadnurture/nurture/shared/link"
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
//	GET  /k/{token}  asks "Keep getting our emails?" with a button; changes nothing
//	POST /k/{token}  keeps them coming: the answer to the re-engagement email
//	GET  /r/{token}  "Was this useful?": shows the answer chosen with a button; changes nothing
//	POST /r/{token}  records the rating (the first for an email stands)
//	GET  /h/{token}  "What would help you most next?": the topic chosen and a box for a few words
//	POST /h/{token}  records the answer and the words (the first for an email stands)
//	GET  /p/{token}  the lead's preferences (topics, cadence) as a form; changes nothing
//	POST /p/{token}  saves them
//	GET  /c/{token}  the confirmation of an address (double opt-in, confirmlinks.go)
//	POST /c/{token}  confirms it
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
	// Limits counts the posts of valid links, never an unsubscribe's
	// (nil: no limits).
	Limits *limit.Limiter
	Log    *slog.Logger
}

// oneClickField and oneClickValue are the body of an RFC 8058 one-click post;
// the confirm button posts the same.
const (
	oneClickField = "List-Unsubscribe"
	oneClickValue = "One-Click"
)

func (h *Links) site() linkSite {
	return linkSite{Signer: h.Signer, Program: h.Program, Clock: h.Clock, Limits: h.Limits, Log: h.Log}
}

// Handle answers one link request.
func (h *Links) Handle(ctx context.Context, req Request) (Response, error) {
	r, resp, ok := h.site().open(ctx, req, link.Unsubscribe, link.Answer, link.Keep, link.Rate, link.Help, link.Preferences, link.Confirm)
	if !ok {
		return resp, nil
	}
	log := r.Log.With("track", safeID(r.Claims.Track), "step", r.Claims.Step)

	switch r.Kind {
	case link.Unsubscribe:
		if r.Method == http.MethodGet {
			return h.ifLeadExists(ctx, log, r.Claims.LeadID, h.unsubscribePage(r.Action))
		}
		// What a post carries does not matter, only that it is a post: mail
		// clients send List-Unsubscribe=One-Click, urlencoded or multipart.
		err := h.Engagement.Unsubscribe(ctx, r.Claims.LeadID, r.Now)
		if err == nil {
			log.Info("unsubscribed", "oneClick", r.Form[oneClickField] == oneClickValue)
		}
		return h.outcome(log, err, h.unsubscribedPage()), nil

	case link.Keep:
		asked, err := strconv.ParseInt(r.Claims.Ref, 10, 64)
		if err != nil {
			log.Info("link rejected", "reason", "no re-engagement email named")
			return h.site().invalid(), nil
		}
		if r.Method == http.MethodGet {
			return h.ifLeadExists(ctx, log, r.Claims.LeadID, h.keepPage(r.Action))
		}
		err = h.Engagement.Keep(ctx, r.Claims.LeadID, time.Unix(asked, 0).UTC(), r.Now)
		if err == nil {
			log.Info("kept")
		}
		return h.outcome(log, err, h.keptPage()), nil

	case link.Rate:
		return h.rate(ctx, r, log), nil
	case link.Help:
		return h.help(ctx, r, log), nil
	case link.Preferences:
		return h.preferences(ctx, r, log), nil
	case link.Confirm:
		return h.confirm(ctx, r, log), nil

	default: // link.Answer
		q, opt, ok := h.answerOf(r.Claims)
		if !ok {
			log.Info("link rejected", "reason", "unknown question or answer")
			return h.site().invalid(), nil
		}
		log = log.With("question", safeID(q.ID))
		if r.Method == http.MethodGet {
			return h.ifLeadExists(ctx, log, r.Claims.LeadID, h.answerPage(r.Action, q, opt))
		}
		err := h.Engagement.Answer(ctx, r.Claims.LeadID, r.Claims.Track, r.Claims.Step, q.ID, opt.Value, r.Now)
		if err == nil {
			log.Info("answered")
		}
		return h.outcome(log, err, h.answeredPage(opt)), nil
	}
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
// page already and every bad link looks the same whatever the method.
func (h *Links) ifLeadExists(ctx context.Context, log *slog.Logger, leadID string, page Response) (Response, error) {
	_, err := h.readLead(ctx, leadID)
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
		return h.site().invalid()
	case errors.Is(err, engagement.ErrUnknownQuestion), errors.Is(err, lead.ErrUnknownAnswer):
		log.Info("link rejected", "reason", "unknown question or answer")
		return h.site().invalid()
	case errors.Is(err, engagement.ErrUnknownAsset), errors.Is(err, engagement.ErrUnknownTopic):
		log.Info("link rejected", "reason", "unknown asset or topic")
		return h.site().invalid()
	default:
		return h.site().unavailable(log, err, "We could not complete this just now. Please open the link again in a minute.")
	}
}

func (h *Links) company() string { return h.Program.Sender.Company }

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

func (h *Links) keepPage(action string) Response {
	return linkPage(http.StatusOK, Page{
		Title:   "Keep getting emails from " + h.company() + "?",
		Lead:    "Confirm, and we go on sending you an article now and then that fits what you read.",
		Form:    &PageForm{Action: action, Button: "Keep them coming"},
		Company: h.company(),
	})
}

// keptPage is the same however often the link is posted.
func (h *Links) keptPage() Response {
	return linkPage(http.StatusOK, Page{
		Title:   "Thanks, we'll keep them coming",
		Lead:    "You can unsubscribe with one click at the end of any email.",
		Company: h.company(),
	})
}
