package engagement_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/engagement"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/scoring"
	"github.com/leadnurture/nurture/shared/sesevent"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// world is the product on the test servers (testworld), plus this
// package's helpers for SES events.
type world struct{ *testworld.World }

func newWorld(t *testing.T) *world {
	return &world{testworld.New(t, testworld.Options{Name: "engagement"})}
}

// sample loads one of events/engagement and makes it about lead l's first
// nurture email: its MessageId, its tags, and times relative to its send.
func (w *world) sample(name string, l *lead.Lead) []byte {
	w.T.Helper()
	raw := sampleFile(w.T, name)
	sent := l.Nurture.Sent[0]
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		w.T.Fatal(err)
	}
	// The samples were sent at this time; everything moves with the send.
	sampleSent := time.Date(2026, 12, 1, 9, 0, 2, 512e6, time.UTC)
	shift := sent.At.Sub(sampleSent)
	replace := map[string]string{
		"010701937b2a4f5e-6c1f9f5a-4b6e-4d8e-9b7a-2f3c1e0d5a6b-000000": sent.MessageID,
		"f3u2l7x5k4c2m8n9p6q1r0sa":                                     l.ID,
		"ada.lovelace@example.com":                                     l.Email,
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		case string:
			if r, ok := replace[x]; ok {
				return r
			}
			if ts, err := time.Parse(time.RFC3339Nano, x); err == nil && strings.Contains(x, "T") {
				return ts.Add(shift).UTC().Format("2006-01-02T15:04:05.000Z")
			}
			if strings.HasPrefix(x, "{") {
				// An SNS Message is the record as a JSON string.
				var inner any
				if json.Unmarshal([]byte(x), &inner) == nil {
					b, _ := json.Marshal(walk(inner))
					return string(b)
				}
			}
		}
		return v
	}
	b, err := json.Marshal(walk(doc))
	if err != nil {
		w.T.Fatal(err)
	}
	return b
}

// handle applies one SES event, then lets the table's stream reach the
// alerts function, as it would within a second.
func (w *world) handle(raw []byte) []engagement.Result {
	w.T.Helper()
	res, err := w.Engagement.HandleEvent(context.Background(), raw)
	if err != nil {
		w.T.Fatalf("HandleEvent: %v", err)
	}
	w.Drain()
	return res
}

// tick runs the scheduler at the world's clock, then lets the stream reach
// the alerts function.
func (w *world) tick() {
	w.T.Helper()
	if _, err := w.Scheduler.Tick(context.Background(), w.Clock.Now()); err != nil {
		w.T.Fatal(err)
	}
	w.Drain()
}

func kinds(acts []lead.Activity) map[string][]lead.Activity {
	m := map[string][]lead.Activity{}
	for _, a := range acts {
		m[a.Kind] = append(m[a.Kind], a)
	}
	return m
}

func TestHandleEvent_eachSESEventType_changesTheLead(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		sample string
		check  func(t *testing.T, l *lead.Lead, acts map[string][]lead.Activity)
	}{
		{"delivery.json", func(t *testing.T, l *lead.Lead, acts map[string][]lead.Activity) {
			if l.Nurture.Sent[0].DeliveredAt.IsZero() || len(acts[lead.KindDelivered]) != 1 {
				t.Fatalf("delivery not recorded: %+v", l.Nurture.Sent[0])
			}
		}},
		{"open.json", func(t *testing.T, l *lead.Lead, acts map[string][]lead.Activity) {
			if len(acts[lead.KindOpen]) != 1 || acts[lead.KindOpen][0].Machine || !l.Nurture.Sent[0].Opened {
				t.Fatalf("a reader's open 2 minutes after delivery: %+v", acts[lead.KindOpen])
			}
		}},
		{"click.json", func(t *testing.T, l *lead.Lead, acts map[string][]lead.Activity) {
			c := acts[lead.KindClick]
			if len(c) != 1 || c[0].Machine || c[0].AssetID != "finops-maturity-checklist" || !strings.Contains(c[0].Link, "finops-maturity-checklist") {
				t.Fatalf("a reader's click on the asset: %+v", c)
			}
		}},
		{"sns-click.json", func(t *testing.T, l *lead.Lead, acts map[string][]lead.Activity) {
			if len(acts[lead.KindClick]) != 1 {
				t.Fatalf("the same click through SNS must not count twice: %+v", acts[lead.KindClick])
			}
		}},
		{"bounce-transient.json", func(t *testing.T, l *lead.Lead, acts map[string][]lead.Activity) {
			if len(l.SoftBounces) != 1 || !l.Mailable() || len(acts[lead.KindBounce]) != 1 {
				t.Fatalf("a soft bounce is counted and mail goes on: soft bounces %v, suppression %+v", l.SoftBounces, l.Suppression)
			}
		}},
		{"reject.json", func(t *testing.T, l *lead.Lead, acts map[string][]lead.Activity) {
			if len(acts[lead.KindRejected]) != 1 || acts[lead.KindRejected][0].Detail == "" {
				t.Fatalf("reject: %+v", acts[lead.KindRejected])
			}
		}},
		{"delivery-delay.json", func(t *testing.T, l *lead.Lead, acts map[string][]lead.Activity) {
			if len(acts[lead.KindDelayed]) != 1 {
				t.Fatalf("delay: %+v", acts)
			}
		}},
		{"rendering-failure.json", func(t *testing.T, l *lead.Lead, acts map[string][]lead.Activity) {
			if len(acts[lead.KindRenderingFailed]) != 1 {
				t.Fatalf("rendering failure: %+v", acts)
			}
		}},
		{"complaint.json", func(t *testing.T, l *lead.Lead, acts map[string][]lead.Activity) {
			if l.Suppression == nil || l.Suppression.Reason != lead.SuppressedComplained || l.Nurture.Due() {
				t.Fatalf("a complaint stops all mail: %+v %+v", l.Suppression, l.Nurture)
			}
		}},
		{"bounce-permanent.json", func(t *testing.T, l *lead.Lead, acts map[string][]lead.Activity) {
			// Already suppressed by the complaint: the first reason stands.
			if l.Suppression == nil || len(acts[lead.KindBounce]) != 2 {
				t.Fatalf("hard bounce: %+v", l.Suppression)
			}
		}},
	}
	l := w.Nurtured("ada", nil)
	for _, tt := range tests {
		t.Run(tt.sample, func(t *testing.T) {
			res := w.handle(w.sample(tt.sample, l))
			if len(res) != 1 || res[0].LeadID != l.ID {
				t.Fatalf("results %+v", res)
			}
			tt.check(t, w.Lead(l.ID), kinds(w.Activities(l.ID)))
		})
	}
}

