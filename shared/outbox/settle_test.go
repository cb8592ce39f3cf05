package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/outbox"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/scoring"
	"github.com/leadnurture/nurture/shared/sesevent"
)

// A click-caused crossing's alert goes out when its settle time ends: the
// crossing's record asks the delay queue for a wake-up, which comes back
// then and sends the alert. No scheduler tick runs in this test.
func TestClickCausedCrossing_alertGoesOutWhenItsSettleTimeEnds_throughTheDelayQueue_noTick(t *testing.T) {
	c := newChat(t, false)
	w := newWorld(t, c)
	l, clickAt := w.crossByClick("hedy")
	w.Drain()
	if n := w.Delay.Len(); n != 1 {
		t.Fatalf("%d wake-ups in the delay queue after the crossing, want 1", n)
	}
	w.Clock.Advance(scoring.SettleAfterEngagement - time.Second)
	w.Drain()
	if n := len(w.alertsFor(l)); n != 0 || c.requests.Load() != 0 {
		t.Fatalf("%d emails and %d posts before the settle time ended", n, c.requests.Load())
	}
	w.Clock.Advance(time.Second)
	w.Drain()
	if n := len(w.alertsFor(l)); n != 1 || c.requests.Load() != 1 {
		t.Fatalf("%d emails and %d posts once settled, want 1 each (no tick ran)", n, c.requests.Load())
	}
	got := w.Lead(l.ID)
	if len(got.Alerts) != 1 || len(got.PendingAlerts) != 0 {
		t.Fatalf("sent %+v, pending %+v", got.Alerts, got.PendingAlerts)
	}
	if after := got.Alerts[0].At.Sub(clickAt); after != scoring.SettleAfterEngagement {
		t.Errorf("the alert went out %s after the click, want its settle time %s", after, scoring.SettleAfterEngagement)
	}
	if n := w.Delay.Len(); n != 0 {
		t.Errorf("%d wake-ups left in the delay queue", n)
	}
}

// The queue delivers at least once, and a batch may be handled twice at
// once: every delivery of the wake-up sends the alert at most once between
// them.
func TestSettleWakeup_deliveredAgainAndConcurrently_sendsOneAlert(t *testing.T) {
	c := newChat(t, false)
	w := newWorld(t, c)
	l, _ := w.crossByClick("radia")
	w.Drain()
	at, ok := w.Lead(l.ID).SettleAt()
	if !ok {
		t.Fatal("the click's alert does not settle")
	}
	body, err := outbox.EncodeWakeup(outbox.Wakeup{LeadID: l.ID, At: at})
	if err != nil {
		t.Fatal(err)
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: body, EventSource: "aws:sqs"}}}
	w.Clock.Set(at)
	redeliver(t, func() (int, error) {
		res, err := w.App.Wakeups.Handle(context.Background(), ev)
		return len(res.BatchItemFailures), err
	})
	w.Drain() // the queue's own wake-up, and the records the sends wrote
	if n := len(w.alertsFor(l)); n != 1 {
		t.Fatalf("%d alert emails from 13 deliveries of one wake-up, want 1", n)
	}
	if n := c.requests.Load(); n != 1 {
		t.Fatalf("%d webhook posts, want 1", n)
	}
}

// An open that crosses (in a program that scores opens) waits the settle
// time as a click does; the settle time is the program's.
func TestOpenCausedCrossing_waitsTheProgramsSettleTime(t *testing.T) {
	shipped, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	p := *shipped
	p.Scoring.Activities.Open = 5 // an hour's decay takes a little off the score
	p.Scoring.Settle = program.Duration{Duration: 30 * time.Second}
	c := newChat(t, false)
	w := &world{testworld.New(t, testworld.Options{Name: "outbox", Webhook: c.webhook(), Program: &p}), c}
	l := w.Nurtured("barbara", nil)
	w.OneBelowTheThreshold(l.ID)
	openAt := w.engage(l, sesevent.EventOpen)
	if p0 := w.Lead(l.ID).PendingAlerts[0]; !p0.NotBefore.Equal(openAt.Add(30 * time.Second)) {
		t.Fatalf("pending %+v: want it held the program's 30s", p0)
	}
	w.Drain()
	w.Clock.Advance(29 * time.Second)
	w.Drain()
	if n := len(w.alertsFor(l)); n != 0 {
		t.Fatalf("%d alert emails before the settle time ended", n)
	}
	w.Clock.Advance(time.Second)
	w.Drain()
	if n := len(w.alertsFor(l)); n != 1 || c.requests.Load() != 1 {
		t.Fatalf("%d emails and %d posts once settled, want 1 each", n, c.requests.Load())
	}
}

// A scanner's burst that takes the points back withdraws the alert while
// it settles: its wake-up then finds nothing and sends nothing.
func TestSettleWakeup_ofAWithdrawnAlert_sendsNothing(t *testing.T) {
	c := newChat(t, false)
	w := newWorld(t, c)
	l, _ := w.crossByClick("ida")
	w.Drain()
	if _, err := w.Store.UpdateLead(context.Background(), l.ID, func(x *lead.Lead, _ bool) error {
		x.PendingAlerts = nil // as scoring.withdraw does
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w.Clock.Advance(scoring.SettleAfterEngagement)
	w.Drain()
	if n := len(w.alertsFor(l)); n != 0 || c.requests.Load() != 0 {
		t.Fatalf("%d emails and %d posts for a withdrawn alert", n, c.requests.Load())
	}
	if n := w.Delay.Len(); n != 0 {
		t.Errorf("%d wake-ups left in the delay queue", n)
	}
}
