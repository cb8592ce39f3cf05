package lead

import (
	"slices"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)

// change applies fn to l as the store's UpdateLead does with lifecycle
// events on, and returns the types of the events it recorded.
func change(l *Lead, existed bool, fn func(l *Lead)) []string {
	n := len(l.PendingEvents)
	before := l.Milestones(existed)
	fn(l)
	l.RecordLifecycle(before)
	var types []string
	for _, e := range l.PendingEvents[min(n, len(l.PendingEvents)):] {
		types = append(types, e.Type)
	}
	return types
}

func TestRecordLifecycle_eachChangeOfStateIsOneEvent(t *testing.T) {
	l := &Lead{ID: "lead1"}
	if got := change(l, false, func(l *Lead) {
		l.Email, l.CreatedAt, l.UpdatedAt = "ada@example.com", t0, t0
		l.Consent = &Consent{FormID: "whitepaper", At: t0}
	}); !slices.Equal(got, []string{EventCaptured}) {
		t.Fatalf("a new lead: %v", got)
	}
	if e := l.PendingEvents[0]; e.Ref != "whitepaper" || !e.At.Equal(t0) {
		t.Errorf("captured event %+v, want its form and the lead's creation", e)
	}
	if got := change(l, true, func(l *Lead) { l.Downloaded = append(l.Downloaded, "guide"); l.Name = "Ada" }); got != nil {
		t.Errorf("a second download is no lifecycle event: %v", got)
	}

	cross := PendingAlert{ID: "alert1", Threshold: "mql", Score: 52, At: t0.Add(time.Hour)}
	if got := change(l, true, func(l *Lead) { l.PendingAlerts = append(l.PendingAlerts, cross) }); !slices.Equal(got, []string{EventSalesReady}) {
		t.Fatalf("a crossing: %v", got)
	}
	if e := l.PendingEvents[1]; e.Ref != "alert1" || e.Threshold != "mql" || e.Score != 52 || !e.Ready() {
		t.Errorf("sales-ready event %+v", e)
	}
	// The alert going out is no new event, nor is it a withdrawal.
	if got := change(l, true, func(l *Lead) {
		l.PendingAlerts = nil
		l.Alerts = append(l.Alerts, SentAlert{ID: "alert1", Threshold: "mql", At: t0.Add(time.Hour)})
	}); got != nil || len(l.PendingEvents) != 2 {
		t.Errorf("the alert sent: %v, pending %d", got, len(l.PendingEvents))
	}

	accepted := &SalesDecision{Status: SalesAccepted, At: t0.Add(2 * time.Hour)}
	if got := change(l, true, func(l *Lead) { l.Sales = accepted }); !slices.Equal(got, []string{EventAccepted}) {
		t.Fatalf("accepted: %v", got)
	}
	if got := change(l, true, func(l *Lead) { l.Nurture.Stop(StopAccepted) }); got != nil {
		t.Errorf("a write that keeps the decision: %v", got)
	}
	if got := change(l, true, func(l *Lead) {
		l.Sales = &SalesDecision{Status: SalesReturned, Reason: "not-ready", At: t0.Add(3 * time.Hour)}
	}); !slices.Equal(got, []string{EventReturned}) || l.PendingEvents[len(l.PendingEvents)-1].Ref != "not-ready" {
		t.Fatalf("returned: %v %+v", got, l.PendingEvents)
	}
	if got := change(l, true, func(l *Lead) {
		l.Sales = &SalesDecision{Status: SalesReturned, Reason: "no-budget", At: t0.Add(4 * time.Hour)}
	}); !slices.Equal(got, []string{EventReturned}) {
		t.Errorf("returned again for another reason: %v", got)
	}

	if got := change(l, true, func(l *Lead) { l.Suppress(SuppressedUnsubscribed, t0.Add(5*time.Hour)) }); !slices.Equal(got, []string{EventUnsubscribed}) {
		t.Fatalf("unsubscribed: %v", got)
	}
	if got := change(l, true, func(l *Lead) { l.Suppress(SuppressedComplained, t0.Add(6*time.Hour)) }); got != nil {
		t.Errorf("a complaint after the unsubscribe: %v", got)
	}

	// Every event has its own id, the same however often it is read.
	ids := map[string]bool{}
	for _, e := range l.PendingEvents {
		id := e.ID(l.ID)
		if !strings.HasPrefix(id, "evt_") || len(id) != 28 || ids[id] || e.ID(l.ID) != id {
			t.Errorf("event %s: id %q", e.Type, id)
		}
		ids[id] = true
	}
}

func TestRecordLifecycle_bouncedOrComplainedIsNoUnsubscribe(t *testing.T) {
	for _, reason := range []string{SuppressedBounced, SuppressedComplained} {
		l := &Lead{ID: "lead1", Email: "ada@example.com"}
		if got := change(l, true, func(l *Lead) { l.Suppress(reason, t0) }); got != nil {
			t.Errorf("%s: %v", reason, got)
		}
	}
}

func TestRecordLifecycle_aWithdrawnCrossingTakesItsEventAlong(t *testing.T) {
	l := &Lead{ID: "lead1", Email: "ada@example.com"}
	click := PendingAlert{ID: "alert1", Threshold: "mql", Score: 51, At: t0, NotBefore: t0.Add(2 * time.Minute)}
	change(l, true, func(l *Lead) { l.PendingAlerts = []PendingAlert{click} })
	if e, ok := l.NextEvent(); !ok || !e.NotBefore.Equal(click.NotBefore) || e.Ready() || slices.Contains(l.Outbox(), OutboxEvent) {
		t.Fatalf("a click's crossing is held with its alert: %+v, outbox %v", l.PendingEvents, l.Outbox())
	}
	// A scanner's burst takes the points back before the alert went out.
	if got := change(l, true, func(l *Lead) { l.PendingAlerts = nil }); got != nil || len(l.PendingEvents) != 0 {
		t.Fatalf("withdrawn: recorded %v, pending %+v", got, l.PendingEvents)
	}
}

func TestLead_Outbox_marksEventsInOrder_woken(t *testing.T) {
	l := &Lead{ID: "lead1", PendingEvents: []LifecycleEvent{
		{Type: EventCaptured, At: t0, Tries: 2, RetryAt: t0.Add(4 * time.Minute)},
		{Type: EventSalesReady, At: t0.Add(time.Minute), Ref: "alert1"},
	}}
	if got := l.Outbox(); got != nil {
		t.Errorf("the first event backs off, so the second waits too: Outbox() = %v", got)
	}
	if at, ok := l.WakeAt(); !ok || !at.Equal(t0.Add(4*time.Minute)) {
		t.Errorf("WakeAt = %v %v, want the first event's retry", at, ok)
	}
	if l.Wake(t0.Add(3 * time.Minute)) {
		t.Error("woke before the backoff passed")
	}
	if !l.Wake(t0.Add(4*time.Minute)) || !slices.Equal(l.Outbox(), []string{OutboxEvent}) || l.PendingEvents[0].Tries != 2 {
		t.Errorf("after the backoff: outbox %v, %+v", l.Outbox(), l.PendingEvents[0])
	}
	l.PendingAlerts = []PendingAlert{{ID: "alert1", At: t0}}
	if got := l.Outbox(); !slices.Equal(got, []string{OutboxAlert, OutboxEvent}) {
		t.Errorf("both kinds ready: Outbox() = %v", got)
	}
}