func TestHandleEvent_hardBounceAlone_suppressesAtOnce(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("bounce", nil)
	w.handle(w.sample("bounce-permanent.json", l))
	got := w.Lead(l.ID)
	if got.Suppression == nil || got.Suppression.Reason != lead.SuppressedBounced || got.Nurture.Status != lead.NurtureStopped {
		t.Fatalf("after a hard bounce: %+v %+v", got.Suppression, got.Nurture)
	}
}

// The scheduler lists a step as sent before SES sends it, so SES's Send
// event changes nothing on the lead; it records one "sent" activity for
// the program's results, however often it is delivered. The step learns
// its MessageId from the first event that changes the lead, the Delivery
// as a rule.
func TestHandleEvent_sendEventRecordsOneSentActivity_deliveryRecordsTheMessageID(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("msgid", nil)
	stored := w.Lead(l.ID)
	if stored.Nurture.Sent[0].MessageID != "" {
		t.Fatalf("before any event the step has no MessageId: %+v", stored.Nurture.Sent[0])
	}
	for i, want := range []bool{true, false, false} {
		if res := w.handle(w.sample("send.json", l)); len(res) != 1 || res[0].Applied != want {
			t.Fatalf("Send event delivery %d: %+v, want applied=%v", i+1, res, want)
		}
	}
	if got := w.Lead(l.ID); got.Version != stored.Version {
		t.Fatalf("a Send event wrote the lead: version %d -> %d", stored.Version, got.Version)
	}
	if sent := kinds(w.Activities(l.ID))[lead.KindSent]; len(sent) != 1 || sent[0].Track != l.Nurture.Sent[0].Track || sent[0].MessageID == "" {
		t.Fatalf("after three deliveries of the Send event: sent activities %+v, want one naming the step", sent)
	}
	w.handle(w.sample("delivery.json", l))
	got := w.Lead(l.ID).Nurture.Sent
	if len(got) != 1 || got[0].MessageID != l.Nurture.Sent[0].MessageID || got[0].DeliveredAt.IsZero() {
		t.Fatalf("after the Delivery event: %+v, want MessageId %s and a delivery time", got, l.Nurture.Sent[0].MessageID)
	}
}

func TestHandleEvent_unknownMessageDropped_poisonDeadLettered(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("stranger", nil)
	// Without tags, a message to an address that is no lead, or to a lead
	// at a time no step of it was sent, is not one of ours.
	for name, edit := range map[string]func(mailObj map[string]any){
		"to a stranger": func(m map[string]any) { m["destination"] = []any{w.Email("nobody")} },
		"sent when no step was": func(m map[string]any) {
			m["timestamp"] = l.Nurture.Sent[0].At.Add(72 * time.Hour).Format(time.RFC3339Nano)
		},
	} {
		var doc map[string]any
		_ = json.Unmarshal(w.sample("click.json", l), &doc)
		mailObj := doc["detail"].(map[string]any)["mail"].(map[string]any)
		delete(mailObj, "tags")
		mailObj["messageId"] = "not-one-of-ours"
		edit(mailObj)
		raw, _ := json.Marshal(doc)
		if res := w.handle(raw); len(res) != 1 || res[0].Applied || res[0].Reason != "unknown message" {
			t.Fatalf("%s: %+v, want an unknown message", name, res)
		}
	}
	// Poison events fail, so Lambda dead-letters them; the next event is
	// applied as usual.
	for _, poison := range [][]byte{w.sample("eventbridge-unknown.json", l), []byte(`{"source":"aws.ses","detail":`), []byte(`{}`)} {
		if _, err := w.Engagement.HandleEvent(context.Background(), poison); !errors.Is(err, engagement.ErrPoison) {
			t.Fatalf("a poison event must fail as ErrPoison so it reaches the dead-letter queue, got %v", err)
		}
	}
	if res := w.handle(w.sample("delivery.json", l)); len(res) != 1 || !res[0].Applied {
		t.Fatalf("after poison events, a good one is applied: %+v", res)
	}
}

