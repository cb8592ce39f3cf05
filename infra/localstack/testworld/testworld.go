// Package testworld assembles, for tests, the product as the functions build
// it, on the test servers testenv runs: a store on its own DynamoDB Local
// table, the scheduler sending through SES local, engagement with scoring
// and alerts, the table's stream polled as Lambda's event source mapping
// polls it for the alerts function, the settle time's delay queue on the
// world's clock, and a fixed clock on a Tuesday morning inside the send
// window.
package testworld

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/infra/localstack/delay"
	"github.com/leadnurture/nurture/infra/localstack/streams"
	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/app"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/crm"
	"github.com/leadnurture/nurture/shared/engagement"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/mail/ses"
	"github.com/leadnurture/nurture/shared/metrics"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/outbox"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

// BaseURL is where the links in test mail point.
const BaseURL = "https://api.acme.example"

// World is one test's product.
type World struct {
	T *testing.T
	// App is the product as app.New wires it; the fields below are its
	// parts, named for the tests' convenience.
	App     *app.App
	Program *program.Program
	Table   string
	Store   *store.Store
	Signer  *token.Signer
	Window  nurture.Window
	Clock   *clock.Fixed
	// Domain ends every address of this world, to tell its mail apart.
	Domain     string
	Log        *slog.Logger
	SES        *ses.Mailer
	Scheduler  *nurture.Scheduler
	Alerter    *sales.Alerter
	Engagement *engagement.Service
	// Stream hands the table's stream to the alerts function's handler
	// (App.Outbox), as the template's event source mapping does: Drain
	// runs it where Lambda would have in the background.
	Stream *streams.Mapping
	// EventsStream hands it to the events function's handler
	// (App.EventsOutbox), with Options.Events; Drain runs it too.
	EventsStream *streams.Mapping
	// Delay is the settle time's delay queue (SQS in AWS) on the world's
	// clock: Drain hands the alerts function (App.Wakeups) the wake-ups
	// due by then. Nil with Options.WithoutDelayQueue.
	Delay *delay.Queue
}

// Options change what New builds.
type Options struct {
	Name         string    // table name prefix
	Logs         io.Writer // JSON logs; discarded when nil
	StoreOptions store.Options
	// Webhook also receives every alert, as the alerts function's does.
	Webhook sales.Webhook
	// Events receives the lifecycle events, as the events function's
	// does: with it the store records them (store.Options.LifecycleEvents)
	// and Drain delivers them.
	Events *crm.Receiver
	// Metrics receives the business metrics' EMF lines, as a function's
	// standard output does; none are written when nil.
	Metrics io.Writer
	// Program replaces the shipped program (program.Default).
	Program *program.Program
	// WithoutDelayQueue leaves the settle time's end to the scheduler's
	// tick, as when every wake-up were lost.
	WithoutDelayQueue bool
}

