package outbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/sales/slack"
	"github.com/leadnurture/nurture/shared/scoring"
	"github.com/leadnurture/nurture/shared/sesevent"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// chat is a Slack-compatible receiver: it answers with the statuses it is
// given in turn (then 200), or never answers while hang is set.
type chat struct {
	srv      *httptest.Server
	requests atomic.Int32
	mu       sync.Mutex
	statuses []int
	hang     chan struct{} // closed when the test ends
}

func newChat(t *testing.T, hang bool, statuses ...int) *chat {
	c := &chat{statuses: statuses}
	if hang {
		c.hang = make(chan struct{})
	}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.requests.Add(1)
		if c.hang != nil {
			select {
			case <-c.hang:
			case <-r.Context().Done():
			}
			return
		}
		c.mu.Lock()
		status := http.StatusOK
		if len(c.statuses) > 0 {
			status, c.statuses = c.statuses[0], c.statuses[1:]
		}
		c.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(func() {
		if c.hang != nil {
			close(c.hang)
		}
		c.srv.Close()
	})
	return c
}

// webhook is the alerts function's webhook with a short timeout and one
// try per flush, so a hanging receiver costs the test little.
func (c *chat) webhook() *slack.Webhook {
	return &slack.Webhook{URL: c.srv.URL, Client: &http.Client{Timeout: 300 * time.Millisecond}, Attempts: 1}
}

type world struct {
	*testworld.World
	chat *chat
}

func newWorld(t *testing.T, c *chat) *world {
	return &world{testworld.New(t, testworld.Options{Name: "outbox", Webhook: c.webhook()}), c}
}

// alertsFor returns the alert emails about a lead (they name its address).
func (w *world) alertsFor(l *lead.Lead) []localstack.SentEmail {
	var out []localstack.SentEmail
	for _, m := range testenv.SentMail(w.T) {
		if strings.Contains(m.Text, l.Email) && !strings.EqualFold(m.To[0], l.Email) {
			out = append(out, m)
		}
	}
	return out
}

// crossByFormPost has a nurtured lead one below the threshold post a
// second form through the capture handler, as API Gateway hands it over;
// its download carries the score over.
func (w *world) crossByFormPost(local string) *lead.Lead {
	w.T.Helper()
	l := w.Nurtured(local, map[string]string{"name": "Grace Hopper", "company": "Compilers Ltd"})
	w.OneBelowTheThreshold(l.ID)
	form := w.Program.Forms[1]
	res, err := w.App.Capture.Handle(context.Background(), testworld.FormPost(form.ID, url.Values{"email": {l.Email}, "company": {"Compilers Ltd"}, "name": {"Grace Hopper"}, "consent": {"yes"}}, w.Clock.Now()))
	if err != nil || res.StatusCode >= 400 {
		w.T.Fatalf("form post: %d %v (%s)", res.StatusCode, err, res.Body)
	}
	got := w.Lead(l.ID)
	if len(got.PendingAlerts) != 1 {
		w.T.Fatalf("the form post should cross the threshold: pending %+v", got.PendingAlerts)
	}
	return got
}

func TestFormPostThatCrosses_returnsBeforeSESOrAHangingWebhook_theAlertArrivesThroughTheStream(t *testing.T) {
	c := newChat(t, true)
	w := newWorld(t, c)
	l := w.crossByFormPost("grace")

	// The post has been answered: nothing was mailed to sales or posted to
	// the chat inside it.
	if n := len(w.alertsFor(l)); n != 0 || c.requests.Load() != 0 {
		t.Fatalf("the form post sent %d alert emails and %d webhook posts itself", n, c.requests.Load())
	}
	w.Drain()
	if n := len(w.alertsFor(l)); n != 1 {
		t.Fatalf("%d alert emails after the stream reached the alerts function, want 1", n)
	}
	if c.requests.Load() != 1 {
		t.Fatalf("%d webhook posts, want 1 (it hangs)", c.requests.Load())
	}
	// The hanging receiver cost only its own delivery: the email is
	// recorded, the post is owed and waits its backoff.
	got := w.Lead(l.ID)
	if len(got.Alerts) != 1 || len(got.PendingAlerts) != 1 || !got.PendingAlerts[0].Mailed || got.PendingAlerts[0].RetryAt.IsZero() {
		t.Fatalf("sent %+v, pending %+v", got.Alerts, got.PendingAlerts)
	}
}

// stream reads the crossing's records off the stream without handling
// them, as Lambda would hand them to the alerts function.
func (w *world) records() events.DynamoDBEvent {
	w.T.Helper()
	var ev events.DynamoDBEvent
	m := testworld.OutboxMapping(w.T, w.Table, w.App.Outbox, w.Log)
	m.Handler = func(_ context.Context, e events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		ev.Records = append(ev.Records, e.Records...)
		return events.DynamoDBEventResponse{}, nil
	}
	if err := m.Drain(context.Background()); err != nil {
		w.T.Fatal(err)
	}
	if len(ev.Records) == 0 {
		w.T.Fatal("no stream record for the outbox")
	}
	return ev
}

func TestSameStreamRecord_deliveredTwiceAndConcurrently_sendsOneAlert(t *testing.T) {
	c := newChat(t, false)
	w := newWorld(t, c)
	l := w.crossByFormPost("ada")
	ev := w.records()

	// Lambda redelivers a batch after a lost answer, and with several
	// batches per shard in flight, or two mappings, handlers overlap.
	redeliver(t, func() (int, error) {
		res, err := w.App.Outbox.Handle(context.Background(), ev)
		return len(res.BatchItemFailures), err
	})
	w.Drain() // and the stream's own delivery, and the records the sends wrote

	if n := len(w.alertsFor(l)); n != 1 {
		t.Fatalf("%d alert emails from 13 deliveries of one crossing, want 1", n)
	}
	if n := c.requests.Load(); n != 1 {
		t.Fatalf("%d webhook posts, want 1", n)
	}
	if got := w.Lead(l.ID); len(got.Alerts) != 1 || len(got.PendingAlerts) != 0 {
		t.Fatalf("sent %+v, pending %+v", got.Alerts, got.PendingAlerts)
	}
}

