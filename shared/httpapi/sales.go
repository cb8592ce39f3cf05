package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/limit"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/token"
)

// Sales serves the links in sales alerts, each carrying a signed token for
// one lead (and the alert in its Ref):
//
//	GET  /s/{token}  the lead's dossier, with the form of the link's decision; changes nothing
//	POST /s/{token}  action=accept with the Accept link, or action=return with
//	                 reason=<code> with the Return link: records the decision
//
// The alert's three links (Open the dossier, Accept, Return to nurture) all
// lead to the page, since a GET never changes anything (mail scanners fetch
// every link). Each token is bound to one lead and one action: the Accept
// link's page offers Accept, the Return link's Return, the dossier link's
// neither, and a post of another decision is refused (403). Every bad
// link gets the very page Links answers, and the page works without
// JavaScript: the CSP allows none, so the score chart is server-drawn SVG.
type Sales struct {
	Desk   *sales.Desk
	Signer *token.Signer
	Clock  clock.Clock
	// Limits counts the decisions posted (nil: no limits).
	Limits *limit.Limiter
	Log    *slog.Logger
}

// Form fields and values of the sales page's forms.
const (
	salesFieldAction = "action"
	salesFieldReason = "reason"
	// salesFieldSeen carries the decision the page showed (its Stamp): a
	// post from a page that showed none, or an older one, is too late.
	salesFieldSeen = "decided"
	salesAccept    = "accept"
	salesReturn    = "return"
)

func (h *Sales) site() linkSite {
	return linkSite{Signer: h.Signer, Program: h.Desk.Program, Clock: h.Clock, Limits: h.Limits, Log: h.Log}
}

// Handle answers one sales link request.
func (h *Sales) Handle(ctx context.Context, req Request) (Response, error) {
	r, resp, ok := h.site().open(ctx, req, link.Sales)
	if !ok {
		if resp.StatusCode == InvalidLinkStatus {
			if expired, ok := h.expired(ctx, req); ok {
				return expired, nil
			}
		}
		return resp, nil
	}
	log := r.Log.With("purpose", r.Claims.Purpose, "alertId", safeID(r.Claims.Ref))
	if r.Method == http.MethodGet {
		return h.dossier(ctx, log, r), nil
	}
	return h.decide(ctx, log, r), nil
}

// dossier renders the lead's page; it only reads.
func (h *Sales) dossier(ctx context.Context, log *slog.Logger, r linkRequest) Response {
	l, found, err := h.Desk.Store.GetLead(ctx, r.Claims.LeadID)
	if err != nil {
		return h.unavailable(log, err)
	}
	if !found {
		log.Info("link rejected", "reason", "unknown lead")
		return h.site().invalid()
	}
	acts, older, err := h.Desk.Store.RecentActivities(ctx, r.Claims.LeadID, r.Now, sales.TimelineLimit)
	if err != nil {
		return h.unavailable(log, err)
	}
	d := sales.Build(h.Desk.Program, l, acts, r.Now)
	d.Older = older
	return linkHTML(http.StatusOK, dossierTemplate, newDossierPage(h.Desk.Program, d, l, r.Claims, r.Action, r.Now))
}

