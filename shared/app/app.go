// Package app is the product's one composition root. New wires the product
// from its edges (Parts: settings, program, store, mailer, signer, clock);
// Load reads the environment, builds the AWS clients and calls New. The
// functions, the local stack, the test world and the benchmarks all build
// the product through New, swapping only the edges: the mailer, the clock,
// the base URL.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/crm"
	"github.com/leadnurture/nurture/shared/engagement"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/limit"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/metrics"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/outbox"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/report"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/scoring"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

// Parts are the edges the product is built on: what differs between
// Lambda, the local stack, tests and benchmarks. New decides the rest.
type Parts struct {
	// Config holds the settings New reads: PublicBaseURL (where links in
	// mail point), ConfigurationSet, BotWindow, MinFillTime, SiteOrigins.
	Config  config.Config
	Program *program.Program
	Store   *store.Store
	// Mailer sends nurture mail: SES, or locally the click and open
	// tracking stand-in in front of it. Nil for a function that sends no
	// mail: then there is no Scheduler and no Alerter.
	Mailer mail.Mailer
	// AlertMailer sends sales alerts; nil uses Mailer. (Locally alerts skip
	// the tracking stand-in: sales reading an alert is not engagement.)
	AlertMailer mail.Mailer
	// Webhook also receives every alert; nil sends email only. Only the
	// alerts function posts (it alone reads the webhook's secret URL).
	Webhook sales.Webhook
	// Events is the CRM's webhook that receives the lifecycle events; nil
	// drops them. Only the events function delivers (it alone reads the
	// receiver's secrets). The store records the events only with
	// store.Options.LifecycleEvents.
	Events *crm.Receiver
	// Delayer hands the settle time's wake-ups back when they are due: the
	// delay queue (SQS in AWS, a queue on the local clock locally). Only
	// the alerts function has one; nil leaves settled alerts to the tick.
	Delayer outbox.Delayer
	// Signer signs and verifies link tokens; without it there are no
	// links, so no alerts at once and no link routes.
	Signer *token.Signer
	// LeadIDs makes a lead's id from its address (a keyed hash: logs and
	// keys name leads without confirming a guessed address). Required:
	// New refuses the zero key rather than make unkeyed ids.
	LeadIDs lead.IDKey
	// Rate is the scheduler's send rate in emails a second; the scheduler
	// function sets it from SES before every tick.
	Rate float64
	// Limits are the per-client limits of the public routes, counted in
	// the table; nil is limit.Default(), &limit.Policy{} turns them off.
	Limits *limit.Policy
	Clock  clock.Clock
	Log    *slog.Logger
	// Metrics writes the business metrics (CloudWatch EMF lines): the
	// functions' standard output; nil records none.
	Metrics *metrics.Recorder
}

// App is the product, wired.
type App struct {
	Parts
	Window nurture.Window
	Scorer lead.Scorer
	// Alerter sends the sales alerts pending on a lead; nil without a
	// mailer, a Signer or a PublicBaseURL. Nothing else sends alerts: a
	// crossing stays on the lead (its outbox) until the stream hands it to
	// Outbox.
	Alerter *sales.Alerter
	// Outbox is the alerts function's handler of the table's stream: it
	// has the Alerter send what the records name, and asks the Delayer for
	// the settle time's wake-ups. Nil without an Alerter.
	Outbox *outbox.Consumer
	// Wakeups takes the wake-ups back from the delay queue and sends the
	// alerts they make ready; nil without a Delayer. Alerts is the alerts
	// function's one handler of both.
	Wakeups *outbox.Waker
	Alerts  *outbox.Function
	// Events delivers the lifecycle events pending on a lead to the CRM,
	// and EventsOutbox is the events function's handler of the table's
	// stream.
	Events       *crm.Sender
	EventsOutbox *outbox.Consumer
	// Scheduler sends the due nurture steps; nil without a Mailer.
	Scheduler *nurture.Scheduler
	// Digest sends each sales owner the day's digest of their open alerts;
	// the scheduler's tick runs it (Tick). Nil where the Alerter is.
	Digest     *sales.Digest
	Engagement *engagement.Service
	// Rollup builds the results' summaries from the journal and reads
	// them back (shared/report).
	Rollup *report.Rollup
	// Results mails reports.to the weekly digest of the results; nil
	// without a mailer, a Signer or a PublicBaseURL.
	Results  *report.Digest
	Capturer *lead.Capturer
	Desk     *sales.Desk
	// Limiter counts the public routes' requests per client (Parts.Limits).
	Limiter *limit.Limiter

	// The HTTP API's handlers: the capture function's (Forms: the form
	// posts, which Capture takes, the forms' script and hosted pages), and
	// the links in mail (nil without a Signer).
	Capture    *httpapi.Capture
	Forms      *httpapi.FormRoutes
	LinkRoutes *httpapi.LinkRoutes
}

