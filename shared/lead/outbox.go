package lead

import (
	"slices"
	"time"
)

// The outbox: side effects that talk to third parties (the sales alert's
// email and webhook, the CRM's lifecycle events) are recorded on the lead
// by the write that decides them, and performed afterwards by a sender
// that reads them from there. The store marks a lead item that holds work
// ready to go (Outbox); the table's stream hands marked items to the
// alerts function and the events function, each filtered to its own kind.
// Work held back (a settle time, a retry's backoff, another sender's
// claim) is not marked ready: the scheduler's tick, which the due index
// brings to the lead when it is due (WakeAt), clears what has passed
// (Wake) and so marks it. An alert held by its settle time marks the lead
// with OutboxSettle instead, so the alerts function can have the lead
// woken when the settle time ends, seconds after it rather than at the
// next tick.

// Kinds of outbox work: a pending sales alert (the alerts function sends
// it), a lifecycle event for the CRM (the events function delivers it),
// an alert settling (the alerts function asks for a wake-up at its end).
const (
	OutboxAlert  = "alert"
	OutboxEvent  = "event"
	OutboxSettle = "settle"
)

// OutboxKinds are the kinds of outbox work in the order Outbox names them.
var OutboxKinds = []string{OutboxAlert, OutboxEvent, OutboxSettle}

// Ready reports whether the alert may go out as soon as it is written:
// nothing holds it back, and no sender holds it.
func (p PendingAlert) Ready() bool {
	return p.ClaimedUntil.IsZero() && p.NotBefore.IsZero() && p.RetryAt.IsZero()
}

// Held reports whether a settle time, a retry's backoff or a sender's
// claim holds the alert back at now.
func (p PendingAlert) Held(now time.Time) bool {
	return p.NotBefore.After(now) || p.RetryAt.After(now) || p.ClaimedUntil.After(now)
}

// Outbox names the kinds of work on the lead that are ready to go, and
// OutboxSettle while an alert settles, for the store to mark the item
// with; nil when there is none.
func (l *Lead) Outbox() []string {
	var kinds []string
	if slices.ContainsFunc(l.PendingAlerts, PendingAlert.Ready) {
		kinds = append(kinds, OutboxAlert)
	}
	if e, ok := l.NextEvent(); ok && e.Ready() {
		kinds = append(kinds, OutboxEvent)
	}
	if _, ok := l.SettleAt(); ok {
		kinds = append(kinds, OutboxSettle)
	}
	return kinds
}

// SettleAt is when the first alert still held by its settle time may go
// out; false when no alert settles. Every write of the lead while one
// settles is marked with it (each asks for the same wake-up again, which
// is harmless: waking is idempotent).
func (l *Lead) SettleAt() (time.Time, bool) {
	var at time.Time
	for _, p := range l.PendingAlerts {
		if !p.NotBefore.IsZero() && (at.IsZero() || p.NotBefore.Before(at)) {
			at = p.NotBefore
		}
	}
	return at, !at.IsZero()
}

// Wake clears what held the pending alerts and lifecycle events back once
// it has passed (the settle time, a retry's backoff, a claim whose sender
// did not finish), queues the SLA's reminder and escalation once they are
// due, and reports whether any work is ready now, so that writing the lead
// hands it to the sender again. The scheduler's tick wakes the leads the due index
// brings it; a ready alert the sender has not taken (its stream record
// failed for good) is woken again by being written again.
func (l *Lead) Wake(now time.Time) bool {
	// The SLA's follow-ups due now join the pending alerts, ready.
	ready := l.wakeSLA(now)
	for i := range l.PendingAlerts {
		p := &l.PendingAlerts[i]
		if !p.ClaimedUntil.After(now) {
			p.ClaimedUntil = time.Time{}
		}
		if !p.NotBefore.After(now) {
			p.NotBefore = time.Time{}
		}
		if !p.RetryAt.After(now) {
			p.RetryAt = time.Time{}
		}
		ready = ready || p.Ready()
	}
	for i := range l.PendingEvents {
		e := &l.PendingEvents[i]
		if !e.NotBefore.After(now) {
			e.NotBefore = time.Time{}
		}
		if !e.RetryAt.After(now) {
			e.RetryAt = time.Time{}
		}
	}
	if e, ok := l.NextEvent(); ok && e.Ready() {
		ready = true
	}
	return ready
}
