package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/leadnurture/nurture/shared/engagement"
	"github.com/leadnurture/nurture/shared/lead"
)

// The confirmation link of double opt-in:
//
//	GET  /c/{token}  shows what the person is confirming and a Confirm button; changes nothing
//	POST /c/{token}  confirms: the evidence (time, IP address, user agent,
//	                 form, consent wording) is kept with the lead's consent
//
// A link posted twice confirms once and shows the same page. A link whose
// wait ended (expired, the lead deleted, or a later wait begun) shows
// that it expired and to fill in the form again, with 410; a tampered
// link is the plain invalid-link page like every other bad link.

// ConfirmExpiredStatus answers a confirmation link that came too late.
const ConfirmExpiredStatus = http.StatusGone

// maxUserAgent bounds the user agent kept as evidence.
const maxUserAgent = 256

func (h *Links) confirm(ctx context.Context, r linkRequest, log *slog.Logger) Response {
	ns, err := strconv.ParseInt(r.Claims.Ref, 10, 64)
	if err != nil {
		log.Info("link rejected", "reason", "no confirmation named")
		return h.site().invalid()
	}
	asked := time.Unix(0, ns).UTC()
	l, err := h.readLead(ctx, r.Claims.LeadID)
	switch {
	case errors.Is(err, engagement.ErrUnknownLead):
		// Deleted unconfirmed when its wait ended.
		log.Info("confirmation expired", "reason", "lead gone")
		return h.confirmExpiredPage()
	case err != nil:
		return h.site().unavailable(log, err, "We could not complete this just now. Please open the link again in a minute.")
	}
	state := l.ConfirmStateOf(asked, r.Now)
	if state == lead.ConfirmExpired {
		log.Info("confirmation expired")
		return h.confirmExpiredPage()
	}
	if r.Method == http.MethodGet {
		if state == lead.ConfirmDone {
			return h.confirmedPage(l)
		}
		return h.confirmPage(r.Action, l)
	}
	// The evidence: the source address API Gateway saw and the browser's
	// user agent, kept on the lead, never written to the log.
	err = h.Engagement.Confirm(ctx, r.Claims.LeadID, lead.Confirmation{
		At: r.Now, Asked: asked, IP: r.SourceIP, UserAgent: cut(shortText(r.UserAgent, maxUserAgent), maxUserAgent),
	})
	switch {
	case errors.Is(err, lead.ErrOptInExpired), errors.Is(err, engagement.ErrUnknownLead):
		log.Info("confirmation expired")
		return h.confirmExpiredPage()
	case err != nil:
		return h.site().unavailable(log, err, "We could not confirm your address just now. Please open the link again in a minute.")
	}
	log.Info("confirmed")
	return h.confirmedPage(l)
}

func (h *Links) confirmPage(action string, l *lead.Lead) Response {
	p := Page{
		Title:   "Confirm your email address",
		Lead:    "Confirm, and " + h.company() + " sends you the articles you asked for by email. You can unsubscribe with one click in any of them.",
		Form:    &PageForm{Action: action, Button: h.Program.ConfirmButton()},
		Company: h.company(),
	}
	if form, ok := h.Program.Form(l.OptIn.FormID); ok && form.Consent.Text != "" {
		p.Quote = form.Consent.Text
	}
	return linkPage(http.StatusOK, p)
}

// confirmedPage is the same however often the link is posted; it links
// the asset the person asked for once more.
func (h *Links) confirmedPage(l *lead.Lead) Response {
	p := Page{
		Title:   "Thank you, your address is confirmed",
		Lead:    "Our articles will come to you by email. You can unsubscribe with one click in any of them.",
		Company: h.company(),
	}
	if len(l.Downloaded) > 0 {
		if a, ok := h.Program.Asset(l.Downloaded[0]); ok {
			p.Links = []PageLink{{URL: a.URL, Label: "Open “" + a.Title + "” again"}}
		}
	}
	return linkPage(http.StatusOK, p)
}

func (h *Links) confirmExpiredPage() Response {
	return linkPage(ConfirmExpiredStatus, Page{
		Title:   "This link has expired",
		Lead:    "Your address was not confirmed in time, so we deleted it. To get our articles, fill in the form again, and confirm the new email we send you.",
		Company: h.company(),
	})
}
