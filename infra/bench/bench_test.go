//go:build bench

package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/app"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/engagement"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/mail/ses"
	"github.com/leadnurture/nurture/shared/metrics"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

// Scenario sizes at BENCH_SCALE=1.
const (
	defaultCaptures = 10000
	defaultEvents   = 100000
	duplicateShare  = 0.2
	configuredRate  = 500.0 // SES local's MaxSendRate, emails per second
	workers         = 16    // concurrent invocations for capture and engagement
)

// Targets in write units per operation, as AWS bills them.
const (
	// Capture: the lead, the download and the submission's record in one
	// transaction (exactly once; 2 WCU each), the due index (1), and the
	// per-IP and per-address limit counters (1 each): 9, where the first
	// target of 3 predates exactly-once and the limits.
	targetCaptureWCU = 9
	// An applied event is the same transaction (6); about a fifth of the
	// events are redeliveries the lead remembers, which write nothing.
	targetEngagementWCU = 6
	targetSendWCU       = 3
	targetSendRate      = 0.95
)

var (
	scale    = 1.0
	benchCtx = context.Background()
	w        *world
	results  = map[string]*stat{}
	order    []string
)

type world struct {
	prog     *program.Program
	dyn      *dynamodb.Client
	table    string
	store    *store.Store
	clock    *clock.Fixed
	sched    *nurture.Scheduler
	svc      *engagement.Service
	alerts   *sales.Alerter
	capture  *httpapi.Capture
	rate     float64
	mailer   *timedMailer
	domain   string
	captured []string // lead ids, in capture order
	sent     bool     // step 1 went out
	engaged  bool     // scenario (c) ran
	// For the outbox scenarios (outbox_test.go): the servers and what the
	// functions behind the table's stream build on.
	dynamoEndpoint string
	sesMailer      *ses.Mailer
	signer         *token.Signer
}

func n(base int) int { return max(1, int(math.Round(float64(base)*scale))) }

func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		os.Exit(m.Run())
	}
	if s := os.Getenv("BENCH_SCALE"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			fmt.Fprintf(os.Stderr, "BENCH_SCALE=%q: want a positive number such as 0.1\n", s)
			os.Exit(2)
		}
		scale = v
	}
	started := time.Now()
	stop, err := setup()
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	if len(order) > 0 || len(outboxReport) > 0 {
		printReport(os.Stdout, time.Since(started))
	}
	os.Exit(code)
}

func setup() (func(), error) {
	servers, err := localstack.StartPair(benchCtx, &localstack.DynamoOptions{}, &localstack.SESOptions{MaxSendRate: configuredRate})
	if err != nil {
		return nil, fmt.Errorf("start servers: %w", err)
	}
	stop := func() { _ = servers.Stop() }
	dyn, err := localstack.DynamoClient(benchCtx, servers.DynamoDB.Endpoint())
	if err != nil {
		stop()
		return nil, err
	}
	dyn = dynamodb.New(dyn.Options(), func(o *dynamodb.Options) {
		o.APIOptions = append(o.APIOptions, countFailedConditions)
	})
	sesClient, err := localstack.SESClient(benchCtx, servers.SES.Endpoint())
	if err != nil {
		stop()
		return nil, err
	}
	shipped, err := program.Default()
	if err != nil {
		stop()
		return nil, err
	}
	// The scenarios measure nurture, so their leads need no confirmation:
	// a confirmation email is the same claim as step 1, its POST the same
	// transaction as an applied event, and the cost model counts them at
	// those units (cost.go, double opt-in). Capture writes the same three
	// items either way.
	single := *shipped
	single.DoubleOptIn = program.DoubleOptIn{}
	prog := &single
	table := "nurture-bench"
	if err := store.EnsureTable(benchCtx, dyn, table); err != nil {
		stop()
		return nil, err
	}
	// Lifecycle events on, as deployed with a CRM (runEvents delivers them).
	st := store.New(dyn, table, store.Options{LifecycleEvents: true})
	signer, err := token.ParseKeys(testenv.TestTokenKeys)
	if err != nil {
		stop()
		return nil, err
	}
	sesMailer := ses.New(sesClient, "nurture-bench")
	// The rate comes from SES's GetAccount, as the scheduler function does.
	rate, err := sesMailer.MaxSendRate(benchCtx)
	if err != nil {
		stop()
		return nil, err
	}
	w = &world{prog: prog, dyn: dyn, table: table, store: st, rate: rate, domain: "bench.example",
		dynamoEndpoint: servers.DynamoDB.Endpoint(), sesMailer: sesMailer, signer: signer,
		clock:  clock.NewFixed(testenv.Tuesday),
		mailer: &timedMailer{next: sesMailer}}
	// The product as the functions build it; only the nurture mailer is
	// wrapped, to time SES.
	a, err := app.New(app.Parts{
		Config:  config.Config{TableName: table, PublicBaseURL: "https://api.acme.example", ConfigurationSet: "nurture-bench"},
		Program: prog, Store: st, Mailer: w.mailer, AlertMailer: sesMailer, Signer: signer, LeadIDs: testenv.LeadIDs, Rate: rate,
		Clock: w.clock, Log: slog.New(slog.DiscardHandler),
		// The business metrics' lines are written, as in Lambda, and dropped.
		Metrics: metrics.New(io.Discard),
	})
	if err != nil {
		stop()
		return nil, err
	}
	w.sched, w.alerts, w.svc, w.capture = a.Scheduler, a.Alerter, a.Engagement, a.Capture
	// The events function behind the table's stream, delivering to a CRM
	// on this machine, as deployed with one: the scenarios' leads carry
	// their lifecycle events only until it has posted them. Its writes go
	// through a store of its own, so the scenarios' units are their own.
	stopEvents, err := runEvents(table)
	if err != nil {
		stop()
		return nil, err
	}
	return func() { stopEvents(); stop() }, nil
}

