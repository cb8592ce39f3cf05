package lead

import (
	"slices"
	"testing"
	"time"
)

func TestLead_Outbox_marksAlertsReadyToGo_andAlertsSettling(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		alert PendingAlert
		want  []string
	}{
		{"a download's crossing", PendingAlert{ID: "a", At: t0}, []string{OutboxAlert}},
		{"a click's crossing, settling", PendingAlert{ID: "a", At: t0, NotBefore: t0.Add(2 * time.Minute)}, []string{OutboxSettle}},
		{"claimed by a sender", PendingAlert{ID: "a", At: t0, ClaimedUntil: t0.Add(5 * time.Minute)}, nil},
		{"backing off after a failure", PendingAlert{ID: "a", At: t0, Mailed: true, Tries: 1, RetryAt: t0.Add(time.Minute)}, nil},
		{"mailed, its webhook owed", PendingAlert{ID: "a", At: t0, Mailed: true}, []string{OutboxAlert}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := &Lead{PendingAlerts: []PendingAlert{tc.alert}}
			if got := l.Outbox(); !slices.Equal(got, tc.want) {
				t.Errorf("Outbox() = %v, want %v", got, tc.want)
			}
		})
	}
	if got := (&Lead{}).Outbox(); got != nil {
		t.Errorf("a lead with nothing pending: Outbox() = %v", got)
	}
}

func TestLead_Wake_clearsWhatHasPassed_andSaysWhetherAnAlertIsReady(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	settling := PendingAlert{ID: "click", At: t0, NotBefore: t0.Add(2 * time.Minute)}
	claimed := PendingAlert{ID: "claimed", At: t0, ClaimedUntil: t0.Add(5 * time.Minute)}
	backingOff := PendingAlert{ID: "retry", At: t0, Mailed: true, Tries: 2, RetryAt: t0.Add(10 * time.Minute)}
	l := &Lead{PendingAlerts: []PendingAlert{settling, claimed, backingOff}}

	if l.Wake(t0.Add(time.Minute)) || !slices.Equal(l.Outbox(), []string{OutboxSettle}) {
		t.Fatalf("nothing has passed a minute in, one alert settles: %+v, outbox %v", l.PendingAlerts, l.Outbox())
	}
	if !l.Wake(t0.Add(2*time.Minute)) || !l.PendingAlerts[0].Ready() || l.PendingAlerts[1].Ready() {
		t.Fatalf("the settle time passed, the claim holds: %+v", l.PendingAlerts)
	}
	if _, settling := l.SettleAt(); settling || !slices.Equal(l.Outbox(), []string{OutboxAlert}) {
		t.Fatalf("settled: outbox %v", l.Outbox())
	}
	if !l.Wake(t0.Add(10*time.Minute)) || slices.ContainsFunc(l.PendingAlerts, func(p PendingAlert) bool { return !p.Ready() }) {
		t.Fatalf("the claim lapsed and the backoff passed: %+v", l.PendingAlerts)
	}
	if p := l.PendingAlerts[2]; !p.Mailed || p.Tries != 2 {
		t.Errorf("waking keeps what was delivered and how often it failed: %+v", p)
	}
	if (&Lead{}).Wake(t0) {
		t.Error("a lead with nothing pending woke")
	}
}

func TestPendingAlert_SendAt_isTheLatestOfWhatHoldsItBack(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	p := PendingAlert{At: t0, NotBefore: t0.Add(2 * time.Minute), RetryAt: t0.Add(time.Minute), ClaimedUntil: t0.Add(5 * time.Minute)}
	if got := p.SendAt(); !got.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("SendAt = %v, want the claim's end", got)
	}
	if got := (PendingAlert{At: t0}).SendAt(); !got.Equal(t0) {
		t.Errorf("SendAt = %v, want its crossing time", got)
	}
}

func TestLead_SettleAt_isTheFirstSettleTimeToEnd(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	l := &Lead{PendingAlerts: []PendingAlert{
		{ID: "download", At: t0},
		{ID: "later", At: t0, NotBefore: t0.Add(3 * time.Minute)},
		{ID: "first", At: t0, NotBefore: t0.Add(2 * time.Minute)},
	}}
	if at, ok := l.SettleAt(); !ok || !at.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("SettleAt = %v %v, want the first settle's end", at, ok)
	}
	if got := l.Outbox(); !slices.Equal(got, []string{OutboxAlert, OutboxSettle}) {
		t.Errorf("one ready, two settling: Outbox() = %v", got)
	}
}
