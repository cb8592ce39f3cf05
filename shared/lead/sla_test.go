package lead

import (
	"slices"
	"testing"
	"time"
)

func openLead(t0 time.Time) *Lead {
	l := &Lead{ID: "l1"}
	l.Open(SLA{Alert: "a1", Threshold: "mql", Owner: "sales@acme.example", Since: t0,
		RemindAt: t0.Add(4 * time.Hour), EscalateAt: t0.Add(24 * time.Hour), EscalateTo: "managers@acme.example"})
	return l
}

func TestSLA_remindsThenEscalates_eachOnce_atTheirTimes(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	l := openLead(t0)
	if at, ok := l.WakeAt(); !ok || !at.Equal(t0.Add(4*time.Hour)) {
		t.Fatalf("WakeAt = %v %v, want the reminder's time", at, ok)
	}
	if l.Wake(t0.Add(3*time.Hour)) || len(l.PendingAlerts) != 0 {
		t.Fatalf("woke before the reminder was due: %+v", l.PendingAlerts)
	}
	if !l.Wake(t0.Add(4*time.Hour)) || len(l.PendingAlerts) != 1 {
		t.Fatalf("the reminder was not queued: %+v", l.PendingAlerts)
	}
	r := l.PendingAlerts[0]
	if r.Kind != FollowReminder || r.To != "sales@acme.example" || r.Of != "a1" || !r.Ready() || l.Outbox() == nil {
		t.Fatalf("reminder %+v, outbox %v", r, l.Outbox())
	}
	if at, _ := l.WakeAt(); !at.Equal(t0.Add(4 * time.Hour)) {
		t.Fatalf("WakeAt = %v: the pending reminder is due now", at)
	}
	l.PendingAlerts = nil // the alerts function sent it
	if at, _ := l.WakeAt(); !at.Equal(t0.Add(24 * time.Hour)) {
		t.Fatalf("WakeAt = %v, want the escalation's time", at)
	}
	if l.Wake(t0.Add(5 * time.Hour)) {
		t.Fatal("a second wake queued the reminder again")
	}
	if !l.Wake(t0.Add(25*time.Hour)) || len(l.PendingAlerts) != 1 || l.PendingAlerts[0].Kind != FollowEscalation || l.PendingAlerts[0].To != "managers@acme.example" {
		t.Fatalf("escalation: %+v", l.PendingAlerts)
	}
	if !l.SLA.Reminded.Equal(t0.Add(4*time.Hour)) || !l.SLA.Escalated.Equal(t0.Add(25*time.Hour)) {
		t.Fatalf("SLA %+v", l.SLA)
	}
	l.PendingAlerts = nil
	if _, ok := l.WakeAt(); ok {
		t.Fatal("nothing is left to wake for")
	}
}

func TestSLA_overdueOnBoth_queuesBoth(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	l := openLead(t0)
	l.Wake(t0.Add(48 * time.Hour))
	var kinds []string
	for _, p := range l.PendingAlerts {
		kinds = append(kinds, p.Kind)
	}
	if !slices.Equal(kinds, []string{FollowReminder, FollowEscalation}) {
		t.Fatalf("kinds = %v", kinds)
	}
}

func TestSLA_decisionStopsTheClock_andDropsWhatIsNotSent(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	l := openLead(t0)
	l.PendingAlerts = append(l.PendingAlerts, PendingAlert{ID: "a2", Threshold: "hot", At: t0})
	l.Wake(t0.Add(5 * time.Hour))
	l.Decided(SalesDecision{Status: SalesAccepted, At: t0.Add(6 * time.Hour), By: "sales@acme.example"})
	if l.SLA != nil || len(l.PendingAlerts) != 1 || l.PendingAlerts[0].ID != "a2" {
		t.Fatalf("after the decision: SLA %+v, pending %+v", l.SLA, l.PendingAlerts)
	}
	if l.Wake(t0.Add(48 * time.Hour)); len(l.PendingAlerts) != 1 {
		t.Fatalf("a decided lead escalated: %+v", l.PendingAlerts)
	}
}

func TestSLA_openKeepsTheFirstClock(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	l := openLead(t0)
	l.Open(SLA{Alert: "a2", Since: t0.Add(time.Hour)})
	if l.SLA.Alert != "a1" || !l.SLA.Since.Equal(t0) {
		t.Fatalf("SLA %+v", l.SLA)
	}
}

func TestSLA_withoutFollowUps_isOpenButNeverWakes(t *testing.T) {
	l := &Lead{}
	l.Open(SLA{Alert: "a1", Owner: "sales@acme.example", Since: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)})
	if _, ok := l.WakeAt(); ok || l.Wake(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatal("an SLA without reminder or escalation woke the lead")
	}
}