// New wires the product from its parts.
func New(p Parts) (*App, error) {
	if p.Program == nil || p.Store == nil {
		return nil, errors.New("app: Program and Store are required")
	}
	if p.LeadIDs.IsZero() {
		return nil, fmt.Errorf("app: LeadIDs is required: %w", lead.ErrNoIDKey)
	}
	if p.Clock == nil {
		p.Clock = clock.System{}
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.AlertMailer == nil {
		p.AlertMailer = p.Mailer
	}
	win, err := nurture.NewWindow(p.Program.Schedule)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a := &App{Parts: p, Window: win, Scorer: scoring.New(p.Program)}
	cfg := p.Config
	policy := limit.Default()
	if p.Limits != nil {
		policy = *p.Limits
	}
	a.Limiter = &limit.Limiter{Policy: policy, Counter: p.Store, Clock: p.Clock, Log: p.Log,
		Hash: func(subject string) string { return p.LeadIDs.Hash("limit", subject) }}

	if p.AlertMailer != nil && p.Signer != nil && cfg.PublicBaseURL != "" {
		a.Alerter = &sales.Alerter{
			Program: p.Program, Store: p.Store, Mailer: p.AlertMailer, Webhook: p.Webhook, Signer: p.Signer,
			BaseURL: cfg.PublicBaseURL, Clock: p.Clock, Log: p.Log, Window: win, Metrics: p.Metrics,
		}
		senders := map[string]outbox.Sender{lead.OutboxAlert: a.Alerter}
		if p.Delayer != nil {
			senders[lead.OutboxSettle] = &outbox.Settler{Store: p.Store, Delayer: p.Delayer, Clock: p.Clock}
			a.Wakeups = &outbox.Waker{Store: p.Store, Alerts: a.Alerter, Delayer: p.Delayer, Clock: p.Clock, Log: p.Log}
		}
		a.Outbox = &outbox.Consumer{Senders: senders, Log: p.Log}
		a.Alerts = &outbox.Function{Stream: a.Outbox, Wakeups: a.Wakeups}
		a.Digest = &sales.Digest{
			Program: p.Program, Store: p.Store, Mailer: p.AlertMailer, Signer: p.Signer,
			BaseURL: cfg.PublicBaseURL, Window: win, Log: p.Log,
		}
	}
	a.Events = &crm.Sender{Program: p.Program, Store: p.Store, Receiver: p.Events, Signer: p.Signer,
		BaseURL: cfg.PublicBaseURL, Clock: p.Clock, Log: p.Log}
	a.EventsOutbox = &outbox.Consumer{Senders: map[string]outbox.Sender{lead.OutboxEvent: a.Events}, Log: p.Log}
	// Capture, the links and the engagement events record a crossing on
	// the lead and return: none of them waits on SES or a webhook for an
	// alert. The delay queue wakes alerts at the end of their settle time;
	// the scheduler's tick wakes whatever else is held back (lead.Wake).
	if p.Mailer != nil {
		a.Scheduler = &nurture.Scheduler{
			Program: p.Program, Store: p.Store, Mailer: p.Mailer, Signer: p.Signer, Window: win,
			BaseURL: cfg.PublicBaseURL, ConfigurationSet: cfg.ConfigurationSet, Rate: p.Rate, Log: p.Log,
			Metrics: p.Metrics,
		}
	}
	a.Engagement = &engagement.Service{
		Program: p.Program, Store: p.Store, Log: p.Log, BotWindow: cfg.BotWindow, Scorer: a.Scorer, LeadIDs: p.LeadIDs,
	}
	a.Capturer = &lead.Capturer{
		Program: p.Program, Store: p.Store, Clock: p.Clock, MinFillTime: cfg.MinFillTime,
		Scorer: a.Scorer, IDs: p.LeadIDs, Suppressions: p.Store, Metrics: p.Metrics, Limits: a.Limiter, Known: p.Store,
	}
	// The program's results: the report function's rollup, the results
	// page and make report read through it.
	a.Rollup = &report.Rollup{Program: p.Program, Journal: p.Store, Shelf: p.Store, Log: p.Log}
	if p.AlertMailer != nil && p.Signer != nil && cfg.PublicBaseURL != "" {
		a.Results = &report.Digest{Program: p.Program, Rollup: a.Rollup, Claims: p.Store, Mailer: p.AlertMailer,
			Signer: p.Signer, BaseURL: cfg.PublicBaseURL, Log: p.Log}
	}
	a.Desk = &sales.Desk{Program: p.Program, Store: p.Store, Window: win, Metrics: p.Metrics}
	a.Capture = &httpapi.Capture{Capturer: a.Capturer, Limits: a.Limiter, Log: p.Log}
	a.Forms = &httpapi.FormRoutes{
		Capture: a.Capture,
		Pages:   &httpapi.FormPages{Program: p.Program, BaseURL: cfg.PublicBaseURL, SiteOrigins: cfg.SiteOrigins, Log: p.Log},
	}
	if p.Signer != nil {
		a.LinkRoutes = &httpapi.LinkRoutes{
			Links: &httpapi.Links{Engagement: a.Engagement, Signer: p.Signer, Program: p.Program, Clock: p.Clock, Limits: a.Limiter, Log: p.Log},
			Sales: &httpapi.Sales{Desk: a.Desk, Signer: p.Signer, Clock: p.Clock, Limits: a.Limiter, Log: p.Log},
			Inbox: &httpapi.Inbox{
				Inbox:  &sales.Inbox{Program: p.Program, Store: p.Store},
				Signer: p.Signer, Program: p.Program, Clock: p.Clock, Log: p.Log,
			},
			Results: &httpapi.Results{Rollup: a.Rollup, Signer: p.Signer, Program: p.Program, Clock: p.Clock, Log: p.Log},
		}
	}
	return a, nil
}

// Tick is the scheduler's work at now: the due nurture steps (which also
// hands held alerts and the SLA's reminders and escalations to the alerts
// function), then the sales digests due. A digest that failed is logged
// and fails no tick; one SES refused goes with a later tick that day.
func (a *App) Tick(ctx context.Context, now time.Time) (nurture.Report, error) {
	rep, err := a.Scheduler.Tick(ctx, now)
	a.SendDigests(ctx, now)
	return rep, err
}

// SendDigests sends the sales digests due at now, if this app sends them.
func (a *App) SendDigests(ctx context.Context, now time.Time) {
	if a.Digest == nil {
		return
	}
	if _, err := a.Digest.Send(ctx, now); err != nil {
		a.Log.Error("digest failed", "error", err.Error())
	}
}

// RunReport is the report function's work at now: the rollup of the
// hours (and, after midnight, the day) just past, then the weekly digest
// if it is due. A digest that failed is logged and fails no run: the
// next run sends it.
func (a *App) RunReport(ctx context.Context, now time.Time) error {
	err := a.Rollup.Run(ctx, now)
	if a.Results != nil {
		if _, derr := a.Results.Send(ctx, now); derr != nil {
			a.Log.Error("weekly results failed", "error", derr.Error())
		}
	}
	return err
}

// HandleSESEvent applies one SES event (an EventBridge envelope): the
// engagement function's handler.
func (a *App) HandleSESEvent(ctx context.Context, raw json.RawMessage) error {
	_, err := a.Engagement.HandleEvent(ctx, raw)
	return err
}

// With is what a function's main built beyond the store and the signing
// keys, which Load builds for every function: each function builds only
// the clients its code calls, so its role holds only their permissions
// (infra/deploy reads each main for them).
type With struct {
	// Mailer sends mail through SES: the scheduler's and the alerts
	// function's. The others send none.
	Mailer mail.Mailer
	// Webhook also receives every alert: the alerts function's.
	Webhook sales.Webhook
	// Events receives the lifecycle events: the events function's.
	Events *crm.Receiver
	// Delayer is the settle time's delay queue: the alerts function's.
	Delayer outbox.Delayer
}

// Load wires the product with New for a function's start, from the
// settings its main read (config.Load) and what it built: the store on the
// table, the keys (the lead id key and the signing keys, from Parameter
// Store in AWS) and with. required names settings the function cannot
// start without (e.g. "TOKEN_KEYS"); every function needs the lead id key.
func Load(ctx context.Context, cfg config.Config, with With, required ...string) (*App, error) {
	// In AWS the keys come from Parameter Store (TOKEN_KEYS_PARAMETER).
	if err := cfg.LoadTokenKeys(ctx); err != nil {
		return nil, err
	}
	if err := cfg.Require(required...); err != nil {
		return nil, err
	}
	keys, err := LoadKeys(cfg)
	if err != nil {
		return nil, err
	}
	prog, err := program.Default()
	if err != nil {
		return nil, err
	}
	awsCfg, err := cfg.AWS(ctx)
	if err != nil {
		return nil, err
	}
	p := Parts{
		Config:  cfg,
		Program: prog,
		Store: store.New(cfg.DynamoDB(awsCfg), cfg.TableName, store.Options{
			DueShards: cfg.DueShards, ActivityRetention: prog.ActivityRetention(), LifecycleEvents: cfg.LifecycleEvents,
		}),
		Mailer:  with.Mailer,
		Webhook: with.Webhook,
		Events:  with.Events,
		Signer:  keys.Signer,
		LeadIDs: keys.LeadIDs,
		Delayer: with.Delayer,
		Clock:   clock.System{},
		Log:     cfg.Logger(),
		// Beside the log lines, on the same stream: CloudWatch Logs
		// extracts the metrics from the lines that carry _aws.
		Metrics: metrics.New(os.Stdout),
	}
	if slices.Contains(required, "TOKEN_KEYS") && p.Signer == nil {
		return nil, errors.New("TOKEN_KEYS holds no link signing key, only the lead-id key: add one (make token-keys, docs/deploy.md)")
	}
	return New(p)
}

// Keys are what the keys setting (TOKEN_KEYS) holds, read.
type Keys struct {
	// Signer is nil when the setting holds no signing key.
	Signer  *token.Signer
	LeadIDs lead.IDKey
}

// LoadKeys reads the keys setting (cfg.TokenKeys, after LoadTokenKeys).
// A setting without the lead-id key is an error, never a fall back to
// unkeyed lead ids: those would let anyone with the logs confirm a guessed
// address, and would name every lead differently from the keyed ids
// already stored. Errors name the setting, never a secret.
func LoadKeys(cfg config.Config) (Keys, error) {
	k, err := token.Parse(cfg.TokenKeys)
	if err != nil {
		return Keys{}, err
	}
	if k.LeadID == nil {
		where := "TOKEN_KEYS"
		if cfg.TokenKeysParameter != "" {
			where = fmt.Sprintf("TOKEN_KEYS_PARAMETER=%q", cfg.TokenKeysParameter)
		}
		return Keys{}, fmt.Errorf("%s holds no %q key: lead ids are a keyed hash of the address, and no function starts without the key (make token-keys adds it; docs/deploy.md)", where, token.LeadIDKeyID)
	}
	ids, err := lead.NewIDKey(k.LeadID)
	if err != nil {
		return Keys{}, err
	}
	return Keys{Signer: k.Signer, LeadIDs: ids}, nil
}