// redeliver hands one batch over twice, then 10 times at once, as an
// at-least-once source with overlapping handlers may; handle returns how
// many items failed.
func redeliver(t *testing.T, handle func() (int, error)) {
	t.Helper()
	for range 2 {
		if failed, err := handle(); err != nil || failed != 0 {
			t.Fatalf("Handle: %d failed, %v", failed, err)
		}
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if failed, err := handle(); err != nil || failed != 0 {
				t.Errorf("Handle: %d failed, %v", failed, err)
			}
		})
	}
	wg.Wait()
}

// tick runs the scheduler at the world's clock, then the stream.
func (w *world) tick() {
	w.T.Helper()
	if _, err := w.Scheduler.Tick(context.Background(), w.Clock.Now()); err != nil {
		w.T.Fatal(err)
	}
	w.Drain()
}

func TestWebhookFailure_isRetriedAfterItsBackoff_withoutSendingTheEmailAgain(t *testing.T) {
	c := newChat(t, false, http.StatusServiceUnavailable)
	w := newWorld(t, c)
	l := w.crossByFormPost("katherine")
	w.Drain()
	if n := len(w.alertsFor(l)); n != 1 || c.requests.Load() != 1 {
		t.Fatalf("%d emails, %d posts after the crossing", n, c.requests.Load())
	}
	// Ticks within the backoff hand nothing over.
	w.Clock.Advance(sales.RetryDelay(1) / 2)
	w.tick()
	if c.requests.Load() != 1 {
		t.Fatalf("%d posts within the backoff, want 1", c.requests.Load())
	}
	w.Clock.Advance(sales.RetryDelay(1))
	w.tick()
	if c.requests.Load() != 2 {
		t.Fatalf("%d posts after the backoff, want 2", c.requests.Load())
	}
	if n := len(w.alertsFor(l)); n != 1 {
		t.Fatalf("%d alert emails, want 1: the retry is the webhook's alone", n)
	}
	if got := w.Lead(l.ID); len(got.PendingAlerts) != 0 || len(got.Alerts) != 1 {
		t.Fatalf("sent %+v, pending %+v", got.Alerts, got.PendingAlerts)
	}
}

// engage has SES report a reader's click on the asset of the lead's first
// email (or an open of that email), an hour after it was sent, through the
// engagement function; the lead was one below the threshold, so it
// crosses. It returns when the event happened.
func (w *world) engage(l *lead.Lead, eventType string) time.Time {
	w.T.Helper()
	sent := w.WithMessageIDs(l).Nurture.Sent[0]
	asset, _ := w.Program.Asset(sent.AssetID)
	at := sent.At.Add(time.Hour)
	w.Clock.Set(at)
	rec := sesevent.Record{
		EventType: eventType,
		Mail: sesevent.Mail{Timestamp: sent.At, MessageID: sent.MessageID, Destination: []string{l.Email},
			Tags: map[string][]string{"lead": {l.ID}, "track": {sent.Track}, "step": {"0"}, "asset": {sent.AssetID}}},
	}
	const reader = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 Version/17.4 Safari/605.1.15"
	detailType := "Email Clicked"
	switch eventType {
	case sesevent.EventClick:
		rec.Click = &sesevent.Click{Timestamp: at, Link: asset.URL, UserAgent: reader,
			IPAddress: "198.51.100.23", LinkTags: map[string][]string{"link": {"asset"}, "asset": {asset.ID}}}
	case sesevent.EventOpen:
		detailType = "Email Opened"
		rec.Open = &sesevent.Open{Timestamp: at, UserAgent: reader, IPAddress: "198.51.100.23"}
	}
	raw, err := json.Marshal(map[string]any{"version": "0", "source": "aws.ses", "detail-type": detailType, "detail": rec})
	if err != nil {
		w.T.Fatal(err)
	}
	if _, err := w.Engagement.HandleEvent(context.Background(), raw); err != nil {
		w.T.Fatal(err)
	}
	if got := w.Lead(l.ID); len(got.PendingAlerts) != 1 {
		w.T.Fatalf("the %s should cross: %+v", eventType, got.PendingAlerts)
	}
	return at
}

// crossByClick has a nurtured lead one below the threshold click in its
// first email.
func (w *world) crossByClick(local string) (*lead.Lead, time.Time) {
	w.T.Helper()
	l := w.Nurtured(local, nil)
	w.OneBelowTheThreshold(l.ID)
	return l, w.engage(l, sesevent.EventClick)
}

func TestClickCausedCrossing_wakeUpLost_theTickStillHandsItOverAfterItsSettleTime(t *testing.T) {
	c := newChat(t, false)
	w := &world{testworld.New(t, testworld.Options{Name: "outbox", Webhook: c.webhook(), WithoutDelayQueue: true}), c}
	l, _ := w.crossByClick("hedy")
	w.Drain()
	w.Clock.Advance(scoring.SettleAfterEngagement - time.Second)
	w.tick()
	if n := len(w.alertsFor(l)); n != 0 || c.requests.Load() != 0 {
		t.Fatalf("%d emails and %d posts before the settle time", n, c.requests.Load())
	}
	w.Clock.Advance(time.Second)
	w.tick()
	if n := len(w.alertsFor(l)); n != 1 || c.requests.Load() != 1 {
		t.Fatalf("%d emails and %d posts once settled, want 1 each", n, c.requests.Load())
	}
}