// failedConditions counts conditional writes DynamoDB refused. AWS bills
// them like the write would have been (at least 1 WCU), but the SDK returns
// an error without ConsumedCapacity, so Store.Usage cannot count them.
var failedConditions atomic.Int64

func countFailedConditions(s *middleware.Stack) error {
	return s.Initialize.Add(middleware.InitializeMiddlewareFunc("benchCountFailedConditions",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleInitialize(ctx, in)
			countCall(middleware.GetOperationName(ctx))
			var failed *types.ConditionalCheckFailedException
			var canceled *types.TransactionCanceledException
			if errors.As(err, &failed) || errors.As(err, &canceled) {
				failedConditions.Add(1)
			}
			return out, md, err
		}), middleware.Before)
}

// calls counts DynamoDB requests by operation, for the breakdown per scenario.
var (
	callsMu sync.Mutex
	calls   = map[string]int{}
)

func countCall(op string) {
	callsMu.Lock()
	calls[op]++
	callsMu.Unlock()
}

func callsSnapshot() map[string]int {
	callsMu.Lock()
	defer callsMu.Unlock()
	m := make(map[string]int, len(calls))
	for k, v := range calls {
		m[k] = v
	}
	return m
}

// timedMailer records how long each SES call took, and the MessageId SES
// gave each lead's latest email (the events of scenario (c) name it).
type timedMailer struct {
	next     *ses.Mailer
	mu       sync.Mutex
	lat      []time.Duration
	messages map[string]string // lead tag -> MessageId
}

func (m *timedMailer) Send(ctx context.Context, msg mail.Message) (string, error) {
	t := time.Now()
	id, err := m.next.Send(ctx, msg)
	d := time.Since(t)
	m.mu.Lock()
	m.lat = append(m.lat, d)
	if err == nil {
		if m.messages == nil {
			m.messages = map[string]string{}
		}
		m.messages[msg.Tags[mail.TagLead]] = id
	}
	m.mu.Unlock()
	return id, err
}

type opCount struct {
	op string
	n  int
}

// stat is what one scenario measured.
type stat struct {
	name        string
	ops         int
	elapsed     time.Duration
	lat         []time.Duration // per operation handler time
	allocs      uint64
	bytes       uint64
	rcu, wcu    float64
	failedConds int64
	calls       []opCount
	itemBytes   int
	extra       []string
	configured  float64 // send rate, scheduler only
	achieved    float64
	handlerMean time.Duration
}

func (s *stat) perOp(v float64) float64 { return v / float64(s.ops) }

func pct(lat []time.Duration, p float64) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), lat...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[min(len(s)-1, int(math.Ceil(p*float64(len(s))))-1)]
}

func mean(lat []time.Duration) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	var sum time.Duration
	for _, d := range lat {
		sum += d
	}
	return sum / time.Duration(len(lat))
}

// measure runs op for i in [0,n) on workers goroutines and records the
// time of each call, the allocations of the process and the capacity units
// the store consumed meanwhile.
func measure(name string, n, workers int, op func(i int) error) (*stat, error) {
	return measureOn(w.store, name, n, workers, op)
}

