package sales_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/mail/ses"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/scoring"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

// world is a program, a DynamoDB Local table, SES local and an alerter,
// with routing addresses of its own so tests sharing SES local never see
// each other's mail.
type world struct {
	t       *testing.T
	prog    *program.Program
	store   *store.Store
	model   scoring.Model
	signer  *token.Signer
	clock   *clock.Fixed
	mailer  *recorder
	alerter *sales.Alerter
	domain  string
}

// recorder keeps the messages it passes on, for what SES local does not
// show (tags), and can fail instead of sending.
type recorder struct {
	next mail.Mailer
	mu   sync.Mutex
	sent []mail.Message
	fail error
}

func (r *recorder) Send(ctx context.Context, m mail.Message) (string, error) {
	r.mu.Lock()
	fail := r.fail
	if fail == nil {
		r.sent = append(r.sent, m)
	}
	r.mu.Unlock()
	if fail != nil {
		return "", fail
	}
	return r.next.Send(ctx, m)
}

func (r *recorder) messages() []mail.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]mail.Message(nil), r.sent...)
}

// chat is a webhook that keeps what the alerter posts, and can fail.
type chat struct {
	mu    sync.Mutex
	posts []chatPost
	fail  error
}

type chatPost struct {
	d     sales.Dossier
	links sales.AlertLinks
}

func (c *chat) Post(_ context.Context, d sales.Dossier, links sales.AlertLinks) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.posts = append(c.posts, chatPost{d, links})
	return c.fail
}

func (c *chat) received() []chatPost {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]chatPost(nil), c.posts...)
}