func TestHandleEvent_sameClick100TimesAtOnce_appliedOnce(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("dup", nil)
	raw := w.sample("click.json", l)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	var applied atomic.Int32
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := w.Engagement.HandleEvent(context.Background(), raw)
			if len(res) == 1 && res[0].Applied {
				applied.Add(1)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := w.Lead(l.ID)
	if c := kinds(w.Activities(l.ID))[lead.KindClick]; len(c) != 1 || len(got.RecentClicks) != 1 {
		t.Fatalf("100 deliveries of one click: %d click activities, %d click marks", len(c), len(got.RecentClicks))
	}
	if applied.Load() != 1 {
		t.Fatalf("%d of 100 deliveries reported the click as applied, want 1", applied.Load())
	}
}

// click builds a Click event on l's first email at a given time after its
// send, on a link, by a user agent.
func (w *world) click(l *lead.Lead, after time.Duration, link, ua string, linkTags map[string][]string) []byte {
	w.T.Helper()
	sent := l.Nurture.Sent[0]
	r := sesevent.Record{
		EventType: sesevent.EventClick,
		Mail: sesevent.Mail{Timestamp: sent.At, MessageID: sent.MessageID, Destination: []string{l.Email},
			Tags: map[string][]string{"lead": {l.ID}, "track": {sent.Track}, "step": {"0"}, "asset": {sent.AssetID}}},
		Click: &sesevent.Click{Timestamp: sent.At.Add(after), Link: link, UserAgent: ua, IPAddress: "198.51.100.23", LinkTags: linkTags},
	}
	b, err := json.Marshal(map[string]any{"version": "0", "source": "aws.ses", "detail-type": "Email Clicked", "detail": r})
	if err != nil {
		w.T.Fatal(err)
	}
	return b
}

const chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

func TestHandleEvent_scannerClicks_recordedAsMachine(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name   string
		clicks func(l *lead.Lead) [][]byte
		human  int // how many of the lead's clicks are a reader's
	}{
		{"within seconds of delivery", func(l *lead.Lead) [][]byte {
			return [][]byte{w.click(l, 3*time.Second, "https://acme.example/a", chrome, nil)}
		}, 0},
		{"scanner user agent", func(l *lead.Lead) [][]byte {
			return [][]byte{w.click(l, time.Hour, "https://acme.example/a", "Mimecast URL Protect", nil)}
		}, 0},
		{"hidden honeypot link", func(l *lead.Lead) [][]byte {
			return [][]byte{w.click(l, time.Hour, "https://acme.example/a", chrome, map[string][]string{"link": {"honeypot"}})}
		}, 0},
		{"several links in the same second", func(l *lead.Lead) [][]byte {
			return [][]byte{
				w.click(l, time.Hour, "https://acme.example/a", chrome, nil),
				w.click(l, time.Hour+200*time.Millisecond, "https://acme.example/b", chrome, nil),
				w.click(l, time.Hour+400*time.Millisecond, "https://acme.example/c", chrome, nil),
			}
		}, 0},
		{"a reader an hour later", func(l *lead.Lead) [][]byte {
			return [][]byte{w.click(l, time.Hour, "https://acme.example/a", chrome, map[string][]string{"link": {"asset"}})}
		}, 1},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := w.Nurtured(fmt.Sprintf("scan%d", i), nil)
			for _, c := range tt.clicks(l) {
				w.handle(c)
			}
			clicks := kinds(w.Activities(l.ID))[lead.KindClick]
			human := 0
			for _, c := range clicks {
				if !c.Machine {
					human++
				} else if c.MachineReason == "" {
					t.Errorf("a machine click should say why: %+v", c)
				}
			}
			if len(clicks) != len(tt.clicks(l)) || human != tt.human {
				t.Fatalf("%d clicks recorded, %d as a reader's; want %d recorded, %d a reader's: %+v", len(clicks), human, len(tt.clicks(l)), tt.human, clicks)
			}
		})
	}
}