// New builds a world through app.New, as the functions are built. The
// scheduler sends through SES local at 1,000 a second; tests may replace
// its Mailer.
func New(t *testing.T, o Options) *World {
	t.Helper()
	prog, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	if o.Program != nil {
		prog = o.Program
	}
	if o.Name == "" {
		o.Name = "world"
	}
	db := testenv.Dynamo(t)
	table := testenv.UniqueName(o.Name)
	if err := store.EnsureTable(context.Background(), db, table); err != nil {
		t.Fatal(err)
	}
	signer, err := token.ParseKeys(testenv.TestTokenKeys)
	if err != nil {
		t.Fatal(err)
	}
	if o.Logs == nil {
		o.Logs = io.Discard
	}
	log := slog.New(slog.NewJSONHandler(o.Logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if o.Events != nil {
		o.StoreOptions.LifecycleEvents = true
	}
	st := store.New(db, table, o.StoreOptions)
	mailer := ses.New(testenv.SES(t), "nurture-test")
	clk := clock.NewFixed(testenv.Tuesday)
	var rec *metrics.Recorder
	if o.Metrics != nil {
		rec = metrics.New(o.Metrics)
	}
	var queue *delay.Queue
	parts := app.Parts{
		Config:  config.Config{TableName: table, PublicBaseURL: BaseURL, ConfigurationSet: "nurture-test"},
		Program: prog, Store: st, Mailer: mailer, Signer: signer, LeadIDs: testenv.LeadIDs, Rate: 1000, Clock: clk, Log: log,
		Webhook: o.Webhook, Events: o.Events, Metrics: rec,
	}
	if !o.WithoutDelayQueue {
		queue = &delay.Queue{Clock: clk, Log: log}
		parts.Delayer = queue
	}
	// The product as the functions build it, on the test servers.
	a, err := app.New(parts)
	if err != nil {
		t.Fatal(err)
	}
	if queue != nil {
		queue.Handler = a.Wakeups.Handle
	}
	w := &World{
		T: t, App: a, Program: prog, Table: table, Store: st, Signer: signer, Window: a.Window, Log: log,
		Clock: clk, Domain: table + ".example", SES: mailer,
		Scheduler: a.Scheduler, Alerter: a.Alerter, Engagement: a.Engagement,
		Stream: OutboxMapping(t, table, a.Outbox, log), Delay: queue,
	}
	if o.Events != nil {
		w.EventsStream = OutboxMapping(t, table, a.EventsOutbox, log)
	}
	return w
}

// OutboxMapping is the template's event source mapping of a function
// behind the table's stream (alerts, or events with App.EventsOutbox) on
// a test table, with short waits between retries.
func OutboxMapping(t testing.TB, table string, c *outbox.Consumer, log *slog.Logger) *streams.Mapping {
	m := streams.Outbox(testenv.Dynamo(t), testenv.Streams(t), table, c, log)
	m.RetryBackoff = 10 * time.Millisecond
	return m
}

// Drain hands the alerts function (and the events function, with
// Options.Events) every stream record written so far, and the wake-ups
// the delay queue holds due by the world's clock, as Lambda would within
// a second, and returns once they handled them (and the records their
// writes made).
func (w *World) Drain() {
	w.T.Helper()
	w.drainStreams()
	if w.Delay == nil {
		return
	}
	if err := w.Delay.Drain(context.Background()); err != nil {
		w.T.Fatal(err)
	}
	w.drainStreams()
}

func (w *World) drainStreams() {
	w.T.Helper()
	for _, m := range []*streams.Mapping{w.Stream, w.EventsStream} {
		if m == nil {
			continue
		}
		if err := m.Drain(context.Background()); err != nil {
			w.T.Fatal(err)
		}
	}
}

// Capturer is capture as the function builds it: scored, alerting, and
// honouring erasures.
func (w *World) Capturer() *lead.Capturer { return w.App.Capturer }

// Email is the address of a local part in this world.
func (w *World) Email(local string) string { return local + "@" + w.Domain }

// Nurtured captures a lead on the first form (with extra fields), has the
// person confirm the address (Confirm) and the scheduler send it step 1.
func (w *World) Nurtured(local string, fields map[string]string) *lead.Lead {
	w.T.Helper()
	vals := map[string]string{"email": w.Email(local)}
	for k, v := range fields {
		vals[k] = v
	}
	out, err := w.Capturer().Capture(context.Background(), lead.Submission{
		FormID: w.Program.Forms[0].ID, Fields: vals, Consent: true, ReceivedAt: w.Clock.Now(),
	})
	if err != nil {
		w.T.Fatal(err)
	}
	w.Confirm(out.LeadID)
	l := w.Next(out.LeadID)
	if l.Nurture.Emails != 1 {
		w.T.Fatalf("step 1 not sent: %+v", l.Nurture)
	}
	return l
}

// Next moves the clock to the lead's due time and ticks until its next
// step went out (a step due on a weekend moves to Monday). The lead it
// returns names the MessageId SES gave each sent step (WithMessageIDs),
// which the stored lead only learns from the step's first SES event.
func (w *World) Next(id string) *lead.Lead {
	w.T.Helper()
	before := w.Lead(id).Nurture.Emails
	for i := 0; i < 3 && w.Lead(id).Nurture.Emails == before; i++ {
		if due := w.Lead(id).Nurture.DueAt; due.After(w.Clock.Now()) {
			w.Clock.Set(due)
		}
		if _, err := w.Scheduler.Tick(context.Background(), w.Clock.Now()); err != nil {
			w.T.Fatal(err)
		}
	}
	return w.WithMessageIDs(w.Lead(id))
}

// WithMessageIDs fills in the MessageId SES local gave each of the lead's
// sent steps, in the order they were sent (the lead lists its latest).
func (w *World) WithMessageIDs(l *lead.Lead) *lead.Lead {
	w.T.Helper()
	if sent := w.NurtureMailTo(l.Email); len(sent) == l.Nurture.Emails {
		sent = sent[len(sent)-len(l.Nurture.Sent):]
		for i := range sent {
			l.Nurture.Sent[i].MessageID = sent[i].MessageID
		}
	}
	return l
}

// OneBelowTheThreshold gives a lead a score one below the program's first
// threshold, as of now: its next download crosses.
func (w *World) OneBelowTheThreshold(id string) {
	w.T.Helper()
	mql := w.Program.Thresholds[0]
	if _, err := w.Store.UpdateLead(context.Background(), id, func(x *lead.Lead, _ bool) error {
		x.Score = lead.Score{Activity: float64(mql.Score-1) - float64(x.Score.Fit), Fit: x.Score.Fit, At: w.Clock.Now()}
		return nil
	}); err != nil {
		w.T.Fatal(err)
	}
}

// Lead reads a lead that must exist.
func (w *World) Lead(id string) *lead.Lead {
	w.T.Helper()
	l, found, err := w.Store.GetLead(context.Background(), id)
	if err != nil || !found {
		w.T.Fatalf("lead %s: found=%v err=%v", id, found, err)
	}
	return l
}

// Activities reads a lead's activities as of the world's clock.
func (w *World) Activities(id string) []lead.Activity {
	w.T.Helper()
	acts, err := w.Store.Activities(context.Background(), id, w.Clock.Now())
	if err != nil {
		w.T.Fatal(err)
	}
	return acts
}

// ActivitiesOf reads a lead's activities of one kind.
func (w *World) ActivitiesOf(id, kind string) []lead.Activity {
	w.T.Helper()
	var out []lead.Activity
	for _, a := range w.Activities(id) {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out
}

// MailTo returns what SES local holds for one address.
func (w *World) MailTo(addr string) []localstack.SentEmail {
	w.T.Helper()
	var out []localstack.SentEmail
	for _, m := range testenv.SentMail(w.T) {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				out = append(out, m)
			}
		}
	}
	return out
}

// NurtureMailTo returns the nurture emails SES local holds for one
// address: its mail without the confirmation emails.
func (w *World) NurtureMailTo(addr string) []localstack.SentEmail {
	w.T.Helper()
	var out []localstack.SentEmail
	for _, m := range w.MailTo(addr) {
		if ConfirmLink(m) == "" {
			out = append(out, m)
		}
	}
	return out
}

// ConfirmLink is the confirmation link in an email, "" in any other.
func ConfirmLink(m localstack.SentEmail) string {
	_, rest, ok := strings.Cut(m.Text, BaseURL+link.Confirm.Path(""))
	if !ok {
		return ""
	}
	tok, _, _ := strings.Cut(rest, "\n")
	return link.Confirm.URL(BaseURL, strings.TrimSpace(tok))
}

// Confirm has the person confirm the address of an unconfirmed lead as
// they would: the tick sends the confirmation email (unless it went out
// already), and the Confirm button on its link's page posts. A lead that
// needs no confirmation is returned as it is.
func (w *World) Confirm(id string) *lead.Lead {
	w.T.Helper()
	l := w.Lead(id)
	if !l.Unconfirmed() {
		return l
	}
	if l.OptIn.Mails == 0 {
		if _, err := w.Scheduler.Tick(context.Background(), w.Clock.Now()); err != nil {
			w.T.Fatal(err)
		}
	}
	var confirm string
	for _, m := range w.MailTo(l.Email) {
		if u := ConfirmLink(m); u != "" {
			confirm = u
		}
	}
	if confirm == "" {
		w.T.Fatalf("lead %s: no confirmation email in SES local", id)
	}
	if resp := w.Open("POST", confirm, nil); resp.StatusCode != 200 {
		w.T.Fatalf("confirming lead %s: %d %s", id, resp.StatusCode, resp.Body)
	}
	l = w.Lead(id)
	if l.Unconfirmed() || !l.Confirmed() {
		w.T.Fatalf("lead %s still unconfirmed after its confirmation: %+v", id, l.OptIn)
	}
	return l
}

// FormPost is a browser's urlencoded form post as API Gateway (HTTP API,
// payload 2.0) hands it to the capture function: base64 body, lower-case
// headers, the request's own time.
func FormPost(formID string, v url.Values, at time.Time) httpapi.Request {
	req := httpapi.Request{
		RouteKey:        "POST /forms/{formId}",
		RawPath:         "/forms/" + formID,
		PathParameters:  map[string]string{"formId": formID},
		Headers:         map[string]string{"content-type": "application/x-www-form-urlencoded", "accept": "text/html,application/xhtml+xml"},
		Body:            base64.StdEncoding.EncodeToString([]byte(v.Encode())),
		IsBase64Encoded: true,
	}
	req.RequestContext.HTTP.Method = "POST"
	req.RequestContext.HTTP.SourceIP = "203.0.113.7"
	req.RequestContext.RequestID = "test"
	req.RequestContext.TimeEpoch = at.UnixMilli()
	return req
}

// LinkEvent reads a sample request from events/links (relative to the
// test's package, two folders below the repository) and puts tok where the
// sample's token is: a static sample cannot carry a token for the test's
// key.
func LinkEvent(t testing.TB, name, tok string) httpapi.Request {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "links", name))
	if err != nil {
		t.Fatal(err)
	}
	var req httpapi.Request
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	old := req.PathParameters["token"]
	if old == "" || !strings.HasSuffix(req.RawPath, "/"+old) {
		t.Fatalf("%s: the sample's rawPath %q does not end with its token", name, req.RawPath)
	}
	req.PathParameters["token"] = tok
	req.RawPath = strings.TrimSuffix(req.RawPath, old) + tok
	req.RequestContext.HTTP.Path = strings.TrimSuffix(req.RequestContext.HTTP.Path, old) + tok
	return req
}

