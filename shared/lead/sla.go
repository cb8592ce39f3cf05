package lead

import (
	"slices"
	"strconv"
	"time"
)

// The SLA on an alert: from the moment the alert's email goes out until
// sales decides (accepts the lead or returns it to nurture), the lead is
// open for its owner, the address the alert went to. Its owner is reminded
// when RemindAt passes and the escalation route told when EscalateAt does:
// the due index brings the lead to the scheduler's tick then (WakeAt), and
// the tick queues the follow-up as a pending alert of its kind (Wake), in
// the lead's own conditional write, so each is queued once whatever the
// retries; the alerts function sends it like an alert. A decision ends the
// clock and drops the follow-ups not sent yet.

// Kinds of sales mail a pending alert can be besides the alert itself.
const (
	FollowReminder   = "reminder"   // to the owner: the alert waits for a decision
	FollowEscalation = "escalation" // to the escalation route: it still does
	FollowLink       = "link"       // to the owner: a fresh link, asked for on an expired one
)

// SLA is the clock on the lead's alert that sales has not decided yet.
type SLA struct {
	Alert     string // the alert's id
	Threshold string
	Owner     string    // the address the alert went to (program.Mailbox)
	Since     time.Time // when its email went out
	// RemindAt and EscalateAt are when the follow-ups are due; zero once
	// queued, or when the program has none.
	RemindAt   time.Time `json:",omitzero"`
	EscalateAt time.Time `json:",omitzero"`
	EscalateTo string    `json:",omitempty"`
	// Reminded and Escalated are when the follow-ups were queued.
	Reminded  time.Time `json:",omitzero"`
	Escalated time.Time `json:",omitzero"`
}

// Open starts the clock on an alert that went out, unless one runs
// already: the lead has waited since the first alert nobody decided, and
// one reminder and one escalation are enough for it.
func (l *Lead) Open(s SLA) {
	if l.SLA == nil {
		l.SLA = &s
	}
}

// Decided records sales' decision: it stops the clock and drops the
// follow-ups not sent yet.
func (l *Lead) Decided(d SalesDecision) {
	l.Sales = &d
	l.SLA = nil
	l.PendingAlerts = slices.DeleteFunc(l.PendingAlerts, func(p PendingAlert) bool {
		return p.Kind == FollowReminder || p.Kind == FollowEscalation
	})
}

// Stamp names a decision for the page that showed it: a decision posted
// from that page replaces this one only if it is still the lead's.
func (d SalesDecision) Stamp() string { return strconv.FormatInt(d.At.UnixNano(), 36) }

// FollowUp reports whether the pending alert follows up an SLA (a reminder
// or an escalation), which a decision makes moot.
func (p PendingAlert) FollowUp() bool { return p.Kind == FollowReminder || p.Kind == FollowEscalation }

// slaWakeAt is when the clock next needs the tick.
func (l *Lead) slaWakeAt() time.Time {
	if l.SLA == nil {
		return time.Time{}
	}
	at := l.SLA.RemindAt
	if e := l.SLA.EscalateAt; !e.IsZero() && (at.IsZero() || e.Before(at)) {
		at = e
	}
	return at
}

// wakeSLA queues the follow-ups due at now as pending alerts, and reports
// whether it queued any.
func (l *Lead) wakeSLA(now time.Time) bool {
	s := l.SLA
	if s == nil {
		return false
	}
	queued := false
	follow := func(kind, to string, at *time.Time, done *time.Time) {
		if at.IsZero() || at.After(now) {
			return
		}
		*at, *done = time.Time{}, now
		if to == "" {
			return
		}
		id := s.Alert + "-" + kind
		if slices.ContainsFunc(l.PendingAlerts, func(p PendingAlert) bool { return p.ID == id }) {
			return
		}
		l.PendingAlerts = append(l.PendingAlerts, PendingAlert{ID: id, Kind: kind, To: to, Of: s.Alert, Threshold: s.Threshold, At: now})
		queued = true
	}
	follow(FollowReminder, s.Owner, &s.RemindAt, &s.Reminded)
	follow(FollowEscalation, s.EscalateTo, &s.EscalateAt, &s.Escalated)
	return queued
}