// decide records the decision a form posted.
func (h *Sales) decide(ctx context.Context, log *slog.Logger, r linkRequest) Response {
	var notice salesNotice
	c, action := r.Claims, r.Form[salesFieldAction]
	if (action == salesAccept || action == salesReturn) && action != linkDecision[c.Purpose] {
		// A link of a lead that is no more is a bad link like any other.
		if _, found, err := h.Desk.Store.GetLead(ctx, c.LeadID); err != nil {
			return h.unavailable(log, err)
		} else if !found {
			log.Info("link rejected", "reason", "unknown lead")
			return h.site().invalid()
		}
		log.Info("sales decision rejected", "reason", "not this link's decision", "decision", action)
		return h.notThisLink(c.Purpose, r.Action)
	}
	d := sales.Decision{Ref: c.Ref, Seen: r.Form[salesFieldSeen], At: r.Now}
	switch action {
	case salesAccept:
		d.Accept = true
		notice = salesNotice{
			Title: "Accepted",
			Lead:  "The lead is yours. Nurture emails to them have stopped.",
		}
	case salesReturn:
		reason, ok := sales.ReturnReasonFor(r.Form[salesFieldReason])
		if !ok {
			log.Info("sales decision rejected", "reason", "unknown return reason")
			return h.chooseReason(r.Action)
		}
		d.Reason = reason.Code
		notice = salesNotice{
			Title: "Returned to nurture",
			Lead:  "The lead goes on with nurture emails. Reason: " + reason.Label + ".",
		}
	default:
		log.Info("sales decision rejected", "reason", "unknown action")
		return h.badRequest("Choose Accept or Return to nurture", "The form sent no decision. Nothing was changed.", r.Action)
	}
	decided, err := h.Desk.Decide(ctx, c.LeadID, d)
	var already *sales.AlreadyDecidedError
	switch {
	case errors.As(err, &already):
		log.Info("sales decision refused", "reason", "already decided", "decidedAt", already.Decision.At)
		return h.alreadyDecided(ctx, c.LeadID, already.Decision, r)
	case errors.Is(err, sales.ErrUnknownLead):
		log.Info("link rejected", "reason", "unknown lead")
		return h.site().invalid()
	case errors.Is(err, sales.ErrUnknownReason):
		return h.chooseReason(r.Action)
	case err != nil:
		return h.unavailable(log, err)
	}
	log.Info("sales decision", "decision", action, "returnReason", safeID(r.Form[salesFieldReason]))
	// The name only makes the page friendlier; a failed read does not
	// undo the decision, so it is left out then.
	l := h.leadForNotice(ctx, c.LeadID, &notice)
	notice.Detail = capitalised(decidedWords(decided, h.zone(l)))
	notice.Back, notice.Company = r.Action, h.site().company()
	return linkHTML(http.StatusOK, noticeTemplate, notice)
}

// alreadyDecided answers a decision that came too late: who decided first,
// when and how; nothing changed.
func (h *Sales) alreadyDecided(ctx context.Context, leadID string, d lead.SalesDecision, r linkRequest) Response {
	notice := salesNotice{Title: "Already decided", Back: r.Action, Company: h.site().company()}
	l := h.leadForNotice(ctx, leadID, &notice)
	notice.Lead = "Already " + decidedWords(d, h.zone(l)) + " Nothing was changed."
	return linkHTML(http.StatusConflict, noticeTemplate, notice)
}

// leadForNotice reads the lead to name it on a notice; nil if it cannot.
func (h *Sales) leadForNotice(ctx context.Context, leadID string, n *salesNotice) *lead.Lead {
	l, found, err := h.Desk.Store.GetLead(ctx, leadID)
	if err != nil || !found {
		return nil
	}
	n.Name = leadHeading(l.Name, l.Email)
	return l
}

// zone is where a notice writes times: the lead's, as the dossier does.
func (h *Sales) zone(l *lead.Lead) *time.Location {
	if l == nil {
		return location(h.Desk.Program.Schedule.TimeZone)
	}
	return location(l.Zone(h.Desk.Program))
}

// linkDecision is the one decision each link of an alert may post: the
// Accept link accepts, the Return link returns, the dossier link only
// shows. A forwarded or leaked link does no more than its button said.
var linkDecision = map[string]string{token.PurposeAccept: salesAccept, token.PurposeReturn: salesReturn}

// notThisLink answers a decision the link was not made for.
func (h *Sales) notThisLink(purpose, back string) Response {
	text := "This link only shows the lead's dossier. To accept the lead or return it to nurture, use the Accept or Return link in the alert. Nothing was changed."
	switch purpose {
	case token.PurposeAccept:
		text = "This link only accepts the lead. To return it to nurture, use the Return link in the alert. Nothing was changed."
	case token.PurposeReturn:
		text = "This link only returns the lead to nurture. To accept it, use the Accept link in the alert. Nothing was changed."
	}
	return linkHTML(http.StatusForbidden, noticeTemplate, salesNotice{Title: "This link cannot do that", Lead: text, Back: back, Company: h.site().company()})
}

func (h *Sales) chooseReason(back string) Response {
	return h.badRequest("Choose a reason", "Go back and choose why the lead goes back to nurture. Nothing was changed.", back)
}

func (h *Sales) badRequest(title, text, back string) Response {
	return linkHTML(http.StatusBadRequest, noticeTemplate, salesNotice{Title: title, Lead: text, Back: back, Company: h.site().company()})
}

func (h *Sales) unavailable(log *slog.Logger, err error) Response {
	return h.site().unavailable(log, err, "We could not complete this just now. Please open the link again in a minute. Nothing was changed.")
}