func newWorld(t *testing.T) *world {
	t.Helper()
	base, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	db := testenv.Dynamo(t)
	table := testenv.UniqueName("alert")
	if err := store.EnsureTable(context.Background(), db, table); err != nil {
		t.Fatal(err)
	}
	domain := strings.ToLower(table) + ".example"
	prog := *base // Default is shared and read-only: route to our own addresses
	// The story leads here are built by hand, as leads that need no
	// confirmation: double opt-in holds alerts back (scoring's and
	// nurture's tests of it).
	prog.DoubleOptIn = program.DoubleOptIn{}
	prog.Routing = program.Routing{
		Default: "sales@" + domain,
		Rules: []program.Route{
			{Industries: []string{"finance"}, To: "finance-sales@" + domain},
			{CompanySizes: []string{"5000+"}, To: "enterprise-sales@" + domain},
		},
	}
	signer, err := token.ParseKeys(testenv.TestTokenKeys)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation(prog.Schedule.TimeZone)
	w := &world{
		t: t, prog: &prog, store: store.New(db, table, store.Options{}), model: scoring.New(&prog), signer: signer,
		clock:  clock.NewFixed(time.Date(2026, 12, 1, 10, 0, 0, 0, loc)),
		mailer: &recorder{next: ses.New(testenv.SES(t), "")},
		domain: domain,
	}
	w.alerter = &sales.Alerter{
		Program: w.prog, Store: w.store, Mailer: w.mailer, Signer: signer, BaseURL: "https://api.acme.example/",
		Clock: w.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	return w
}

// capture makes a lead the way a form post does, scored.
func (w *world) capture(local string, fields map[string]string) string {
	w.t.Helper()
	fields["email"] = local + "@" + w.domain
	c := &lead.Capturer{Program: w.prog, Store: w.store, Clock: w.clock, Scorer: w.model, IDs: testenv.LeadIDs}
	out, err := c.Capture(context.Background(), lead.Submission{FormID: "cost-of-nines", Fields: fields, Consent: true, ReceivedAt: w.clock.Now()})
	if err != nil {
		w.t.Fatal(err)
	}
	return out.LeadID
}

// event applies one activity to the lead as the engagement service does:
// change and score in one write, then the activity itself.
func (w *world) event(leadID string, act lead.Activity, change func(l *lead.Lead)) {
	w.t.Helper()
	_, err := w.store.UpdateLead(context.Background(), leadID, func(l *lead.Lead, isNew bool) error {
		a := act
		if change != nil {
			change(l)
		}
		w.model.Apply(l, &a)
		act.Points, act.ScoreAfter, act.Earned, act.Why = a.Points, a.ScoreAfter, a.Earned, a.Why
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.store.AddActivity(context.Background(), leadID, act); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) lead(id string) *lead.Lead {
	w.t.Helper()
	l, found, err := w.store.GetLead(context.Background(), id)
	if err != nil || !found {
		w.t.Fatalf("lead %s: %v %v", id, found, err)
	}
	return l
}

func (w *world) mailTo(addr string) []localstack.SentEmail {
	w.t.Helper()
	var out []localstack.SentEmail
	for _, m := range testenv.SentMail(w.t) {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				out = append(out, m)
			}
		}
	}
	return out
}

const evilName = `Ada <script>alert(1)</script> Lovelace`

// storyLead is a finance lead who downloads a whitepaper, gets one nurture
// email (which a scanner and a privacy proxy touch first), clicks an asset
// in it and answers the timeline question: enough to cross MQL with the
// program's scoring (which one of the events crosses depends on its
// calibration).
func (w *world) storyLead(local string) string {
	w.t.Helper()
	id := w.capture(local, map[string]string{"name": evilName, "company": "Analytical Engines", "industry": "finance", "companySize": "501-5000", "country": "GB"})
	sentAt := w.clock.Now().Add(2 * 24 * time.Hour)
	_, err := w.store.UpdateLead(context.Background(), id, func(l *lead.Lead, isNew bool) error {
		l.Nurture.Sent = append(l.Nurture.Sent, lead.SentStep{Track: "reliability-track", Step: 0, AssetID: "slo-primer", MessageID: "m-1", At: sentAt})
		l.Nurture.NextStep = 1
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	w.event(id, lead.Activity{Key: "open-proxy", Kind: lead.KindOpen, At: sentAt.Add(2 * time.Second), MessageID: "m-1", AssetID: "slo-primer",
		Machine: true, MachineReason: "privacy proxy (Apple Mail Privacy Protection)"}, nil)
	w.event(id, lead.Activity{Key: "click-scanner", Kind: lead.KindClick, At: sentAt.Add(3 * time.Second), MessageID: "m-1", AssetID: "finops-business-case",
		Machine: true, MachineReason: "scanner user agent"}, nil)
	w.event(id, lead.Activity{Key: "click-human", Kind: lead.KindClick, At: sentAt.Add(time.Hour), MessageID: "m-1", AssetID: "multi-region-whitepaper"}, nil)
	q, _ := w.prog.Question("timeline")
	w.event(id, lead.Activity{Key: "answer-timeline", Kind: lead.KindAnswer, At: sentAt.Add(2 * time.Hour), Detail: "timeline=now"}, func(l *lead.Lead) {
		if err := l.Answer(q, "now"); err != nil {
			w.t.Fatal(err)
		}
	})
	w.clock.Set(sentAt.Add(2*time.Hour + time.Minute))
	return id
}

func TestFlush_sendsOneAlertWithTheStory_andRecordsIt(t *testing.T) {
	w := newWorld(t)
	hook := &chat{}
	w.alerter.Webhook = hook
	id := w.storyLead("ada")

	before := w.lead(id)
	if len(before.PendingAlerts) != 1 || before.PendingAlerts[0].Threshold != "mql" {
		t.Fatalf("the story should cross MQL only: score %+v, pending %+v", before.Score, before.PendingAlerts)
	}
	pending := before.PendingAlerts[0]
	score := strconv.FormatFloat(math.Round(w.model.Value(before.Score, w.clock.Now())), 'f', 0, 64)

	if err := w.alerter.Flush(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	to := "finance-sales@" + w.domain
	got := w.mailTo(to)
	if len(got) != 1 {
		t.Fatalf("%d alerts to %s, want 1", len(got), to)
	}
	m := got[0]
	// Markup is no name: the address heads the alert, the profile shows
	// what was typed, escaped.
	if want := "MQL: ada@" + w.domain + ", Analytical Engines — score " + score; m.Subject != want {
		t.Errorf("Subject = %q, want %q", m.Subject, want)
	}
	if m.From != w.prog.Sender.From {
		t.Errorf("From = %q", m.From)
	}
	for _, part := range []struct{ name, body string }{{"html", html.UnescapeString(m.HTML)}, {"text", m.Text}} {
		for _, s := range []string{
			"Paying for Nines: What Each Extra Nine of Availability Costs",      // downloaded
			"Clicked “Multi-Region or Multi-AZ? Choosing a Resilience Pattern”", // clicked
			"SLOs in Plain Language: A Primer for Engineering Leaders",          // the nurture email
			"When are you planning to act on this?", "This quarter",             // the answer
			"Financial services", "501–5,000", "GB", "Analytical Engines", "ada@" + w.domain, // who
			"machine, not the person: scanner user agent",
		} {
			if !strings.Contains(part.body, s) {
				t.Errorf("%s part lacks %q", part.name, s)
			}
		}
		if strings.Contains(part.body, "Clicked “Building the Business Case") {
			t.Errorf("%s part shows the scanner's click as the person's", part.name)
		}
	}
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "Ada &lt;script&gt;alert(1)&lt;/script&gt; Lovelace") {
		t.Errorf("the name is not escaped in the html part")
	}
	if n := strings.Count(m.HTML, "<a ses:no-track href=\"https://api.acme.example/s/"); n != 3 {
		t.Errorf("%d untracked links to /s/, want 3", n)
	}

	// The links are signed for their purpose, name the lead and the alert;
	// the dossier link lasts 30 days, Accept and Return two weeks.
	links := regexp.MustCompile(`(Open the dossier|Accept|Return to nurture): https://api\.acme\.example/s/([A-Za-z0-9_-]+)`).FindAllStringSubmatch(m.Text, -1)
	purposes := map[string]string{"Open the dossier": token.PurposeDossier, "Accept": token.PurposeAccept, "Return to nurture": token.PurposeReturn}
	if len(links) != 3 {
		t.Fatalf("text part links: %v", links)
	}
	for _, l := range links {
		ttl := map[string]time.Duration{"Open the dossier": 30 * 24 * time.Hour, "Accept": 14 * 24 * time.Hour, "Return to nurture": 14 * 24 * time.Hour}[l[1]]
		c, err := w.signer.Verify(l[2], purposes[l[1]], w.clock.Now().Add(ttl-time.Minute))
		if err != nil || c.LeadID != id || c.Ref != pending.ID {
			t.Errorf("%s link: claims %+v, %v", l[1], c, err)
		}
		if _, err := w.signer.Verify(l[2], purposes[l[1]], w.clock.Now().Add(ttl)); err == nil {
			t.Errorf("%s link still works after %v", l[1], ttl)
		}
		if l[1] != "Open the dossier" {
			if _, err := w.signer.Verify(l[2], token.PurposeDossier, w.clock.Now()); err == nil {
				t.Errorf("%s token passes as a dossier token", l[1])
			}
		}
	}

	sent := w.mailer.messages()
	if len(sent) != 1 {
		t.Fatalf("%d messages through the mailer", len(sent))
	}
	wantTags := map[string]string{"kind": "alert", "lead": id, "threshold": "mql", "alert": pending.ID}
	for k, v := range wantTags {
		if sent[0].Tags[k] != v {
			t.Errorf("tag %s = %q, want %q (tags %v)", k, sent[0].Tags[k], v, sent[0].Tags)
		}
	}

	after := w.lead(id)
	if len(after.PendingAlerts) != 0 {
		t.Errorf("pending after flush: %+v", after.PendingAlerts)
	}
	if len(after.Alerts) != 1 {
		t.Fatalf("Alerts = %+v", after.Alerts)
	}
	a := after.Alerts[0]
	if a.ID != pending.ID || a.Threshold != "mql" || a.Score != pending.Score || a.To != to || a.MessageID != m.MessageID || !a.At.Equal(w.clock.Now()) {
		t.Errorf("SentAlert = %+v; pending %+v, message %s", a, pending, m.MessageID)
	}

	posts := hook.received()
	if len(posts) != 1 {
		t.Fatalf("%d webhook posts, want 1", len(posts))
	}
	if p := posts[0]; p.d.LeadID != id || p.d.Threshold != "mql" || p.d.Name != before.Name || !strings.Contains(m.Text, p.links.Dossier) || !strings.Contains(m.Text, p.links.Accept) {
		t.Errorf("the webhook got another alert than the email: %+v %+v", p.d, p.links)
	}

	// Again: nothing pending, nothing sent.
	w.clock.Advance(time.Hour)
	if err := w.alerter.Flush(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if n := len(w.mailTo(to)); n != 1 {
		t.Errorf("%d alerts after a second flush, want 1", n)
	}
	if n := len(hook.received()); n != 1 {
		t.Errorf("%d webhook posts after a second flush, want 1", n)
	}
}

// pendingLead stores a lead with one pending alert, as a crossing write
// leaves it.
func (w *world) pendingLead(local string, change func(l *lead.Lead)) (string, lead.PendingAlert) {
	w.t.Helper()
	email := local + "@" + w.domain
	id := testenv.LeadID(email)
	p := lead.PendingAlert{ID: "alert-" + local, Threshold: "mql", Score: 51, At: w.clock.Now()}
	_, err := w.store.UpdateLead(context.Background(), id, func(l *lead.Lead, isNew bool) error {
		l.Email, l.Name, l.Company = email, "Grace Hopper", "Compilers Ltd"
		l.Score = lead.Score{Fit: 51, At: w.clock.Now(), Disarmed: []string{"mql"}}
		l.PendingAlerts = []lead.PendingAlert{p}
		if change != nil {
			change(l)
		}
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return id, p
}

func TestFlush_concurrentFlushesSendOneEmail(t *testing.T) {
	w := newWorld(t)
	id, _ := w.pendingLead("grace", nil)
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() { errs[i] = w.alerter.Flush(context.Background(), id) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if n := len(w.mailTo("sales@" + w.domain)); n != 1 {
		t.Fatalf("%d emails from 10 concurrent flushes, want 1", n)
	}
	l := w.lead(id)
	if len(l.PendingAlerts) != 0 || len(l.Alerts) != 1 {
		t.Fatalf("pending %+v, sent %+v", l.PendingAlerts, l.Alerts)
	}
}

func TestFlush_failedSendLeavesTheClaimToLapse(t *testing.T) {
	w := newWorld(t)
	id, p := w.pendingLead("hedy", func(l *lead.Lead) { l.CompanySize = "5000+" })
	w.mailer.fail = fmt.Errorf("%w: ses send email: timeout", mail.ErrTransient)

	err := w.alerter.Flush(context.Background(), id)
	if !errors.Is(err, mail.ErrTransient) {
		t.Fatalf("err = %v, want the mail error", err)
	}
	l := w.lead(id)
	if len(l.PendingAlerts) != 1 || !l.PendingAlerts[0].ClaimedUntil.Equal(w.clock.Now().Add(sales.DefaultLease)) || len(l.Alerts) != 0 {
		t.Fatalf("after a failed send: pending %+v, sent %+v", l.PendingAlerts, l.Alerts)
	}

	// Within the lease the alert is held: a retry now sends nothing.
	w.mailer.fail = nil
	w.clock.Advance(sales.DefaultLease - time.Second)
	if err := w.alerter.Flush(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if n := len(w.mailer.messages()); n != 0 {
		t.Fatalf("%d sent while the claim held", n)
	}

	// Once it lapsed, the next flush sends it.
	w.clock.Advance(2 * time.Second)
	if err := w.alerter.Flush(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	to := "enterprise-sales@" + w.domain
	if n := len(w.mailTo(to)); n != 1 {
		t.Fatalf("%d alerts to %s after the lease, want 1", n, to)
	}
	l = w.lead(id)
	if len(l.PendingAlerts) != 0 || len(l.Alerts) != 1 || l.Alerts[0].ID != p.ID {
		t.Fatalf("pending %+v, sent %+v", l.PendingAlerts, l.Alerts)
	}
}

func TestFlush_refusedSendReleasesTheClaim(t *testing.T) {
	w := newWorld(t)
	id, _ := w.pendingLead("ida", nil)
	w.mailer.fail = fmt.Errorf("%w: ses send email: Maximum sending rate exceeded", mail.ErrThrottled)
	if err := w.alerter.Flush(context.Background(), id); !errors.Is(err, mail.ErrThrottled) {
		t.Fatalf("err = %v, want the mail error", err)
	}
	if l := w.lead(id); len(l.PendingAlerts) != 1 || !l.PendingAlerts[0].ClaimedUntil.IsZero() || l.PendingAlerts[0].Mailed ||
		!l.PendingAlerts[0].RetryAt.Equal(w.clock.Now().Add(sales.RetryDelay(1))) {
		t.Fatalf("SES refused, nothing went out: the claim should be released, the retry backed off: %+v", l.PendingAlerts)
	}
	// The retry after the first backoff, within what would have been the
	// lease, sends it.
	w.mailer.fail = nil
	w.clock.Advance(time.Minute)
	if err := w.alerter.Flush(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if n := len(w.mailTo("sales@" + w.domain)); n != 1 {
		t.Fatalf("%d alerts after the retry, want 1", n)
	}
}

func TestFlush_webhookFailure_isLoggedAndRetriedLater_withoutMailingAgain(t *testing.T) {
	w := newWorld(t)
	hook := &chat{fail: errors.New("webhook answered 503: service unavailable")}
	w.alerter.Webhook = hook
	logs := w.logs()
	id, _ := w.pendingLead("katherine", nil)

	if err := w.alerter.Flush(context.Background(), id); err != nil {
		t.Fatalf("Flush = %v; a webhook failure after the email is only logged", err)
	}
	if n := len(hook.received()); n != 1 {
		t.Errorf("%d posts, want 1", n)
	}
	l := w.lead(id)
	if len(l.Alerts) != 1 || len(l.PendingAlerts) != 1 {
		t.Fatalf("the email is recorded, the post still owed: sent %+v, pending %+v", l.Alerts, l.PendingAlerts)
	}
	if p := l.PendingAlerts[0]; !p.Mailed || p.Tries != 1 || !p.RetryAt.Equal(w.clock.Now().Add(sales.RetryDelay(1))) || !p.ClaimedUntil.IsZero() {
		t.Fatalf("the owed post should wait its backoff, unclaimed: %+v", p)
	}
	if l := logs(); !strings.Contains(l, "alert webhook failed") || !strings.Contains(l, "service unavailable") {
		t.Errorf("logs:\n%s", l)
	}

	// Within the backoff nothing is tried.
	hook.fail = nil
	w.clock.Advance(sales.RetryDelay(1) - time.Second)
	if err := w.alerter.Flush(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if n := len(hook.received()); n != 1 {
		t.Fatalf("%d posts within the backoff, want still 1", n)
	}
	// After it, the post goes out and the email is not sent again.
	w.clock.Advance(time.Second)
	if err := w.alerter.Flush(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if n := len(hook.received()); n != 2 {
		t.Fatalf("%d posts after the backoff, want 2", n)
	}
	if n := len(w.mailTo("sales@" + w.domain)); n != 1 {
		t.Fatalf("%d alert emails, want 1: the retry is the webhook's alone", n)
	}
	if l := w.lead(id); len(l.Alerts) != 1 || len(l.PendingAlerts) != 0 {
		t.Fatalf("delivered on both channels: sent %+v, pending %+v", l.Alerts, l.PendingAlerts)
	}
}

func TestFlush_webhookFailingEveryTry_isAbandonedAfterMaxTries(t *testing.T) {
	w := newWorld(t)
	hook := &chat{fail: errors.New("webhook answered 500")}
	w.alerter.Webhook = hook
	logs := w.logs()
	id, _ := w.pendingLead("mary", nil)
	for try := 1; try <= sales.MaxTries; try++ {
		if err := w.alerter.Flush(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(sales.RetryDelay(try))
	}
	if n := len(hook.received()); n != sales.MaxTries {
		t.Fatalf("%d posts, want %d", n, sales.MaxTries)
	}
	if l := w.lead(id); len(l.PendingAlerts) != 0 || len(l.Alerts) != 1 {
		t.Fatalf("after the last try the alert is given up, its email kept: pending %+v, sent %+v", l.PendingAlerts, l.Alerts)
	}
	if n := len(w.mailTo("sales@" + w.domain)); n != 1 {
		t.Fatalf("%d alert emails, want 1", n)
	}
	if l := logs(); !strings.Contains(l, "alert abandoned") || !strings.Contains(l, "channel=webhook") {
		t.Errorf("the give-up must be logged for the alarm:\n%s", l)
	}
}

func TestFlush_erasedLeadDropsItsAlerts(t *testing.T) {
	w := newWorld(t)
	id, _ := w.pendingLead("erased", func(l *lead.Lead) {
		l.Suppression = &lead.Suppression{Reason: lead.SuppressedErased, At: w.clock.Now()}
	})
	if err := w.alerter.Flush(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if n := len(w.mailer.messages()); n != 0 {
		t.Fatalf("%d alerts about an erased person", n)
	}
	if l := w.lead(id); len(l.PendingAlerts) != 0 {
		t.Fatalf("pending %+v", l.PendingAlerts)
	}
}

func TestFlush_nothingPendingOrNoLead(t *testing.T) {
	w := newWorld(t)
	var calls atomic.Int32
	w.alerter.Mailer = mailerFunc(func(context.Context, mail.Message) (string, error) { calls.Add(1); return "x", nil })
	if err := w.alerter.Flush(context.Background(), "no-such-lead"); err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 0 {
		t.Fatal("sent for a lead that does not exist")
	}
	if err := (&sales.Alerter{}).Flush(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "Program") {
		t.Fatalf("an unconfigured alerter: %v", err)
	}
}

type mailerFunc func(context.Context, mail.Message) (string, error)

func (f mailerFunc) Send(ctx context.Context, m mail.Message) (string, error) { return f(ctx, m) }

// logs has the alerter log as text and returns what it logged so far.
func (w *world) logs() func() string {
	var b strings.Builder
	var mu sync.Mutex
	w.alerter.Log = slog.New(slog.NewTextHandler(lockedWriter{&mu, &b}, nil))
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		return b.String()
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// An earlier sender sent the alert and wrote its alert activity, but the
// busy lead did not take the record: the next Flush records it and sends
// nothing.
func TestFlush_sentButUnrecordedAlert_isRecordedNotResent(t *testing.T) {
	w := newWorld(t)
	id, p := w.pendingLead("ada", nil)
	if _, err := w.store.AddActivity(context.Background(), id, lead.Activity{
		Key: "alert-" + p.ID, Kind: sales.KindAlert, At: w.clock.Now(), MessageID: "ses-earlier", Detail: p.Threshold + " to sales@" + w.domain,
	}); err != nil {
		t.Fatal(err)
	}
	if err := w.alerter.Flush(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if n := len(w.mailTo("sales@" + w.domain)); n != 0 {
		t.Fatalf("an alert that went out was sent again: %d emails", n)
	}
	l := w.lead(id)
	if len(l.PendingAlerts) != 0 || len(l.Alerts) != 1 || l.Alerts[0].MessageID != "ses-earlier" {
		t.Fatalf("pending %+v, sent %+v", l.PendingAlerts, l.Alerts)
	}
}
