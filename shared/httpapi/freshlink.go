package httpapi

import (
	"context"
	"errors"
	"net/http"

	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/token"
)

// An expired sales link (sales.LinkLifetime: the dossier's 30 days, Accept
// and Return two weeks) offers to send fresh ones to the owner, the address
// the lead's alerts go to:
//
//	GET  /s/{expired}  says the link expired, with a button to send a fresh one
//	POST /s/{expired}  action=fresh-link: queues the fresh link (at most one
//	                   an hour); any other post changes nothing
//
// Only a token we signed that expired within sales.ExpiredGrace gets this
// page; whoever holds it gets nothing but that offer, and the link goes to
// the owner's mailbox, never to the holder.

const (
	salesFreshLink = "fresh-link"
	// ExpiredLinkStatus answers an expired dossier link: gone, with an offer.
	ExpiredLinkStatus = http.StatusGone
)

// expired answers a sales link whose token expired, if it is one of ours
// and its lead exists; false leaves the answer to the invalid-link page.
func (h *Sales) expired(ctx context.Context, req Request) (Response, bool) {
	method, kind, ok := linkRoute(req)
	if !ok || kind != link.Sales || (method != http.MethodGet && method != http.MethodPost) {
		return Response{}, false
	}
	tok := req.PathParameters["token"]
	now := h.Clock.Now()
	var c token.Claims
	found := false
	for _, p := range kind.Purposes() {
		if claims, err := h.Signer.VerifyExpired(tok, p, now, sales.ExpiredGrace); err == nil {
			c, found = claims, true
			break
		}
	}
	if !found {
		return Response{}, false
	}
	log := h.Log.With("requestId", req.RequestContext.RequestID, "route", method+" "+kind.Route(), "leadId", c.LeadID)
	l, exists, err := h.Desk.Store.GetLead(ctx, c.LeadID)
	if err != nil {
		return h.unavailable(log, err), true
	}
	if !exists {
		return Response{}, false
	}
	action := formAction(req, kind, tok)
	owner := h.Desk.Owner(l)
	if method == http.MethodPost {
		form, _ := formValues(req)
		if form[salesFieldAction] == salesFreshLink {
			to, err := h.Desk.RequestLink(ctx, c.LeadID, c.Ref, now)
			switch {
			case errors.Is(err, sales.ErrUnknownLead):
				return Response{}, false
			case err != nil:
				return h.unavailable(log, err), true
			}
			log.Info("fresh link asked for")
			return linkPage(http.StatusOK, Page{
				Title:   "A fresh link is on its way",
				Lead:    "We are sending new links to this lead's dossier to " + to + ", the address its alerts go to. They arrive within a minute or two.",
				Company: h.site().company(),
			}), true
		}
		log.Info("decision on an expired link refused")
	}
	return linkPage(ExpiredLinkStatus, Page{
		Title: "This link has expired",
		Lead:  "Links in sales alerts stop working after a while (Accept and Return after two weeks, the dossier after 30 days), so nothing was changed. We can send fresh links to this lead's dossier to " + owner + ", the address its alerts go to.",
		Form: &PageForm{
			Action: action,
			Hidden: []PageField{{Name: salesFieldAction, Value: salesFreshLink}},
			Button: "Send a fresh link to " + owner,
		},
		Company: h.site().company(),
	}), true
}
