package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/token"
)

// Sales serves the links in sales alerts, each carrying a signed token for
// one lead (and the alert in its Ref):
//
//	GET  /s/{token}  the lead's dossier, with Accept and Return-to-nurture forms; changes nothing
//	POST /s/{token}  action=accept, or action=return with reason=<code>: records the decision
//
// The alert's three links (Open the dossier, Accept, Return to nurture) all
// lead to the page; an Accept or Return link only highlights its form, since
// a GET never changes anything (mail scanners fetch every link). Every bad
// link gets the very page Links answers, and the page works without
// JavaScript: the CSP allows none, so the score chart is server-drawn SVG.
type Sales struct {
	Desk   *sales.Desk
	Signer *token.Signer
	Clock  clock.Clock
	Log    *slog.Logger
}

// Form fields and values of the sales page's forms.
const (
	salesFieldAction = "action"
	salesFieldReason = "reason"
	salesAccept      = "accept"
	salesReturn      = "return"
)

func (h *Sales) site() linkSite {
	return linkSite{Signer: h.Signer, Program: h.Desk.Program, Clock: h.Clock, Log: h.Log}
}

// Handle answers one sales link request.
func (h *Sales) Handle(ctx context.Context, req Request) (Response, error) {
	r, resp, ok := h.site().open(req, link.Sales)
	if !ok {
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
	acts, err := h.Desk.Store.Activities(ctx, r.Claims.LeadID, r.Now)
	if err != nil {
		return h.unavailable(log, err)
	}
	d := sales.Build(h.Desk.Program, l, acts, r.Now)
	return linkHTML(http.StatusOK, dossierTemplate, newDossierPage(h.Desk.Program, d, l, r.Claims, r.Action, r.Now))
}

// decide records the decision a form posted.
func (h *Sales) decide(ctx context.Context, log *slog.Logger, r linkRequest) Response {
	var (
		err    error
		notice salesNotice
	)
	c, action := r.Claims, r.Form[salesFieldAction]
	switch action {
	case salesAccept:
		err = h.Desk.Accept(ctx, c.LeadID, r.Now)
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
		err = h.Desk.Return(ctx, c.LeadID, reason.Code, r.Now)
		notice = salesNotice{
			Title: "Returned to nurture",
			Lead:  "The lead goes on with nurture emails. Reason: " + reason.Label + ".",
		}
	default:
		log.Info("sales decision rejected", "reason", "unknown action")
		return h.badRequest("Choose Accept or Return to nurture", "The form sent no decision. Nothing was changed.", r.Action)
	}
	switch {
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
	if l, found, err := h.Desk.Store.GetLead(ctx, c.LeadID); err == nil && found {
		notice.Name = leadHeading(l.Name, l.Email)
	}
	notice.Back, notice.Company = r.Action, h.site().company()
	return linkHTML(http.StatusOK, noticeTemplate, notice)
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