func TestSuppressedLeads_getNoMoreMailThroughWeeksOfTicks(t *testing.T) {
	w := newWorld(t)
	bounced, complained, unsubscribed := w.Nurtured("hard", nil), w.Nurtured("complainer", nil), w.Nurtured("leaver", nil)
	w.handle(w.sample("bounce-permanent.json", bounced))
	w.handle(w.sample("complaint.json", complained))
	if err := w.Engagement.Unsubscribe(context.Background(), unsubscribed.ID, w.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	for week := 0; week < 8; week++ {
		w.Clock.Advance(7 * 24 * time.Hour)
		if _, err := w.Scheduler.Tick(context.Background(), w.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range []*lead.Lead{bounced, complained, unsubscribed} {
		if n := len(w.NurtureMailTo(l.Email)); n != 1 {
			t.Errorf("%s got %d emails, want only the one before it was suppressed", l.Email, n)
		}
	}
}

func TestAnswer_changesTheNextStepsAsset(t *testing.T) {
	w := newWorld(t)
	answered, silent := w.Nurtured("answers", nil), w.Nurtured("silent", nil)
	if err := w.Engagement.Answer(context.Background(), answered.ID, answered.Nurture.Track, 0, "industry", "finance", w.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if got := w.Lead(answered.ID); got.Industry != "finance" || got.Answers["industry"] != "finance" {
		t.Fatalf("the answer should fill the profile: %+v", got)
	}
	// Steps 2 and 3 for both.
	for i := 0; i < 2; i++ {
		for _, id := range []string{answered.ID, silent.ID} {
			if due := w.Lead(id).Nurture.DueAt; due.After(w.Clock.Now()) {
				w.Clock.Set(due)
			}
		}
		if _, err := w.Scheduler.Tick(context.Background(), w.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	a, s := w.Lead(answered.ID).Nurture.Sent, w.Lead(silent.ID).Nurture.Sent
	if len(a) != 3 || len(s) != 3 {
		t.Fatalf("both should have 3 steps: %d %d", len(a), len(s))
	}
	fin, _ := w.Program.Asset(a[2].AssetID)
	if a[2].AssetID == s[2].AssetID || len(fin.Industries) == 0 || fin.Industries[0] != "finance" {
		t.Fatalf("after answering finance, step 3 should pick a finance asset: answered %s, silent %s", a[2].AssetID, s[2].AssetID)
	}
}

func TestHandleEvent_withoutTags_joinedByAddressAndSendTime(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("untagged", nil)
	raw := w.sample("click.json", l)
	var doc map[string]any
	_ = json.Unmarshal(raw, &doc)
	delete(doc["detail"].(map[string]any)["mail"].(map[string]any), "tags")
	raw, _ = json.Marshal(doc)
	res := w.handle(raw)
	if len(res) != 1 || !res[0].Applied || res[0].LeadID != l.ID {
		t.Fatalf("a click without tags should be joined by its address and send time: %+v", res)
	}
	if c := kinds(w.Activities(l.ID))[lead.KindClick]; len(c) != 1 || c[0].Step != 0 || c[0].Track != l.Nurture.Track {
		t.Fatalf("click activity: %+v", c)
	}
}

// alertsFor returns the alert emails about a lead (they go to sales, and
// name the lead's email address in their text).
func (w *world) alertsFor(l *lead.Lead) []localstack.SentEmail {
	var out []localstack.SentEmail
	for _, m := range testenv.SentMail(w.T) {
		if strings.Contains(m.Text, l.Email) && !strings.EqualFold(m.To[0], l.Email) {
			out = append(out, m)
		}
	}
	return out
}

// humanClick is a reader's click on the asset of the lead's step i, an hour
// after it was sent.
func (w *world) humanClick(l *lead.Lead, i int, after time.Duration) []byte {
	w.T.Helper()
	sent := w.WithMessageIDs(l).Nurture.Sent[i]
	asset, _ := w.Program.Asset(sent.AssetID)
	r := sesevent.Record{
		EventType: sesevent.EventClick,
		Mail: sesevent.Mail{Timestamp: sent.At, MessageID: sent.MessageID, Destination: []string{l.Email},
			Tags: map[string][]string{"lead": {l.ID}, "track": {sent.Track}, "step": {fmt.Sprint(sent.Step)}, "asset": {sent.AssetID}}},
		Click: &sesevent.Click{Timestamp: sent.At.Add(after), Link: asset.URL, UserAgent: chrome, IPAddress: "198.51.100.23",
			LinkTags: map[string][]string{"link": {"asset"}, "asset": {asset.ID}}},
	}
	b, err := json.Marshal(map[string]any{"version": "0", "source": "aws.ses", "detail-type": "Email Clicked", "detail": r})
	if err != nil {
		w.T.Fatal(err)
	}
	return b
}

func TestJourney_downloadTwoClicksAndAnAnswer_crossMQL_salesGetsOneAlertWithTheStory(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("journey", map[string]string{"name": "Ada Lovelace", "company": "Analytical Engines", "companySize": "501-5000"})
	w.handle(w.humanClick(l, 0, time.Hour))
	l = w.Next(l.ID)
	w.handle(w.humanClick(l, 1, 2*time.Hour))
	l = w.Next(l.ID)
	if n := len(w.alertsFor(l)); n != 0 {
		t.Fatalf("a download and two clicks are not yet sales-ready, but %d alerts went out (score %.1f)", n, scoring.New(w.Program).Value(l.Score, w.Clock.Now()))
	}
	// Step 3 asks for the industry; the lead answers with one click.
	if err := w.Engagement.Answer(context.Background(), l.ID, l.Nurture.Track, 2, "industry", "finance", w.Clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	w.Drain()
	l = w.Lead(l.ID)
	alerts := w.alertsFor(l)
	if len(alerts) != 1 || len(l.Alerts) != 1 || len(l.PendingAlerts) != 0 {
		t.Fatalf("want exactly one alert, got %d emails, %d recorded, %d pending (score %.1f)", len(alerts), len(l.Alerts), len(l.PendingAlerts), scoring.New(w.Program).Value(l.Score, w.Clock.Now()))
	}
	a := alerts[0]
	if a.To[0] != sales.Route(w.Program, l) || a.To[0] == w.Program.Routing.Default {
		t.Errorf("a finance lead's alert goes to the finance route, went to %v", a.To)
	}
	downloaded, _ := w.Program.Asset(l.Downloaded[0])
	click1, _ := w.Program.Asset(l.Nurture.Sent[0].AssetID)
	click2, _ := w.Program.Asset(l.Nurture.Sent[1].AssetID)
	for _, want := range []string{"Ada Lovelace", "Analytical Engines", downloaded.Title, click1.Title, click2.Title, "Financial services"} {
		if !strings.Contains(a.Text, want) || !strings.Contains(a.HTML, strings.ReplaceAll(want, "&", "&amp;")) {
			t.Errorf("the alert should name %q", want)
		}
	}
	// More interest after the crossing does not alert again.
	w.handle(w.humanClick(l, 2, 3*time.Hour))
	if n := len(w.alertsFor(l)); n != 1 {
		t.Fatalf("still above the threshold: %d alerts, want 1", n)
	}
}

// atThresholdMinusOne gives a nurtured lead a score one below the first
// threshold, as of now.
func (w *world) atThresholdMinusOne(l *lead.Lead) {
	w.T.Helper()
	mql := w.Program.Thresholds[0]
	if _, err := w.Store.UpdateLead(context.Background(), l.ID, func(x *lead.Lead, _ bool) error {
		x.Score = lead.Score{Activity: float64(mql.Score-1) - float64(x.Score.Fit), Fit: x.Score.Fit, At: w.Clock.Now()}
		return nil
	}); err != nil {
		w.T.Fatal(err)
	}
}

func TestAlert_200ConcurrentScoreEventsAtThresholdMinusOne_exactlyOneAlert(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("rush", nil)
	w.atThresholdMinusOne(l)
	// 200 distinct clicks on the asset link, seconds apart in SES's
	// timestamps, all arriving at once. They are built first: each reads
	// SES local's store, and 200 reads at once time out on a busy machine.
	raws := make([][]byte, 200)
	for i := range raws {
		raws[i] = w.humanClick(l, 0, time.Hour+time.Duration(i)*2*time.Second)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for _, raw := range raws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			for attempt := 0; attempt < 5; attempt++ { // Lambda redelivers a failed event
				if _, err = w.Engagement.HandleEvent(context.Background(), raw); err == nil {
					break
				}
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Alerts a click caused wait until a scanner's burst would show, though
	// the stream hands the crossing to the alerts function at once.
	w.Drain()
	if n := len(w.alertsFor(l)); n != 0 {
		t.Fatalf("%d alerts went out before the settle time", n)
	}
	// Then 20 senders at once (ticks, later events) send them.
	w.Clock.Set(l.Nurture.Sent[0].At.Add(time.Hour + 400*time.Second + scoring.SettleAfterEngagement))
	for range 20 {
		wg.Go(func() {
			if err := w.Alerter.Flush(context.Background(), l.ID); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// The clicks carry the score past every threshold: one alert each, and
	// each recorded as sent (the alert activity; the lead's own list may
	// catch up on its next flush when 200 writers keep it busy).
	perThreshold := map[string]int{}
	sent := kinds(w.Activities(l.ID))[sales.KindAlert]
	for _, a := range sent {
		perThreshold[strings.Fields(a.Detail)[0]]++
	}
	if n := len(w.alertsFor(l)); n != len(w.Program.Thresholds) || len(sent) != n {
		t.Fatalf("200 concurrent events over the thresholds: %d alert emails, %d recorded; want one per threshold (%d)", n, len(sent), len(w.Program.Thresholds))
	}
	for _, th := range w.Program.Thresholds {
		if perThreshold[th.Name] != 1 {
			t.Fatalf("threshold %s alerted %d times: %+v", th.Name, perThreshold[th.Name], sent)
		}
	}
	if c := kinds(w.Activities(l.ID))[lead.KindClick]; len(c) != 200 {
		t.Fatalf("every click is recorded once: %d", len(c))
	}
}

func TestAlert_scannerClicksAlone_neverAlert(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("scanned", nil)
	w.atThresholdMinusOne(l)
	for i := 0; i < 20; i++ {
		ua := chrome
		after := 2*time.Second + time.Duration(i)*time.Second // right after delivery
		var tags map[string][]string
		switch i % 3 {
		case 1:
			ua, after = "Mozilla/5.0 (compatible; Proofpoint URL Defense)", time.Hour+time.Duration(i)*time.Minute
		case 2:
			after, tags = time.Hour+time.Duration(i)*time.Minute, map[string][]string{"link": {"honeypot"}}
		}
		w.handle(w.click(l, after, fmt.Sprintf("https://acme.example/library/x%d", i), ua, tags))
	}
	if n := len(w.alertsFor(l)); n != 0 {
		t.Fatalf("scanner clicks alone raised %d alerts", n)
	}
	if got := w.Lead(l.ID); scoring.New(w.Program).Value(got.Score, w.Clock.Now()) >= float64(w.Program.Thresholds[0].Score) {
		t.Fatalf("scanner clicks moved the score to %.1f", scoring.New(w.Program).Value(got.Score, w.Clock.Now()))
	}
}

// A scanner's first click looks like a reader's until its next click, a
// second later on another link, shows the burst. When that first click
// carried the score over a threshold, the alert waits, the burst takes the
// points back and withdraws it, and sales never hears of it; a reader's
// click afterwards alerts as usual.
func TestAlert_burstWhoseFirstClickCrossed_alertWithdrawnNeverSent(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("burst", nil)
	w.atThresholdMinusOne(l)
	asset, _ := w.Program.Asset(l.Nurture.Sent[0].AssetID)
	w.handle(w.click(l, time.Hour, asset.URL, chrome, map[string][]string{"link": {"asset"}}))
	if got := w.Lead(l.ID); len(got.PendingAlerts) != 1 || len(w.alertsFor(l)) != 0 {
		t.Fatalf("the first click crosses, its alert waits: pending %+v, %d sent", got.PendingAlerts, len(w.alertsFor(l)))
	}
	w.handle(w.click(l, time.Hour+300*time.Millisecond, "https://acme.example/library/other", chrome, nil))
	got := w.Lead(l.ID)
	if len(got.PendingAlerts) != 0 || len(got.Score.Disarmed) != 0 {
		t.Fatalf("the burst should withdraw the alert and re-arm: pending %+v, disarmed %v", got.PendingAlerts, got.Score.Disarmed)
	}
	for _, c := range kinds(w.Activities(l.ID))[lead.KindClick] {
		if !c.Machine {
			t.Fatalf("both clicks are the scanner's: %+v", c)
		}
	}
	w.Clock.Set(l.Nurture.Sent[0].At.Add(time.Hour + 2*scoring.SettleAfterEngagement))
	w.tick()
	if n := len(w.alertsFor(l)); n != 0 {
		t.Fatalf("a scanner's burst raised %d alerts", n)
	}

	// A reader, a day later.
	w.handle(w.humanClick(l, 0, 25*time.Hour))
	if n := len(w.alertsFor(l)); n != 0 {
		t.Fatalf("a click's alert waits its settle time: %d sent", n)
	}
	w.Clock.Set(l.Nurture.Sent[0].At.Add(25*time.Hour + scoring.SettleAfterEngagement))
	w.tick()
	if n := len(w.alertsFor(l)); n != 1 {
		t.Fatalf("a reader's click over the threshold: %d alerts, want 1", n)
	}
}

func TestAlert_whoseStreamRecordsFailedEveryTry_isHandedOverAgainByTheNextTick(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("pending", nil)
	w.atThresholdMinusOne(l)
	// The alerts function fails every try of the crossing's records (in
	// AWS they end in the dead-letter queue).
	handler := w.Stream.Handler
	w.Stream.Handler = func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		return events.DynamoDBEventResponse{}, errors.New("alerts function down")
	}
	w.handle(w.humanClick(l, 0, time.Hour))
	if got := w.Lead(l.ID); len(got.PendingAlerts) != 1 || len(w.alertsFor(l)) != 0 {
		t.Fatalf("want one pending alert and no email yet: %+v", got.PendingAlerts)
	}
	w.Stream.Handler = handler
	w.Clock.Advance(2 * time.Hour) // the click was an hour after the send
	w.tick()
	if got := w.Lead(l.ID); len(got.PendingAlerts) != 0 || len(got.Alerts) != 1 || len(w.alertsFor(l)) != 1 {
		t.Fatalf("the tick should hand the pending alert over once: pending %d, sent %d", len(got.PendingAlerts), len(got.Alerts))
	}
}

// A reader clicks two links of one email minutes apart; SES delivers the
// later click first. Both are a reader's and both score: minutes apart is
// no scanner's burst, whichever arrives first.
func TestHandleEvent_readersClicksMinutesApartArrivingInReverse_bothScoreNeitherIsAMachine(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("reverse", nil)
	first, _ := w.Program.Asset(l.Nurture.Sent[0].AssetID)
	var second program.Asset
	for _, a := range w.Program.Assets {
		if a.ID != first.ID && w.Program.Scoring.Activities.Click[a.Stage] > 0 {
			second = a
			break
		}
	}
	clickOn := func(a program.Asset, after time.Duration) []byte {
		return w.click(l, after, a.URL, chrome, map[string][]string{"link": {"asset"}, "asset": {a.ID}})
	}
	w.handle(clickOn(second, time.Hour+4*time.Minute))
	w.handle(clickOn(first, time.Hour))

	clicks := kinds(w.Activities(l.ID))[lead.KindClick]
	if len(clicks) != 2 {
		t.Fatalf("want both clicks recorded, got %+v", clicks)
	}
	want := map[string]int{first.ID: w.Program.Scoring.Activities.Click[first.Stage], second.ID: w.Program.Scoring.Activities.Click[second.Stage]}
	for _, c := range clicks {
		if c.Machine || c.Earned != want[c.AssetID] || c.Earned == 0 {
			t.Errorf("a reader's click on %s: machine=%v (%s), earned %d, want %d", c.AssetID, c.Machine, c.MachineReason, c.Earned, want[c.AssetID])
		}
	}
	for _, m := range w.Lead(l.ID).RecentClicks {
		if m.Machine {
			t.Errorf("a click is remembered as a machine's: %+v", m)
		}
	}
}

// Mail clients and browsers always send a user agent; an open or a click
// without one is a script's.
func TestHandleEvent_emptyUserAgent_isAMachine(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("agentless", nil)
	asset, _ := w.Program.Asset(l.Nurture.Sent[0].AssetID)
	w.handle(w.click(l, time.Hour, asset.URL, "", map[string][]string{"link": {"asset"}, "asset": {asset.ID}}))
	open := edit(t, w.sample("open.json", l), func(d map[string]any) {
		d["detail"].(map[string]any)["open"].(map[string]any)["userAgent"] = ""
	})
	w.handle(open)

	acts := kinds(w.Activities(l.ID))
	if c := acts[lead.KindClick]; len(c) != 1 || !c[0].Machine || c[0].Earned != 0 {
		t.Errorf("a click without a user agent, an hour after delivery: %+v, want a machine's, unscored", c)
	}
	if o := acts[lead.KindOpen]; len(o) != 1 || !o[0].Machine {
		t.Errorf("an open without a user agent: %+v, want a machine's", o)
	}
	if got := w.Lead(l.ID); got.Nurture.Sent[0].Opened {
		t.Error("a machine's open marked the email opened")
	}
}

func TestUnsubscribe_stopsMailScoresOnce_repeatChangesNothing(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("leaving", nil)
	before := w.Lead(l.ID)
	at := w.Clock.Now()
	if err := w.Engagement.Unsubscribe(context.Background(), l.ID, at); err != nil {
		t.Fatal(err)
	}
	got := w.Lead(l.ID)
	if got.Suppression == nil || got.Suppression.Reason != lead.SuppressedUnsubscribed || !got.Suppression.At.Equal(at) ||
		got.Mailable() || got.Nurture.Status != lead.NurtureStopped || got.Nurture.Due() {
		t.Fatalf("after unsubscribing: suppression %+v, nurture %+v", got.Suppression, got.Nurture)
	}
	unsub := w.Program.Scoring.Activities.Unsubscribe
	acts := kinds(w.Activities(l.ID))[lead.KindUnsubscribe]
	if len(acts) != 1 || acts[0].Earned != unsub {
		t.Fatalf("one unsubscribe activity worth %d points, got %+v", unsub, acts)
	}
	score := scoring.New(w.Program)
	if d := score.Value(got.Score, at) - score.Value(before.Score, at); math.Abs(d-float64(unsub)) > 0.01 {
		t.Fatalf("unsubscribing changed the score by %.2f, want %d", d, unsub)
	}

	// The one-click POST and the confirm page both unsubscribe; a second
	// one, even a day later, changes nothing.
	if err := w.Engagement.Unsubscribe(context.Background(), l.ID, at.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	again := w.Lead(l.ID)
	if again.Version != got.Version || len(kinds(w.Activities(l.ID))[lead.KindUnsubscribe]) != 1 {
		t.Fatalf("a repeated unsubscribe wrote the lead (version %d -> %d) or recorded again", got.Version, again.Version)
	}
	if err := w.Engagement.Unsubscribe(context.Background(), "nosuchlead", at); !errors.Is(err, engagement.ErrUnknownLead) {
		t.Fatalf("unsubscribing an unknown lead: %v, want ErrUnknownLead", err)
	}
}

// edit decodes a JSON event, lets change modify it, and encodes it again.
func edit(t testing.TB, raw []byte, change func(doc map[string]any)) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	change(doc)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Identity feedback notifications (SES's bounce, complaint and delivery
// notifications to an SNS topic, notificationType for eventType, no tags)
// change the lead as event publishing's records do.
func TestHandleEvent_identityNotifications_bouncesAndComplaintsStopMail_deliveriesRecord(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct {
		sample, reason string
	}{
		{"sns-notification-bounce-suppressed.json", lead.SuppressedBounced},
		{"sns-notification-bounce-nosuchuser.json", lead.SuppressedBounced},
		{"sns-notification-complaint.json", lead.SuppressedComplained},
	} {
		t.Run(tt.sample, func(t *testing.T) {
			l := w.Nurtured(strings.TrimSuffix(tt.sample, ".json"), nil)
			if res := w.handle(w.sample(tt.sample, l)); len(res) != 1 || !res[0].Applied || res[0].LeadID != l.ID {
				t.Fatalf("results %+v", res)
			}
			got := w.Lead(l.ID)
			if got.Suppression == nil || got.Suppression.Reason != tt.reason || got.Nurture.Status != lead.NurtureStopped {
				t.Fatalf("suppression %+v, nurture %+v; want mail stopped, %s", got.Suppression, got.Nurture, tt.reason)
			}
			if a := kinds(w.Activities(l.ID)); len(a[lead.KindBounce])+len(a[lead.KindComplaint]) != 1 {
				t.Fatalf("activities %+v", a)
			}
		})
	}
	t.Run("sns-notification-delivery.json", func(t *testing.T) {
		l := w.Nurtured("notified-delivery", nil)
		w.handle(w.sample("sns-notification-delivery.json", l))
		got := w.Lead(l.ID)
		if st := got.Nurture.Sent[0]; st.MessageID != l.Nurture.Sent[0].MessageID || st.DeliveredAt.IsZero() || !got.Mailable() {
			t.Fatalf("a delivery joined by address and send time: %+v", st)
		}
	})
}

// The same complaint through event publishing and through identity
// notifications (both wired at once) is one complaint.
func TestHandleEvent_sameComplaintThroughBothRoutes_appliedOnce(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("both-routes", nil)
	w.handle(w.sample("complaint.json", l))
	if res := w.handle(w.sample("sns-notification-complaint.json", l)); len(res) != 1 || res[0].Applied {
		t.Fatalf("the second route's complaint: %+v, want a repeat", res)
	}
	if c := kinds(w.Activities(l.ID))[lead.KindComplaint]; len(c) != 1 {
		t.Fatalf("%d complaint activities, want 1", len(c))
	}
}

// SNS and SES send a message once when a topic is wired up; it is logged
// and dropped, never dead-lettered.
func TestHandleEvent_setupMessages_droppedNotPoison(t *testing.T) {
	w := newWorld(t)
	confirmation := []byte(`{"Type":"SubscriptionConfirmation","MessageId":"165545c9-2a5c-472c-8df2-7ff2be2b3b1b","Token":"2336412f37","TopicArn":"arn:aws:sns:eu-central-1:123456789012:nurture-prod-ses-events","Message":"You have chosen to subscribe to the topic.","SubscribeURL":"https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription","Timestamp":"2026-12-01T09:00:00.000Z"}`)
	for name, raw := range map[string][]byte{
		"topic validated":         sampleFile(t, "sns-topic-validated.json"),
		"subscription succeeded":  sampleFile(t, "sns-subscription-succeeded.json"),
		"subscription to confirm": confirmation,
	} {
		res, err := w.Engagement.HandleEvent(context.Background(), raw)
		if err != nil || len(res) != 0 {
			t.Errorf("%s: %+v, %v; want nothing applied and no error", name, res, err)
		}
	}
}

// A bounce or a complaint is about the addresses it names, whichever lead
// the message's tags name: ISPs report the complaining recipient among
// those the message went to.
func TestHandleEvent_bouncesAndComplaints_actOnTheRecipientsTheyName(t *testing.T) {
	w := newWorld(t)
	tagged, named, stranger := w.Nurtured("tagged", nil), w.Nurtured("named", nil), w.Email("nobody")
	complaint := edit(t, w.sample("complaint.json", tagged), func(doc map[string]any) {
		d := doc["detail"].(map[string]any)
		d["mail"].(map[string]any)["destination"] = []any{tagged.Email, named.Email}
		d["complaint"].(map[string]any)["complainedRecipients"] = []any{map[string]any{"emailAddress": strings.ToUpper(named.Email)}}
	})
	res := w.handle(complaint)
	if len(res) != 1 || res[0].LeadID != named.ID || !res[0].Applied {
		t.Fatalf("results %+v, want the named recipient's lead", res)
	}
	if got := w.Lead(named.ID); got.Suppression == nil || got.Suppression.Reason != lead.SuppressedComplained {
		t.Fatalf("the complaining recipient: %+v", got.Suppression)
	}
	if got := w.Lead(tagged.ID); !got.Mailable() {
		t.Fatalf("the lead in the tags did not complain: %+v", got.Suppression)
	}

	// A hard bounce of two addresses: the lead among them stops, the
	// address that is no lead is dropped.
	bounce := edit(t, w.sample("bounce-permanent.json", tagged), func(doc map[string]any) {
		b := doc["detail"].(map[string]any)["bounce"].(map[string]any)
		b["bouncedRecipients"] = []any{map[string]any{"emailAddress": stranger}, map[string]any{"emailAddress": tagged.Email}}
	})
	res = w.handle(bounce)
	if len(res) != 2 || res[0].Applied || res[1].LeadID != tagged.ID || !res[1].Applied {
		t.Fatalf("results %+v: want the stranger dropped, the lead suppressed", res)
	}
	if got := w.Lead(tagged.ID); got.Suppression == nil || got.Suppression.Reason != lead.SuppressedBounced {
		t.Fatalf("the bounced lead: %+v", got.Suppression)
	}
}

// softBounce is a soft bounce of lead l's first email, days after its send,
// of a given type.
func (w *world) softBounce(l *lead.Lead, days int, bounceType string) []byte {
	return edit(w.T, w.sample("bounce-transient.json", l), func(doc map[string]any) {
		b := doc["detail"].(map[string]any)["bounce"].(map[string]any)
		b["bounceType"], b["bounceSubType"] = bounceType, bounceType
		b["timestamp"] = l.Nurture.Sent[0].At.Add(time.Duration(days) * 24 * time.Hour).Format(time.RFC3339Nano)
		b["feedbackId"] = fmt.Sprintf("010701937b2a5d8e-9a3f6c2b-1d47-4e8a-b5c0-%012d-000000", days)
	})
}

func TestHandleEvent_softBouncesInARow_stopMailAtTheProgramsNumber_aDeliveryBetweenResets(t *testing.T) {
	w := newWorld(t)
	// The program sets the number; this one stops mail after two.
	p := *w.Program
	p.Suppression.SoftBounces = 2
	w.Engagement.Program = &p

	bouncing, recovered := w.Nurtured("bouncing", nil), w.Nurtured("recovered", nil)
	w.handle(w.softBounce(bouncing, 1, sesevent.BounceTransient))
	w.handle(w.softBounce(bouncing, 1, sesevent.BounceTransient)) // SES redelivers it
	if got := w.Lead(bouncing.ID); !got.Mailable() {
		t.Fatalf("one soft bounce, delivered twice, stopped mail: %+v", got.Suppression)
	}
	// Undetermined counts as soft: SES could not tell why.
	w.handle(w.softBounce(bouncing, 8, sesevent.BounceUndetermined))
	got := w.Lead(bouncing.ID)
	if got.Suppression == nil || got.Suppression.Reason != lead.SuppressedSoftBounced || got.Nurture.Status != lead.NurtureStopped {
		t.Fatalf("two soft bounces in a row: suppression %+v, nurture %+v", got.Suppression, got.Nurture)
	}

	w.handle(w.softBounce(recovered, 1, sesevent.BounceTransient))
	delivered := edit(t, w.sample("delivery.json", recovered), func(doc map[string]any) {
		doc["detail"].(map[string]any)["delivery"].(map[string]any)["timestamp"] = recovered.Nurture.Sent[0].At.Add(4 * 24 * time.Hour).Format(time.RFC3339Nano)
	})
	w.handle(delivered)
	w.handle(w.softBounce(recovered, 8, sesevent.BounceTransient))
	if got := w.Lead(recovered.ID); !got.Mailable() || len(got.SoftBounces) != 1 {
		t.Fatalf("a delivery between two soft bounces: suppression %+v, soft bounces %v", got.Suppression, got.SoftBounces)
	}
	if b := kinds(w.Activities(recovered.ID))[lead.KindBounce]; len(b) != 2 {
		t.Fatalf("both soft bounces are in the timeline: %+v", b)
	}
}

func TestHandleEvent_notSpamComplaint_isRecordedMailGoesOn(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("not-spam", nil)
	w.handle(w.sample("complaint-not-spam.json", l))
	if got := w.Lead(l.ID); !got.Mailable() {
		t.Fatalf("a not-spam report stopped mail: %+v", got.Suppression)
	}
	if c := kinds(w.Activities(l.ID))[lead.KindComplaint]; len(c) != 1 || c[0].Detail != sesevent.FeedbackNotSpam {
		t.Fatalf("the report is in the timeline: %+v", c)
	}
}

// SES's managed unsubscribe (a Subscription event leaving the contact list)
// is an unsubscribe, the same one as our link's: scored and recorded once.
func TestHandleEvent_subscriptionOptOut_unsubscribesOnceWithTheLink(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("ses-unsub", nil)
	optIn := edit(t, w.sample("subscription.json", l), func(doc map[string]any) {
		prefs := doc["detail"].(map[string]any)["subscription"].(map[string]any)["newTopicPreferences"].(map[string]any)
		prefs["unsubscribeAll"] = false
		prefs["topicSubscriptionStatus"] = []any{map[string]any{"topicName": "nurture", "subscriptionStatus": "OptIn"}}
	})
	if res := w.handle(optIn); len(res) != 1 || res[0].Applied || !w.Lead(l.ID).Mailable() {
		t.Fatalf("an opt-in changes nothing: %+v", res)
	}
	if res := w.handle(w.sample("subscription.json", l)); len(res) != 1 || !res[0].Applied || res[0].Kind != lead.KindUnsubscribe {
		t.Fatalf("results %+v", res)
	}
	got := w.Lead(l.ID)
	if got.Suppression == nil || got.Suppression.Reason != lead.SuppressedUnsubscribed || got.Nurture.Status != lead.NurtureStopped {
		t.Fatalf("after leaving through SES: %+v %+v", got.Suppression, got.Nurture)
	}
	if err := w.Engagement.Unsubscribe(context.Background(), l.ID, w.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	acts := kinds(w.Activities(l.ID))[lead.KindUnsubscribe]
	if again := w.Lead(l.ID); again.Version != got.Version || len(acts) != 1 || acts[0].Earned != w.Program.Scoring.Activities.Unsubscribe {
		t.Fatalf("the link after SES's unsubscribe: version %d -> %d, activities %+v", got.Version, again.Version, acts)
	}
}

// sampleFile reads a sample of events/engagement as it is.
func sampleFile(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "engagement", name))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestHandleEvent_sesRedeliveryAfter40NewerEvents_changesNothing(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("replay", nil)
	first := w.sample("click.json", l)
	if res := w.handle(first); len(res) != 1 || !res[0].Applied {
		t.Fatalf("the first delivery: %+v, want applied", res)
	}
	// More newer events than the lead itself remembers keys of.
	for i := 0; i < 40; i++ {
		w.handle(w.humanClick(l, 0, 2*time.Hour+time.Duration(i)*7*time.Minute))
	}
	before, beforeActs := w.Lead(l.ID), w.Activities(l.ID)

	res := w.handle(first)

	after, afterActs := w.Lead(l.ID), w.Activities(l.ID)
	if len(res) != 1 || res[0].Applied {
		t.Errorf("the redelivery: %+v, want not applied", res)
	}
	if after.Version != before.Version || !reflect.DeepEqual(after.Score, before.Score) {
		t.Errorf("the redelivery changed the lead: version %d -> %d, score %+v -> %+v", before.Version, after.Version, before.Score, after.Score)
	}
	if len(afterActs) != len(beforeActs) {
		t.Errorf("the redelivery changed the timeline: %d activities -> %d", len(beforeActs), len(afterActs))
	}
}
