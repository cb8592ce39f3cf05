package lead

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestLead_WakeAt_isTheEarliestOfTheDueStepAndThePendingAlerts(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	step := t0.Add(48 * time.Hour)
	enrolled := func(change func(l *Lead)) *Lead {
		l := &Lead{ID: "k7m2q4x9r1t8w3y6z5a0b2c4"}
		l.Nurture.Enrol("cloud-cost", step)
		if change != nil {
			change(l)
		}
		return l
	}
	alert := func(at, notBefore time.Time) PendingAlert {
		return PendingAlert{ID: "a1", Threshold: "mql", At: at, NotBefore: notBefore}
	}
	for _, tc := range []struct {
		name   string
		lead   *Lead
		want   time.Time
		wantOK bool
	}{
		{"active, its step due", enrolled(nil), step, true},
		{"rescheduled", enrolled(func(l *Lead) { l.Nurture.Schedule(step.Add(time.Hour)) }), step.Add(time.Hour), true},
		{"suppressed", enrolled(func(l *Lead) { l.Suppress(SuppressedUnsubscribed, t0) }), time.Time{}, false},
		{"suppressed, though still marked active", enrolled(func(l *Lead) { l.Suppression = &Suppression{Reason: SuppressedBounced, At: t0} }), time.Time{}, false},
		{"finished", enrolled(func(l *Lead) { l.Nurture.Finish() }), time.Time{}, false},
		{"stopped", enrolled(func(l *Lead) { l.Nurture.Stop(StopAccepted) }), time.Time{}, false},
		{"finished, a stale due time kept", enrolled(func(l *Lead) { l.Nurture.Status = NurtureFinished }), time.Time{}, false},
		{"never enrolled", &Lead{ID: "k7m2q4x9r1t8w3y6z5a0b2c4"}, time.Time{}, false},
		{"active, no step due", enrolled(func(l *Lead) { l.Nurture.DueAt = time.Time{} }), time.Time{}, false},
		{"pending alert earlier than the step", enrolled(func(l *Lead) {
			l.PendingAlerts = []PendingAlert{alert(t0.Add(time.Hour), time.Time{})}
		}), t0.Add(time.Hour), true},
		{"pending alert later than the step", enrolled(func(l *Lead) {
			l.PendingAlerts = []PendingAlert{alert(step.Add(time.Hour), time.Time{})}
		}), step, true},
		{"pending alert held back past the step", enrolled(func(l *Lead) {
			l.PendingAlerts = []PendingAlert{alert(t0, step.Add(2*time.Minute))}
		}), step, true},
		{"the earliest of several pending alerts", enrolled(func(l *Lead) {
			l.PendingAlerts = []PendingAlert{alert(t0.Add(3*time.Hour), time.Time{}), alert(t0, t0.Add(2*time.Minute)), alert(t0.Add(time.Hour), time.Time{})}
		}), t0.Add(2 * time.Minute), true},
		{"stopped, an alert pending", enrolled(func(l *Lead) {
			l.Nurture.Stop(StopAccepted)
			l.PendingAlerts = []PendingAlert{alert(step.Add(time.Hour), time.Time{})}
		}), step.Add(time.Hour), true},
		{"suppressed, an alert pending", enrolled(func(l *Lead) {
			l.Suppress(SuppressedComplained, t0)
			l.PendingAlerts = []PendingAlert{alert(step.Add(time.Hour), time.Time{})}
		}), step.Add(time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.lead.WakeAt()
			if !got.Equal(tc.want) || ok != tc.wantOK {
				t.Errorf("WakeAt() = %v, %v; want %v, %v", got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestNurture_stateChanges(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	sent := []SentStep{{Track: "cloud-cost", Step: 0, AssetID: "finops-checklist", At: t0}}
	for _, tc := range []struct {
		name   string
		change func(n *Nurture)
		want   Nurture
	}{
		{"enrol starts a track from its first step, keeping what the lead had", func(n *Nurture) { n.Enrol("security", t0.Add(time.Hour)) },
			Nurture{Track: "security", Status: NurtureActive, DueAt: t0.Add(time.Hour), Sent: sent}},
		{"move on remembers the track as done", func(n *Nurture) { n.MoveOn("security", t0.Add(time.Hour)) },
			Nurture{Track: "security", Status: NurtureActive, DueAt: t0.Add(time.Hour), Sent: sent, Done: []string{"cloud-cost"}}},
		{"sleep leaves nothing due", func(n *Nurture) { n.Sleep() },
			Nurture{Track: "cloud-cost", NextStep: 1, Status: NurtureDormant, Sent: sent}},
		{"schedule makes the next step due", func(n *Nurture) { n.Schedule(t0.Add(time.Hour)) },
			Nurture{Track: "cloud-cost", NextStep: 1, Status: NurtureActive, DueAt: t0.Add(time.Hour), Sent: sent}},
		{"finish leaves nothing due, the track done", func(n *Nurture) { n.Finish() },
			Nurture{Track: "cloud-cost", NextStep: 1, Status: NurtureFinished, Sent: sent, Done: []string{"cloud-cost"}}},
		{"stop leaves nothing due and says why", func(n *Nurture) { n.Stop(StopAccepted) },
			Nurture{Track: "cloud-cost", NextStep: 1, Status: NurtureStopped, StopReason: StopAccepted, Sent: sent}},
		{"schedule after a stop resumes", func(n *Nurture) { n.Stop(StopAccepted); n.Schedule(t0) },
			Nurture{Track: "cloud-cost", NextStep: 1, Status: NurtureActive, DueAt: t0, Sent: sent}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := Nurture{Track: "cloud-cost", NextStep: 1, Status: NurtureActive, DueAt: t0, Sent: sent}
			tc.change(&n)
			if n.Track != tc.want.Track || n.NextStep != tc.want.NextStep || n.Status != tc.want.Status ||
				n.StopReason != tc.want.StopReason || !n.DueAt.Equal(tc.want.DueAt) || len(n.Sent) != len(tc.want.Sent) ||
				!slices.Equal(n.Done, tc.want.Done) {
				t.Errorf("got %+v\nwant %+v", n, tc.want)
			}
			if n.Due() != (tc.want.Status == NurtureActive) {
				t.Errorf("Due() = %v for %+v", n.Due(), n)
			}
		})
	}
}

func TestStopStepFailed_countsStepsFromOneAndKeepsTheReasonShort(t *testing.T) {
	at := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	if got, want := StopStepFailed(2, at, "address rejected"), "step 3 failed at 2026-03-10T10:00:00Z: address rejected"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	long := strings.Repeat("x", 1000)
	if got := StopStepFailed(0, at, long); len(got) > 400 {
		t.Errorf("a %d-byte reason was kept whole: %d bytes", len(long), len(got))
	}
}
