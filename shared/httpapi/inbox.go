package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/token"
)

// Inbox serves an owner's sales inbox, the link in every alert, reminder
// and digest (its token names the owner):
//
//	GET /i/{token}  the alerts waiting for the owner's decision, longest
//	                waiting first: lead, company, score, how long it has
//	                waited, where its SLA stands, and fresh links to its
//	                dossier, Accept and Return; changes nothing
//
// Like the dossier, the page runs no script and is readable on a phone.
// A bad or expired link gets the links' one invalid page; the next digest
// brings a fresh one.
type Inbox struct {
	Inbox   *sales.Inbox
	Signer  *token.Signer
	Program *program.Program
	Clock   clock.Clock
	Log     *slog.Logger
}

// inboxPage is what inbox.html.tmpl shows.
type inboxPage struct {
	Owner   string
	Count   string // "3 leads wait"
	Now     string
	Zone    string
	Rows    []inboxRow
	Max     int // shown when the list is cut there
	Company string
}

type inboxRow struct {
	Name, Company, Score, Level, Waited, Since, SinceISO, State string
	Overdue                                                     bool
	Links                                                       sales.AlertLinks // paths
}

func (h *Inbox) site() linkSite {
	return linkSite{Signer: h.Signer, Program: h.Program, Clock: h.Clock, Log: h.Log}
}

// Handle answers one inbox request.
func (h *Inbox) Handle(ctx context.Context, req Request) (Response, error) {
	r, resp, ok := h.site().open(ctx, req, link.Inbox)
	if !ok {
		return resp, nil
	}
	if r.Method != http.MethodGet {
		return h.site().methodNotAllowed(http.MethodGet, "Open the link to your sales inbox in your browser."), nil
	}
	owner := h.Program.Owner(r.Claims.Ref)
	open, err := h.Inbox.Open(ctx, owner.Address, r.Now)
	if err != nil {
		return h.site().unavailable(r.Log, err, "We could not read your inbox just now. Please open the link again in a minute."), nil
	}
	loc := location(owner.TimeZone)
	// The dossiers' links sit beside this one: under the same stage or
	// base path, if the request has one.
	base := strings.TrimSuffix(r.Action, link.Inbox.Path(req.PathParameters["token"]))
	page := inboxPage{
		Owner: owner.Address, Now: r.Now.In(loc).Format(dateTime), Zone: loc.String(), Company: h.site().company(),
	}
	switch n := len(open); n {
	case 0:
		page.Count = "No lead waits for your decision"
	case 1:
		page.Count = "1 lead waits for your decision"
	default:
		page.Count = strconv.Itoa(n) + " leads wait for your decision, the longest waiting first"
	}
	if len(open) >= sales.MaxOpen {
		page.Max = sales.MaxOpen
	}
	for _, a := range open {
		page.Rows = append(page.Rows, inboxRow{
			Name: a.Name, Company: a.Company, Score: number(a.Score), Level: strings.ToUpper(a.Threshold),
			Waited: sales.Waited(a.SLA.Since, r.Now), Since: a.SLA.Since.In(loc).Format(dateTime), SinceISO: a.SLA.Since.UTC().Format(time.RFC3339),
			State: sales.SLAState(a.SLA, loc), Overdue: sales.Overdue(a.SLA),
			Links: sales.SignLinks(h.Signer, base, a.LeadID, a.Ref(sales.ViaInbox), r.Now),
		})
	}
	r.Log.Info("inbox shown", "open", len(open))
	return linkHTML(http.StatusOK, inboxTemplate, page), nil
}
