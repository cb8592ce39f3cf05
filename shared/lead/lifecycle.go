package lead

import (
	"crypto/sha256"
	"encoding/base32"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Lifecycle events tell a CRM what happened to a lead: it was captured,
// became sales-ready, was accepted or returned by sales, unsubscribed.
// They are facts about the lead's state, so they are recorded by the write
// that changes that state (RecordLifecycle, which the store calls inside
// every UpdateLead when lifecycle events are on): a write that is retried
// or refused records none, and no change of state goes without its event.
// They wait on the lead (PendingEvents) until the events function has
// delivered them, like the sales alerts (see outbox.go).
const (
	EventCaptured     = "lead.captured"
	EventSalesReady   = "lead.sales_ready"
	EventAccepted     = "lead.accepted"
	EventReturned     = "lead.returned"
	EventUnsubscribed = "lead.unsubscribed"
)

// EventTypes are the lifecycle events, in the order a lead usually meets them.
var EventTypes = []string{EventCaptured, EventSalesReady, EventAccepted, EventReturned, EventUnsubscribed}

// LifecycleEvent is one lifecycle event waiting to be delivered. It holds
// only what the lead itself may no longer say by the time it is delivered
// (the rest of the payload is the lead as it is then), and nothing that
// changes between tries, so its ID and its facts are the same on every try.
type LifecycleEvent struct {
	Type string
	At   time.Time
	// Ref is what the event is about: the form of a capture, the alert of
	// a crossing, the reason of a return.
	Ref string `json:",omitempty"`
	// Threshold and Score are a crossing's (EventSalesReady).
	Threshold string  `json:",omitempty"`
	Score     float64 `json:",omitempty"`
	// NotBefore holds a crossing's event back with its alert, while a
	// scanner's burst could still withdraw it (scoring's settle time).
	NotBefore time.Time `json:",omitzero"`
	// Tries counts failed deliveries; RetryAt holds the next one back.
	Tries   int       `json:",omitempty"`
	RetryAt time.Time `json:",omitzero"`
}

// ID is the event's id, the receiver's key for idempotency: derived from
// the lead and the event's own facts, never from when it is delivered, so
// every try of one event carries the same id and two events never share
// one.
func (e LifecycleEvent) ID(leadID string) string {
	sum := sha256.Sum256([]byte(leadID + "\x00" + e.Type + "\x00" + strconv.FormatInt(e.At.UnixNano(), 10) + "\x00" + e.Ref))
	return "evt_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15]))
}

// Ready reports whether nothing holds the event back.
func (e LifecycleEvent) Ready() bool { return e.NotBefore.IsZero() && e.RetryAt.IsZero() }

// SendAt is when the event may be delivered.
func (e LifecycleEvent) SendAt() time.Time {
	at := e.At
	for _, t := range []time.Time{e.NotBefore, e.RetryAt} {
		if t.After(at) {
			at = t
		}
	}
	return at
}

// NextEvent returns the first pending lifecycle event: a lead's events go
// out in order, so one that waits (to settle, or after a failed try) holds
// those after it.
func (l *Lead) NextEvent() (LifecycleEvent, bool) {
	if len(l.PendingEvents) == 0 {
		return LifecycleEvent{}, false
	}
	return l.PendingEvents[0], true
}

// Milestones is what of a lead its lifecycle events are about, taken
// before a change so RecordLifecycle can tell what the change did.
type Milestones struct {
	existed      bool
	alerts       []string // ids of the alerts pending or sent
	pending      []string // ids of the alerts pending
	sales        *SalesDecision
	unsubscribed bool
	unconfirmed  bool
}

// Milestones returns the lead's milestones; existed says whether the lead
// was stored before.
func (l *Lead) Milestones(existed bool) Milestones {
	m := Milestones{existed: existed, unsubscribed: l.unsubscribed(), unconfirmed: l.Unconfirmed()}
	for _, p := range l.PendingAlerts {
		if p.Kind == "" {
			m.alerts = append(m.alerts, p.ID)
			m.pending = append(m.pending, p.ID)
		}
	}
	for _, a := range l.Alerts {
		m.alerts = append(m.alerts, a.ID)
	}
	if l.Sales != nil {
		s := *l.Sales
		m.sales = &s
	}
	return m
}

func (l *Lead) unsubscribed() bool {
	return l.Suppression != nil && l.Suppression.Reason == SuppressedUnsubscribed
}

// RecordLifecycle adds the lifecycle events of the change since before to
// PendingEvents: the lead stored for the first time, or its address
// confirmed (captured), a threshold
// crossed (sales-ready, held back as long as its alert), a decision of
// sales (accepted, returned), an unsubscribe. A crossing whose alert was
// withdrawn before it went out (a scanner's points taken back) takes its
// undelivered event with it: the lead was never sales-ready after all.
// The store calls it in every UpdateLead, between the change and the
// write.
func (l *Lead) RecordLifecycle(before Milestones) {
	// An unconfirmed address is anyone's guess (whoever typed it in): it
	// reaches the CRM when the person confirms it, and one that expires
	// never does, so the CRM never holds an address nobody confirmed.
	if (!before.existed || before.unconfirmed) && !l.Unconfirmed() && l.Email != "" {
		at := firstNonZero(l.CreatedAt, l.UpdatedAt)
		if l.Confirmed() {
			at = l.Consent.Confirmed.At
		}
		l.addEvent(LifecycleEvent{Type: EventCaptured, At: at, Ref: l.capturedBy()})
	}
	for _, p := range l.PendingAlerts {
		if p.Kind == "" && !slices.Contains(before.alerts, p.ID) { // a crossing, not an SLA follow-up
			l.addEvent(LifecycleEvent{Type: EventSalesReady, At: p.At, Ref: p.ID, Threshold: p.Threshold, Score: p.Score, NotBefore: p.NotBefore})
		}
	}
	for _, a := range l.Alerts {
		if !slices.Contains(before.alerts, a.ID) && !slices.ContainsFunc(l.PendingAlerts, func(p PendingAlert) bool { return p.ID == a.ID }) {
			// Sent in the write that crossed (never pending): a crossing all the same.
			l.addEvent(LifecycleEvent{Type: EventSalesReady, At: a.At, Ref: a.ID, Threshold: a.Threshold, Score: a.Score})
		}
	}
	for _, id := range before.pending {
		if l.withdrawn(id) {
			l.PendingEvents = slices.DeleteFunc(l.PendingEvents, func(e LifecycleEvent) bool {
				return e.Type == EventSalesReady && e.Ref == id
			})
		}
	}
	if s := l.Sales; s != nil && (before.sales == nil || *before.sales != *s) {
		switch s.Status {
		case SalesAccepted:
			l.addEvent(LifecycleEvent{Type: EventAccepted, At: s.At})
		case SalesReturned:
			l.addEvent(LifecycleEvent{Type: EventReturned, At: s.At, Ref: s.Reason})
		}
	}
	if !before.unsubscribed && l.unsubscribed() {
		l.addEvent(LifecycleEvent{Type: EventUnsubscribed, At: l.Suppression.At})
	}
}

// withdrawn reports whether the alert with this id left PendingAlerts
// without going out: not sent, not given up after tries (which keeps its
// crossing a fact).
func (l *Lead) withdrawn(alertID string) bool {
	if slices.ContainsFunc(l.PendingAlerts, func(p PendingAlert) bool { return p.ID == alertID }) ||
		slices.ContainsFunc(l.Alerts, func(a SentAlert) bool { return a.ID == alertID }) {
		return false
	}
	// Only a crossing still settling can be withdrawn (scoring.withdraw
	// keeps claimed and mailed alerts); its event is still held with it.
	return slices.ContainsFunc(l.PendingEvents, func(e LifecycleEvent) bool {
		return e.Type == EventSalesReady && e.Ref == alertID && !e.NotBefore.IsZero()
	})
}

// capturedBy is the form a new lead came in through.
func (l *Lead) capturedBy() string {
	if l.Consent != nil {
		return l.Consent.FormID
	}
	return ""
}

// addEvent records an event. The list needs no bound of its own: the
// events function gives each up after its last try (a few hours), and a
// lead has only a handful of lifecycle events in its life.
func (l *Lead) addEvent(e LifecycleEvent) { l.PendingEvents = append(l.PendingEvents, e) }

func firstNonZero(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