// measureOn is measure, counting the capacity units of st.
func measureOn(st *store.Store, name string, n, workers int, op func(i int) error) (*stat, error) {
	s := &stat{name: name, ops: n, lat: make([]time.Duration, n)}
	u := st.Usage()
	r0, w0 := u.Read(), u.Write()
	f0 := failedConditions.Load()
	c0 := callsSnapshot()
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t := time.Now()
				err := op(i)
				s.lat[i] = time.Since(t)
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("%s op %d: %w", name, i, err) })
				}
			}
		})
	}
	wg.Wait()
	s.elapsed = time.Since(start)
	runtime.ReadMemStats(&m1)
	s.allocs = m1.Mallocs - m0.Mallocs
	s.bytes = m1.TotalAlloc - m0.TotalAlloc
	s.rcu, s.wcu = u.Read()-r0, u.Write()-w0
	s.failedConds = failedConditions.Load() - f0
	for op, v := range callsSnapshot() {
		if d := v - c0[op]; d > 0 {
			s.calls = append(s.calls, opCount{op, d})
		}
	}
	sort.Slice(s.calls, func(i, j int) bool { return s.calls[i].op < s.calls[j].op })
	s.handlerMean = mean(s.lat)
	return s, firstErr
}

func report(b *testing.B, s *stat) {
	b.ReportMetric(float64(s.elapsed.Nanoseconds())/float64(s.ops), "ns/op")
	b.ReportMetric(float64(s.ops)/s.elapsed.Seconds(), "ops/s")
	b.ReportMetric(float64(pct(s.lat, 0.50).Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(pct(s.lat, 0.99).Nanoseconds()), "p99-ns")
	// Not "allocs/op" and "B/op": testing keeps those names for ReportAllocs.
	b.ReportMetric(s.perOp(float64(s.allocs)), "mallocs/op")
	b.ReportMetric(s.perOp(float64(s.bytes)), "alloc-B/op")
	b.ReportMetric(s.perOp(float64(s.failedConds)), "failed-cond/op")
	b.ReportMetric(s.perOp(s.rcu), "rcu/op")
	b.ReportMetric(s.perOp(s.wcu), "wcu/op")
	if s.itemBytes > 0 {
		b.ReportMetric(float64(s.itemBytes), "lead-item-B")
	}
	if s.configured > 0 {
		b.ReportMetric(s.achieved, "sends/s")
		b.ReportMetric(100*s.achieved/s.configured, "%-of-rate")
	}
	if _, ok := results[s.name]; !ok {
		order = append(order, s.name)
	}
	results[s.name] = s
}

// --- scenario (a): capture -------------------------------------------------

// formPost is a browser's form post as API Gateway delivers it.
var formPost = testworld.FormPost

func captureRequests(count int) ([]httpapi.Request, []string) {
	form := w.prog.Forms[0]
	reqs := make([]httpapi.Request, count)
	ids := make([]string, count)
	for i := range count {
		email := fmt.Sprintf("lead%06d@%s", i, w.domain)
		v := url.Values{"email": {email}}
		for _, name := range form.Fields {
			if name == "email" {
				continue
			}
			v.Set(name, "Ada Lovelace")
			for _, q := range w.prog.Questions {
				if q.Field == name {
					v.Set(name, q.Options[i%len(q.Options)].Value)
				}
			}
		}
		if form.Consent.Required {
			v.Set("consent", "yes")
		}
		v.Set("submission", fmt.Sprintf("bench-%06d", i))
		reqs[i] = formPost(form.ID, v, w.clock.Now())
		// Each lead a person of their own, as on a real site: the per-IP
		// limit counts each post (its counter's write is in the units).
		reqs[i].RequestContext.HTTP.SourceIP = fmt.Sprintf("10.%d.%d.%d", i>>16&0xff, i>>8&0xff, i&0xff)
		ids[i] = testenv.LeadID(email)
	}
	return reqs, ids
}

func runCapture() (*stat, error) {
	reqs, ids := captureRequests(n(defaultCaptures))
	s, err := measure("Capture", len(reqs), workers, func(i int) error {
		resp, err := w.capture.Handle(benchCtx, reqs[i])
		if err == nil && resp.StatusCode != 303 {
			err = fmt.Errorf("status %d: %s", resp.StatusCode, resp.Body)
		}
		return err
	})
	if err != nil {
		return s, err
	}
	w.captured = ids
	s.itemBytes = leadItemSize(ids[0])
	return s, nil
}

func ensureCaptured() error {
	if w.captured != nil {
		return nil
	}
	_, err := runCapture()
	return err
}

func BenchmarkCapture(b *testing.B) {
	if s := results["Capture"]; s != nil {
		report(b, s) // called again for a larger b.N: the scenario runs once per process
		return
	}
	if w.captured != nil {
		b.Skip("leads already captured in this process (by another scenario's set-up)")
	}
	s, err := runCapture()
	if err != nil {
		b.Fatal(err)
	}
	report(b, s)
}

// --- scenario (b): one scheduler tick over every due lead ------------------

// runTick moves the clock to when the captured leads' next step is due and
// runs one tick over all of them: step 1 right after capture
// ("SchedulerTick"), step 2 after the engagement events of scenario (c)
// ("SchedulerTickStep2"), when the leads carry their history.
func runTick(name string) (*stat, error) {
	l, found, err := w.store.GetLead(benchCtx, w.captured[0])
	if err != nil || !found {
		return nil, fmt.Errorf("lead %s: found=%v %v", w.captured[0], found, err)
	}
	if due := l.Nurture.DueAt; due.After(w.clock.Now()) {
		w.clock.Set(due.Add(time.Minute))
	}
	at := w.clock.Now()
	due, err := w.store.DueLeads(benchCtx, at, len(w.captured))
	if err != nil {
		return nil, err
	}
	w.sched.Batch = len(w.captured)
	w.mailer.lat = nil
	var rep nurture.Report
	s, err := measure(name, 1, 1, func(int) error {
		var err error
		rep, err = w.sched.Tick(benchCtx, at)
		return err
	})
	if err != nil {
		return s, err
	}
	if rep.Sent == 0 {
		return s, fmt.Errorf("tick sent nothing: %+v (due before: %d)", rep, len(due))
	}
	// Per send, not per tick: the tick is one invocation of rep.Sent sends.
	s.ops = rep.Sent
	s.lat = w.mailer.lat
	s.configured = w.rate
	s.achieved = float64(rep.Sent) / s.elapsed.Seconds()
	s.extra = append(s.extra, fmt.Sprintf("tick: due %d, sent %d, skipped %d, deferred %d, failed %d, uncertain %d, rescheduled %d, partial %v; tick took %v",
		rep.Due, rep.Sent, rep.Skipped, rep.Deferred, rep.Failed, rep.Uncertain, rep.Rescheduled, rep.Partial, s.elapsed.Round(time.Millisecond)))
	s.itemBytes = leadItemSize(w.captured[0])
	return s, nil
}

// runStep1 sends step 1 to the captured leads, capturing them first if
// need be.
func runStep1() (*stat, error) {
	if err := ensureCaptured(); err != nil {
		return nil, err
	}
	if err := waitDelivered(w.captured); err != nil {
		return nil, err
	}
	s, err := runTick("SchedulerTick")
	w.sent = err == nil
	return s, err
}

func ensureSent() error {
	if w.sent {
		return nil
	}
	_, err := runStep1()
	return err
}

func BenchmarkSchedulerTick(b *testing.B) {
	if s := results["SchedulerTick"]; s != nil {
		report(b, s)
		return
	}
	if w.sent {
		b.Skip("step 1 already sent in this process (by another scenario's set-up)")
	}
	s, err := runStep1()
	if err != nil {
		b.Fatal(err)
	}
	report(b, s)
}

// --- scenario (c): engagement events with redeliveries ---------------------

// sampleSent is when the samples in events/engagement were sent.
var sampleSent = time.Date(2026, 12, 1, 9, 0, 2, 512e6, time.UTC)

func loadSample(name string) (map[string]any, error) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "engagement", name))
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	return doc, json.Unmarshal(raw, &doc)
}

