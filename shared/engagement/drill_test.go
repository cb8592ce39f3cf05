package engagement_test

import (
	"context"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/scoring"
	"github.com/leadnurture/nurture/shared/store"
)

// faultyStore is the world's table, reached through testenv's faulty
// proxy with no SDK retries: every failure reaches the handler, which fails
// the invocation, and Lambda's retry is what must do no harm.
func (w *world) faultyStore() (*store.Store, *testenv.Faults) {
	w.T.Helper()
	client, faults := testenv.FaultyDynamo(w.T, 1)
	return store.New(client, w.Table, store.Options{}), faults
}

// untilSuccess is Lambda's retry of a failed invocation.
func untilSuccess(t *testing.T, what string, fn func() error) int {
	t.Helper()
	for attempt := 1; attempt <= 30; attempt++ {
		if err := fn(); err == nil {
			return attempt
		}
	}
	t.Fatalf("%s never succeeded through the faulty DynamoDB", what)
	return 0
}

func TestDrill_dynamoDBFailures_retriesHaveNoDoubleEffect(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("drill", nil)
	faulty, proxy := w.faultyStore()
	svc := *w.Engagement
	svc.Store = faulty

	click := w.humanClick(l, 0, time.Hour)
	attempts := untilSuccess(t, "click", func() error { _, err := svc.HandleEvent(context.Background(), click); return err })
	// A redelivery after success changes nothing either.
	attempts += untilSuccess(t, "click again", func() error { _, err := svc.HandleEvent(context.Background(), click); return err })

	c := &lead.Capturer{Program: w.Program, Store: faulty, Clock: w.Clock, Scorer: scoring.New(w.Program), IDs: testenv.LeadIDs}
	second := w.Program.Forms[1]
	sub := lead.Submission{FormID: second.ID, Fields: map[string]string{"email": l.Email, "company": "Drill Ltd"}, Consent: true, ReceivedAt: w.Clock.Now()}
	attempts += untilSuccess(t, "capture", func() error { _, err := c.Capture(context.Background(), sub); return err })
	if attempts <= 3 {
		t.Fatal("no handler call failed; the drill did not exercise Lambda's retry")
	}

	if proxy.Failures.Load() == 0 {
		t.Fatal("the proxy injected no failure; the drill tested nothing")
	}
	got := w.Lead(l.ID)
	acts := kinds(w.Activities(l.ID))
	if len(acts[lead.KindClick]) != 1 || len(got.RecentClicks) != 1 {
		t.Fatalf("the click was applied %d times (%d marks)", len(acts[lead.KindClick]), len(got.RecentClicks))
	}
	if len(acts[lead.KindDownload]) != 2 || len(got.Downloaded) != 2 {
		t.Fatalf("downloads: %d activities, %v", len(acts[lead.KindDownload]), got.Downloaded)
	}
	// The score counts each event once: the ledger of the last event
	// applied (the second download) says what the score was after it, and
	// nothing was added since.
	var last lead.Activity
	for _, a := range acts[lead.KindDownload] {
		if a.FormID == second.ID {
			last = a
		}
	}
	if v := scoring.New(w.Program).Value(got.Score, got.Score.At); last.ScoreAfter == 0 || v < last.ScoreAfter-0.1 || v > last.ScoreAfter+0.1 {
		t.Fatalf("score %.1f, but the ledger's last entry says %.1f: an event was counted twice", v, last.ScoreAfter)
	}
	t.Logf("%d of %d DynamoDB requests failed; %d handler invocations for 3 events", proxy.Failures.Load(), proxy.Requests.Load(), attempts)
}
