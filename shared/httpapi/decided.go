package httpapi

import (
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/sales"
)

// What the sales pages say about a decision and about an alert waiting
// for one.

// decidedWords says who decided, when and what, after "Already " or as a
// notice's detail: "decided by sales@acme.example on Tue 1 Dec 2026 11:04
// CET: accepted."
func decidedWords(d lead.SalesDecision, loc *time.Location) string {
	by := d.By
	if by == "" {
		by = "sales" // decided before decisions named who
	}
	what := "accepted"
	if d.Status == lead.SalesReturned {
		what = "returned to nurture (" + reasonLabel(d.Reason) + ")"
	}
	return "decided by " + by + " on " + d.At.In(loc).Format(dateTime) + ": " + what + "."
}

// capitalised starts s with a capital letter, for a sentence of its own.
func capitalised(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// reasonLabel is a return reason's label, or its code when unknown.
func reasonLabel(code string) string {
	if r, ok := sales.ReturnReasonFor(code); ok {
		return r.Label
	}
	return code
}

// waitingWords says how long an alert has waited for a decision and what
// its SLA did or will do; empty when nothing waits.
func waitingWords(s *lead.SLA, loc *time.Location) string {
	if s == nil {
		return ""
	}
	at := func(t time.Time) string { return t.In(loc).Format(dateTime) }
	parts := []string{"Waiting for a decision since " + at(s.Since) + " (alert to " + s.Owner + ")"}
	switch {
	case !s.Reminded.IsZero():
		parts = append(parts, "reminded "+at(s.Reminded))
	case !s.RemindAt.IsZero():
		parts = append(parts, "reminder due "+at(s.RemindAt))
	}
	switch {
	case !s.Escalated.IsZero():
		parts = append(parts, "escalated to "+s.EscalateTo+" "+at(s.Escalated))
	case !s.EscalateAt.IsZero():
		parts = append(parts, "escalates to "+s.EscalateTo+" "+at(s.EscalateAt))
	}
	return strings.Join(parts, "; ") + "."
}