// rewrite makes a sample about one lead's message, its times moved by shift.
func rewrite(doc map[string]any, replace map[string]string, shift time.Duration) ([]byte, error) {
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			out := make(map[string]any, len(x))
			for k, e := range x {
				out[k] = walk(e)
			}
			return out
		case []any:
			out := make([]any, len(x))
			for i, e := range x {
				out[i] = walk(e)
			}
			return out
		case string:
			if r, ok := replace[x]; ok {
				return r
			}
			if ts, err := time.Parse(time.RFC3339Nano, x); err == nil && strings.Contains(x, "T") {
				return ts.Add(shift).UTC().Format("2006-01-02T15:04:05.000Z")
			}
		}
		return v
	}
	return json.Marshal(walk(doc))
}

func engagementEvents(total int) ([][]byte, error) {
	delivery, err := loadSample("delivery.json")
	if err != nil {
		return nil, err
	}
	open, err := loadSample("open.json")
	if err != nil {
		return nil, err
	}
	click, err := loadSample("click.json")
	if err != nil {
		return nil, err
	}
	type sentInfo struct {
		l         *lead.Lead
		sent      lead.SentStep
		messageID string
	}
	var leads []sentInfo
	for _, id := range w.captured {
		l, found, err := w.store.GetLead(benchCtx, id)
		if err != nil || !found {
			return nil, fmt.Errorf("lead %s: %v %v", id, found, err)
		}
		if m := w.mailer.messages[mail.Tag(id)]; len(l.Nurture.Sent) > 0 && m != "" {
			leads = append(leads, sentInfo{l, l.Nurture.Sent[0], m})
		}
	}
	if len(leads) == 0 {
		return nil, fmt.Errorf("no lead has a sent step")
	}
	unique := int(math.Round(float64(total) * (1 - duplicateShare)))
	events := make([][]byte, 0, total)
	for u := range unique {
		li := leads[u%len(leads)]
		j := u / len(leads) // the lead's j-th event: delivery, then opens and clicks 10 minutes apart
		doc := delivery
		switch {
		case j == 0:
		case j%2 == 1:
			doc = open
		default:
			doc = click
		}
		replace := map[string]string{
			"010701937b2a4f5e-6c1f9f5a-4b6e-4d8e-9b7a-2f3c1e0d5a6b-000000": li.messageID,
			"f3u2l7x5k4c2m8n9p6q1r0sa":                                     li.l.ID,
			"ada.lovelace@example.com":                                     li.l.Email,
		}
		b, err := rewrite(doc, replace, li.sent.At.Sub(sampleSent)+time.Duration(j)*10*time.Minute)
		if err != nil {
			return nil, err
		}
		events = append(events, b)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for len(events) < total {
		events = append(events, events[rnd.IntN(unique)])
	}
	rnd.Shuffle(len(events), func(i, j int) { events[i], events[j] = events[j], events[i] })
	return events, nil
}

func BenchmarkEngagementEvents(b *testing.B) {
	if s := results["EngagementEvents"]; s != nil {
		report(b, s)
		return
	}
	if err := ensureSent(); err != nil {
		b.Fatal(err)
	}
	events, err := engagementEvents(n(defaultEvents))
	if err != nil {
		b.Fatal(err)
	}
	var reported, machine atomic.Int64
	s, err := measure("EngagementEvents", len(events), workers, func(i int) error {
		res, err := w.svc.HandleEvent(benchCtx, events[i])
		for _, r := range res {
			if r.Applied {
				reported.Add(1)
			}
			if r.Machine {
				machine.Add(1)
			}
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	s.itemBytes = leadItemSize(w.captured[0])
	s.extra = append(s.extra, fmt.Sprintf("events: %d (%.0f%% redeliveries) over %d leads; applied %d (a redelivery applies nothing), machine %d",
		len(events), 100*duplicateShare, len(w.captured), reported.Load(), machine.Load()))
	w.engaged = true
	report(b, s)
}

// --- scenario (d): step 2, to leads with their engagement -------------------

func BenchmarkSchedulerTickStep2(b *testing.B) {
	if s := results["SchedulerTickStep2"]; s != nil {
		report(b, s)
		return
	}
	if !w.engaged {
		b.Skip("needs the engagement scenario first: run with -bench .")
	}
	s, err := runTick("SchedulerTickStep2")
	if err != nil {
		b.Fatal(err)
	}
	report(b, s)
}

// --- item size --------------------------------------------------------------

// leadItemSize is the lead item's size as DynamoDB counts it: attribute
// names plus values (numbers approximated by their digits).
func leadItemSize(id string) int {
	out, err := w.dyn.GetItem(benchCtx, &dynamodb.GetItemInput{
		TableName: aws.String(w.table),
		Key: map[string]types.AttributeValue{
			store.AttrPK: &types.AttributeValueMemberS{Value: "LEAD#" + id},
			store.AttrSK: &types.AttributeValueMemberS{Value: "PROFILE"},
		},
	})
	if err != nil || out.Item == nil {
		return 0
	}
	return store.ItemSize(out.Item)
}

// --- report -----------------------------------------------------------------

func verdict(got, target float64) string {
	if got <= target {
		return fmt.Sprintf("PASS (≤ %g)", target)
	}
	return fmt.Sprintf("OVER by %.2f (%.0f%%; target ≤ %g)", got-target, 100*(got-target)/target, target)
}

func printReport(out io.Writer, total time.Duration) {
	fmt.Fprintf(out, "\n# Benchmarks against DynamoDB Local and SES local (BENCH_SCALE=%g, %d CPUs, %s)\n", scale, runtime.NumCPU(), time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintln(out, "# Capacity units are computed as AWS computes them; latency is DynamoDB Local's, not AWS's.")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tops\tops/s\tp50\tp99\tallocs/op\tKB/op\tRCU/op\tWCU/op\tfailed cond/op\tlead item\tWCU target (Store.Usage)")
	targets := map[string]float64{"Capture": targetCaptureWCU, "EngagementEvents": targetEngagementWCU, "SchedulerTick": targetSendWCU, "SchedulerTickStep2": targetSendWCU,
		"CaptureWebhooksFine": targetCaptureWCU, "CaptureWebhooksHanging": targetCaptureWCU}
	for _, name := range order {
		s := results[name]
		item := "-"
		if s.itemBytes > 0 {
			item = fmt.Sprintf("%.1f KB", float64(s.itemBytes)/1024)
		}
		fmt.Fprintf(tw, "%s\t%d\t%.0f\t%v\t%v\t%.0f\t%.1f\t%.2f\t%.2f\t%.3f\t%s\t%s\n", name, s.ops, float64(s.ops)/s.elapsed.Seconds(),
			pct(s.lat, 0.5).Round(10*time.Microsecond), pct(s.lat, 0.99).Round(10*time.Microsecond),
			s.perOp(float64(s.allocs)), s.perOp(float64(s.bytes))/1024, s.perOp(s.rcu), s.perOp(s.wcu), s.perOp(float64(s.failedConds)), item,
			verdict(s.perOp(s.wcu), targets[name]))
	}
	tw.Flush()
	for _, name := range order {
		s := results[name]
		for _, e := range s.extra {
			fmt.Fprintf(out, "  %s %s\n", name, e)
		}
		var parts []string
		for _, c := range s.calls {
			parts = append(parts, fmt.Sprintf("%s %.2f", c.op, s.perOp(float64(c.n))))
		}
		fmt.Fprintf(out, "  %s DynamoDB requests per op: %s\n", name, strings.Join(parts, ", "))
		if s.configured > 0 {
			v := "PASS"
			if s.achieved < targetSendRate*s.configured {
				v = "UNDER"
			}
			fmt.Fprintf(out, "  %s send rate: %.1f/s achieved of %.0f/s configured = %.1f%% (target ≥ %.0f%%): %s\n",
				s.name, s.achieved, s.configured, 100*s.achieved/s.configured, 100*targetSendRate, v)
			fmt.Fprintf(out, "  %s p50/p99 are of the SES SendEmail call; RCU/WCU, allocs and ops/s are per email sent in the tick.\n", s.name)
		}
	}
	fmt.Fprintln(out, "  failed cond/op: conditional writes DynamoDB refused (redeliveries, version conflicts); AWS bills each ≥ 1 WCU,")
	fmt.Fprintln(out, "  but Store.Usage cannot see them (the SDK returns an error, no ConsumedCapacity): add ≥ that many WCU/op.")
	for _, l := range append(outboxReport, resultsReport...) {
		fmt.Fprintln(out, l)
	}
	fmt.Fprintf(out, "  total run (servers, set-up and scenarios): %v\n", total.Round(time.Second))
	printCost(out)
}

func printCost(out io.Writer) {
	c, e, s, s2 := results["Capture"], results["EngagementEvents"], results["SchedulerTick"], results["SchedulerTickStep2"]
	if c == nil || e == nil || s == nil || s2 == nil {
		fmt.Fprintln(out, "\n(cost model needs all four scenarios: run with -bench .)")
		return
	}
	leads := float64(ModelLeads)
	// Double opt-in: the addresses never confirmed are captured too.
	unconfirmed := leads * UnconfirmedPerLead
	captures := leads*CapturesPerLead + unconfirmed
	confirmMails := leads*(1+ConfirmRemindedShare) + unconfirmed*2
	// Track emails of this month's leads, and the evergreen and
	// re-engagement emails of earlier months' leads (lifelong nurture).
	lifelong := leads*EvergreenShare*EvergreenMonths + leads*ReengagedShare
	emails := leads*EmailsPerLead + lifelong
	events := emails * EngagementEventsPerEmail
	// A confirmation is a link's GET and POST, costed like a click.
	clicks := leads*LinkClicksPerLead + leads*2
	ticks := float64(TicksPerMonth)
	alerts := leads * AlertsPerLead
	events2 := leads * LifecycleEventsPerLead // deliveries to the CRM
	followUps := alerts * (RemindedShare + EscalatedShare)
	settles := alerts * ClickCausedShare
	wakeups := settles * SettleMessagesPerAlert // settle queue messages
	sqsRequests := wakeups*SQSRequestsPerMessage + SettleQueuePolls
	digests := float64(DigestOwners * BusinessDaysPerMonth)
	// Units per operation, measured; a link click (answer, unsubscribe) is
	// costed like an engagement event, its handler time like a capture's.
	// Refused conditional writes are billed too: at least 1 WCU each.
	// The first email of a lead costs what step 1 measured, the later ones
	// what step 2 (to leads with their engagement) measured.
	wcuOf := func(x *stat) float64 { return x.perOp(x.wcu + float64(x.failedConds)) }
	first, later := leads, emails-leads
	wcu := captures*wcuOf(c) + (first+confirmMails)*wcuOf(s) + later*wcuOf(s2) + events*wcuOf(e) + clicks*(wcuOf(e)+LinkLimitWRU) + alerts*AlertWRU +
		unconfirmed*ExpiredWRU +
		leads*ReengagedShare*DormantWRU +
		events2*EventWRU +
		alerts*OpenIndexWRU + followUps*(1+AlertWRU) + digests +
		settles*SettleWRU
	rcu := captures*c.perOp(c.rcu) + (first+confirmMails)*s.perOp(s.rcu) + later*s2.perOp(s2.rcu) + events*e.perOp(e.rcu) + clicks*e.perOp(e.rcu) +
		unconfirmed*ExpiredRRU +
		ticks*8*0.5 + // every tick queries 8 due shards, 0.5 RCU each when nothing is due
		alerts*AlertRRU + events2*EventRRU + followUps*AlertRRU + digests*DigestRRU +
		wakeups*SettleRRU
	sendSeconds := func(x *stat) float64 { return x.elapsed.Seconds() / float64(x.ops) } // wall time of the tick per email sent
	// SES's Send event of every email invokes the engagement function too,
	// which only logs it: costed like an engagement event's time, an upper bound.
	sendEvents := emails + confirmMails
	gbs := captures*c.handlerMean.Seconds()*CaptureMemoryGB +
		clicks*c.handlerMean.Seconds()*LinksMemoryGB +
		(events+sendEvents)*e.handlerMean.Seconds()*EngagementMemoryGB +
		((first+confirmMails)*sendSeconds(s)+later*sendSeconds(s2))*SchedulerMemoryGB +
		ticks*0.05*SchedulerMemoryGB + // an empty tick: ~50 ms, assumed
		(alerts*AlertInvocations+followUps)*AlertSeconds*AlertsMemoryGB +
		wakeups*SettleInvocations*SettleSeconds*AlertsMemoryGB +
		events2*EventSeconds*EventsMemoryGB
	requests := captures + clicks + events + sendEvents + ticks + alerts*AlertInvocations + followUps + events2 + wakeups*SettleInvocations
	mails := emails + confirmMails + alerts + followUps + digests
	type line struct {
		what string
		usd  float64
	}
	lines := []line{
		{fmt.Sprintf("DynamoDB writes: %.0f WRU × $%.2f/M", wcu, USDPerMillionWRU), wcu / 1e6 * USDPerMillionWRU},
		{fmt.Sprintf("DynamoDB reads: %.0f RRU × $%.2f/M", rcu, USDPerMillionRRU), rcu / 1e6 * USDPerMillionRRU},
		{fmt.Sprintf("Lambda compute: %.1f GB-s × $%.10f", gbs, USDPerLambdaGBSecond), gbs * USDPerLambdaGBSecond},
		{fmt.Sprintf("Lambda requests: %.0f × $%.2f/M", requests, USDPerMillionLambdaRequests), requests / 1e6 * USDPerMillionLambdaRequests},
		{fmt.Sprintf("SES: %.0f emails (confirmations, nurture, alerts, reminders, escalations, digests) × $%.2f/1000", mails, USDPerThousandEmails), mails / 1000 * USDPerThousandEmails},
		{fmt.Sprintf("events function: %.0f deliveries, %.0f GB-s, %.0f WRU, %.0f RRU (in the lines above)", events2, events2*EventSeconds*EventsMemoryGB, events2*EventWRU, events2*EventRRU), 0},
		{"DynamoDB Streams: read by the alerts and events functions' triggers, free", 0},
		{fmt.Sprintf("SQS settle queue: %.0f wake-ups × %g requests + %.0f idle long polls × $%.2f/M", wakeups, SQSRequestsPerMessage, float64(SettleQueuePolls), USDPerMillionSQSRequests),
			sqsRequests / 1e6 * USDPerMillionSQSRequests},
		{fmt.Sprintf("HTTP API: %.0f requests × $%.2f/M", captures+clicks, USDPerMillionHTTPAPIRequests), (captures + clicks) / 1e6 * USDPerMillionHTTPAPIRequests},
		{fmt.Sprintf("EventBridge Scheduler: %.0f ticks × $%.2f/M", ticks, USDPerMillionSchedulerInvocations), ticks / 1e6 * USDPerMillionSchedulerInvocations},
	}
	// The program's results (docs/report.md): the sent activity of every
	// email, the day index's copy of every activity, the report
	// function's rollups, page views and the weekly digest.
	activities := captures + events + clicks + alerts + followUps + alerts*DecisionsPerAlert + emails
	rollupRRU := ModelRollupRRUPerActivityRead
	if resultsNumbers.activities > 0 {
		rollupRRU = resultsNumbers.rollupRRUPerActivity
	}
	for _, c := range Results(activities, emails, rollupRRU, resultsNumbers.reportRRU) {
		lines = append(lines, line{c.What, c.USD})
	}
	// Monitoring (the business metrics, the dashboard, the alarms) and
	// keeping the table, with point-in-time recovery, for the activities'
	// retention: modelled (cost.go).
	decisions := alerts * DecisionsPerAlert
	months := w.prog.ActivityRetention().Hours() / 24 / 30.4
	// Every activity is stored twice: the item, and its copy in the day
	// index (projection ALL); emails add their sent activity.
	tableGB, storage := Storage(2*(captures+events+clicks+alerts+followUps+decisions+emails), captures+events+clicks, leads, months)
	var fixed float64
	for _, c := range append(Monitoring(captures+emails+alerts+decisions), storage...) {
		lines = append(lines, line{c.What, c.USD})
		if c.Fixed {
			fixed += c.USD
		}
	}
	fmt.Fprintf(out, "\n# Cost model: %d nurtured leads per month (prices %s, %s, no free tier)\n", ModelLeads, PricesRegion, PricesDate)
	fmt.Fprintf(out, "# Each lead: %g capture, %g nurture emails (the first at step 1's cost, the rest at step 2's), %g engagement events\n",
		CapturesPerLead, EmailsPerLead, EngagementEventsPerEmail)
	fmt.Fprintf(out, "# per email; lifelong nurture adds %.0f evergreen and re-engagement emails to earlier leads (%g of each month's leads\n", lifelong, EvergreenShare)
	fmt.Fprintf(out, "# hear from us monthly for %g months, the rest are asked once and go dormant at %g WRU), at step 2's cost;\n", EvergreenMonths, DormantWRU)
	fmt.Fprintf(out, "# and a Send event per email, %g link clicks; a tick every 5 minutes; %g sales alerts (the stream invokes\n", LinkClicksPerLead, AlertsPerLead)
	fmt.Fprintf(out, "# the alerts function %g times each, %g WRU, %g RRU, modelled); %g lifecycle events a lead delivered to a CRM\n", AlertInvocations, AlertWRU, AlertRRU, LifecycleEventsPerLead)
	fmt.Fprintf(out, "# (one events function invocation each, %g WRU, %g RRU, %.2f s: modelled on the outbox scenario's).\n", EventWRU, EventRRU, EventSeconds)
	fmt.Fprintf(out, "# Of the alerts, %g get a reminder and %g an escalation (sent like an alert), the open index costs %g WRU an alert,\n", RemindedShare, EscalatedShare, OpenIndexWRU)
	fmt.Fprintf(out, "# and %d owners get a digest on %d business days (modelled).\n", DigestOwners, BusinessDaysPerMonth)
	fmt.Fprintf(out, "# %g of the alerts settle (click- or open-caused): %g wake-ups each through the settle queue, each %g invocations,\n", ClickCausedShare, SettleMessagesPerAlert, SettleInvocations)
	fmt.Fprintf(out, "# %g RRU and %g SQS requests, plus %g WRU an alert (modelled); the queue's event source mapping long-polls it all month.\n", SettleRRU, SQSRequestsPerMessage, SettleWRU)
	fmt.Fprintf(out, "# Double opt-in (modelled): %.0f confirmation emails at step 1's cost (%g of the leads confirm after the reminder;\n", confirmMails, ConfirmRemindedShare)
	fmt.Fprintf(out, "# %g never-confirmed addresses per lead get two and are deleted at %g WRU, %g RRU), a GET and a POST per confirmation.\n", UnconfirmedPerLead, ExpiredWRU, ExpiredRRU)
	fmt.Fprintln(out, "# Units per operation and handler times as measured above (handler time on DynamoDB Local, not AWS);")
	fmt.Fprintln(out, "# writes include refused conditional writes at 1 WCU each.")
	fmt.Fprintln(out, "# SES events reach EventBridge's default bus and the rule invokes the function at no charge.")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	var total float64
	for _, l := range lines {
		fmt.Fprintf(tw, "%s\t$%.4f\t\n", l.what, l.usd)
		total += l.usd
	}
	fmt.Fprintf(tw, "total per month\t$%.2f\t\n", total)
	fmt.Fprintf(tw, "  of which the stack's own, at any volume (custom metrics, dashboard, alarms)\t$%.2f\t\n", fixed)
	fmt.Fprintf(tw, "per nurtured lead\t$%.5f\t\n", total/leads)
	fmt.Fprintf(tw, "per nurtured lead, without the stack's own\t$%.5f\t\n", (total-fixed)/leads)
	tw.Flush()
	fmt.Fprintf(out, "# The table: %.2f GB in steady state. A full export to S3 for Athena (docs/athena.md) costs $%.2f/GB: $%.2f each.\n",
		tableGB, USDPerGBExported, tableGB*USDPerGBExported)
}