// LinkRequest is a browser's request of a link in mail (rawURL, as the
// email writes it) as API Gateway hands it to the links function; a POST
// carries form urlencoded.
func LinkRequest(method, rawURL string, form url.Values, at time.Time) httpapi.Request {
	u, _ := url.Parse(rawURL)
	kind, _ := link.Parse(u.Path)
	tok := strings.TrimPrefix(u.Path, "/"+string(kind)+"/")
	req := httpapi.Request{
		RouteKey:       method + " " + kind.Route(),
		RawPath:        u.Path,
		PathParameters: map[string]string{"token": tok},
		Headers:        map[string]string{"accept": "text/html,application/xhtml+xml"},
	}
	if form != nil {
		req.Headers["content-type"] = "application/x-www-form-urlencoded"
		req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(form.Encode())), true
	}
	req.RequestContext.HTTP.Method = method
	req.RequestContext.HTTP.Path = u.Path
	req.RequestContext.RequestID = "test"
	req.RequestContext.TimeEpoch = at.UnixMilli()
	return req
}

// Open answers a link in mail as the links function does.
func (w *World) Open(method, rawURL string, form url.Values) httpapi.Response {
	w.T.Helper()
	resp, err := w.App.LinkRoutes.Handle(context.Background(), LinkRequest(method, rawURL, form, w.Clock.Now()))
	if err != nil {
		w.T.Fatalf("%s %s: %v (API Gateway would answer 500)", method, rawURL, err)
	}
	return resp
}

// Tick runs the scheduler's tick at the world's clock, as the scheduler
// function does (nurture steps, wake-ups, the sales digests due).
func (w *World) Tick() {
	w.T.Helper()
	if _, err := w.App.Tick(context.Background(), w.Clock.Now()); err != nil {
		w.T.Fatal(err)
	}
}
