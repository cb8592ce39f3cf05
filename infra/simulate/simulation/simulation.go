// Package simulation plays personas through the product: the real program,
// and the real capture handler, scheduler, SES event handling, link pages,
// scoring and sales alerts, built with app.New on DynamoDB Local and SES
// local, on a clock that jumps from one thing happening to the next. Months
// of nurture take seconds, and the result says per persona which emails went
// out, what the persona did with them, how the score moved and when it
// crossed each threshold.
package simulation

import (
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/leadnurture/nurture/infra/local/sestrack"
	"github.com/leadnurture/nurture/infra/localstack/delay"
	"github.com/leadnurture/nurture/infra/localstack/streams"
	"github.com/leadnurture/nurture/shared/app"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/mail/ses"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/scoring"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

// Setup is what a simulation runs on.
type Setup struct {
	Program  *program.Program
	Personas *program.Personas
	// DynamoDB, Streams and SES are clients of DynamoDB Local (its tables
	// and their streams) and SES local. Table is created; name a fresh one
	// per run.
	DynamoDB *dynamodb.Client
	Streams  *dynamodbstreams.Client
	SES      *sesv2.Client
	Table    string
	// Log receives the product's JSON logs; nil discards them.
	Log *slog.Logger
}

// TickEvery is the scheduler's rate in AWS (EventBridge Scheduler): a step
// due at 09:02 goes out at the tick of 09:05.
const TickEvery = 5 * time.Minute

// baseURL is where the links in simulated mail point. Nothing listens
// there: the simulation hands each request to its handler in-process.
const baseURL = "https://nurture.simulation.example"

// configurationSet names the SES configuration set in the simulated events.
const configurationSet = "nurture-simulation"

// maxIdleTicks: a lead the scheduler leaves due tick after tick is a bug
// in the product, and the simulation says so instead of ticking forever.
const maxIdleTicks = 50

// sim is one simulation run.
type sim struct {
	prog   *program.Program
	app    *app.App
	model  scoring.Model
	signer *token.Signer
	ids    lead.IDKey
	clock  *clock.Fixed
	track  *sestrack.Tracker
	box    *mailbox
	alerts *streams.Mapping
	// settle is the settle time's delay queue on the simulation's clock.
	settle *delay.Queue

	start, end time.Time
	queue      queue
	seq        int
	personas   []*persona
	byEmail    map[string]*persona
	ticks      int
}

// Run plays every persona of the setup through the program and returns what
// happened to each.
func Run(ctx context.Context, s Setup) (*Result, error) {
	r, err := build(ctx, s)
	if err != nil {
		return nil, err
	}
	if err := r.loop(ctx); err != nil {
		return nil, err
	}
	return r.result(ctx)
}

// build wires the product as the functions build it, with the local stack's
// stand-in for SES's click and open tracking in front of SES local.
func build(ctx context.Context, s Setup) (*sim, error) {
	if s.Program == nil || s.Personas == nil || s.DynamoDB == nil || s.Streams == nil || s.SES == nil || s.Table == "" {
		return nil, errors.New("simulation: Program, Personas, DynamoDB, Streams, SES and Table are required")
	}
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if err := store.EnsureTable(ctx, s.DynamoDB, s.Table); err != nil {
		return nil, fmt.Errorf("simulation: %w", err)
	}
	signer, ids, err := newKeys()
	if err != nil {
		return nil, err
	}
	startDay := s.Personas.StartDay()
	home, err := time.LoadLocation(s.Program.Schedule.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("simulation: %w", err)
	}
	start := time.Date(startDay.Year(), startDay.Month(), startDay.Day(), 0, 0, 0, 0, home)
	r := &sim{
		prog: s.Program, model: scoring.New(s.Program), signer: signer, ids: ids, clock: clock.NewFixed(start),
		box: &mailbox{delivered: map[string]string{}}, start: start,
		end:     start.AddDate(0, s.Personas.RunMonths(), 0),
		byEmail: map[string]*persona{},
	}
	sesMailer := ses.New(s.SES, configurationSet)
	r.track = &sestrack.Tracker{
		Mailer: deliverer{next: sesMailer, box: r.box}, BaseURL: baseURL,
		ConfigurationSet: configurationSet, Clock: r.clock, Log: s.Log,
	}
	st := store.New(s.DynamoDB, s.Table, store.Options{DueShards: store.DefaultDueShards, ActivityRetention: s.Program.ActivityRetention()})
	r.settle = &delay.Queue{Clock: r.clock, Log: s.Log}
	r.app, err = app.New(app.Parts{
		Config:  config.Config{TableName: s.Table, PublicBaseURL: baseURL, ConfigurationSet: configurationSet, MinFillTime: lead.DefaultMinFillTime},
		Program: s.Program, Store: st,
		Mailer: sender{next: r.track, box: r.box, clock: r.clock},
		// Alerts go straight to SES local: sales reading one is not the
		// lead's engagement.
		AlertMailer: sesMailer,
		Signer:      signer, LeadIDs: ids, Rate: 1000, Clock: r.clock, Log: s.Log,
		Delayer: r.settle,
	})
	if err != nil {
		return nil, fmt.Errorf("simulation: %w", err)
	}
	r.settle.Handler = r.app.Wakeups.Handle
	r.track.Publish = r.app.HandleSESEvent
	// Sales alerts leave through the table's stream, as in AWS: the alerts
	// function's mapping, drained after each step of the clock, with the
	// settle queue's wake-ups due by then.
	r.alerts = streams.Outbox(s.DynamoDB, s.Streams, s.Table, r.app.Outbox, s.Log)
	for _, pe := range s.Personas.Personas {
		p, err := r.newPersona(pe)
		if err != nil {
			return nil, err
		}
		r.personas = append(r.personas, p)
		r.byEmail[p.email] = p
	}
	// Score samples at each month's end, for the month lines.
	for m := 1; m <= s.Personas.RunMonths(); m++ {
		at := start.AddDate(0, m, 0)
		r.at(at, nil, func(ctx context.Context) error {
			for _, p := range r.personas {
				if err := p.sample(ctx); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return r, nil
}

// newKeys makes a signing key and a lead id key for this run only.
func newKeys() (*token.Signer, lead.IDKey, error) {
	secret := func() string {
		b := make([]byte, 32)
		_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
		return base64.StdEncoding.EncodeToString(b)
	}
	k, err := token.Parse("sim:" + secret() + "," + token.LeadIDKeyID + ":" + secret())
	if err != nil {
		return nil, lead.IDKey{}, err
	}
	ids, err := lead.NewIDKey(k.LeadID)
	return k.Signer, ids, err
}

// loop moves the clock from one thing happening to the next until the end:
// a persona's action, or the scheduler's first tick at or after the
// earliest due step or pending alert.
func (r *sim) loop(ctx context.Context) error {
	var lastTick time.Time
	idle := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		tick, due, err := r.nextTick(ctx, lastTick)
		if err != nil {
			return err
		}
		next := r.queue.peek()
		switch {
		case next != nil && (!due || !next.at.After(tick)):
			if next.at.After(r.end) {
				return nil
			}
			heap.Pop(&r.queue)
			r.moveTo(next.at)
			if err := next.do(ctx); err != nil {
				return fmt.Errorf("%s: %w", next.who(), err)
			}
		case due:
			if tick.After(r.end) {
				return nil
			}
			r.moveTo(tick)
			before := r.box.count()
			rep, err := r.app.Scheduler.Tick(ctx, tick)
			if err != nil {
				return fmt.Errorf("scheduler tick at %s: %w", tick.Format(time.RFC3339), err)
			}
			r.ticks++
			lastTick = tick
			if rep.Sent+rep.Finished+rep.Rescheduled+rep.Failed+rep.Uncertain == 0 && r.box.count() == before {
				idle++
			} else {
				idle = 0
			}
			if idle > maxIdleTicks {
				return fmt.Errorf("the scheduler left a lead due for %d ticks in a row without sending (last tick %s)", idle, tick.Format(time.RFC3339))
			}
		default:
			return nil
		}
		if err := r.alerts.Drain(ctx); err != nil {
			return fmt.Errorf("alerts stream: %w", err)
		}
		if err := r.settle.Drain(ctx); err != nil {
			return fmt.Errorf("settle queue: %w", err)
		}
		if err := r.alerts.Drain(ctx); err != nil {
			return fmt.Errorf("alerts stream: %w", err)
		}
		if err := r.deliver(ctx); err != nil {
			return err
		}
	}
}

// nextTick is the scheduler's first tick at which something is due, after
// the last one.
func (r *sim) nextTick(ctx context.Context, last time.Time) (time.Time, bool, error) {
	at, ok, err := r.app.Store.NextDue(ctx)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	tick := at.Truncate(TickEvery)
	if tick.Before(at) {
		tick = tick.Add(TickEvery)
	}
	if !tick.After(last) {
		tick = last.Add(TickEvery)
	}
	return tick, true, nil
}

// moveTo sets the clock forward to t; it never runs backwards.
func (r *sim) moveTo(t time.Time) {
	if t.After(r.clock.Now()) {
		r.clock.Set(t)
	}
}

// deliver hands the mail sent since the last step to its personas, who
// decide what they will do with it and when.
func (r *sim) deliver(ctx context.Context) error {
	for _, m := range r.box.take() {
		p, ok := r.byEmail[normalised(m.To)]
		if !ok {
			continue
		}
		if err := p.receive(ctx, m); err != nil {
			return fmt.Errorf("persona %s: %w", p.ID, err)
		}
	}
	return nil
}

// action is one thing a persona does at a moment.
type action struct {
	at  time.Time
	seq int // ties keep the order they were planned in
	p   *persona
	do  func(ctx context.Context) error
}

func (a *action) who() string {
	if a.p == nil {
		return "simulation"
	}
	return "persona " + a.p.ID
}

// at plans fn for t.
func (r *sim) at(t time.Time, p *persona, fn func(ctx context.Context) error) {
	r.seq++
	heap.Push(&r.queue, &action{at: t, seq: r.seq, p: p, do: fn})
}

// queue is the actions planned, earliest first.
type queue []*action

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q queue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *queue) Push(x any)   { *q = append(*q, x.(*action)) }
func (q *queue) Pop() any {
	old := *q
	a := old[len(old)-1]
	*q = old[:len(old)-1]
	return a
}

func (q queue) peek() *action {
	if len(q) == 0 {
		return nil
	}
	return q[0]
}

func (b *mailbox) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.fresh)
}
