package sales

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/leadnurture/nurture/shared/display"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/scoring"
	"github.com/leadnurture/nurture/shared/token"
)

// The sales inbox: an owner's alerts waiting for a decision, which the
// inbox page and the daily digest list, oldest first, each with a fresh
// link to its dossier, so nobody depends on an old email.

// InboxTTL is how long a link to an owner's inbox works; every digest
// carries a fresh one.
const InboxTTL = 30 * 24 * time.Hour

// MaxOpen bounds the alerts an inbox or a digest lists.
const MaxOpen = 100

// OpenStore is what the inbox needs of the store.
type OpenStore interface {
	OpenLeads(ctx context.Context, owner string, limit int) ([]string, error)
	GetLead(ctx context.Context, id string) (*lead.Lead, bool, error)
}

// Inbox lists an owner's open alerts.
type Inbox struct {
	Program *program.Program
	Store   OpenStore
}

// OpenAlert is one alert waiting for its owner's decision.
type OpenAlert struct {
	LeadID    string
	Name      string // the lead's name as it may be shown, else its address
	Company   string
	Score     float64 // now, decayed
	Threshold string
	SLA       lead.SLA
}

// Ref is the token Ref of a link to the alert's dossier that comes in via.
func (o OpenAlert) Ref(via string) string { return Ref(o.SLA.Alert, via) }

// Open lists the alerts waiting for owner's decision, longest waiting
// first. The index it reads lags the leads by a moment: each lead is read
// and listed only while its alert still waits for this owner.
func (b *Inbox) Open(ctx context.Context, owner string, now time.Time) ([]OpenAlert, error) {
	owner = program.Mailbox(owner)
	ids, err := b.Store.OpenLeads(ctx, owner, MaxOpen)
	if err != nil {
		return nil, err
	}
	m := scoring.New(b.Program)
	var out []OpenAlert
	for _, id := range ids {
		l, found, err := b.Store.GetLead(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("open alerts of %s: %w", owner, err)
		}
		if !found || l.SLA == nil || l.SLA.Owner != owner {
			continue
		}
		name, ok := display.Name(l.Name)
		if !ok {
			name = display.Text(l.Email)
		}
		out = append(out, OpenAlert{
			LeadID: l.ID, Name: name, Company: display.Text(l.Company),
			Score: round1(m.Value(l.Score, now)), Threshold: l.SLA.Threshold, SLA: *l.SLA,
		})
	}
	return out, nil
}

// InboxURL is a fresh link to owner's inbox under baseURL.
func InboxURL(signer *token.Signer, baseURL, owner string, now time.Time) string {
	return link.Inbox.URL(baseURL, InboxToken(signer, owner, now))
}

// InboxToken signs a link to owner's inbox, for InboxTTL from now.
func InboxToken(signer *token.Signer, owner string, now time.Time) string {
	return signer.Sign(token.Claims{Purpose: token.PurposeInbox, Ref: program.Mailbox(owner), Expires: now.Add(InboxTTL)})
}

// Waited says how long an alert has waited, in round words: "45 minutes",
// "5 hours", "2 days".
func Waited(since, now time.Time) string {
	d := now.Sub(since)
	plural := func(n int, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return strconv.Itoa(n) + " " + unit + "s"
	}
	switch {
	case d < time.Hour:
		return plural(max(int(d/time.Minute), 0), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	default:
		return plural(int(d/(24*time.Hour)), "day")
	}
}

// SLAState says where an alert's SLA stands, in the owner's zone loc:
// "escalated to … on Wed 3 Dec 10:00", "reminded on Tue 2 Dec 14:00",
// "reminder due Tue 2 Dec 14:00", or "waiting".
func SLAState(s lead.SLA, loc *time.Location) string {
	at := func(t time.Time) string { return t.In(loc).Format("Mon 2 Jan 15:04") }
	switch {
	case !s.Escalated.IsZero():
		return "escalated to " + s.EscalateTo + " on " + at(s.Escalated)
	case !s.Reminded.IsZero() && !s.EscalateAt.IsZero():
		return "reminded on " + at(s.Reminded) + ", escalates on " + at(s.EscalateAt)
	case !s.Reminded.IsZero():
		return "reminded on " + at(s.Reminded)
	case !s.RemindAt.IsZero():
		return "reminder due " + at(s.RemindAt)
	case !s.EscalateAt.IsZero():
		return "escalates on " + at(s.EscalateAt)
	}
	return "waiting"
}

// Overdue reports whether the alert's SLA has reminded or escalated: the
// owner is late.
func Overdue(s lead.SLA) bool { return !s.Reminded.IsZero() || !s.Escalated.IsZero() }
