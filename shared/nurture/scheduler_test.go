package nurture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/mail/ses"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const testKeys = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

type world struct {
	t      *testing.T
	prog   *program.Program
	store  *store.Store
	table  string
	sched  *Scheduler
	clock  *clock.Fixed
	domain string // every address of this test ends in it, to tell its mail apart
}

func newWorld(t *testing.T) *world {
	t.Helper()
	shipped, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	// These tests are about nurture mail, so their leads need no
	// confirmation; double opt-in, which holds nurture back until the
	// address is confirmed, has its own (confirm_test.go).
	single := *shipped
	single.DoubleOptIn = program.DoubleOptIn{}
	prog := &single
	db := testenv.Dynamo(t)
	table := testenv.UniqueName("nurture")
	if err := store.EnsureTable(context.Background(), db, table); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, table, store.Options{})
	signer, err := token.ParseKeys(testKeys)
	if err != nil {
		t.Fatal(err)
	}
	win, err := NewWindow(prog.Schedule)
	if err != nil {
		t.Fatal(err)
	}
	// A Tuesday, 10:00 in the program's zone: inside the send window.
	loc, _ := time.LoadLocation(prog.Schedule.TimeZone)
	clk := clock.NewFixed(time.Date(2026, 12, 1, 10, 0, 0, 0, loc))
	w := &world{t: t, prog: prog, store: st, table: table, clock: clk, domain: strings.ToLower(table) + ".example"}
	w.sched = &Scheduler{
		Program: prog, Store: st, Signer: signer, Window: win,
		Mailer:  ses.New(testenv.SES(t), "nurture-test"),
		BaseURL: "https://api.acme.example", ConfigurationSet: "nurture-test",
		Rate: 1000, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	}
	return w
}

// change runs the world on a copy of its program with change made (to
// whole fields: the copy shares its lists with the default program).
func (w *world) change(change func(p *program.Program)) {
	w.t.Helper()
	p := *w.prog
	change(&p)
	win, err := NewWindow(p.Schedule)
	if err != nil {
		w.t.Fatal(err)
	}
	w.prog, w.sched.Program, w.sched.Window = &p, &p, win
}

// capture stores a lead the way the capture function does.
func (w *world) capture(local string, formIdx int, fields map[string]string) string {
	w.t.Helper()
	form := w.prog.Forms[formIdx]
	email := local + "@" + w.domain
	vals := map[string]string{"email": email}
	for k, v := range fields {
		vals[k] = v
	}
	c := &lead.Capturer{Program: w.prog, Store: w.store, Clock: w.clock, IDs: testenv.LeadIDs}
	out, err := c.Capture(context.Background(), lead.Submission{FormID: form.ID, Fields: vals, Consent: true, ReceivedAt: w.clock.Now()})
	if err != nil {
		w.t.Fatal(err)
	}
	return out.LeadID
}

func (w *world) tick() Report {
	w.t.Helper()
	rep, err := w.sched.Tick(context.Background(), w.clock.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	return rep
}

// mailTo returns what SES local holds for one address of this test.
func (w *world) mailTo(local string) []localstack.SentEmail {
	w.t.Helper()
	var out []localstack.SentEmail
	for _, m := range testenv.SentMail(w.t) {
		for _, to := range m.To {
			if strings.EqualFold(to, local+"@"+w.domain) {
				out = append(out, m)
			}
		}
	}
	return out
}

func (w *world) allMail() []localstack.SentEmail {
	var out []localstack.SentEmail
	for _, m := range testenv.SentMail(w.t) {
		for _, to := range m.To {
			if strings.HasSuffix(strings.ToLower(to), "@"+w.domain) {
				out = append(out, m)
			}
		}
	}
	return out
}

func (w *world) lead(id string) *lead.Lead {
	w.t.Helper()
	l, found, err := w.store.GetLead(context.Background(), id)
	if err != nil || !found {
		w.t.Fatalf("lead %s: found=%v err=%v", id, found, err)
	}
	return l
}

func header(m localstack.SentEmail, name string) string {
	for _, h := range m.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

func TestScheduler_capturedLead_getsStep1_thenADifferentFittingStep2AWeekLater(t *testing.T) {
	w := newWorld(t)
	id := w.capture("ada", 0, map[string]string{"name": "Ada Lovelace"})
	l := w.lead(id)
	track, _ := w.prog.Track(l.Nurture.Track)

	if rep := w.tick(); rep.Sent != 0 {
		t.Fatalf("nothing is due right after capture, but %d were sent", rep.Sent)
	}
	w.clock.Set(l.Nurture.DueAt)
	if rep := w.tick(); rep.Sent != 1 {
		t.Fatalf("step 1 due: report %+v", rep)
	}
	got := w.mailTo("ada")
	if len(got) != 1 {
		t.Fatalf("want 1 email after step 1, got %d", len(got))
	}
	l = w.lead(id)
	first, _ := w.prog.Asset(l.Nurture.Sent[0].AssetID)
	if !strings.Contains(got[0].HTML, first.Title) || !strings.Contains(got[0].Text, first.Title) {
		t.Fatalf("step 1 mail should offer %q in both parts", first.Title)
	}
	if !strings.Contains(got[0].Text, "Ada") {
		t.Error("the greeting should use the first name")
	}
	if header(got[0], "List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.HasPrefix(header(got[0], "List-Unsubscribe"), "<https://api.acme.example/u/") {
		t.Errorf("one-click unsubscribe headers missing: %+v", got[0].Headers)
	}
	if strings.Contains(got[0].HTML, id) || strings.Contains(got[0].HTML, "ada%40") {
		t.Error("no lead id or address may appear in clear in the mail's links")
	}

	w.clock.Advance(7 * 24 * time.Hour)
	if rep := w.tick(); rep.Sent != 1 {
		t.Fatalf("step 2 a week later: report %+v", rep)
	}
	l = w.lead(id)
	if len(l.Nurture.Sent) != 2 || len(w.mailTo("ada")) != 2 {
		t.Fatalf("want 2 steps sent, got %+v", l.Nurture.Sent)
	}
	second, _ := w.prog.Asset(l.Nurture.Sent[1].AssetID)
	if second.ID == first.ID || l.HasDownloaded(second.ID) {
		t.Fatalf("step 2 offered %s again", second.ID)
	}
	if !slices.Contains(second.Topics, track.Topic) {
		t.Fatalf("step 2 asset %s is off the track's topic %s", second.ID, track.Topic)
	}
}

// The greeting's first word of a "name" that is a sentence with a link in
// it would read as a name ("Hi Visit,"): the whole name decides.
func TestScheduler_nameThatIsNotAName_neutralGreeting(t *testing.T) {
	w := newWorld(t)
	id := w.capture("mallory", 0, map[string]string{"name": "Visit evil.example to reset your account"})
	w.clock.Set(w.lead(id).Nurture.DueAt)
	if rep := w.tick(); rep.Sent != 1 {
		t.Fatalf("step 1 due: report %+v", rep)
	}
	got := w.mailTo("mallory")
	if len(got) != 1 || !strings.HasPrefix(got[0].Text, "Hello,\n") || strings.Contains(got[0].Text, "evil.example") {
		t.Fatalf("the greeting should be the neutral one:\n%s", got[0].Text)
	}
}

func TestScheduler_twentyConcurrentTicks_sendEachDueLeadExactlyOnce(t *testing.T) {
	w := newWorld(t)
	const leads = 500
	now := w.clock.Now()
	track := w.prog.Tracks[0]
	var wg sync.WaitGroup
	errs := make(chan error, leads)
	sem := make(chan struct{}, 16)
	for i := 0; i < leads; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			email := fmt.Sprintf("lead%03d@%s", i, w.domain)
			_, err := w.store.UpdateLead(context.Background(), testenv.LeadID(email), func(l *lead.Lead, _ bool) error {
				l.Email = email
				l.Nurture = lead.Nurture{Track: track.ID, Status: lead.NurtureActive, DueAt: now.Add(-time.Minute)}
				return nil
			})
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	var total Report
	var mu sync.Mutex
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rep, err := w.sched.Tick(context.Background(), now)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total.Sent += rep.Sent
			mu.Unlock()
		}()
	}
	wg.Wait()
	// One more tick, as the schedule would run next: a lead every one of
	// the twenty passed over (a request that timed out on a busy machine)
	// is sent now, while a lead claimed and lost would still be missing.
	rep, err := w.sched.Tick(context.Background(), now)
	if err != nil {
		t.Fatal(err)
	}
	total.Sent += rep.Sent

	mail := w.allMail()
	seen := map[string]int{}
	for _, m := range mail {
		seen[m.To[0]]++
	}
	if len(mail) != leads || len(seen) != leads || total.Sent != leads {
		t.Fatalf("20 concurrent ticks and one more over %d due leads sent %d emails to %d addresses (reported %d); want exactly %d",
			leads, len(mail), len(seen), total.Sent, leads)
	}
}

// A tick that dies between its claim and SES loses that one email: the
// step is listed as sent, so no later tick sends it (it may have gone, as
// far as anyone can tell), and the track goes on with the next step.
func TestScheduler_crashBetweenClaimAndSend_stepNeverSentTwice_trackGoesOn(t *testing.T) {
	w := newWorld(t)
	id := w.capture("crash", 0, nil)
	w.clock.Set(w.lead(id).Nurture.DueAt)
	w.sched.beforeSend = func(string) error { return errors.New("injected crash after the claim") }
	if _, err := w.sched.Tick(context.Background(), w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	w.sched.beforeSend = nil
	l := w.lead(id)
	if len(l.Nurture.Sent) != 1 || l.Nurture.NextStep != 1 || !l.Nurture.DueAt.After(w.clock.Now()) {
		t.Fatalf("the claim should list step 1 and schedule step 2: %+v", l.Nurture)
	}
	// Ticks go on, every minute for an hour: step 1 is not sent again.
	for range 60 {
		w.clock.Advance(time.Minute)
		w.tick()
	}
	if n := len(w.mailTo("crash")); n != 0 {
		t.Fatalf("the claimed step was sent %d times after the crash, want 0", n)
	}
	w.clock.Set(l.Nurture.DueAt)
	if rep := w.tick(); rep.Sent != 1 {
		t.Fatalf("step 2 should follow at its time: %+v", rep)
	}
	if got := w.lead(id).Nurture; len(got.Sent) != 2 || got.Sent[1].Step != 1 || len(w.mailTo("crash")) != 1 {
		t.Fatalf("after step 2: %+v, %d emails", got, len(w.mailTo("crash")))
	}
}

// DynamoDB failing every third request, some of them after the write was
// done (a 500 with the answer lost), with the SDK's own retries as in
// production: a retried claim write is refused by its condition although
// the claim is the tick's own. Ticks, retried like Lambda retries them,
// still give every lead its step exactly once.
func TestDrill_dynamoDBFailures_everyLeadGetsItsStepOnce(t *testing.T) {
	w := newWorld(t)
	const leads = 20
	for i := range leads {
		w.capture(fmt.Sprintf("drill%02d", i), 0, nil)
	}
	w.clock.Advance(8 * 24 * time.Hour)
	client, faults := testenv.FaultyDynamo(t, 0)
	sched := *w.sched
	sched.Store = store.New(client, w.table, store.Options{})
	sched.Workers = 4
	for range 20 {
		_, _ = sched.Tick(context.Background(), w.clock.Now())
		if due, err := w.store.DueLeads(context.Background(), w.clock.Now(), 1); err == nil && len(due) == 0 {
			break
		}
	}
	if faults.Failures.Load() == 0 {
		t.Fatal("the proxy injected no failure; the drill tested nothing")
	}
	for i := range leads {
		local := fmt.Sprintf("drill%02d", i)
		l := w.lead(testenv.LeadID(local + "@" + w.domain))
		if n := len(w.mailTo(local)); n != 1 || len(l.Nurture.Sent) != 1 {
			t.Errorf("%s: %d emails, %d steps listed as sent; want 1 and 1", local, n, len(l.Nurture.Sent))
		}
	}
	t.Logf("%d of %d DynamoDB requests failed", faults.Failures.Load(), faults.Requests.Load())
}

// lostAnswerMailer sends through SES, then loses the answer, the way a
// dropped connection does.
type lostAnswerMailer struct{ mail.Mailer }

func (m lostAnswerMailer) Send(ctx context.Context, msg mail.Message) (string, error) {
	if _, err := m.Mailer.Send(ctx, msg); err != nil {
		return "", err
	}
	return "", fmt.Errorf("%w: connection reset by peer", mail.ErrUncertain)
}

func TestScheduler_sesAnswerLost_stepCountsAsSent_neverResent(t *testing.T) {
	w := newWorld(t)
	id := w.capture("lost", 0, nil)
	w.clock.Set(w.lead(id).Nurture.DueAt)
	real := w.sched.Mailer
	w.sched.Mailer = lostAnswerMailer{real}
	if rep := w.tick(); rep.Uncertain != 1 || rep.Sent != 0 || rep.Deferred != 0 {
		t.Fatalf("report %+v, want 1 uncertain", rep)
	}
	w.sched.Mailer = real
	for range 10 {
		w.clock.Advance(10 * time.Minute)
		w.tick()
	}
	if n := len(w.mailTo("lost")); n != 1 {
		t.Fatalf("%d emails, want the 1 SES accepted", n)
	}
	if l := w.lead(id); len(l.Nurture.Sent) != 1 || l.Nurture.NextStep != 1 {
		t.Fatalf("the step should stay listed as sent: %+v", l.Nurture)
	}
}

func TestScheduler_suppressedOrAcceptedLead_getsNothing(t *testing.T) {
	w := newWorld(t)
	for _, tt := range []struct {
		local string
		stop  func(l *lead.Lead)
	}{
		{"bounced", func(l *lead.Lead) {
			l.Suppression = &lead.Suppression{Reason: lead.SuppressedBounced, At: w.clock.Now()}
		}},
		{"unsubscribed", func(l *lead.Lead) {
			l.Suppression = &lead.Suppression{Reason: lead.SuppressedUnsubscribed, At: w.clock.Now()}
		}},
		{"accepted", func(l *lead.Lead) { l.Nurture.Status, l.Nurture.StopReason = lead.NurtureStopped, "accepted by sales" }},
	} {
		id := w.capture(tt.local, 0, nil)
		if _, err := w.store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error { tt.stop(l); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < 6; i++ {
		w.clock.Advance(7 * 24 * time.Hour)
		w.tick()
	}
	if got := w.allMail(); len(got) != 0 {
		t.Fatalf("stopped leads got %d emails", len(got))
	}
}

// Without an evergreen cadence in the program, a lead with one topic
// finishes after its track and hears nothing more.
func TestScheduler_withoutEvergreen_finishesTrackAndStops(t *testing.T) {
	w := newWorld(t)
	w.change(func(p *program.Program) { p.Evergreen = program.Evergreen{} })
	id := w.capture("finisher", 0, nil)
	track, _ := w.prog.Track(w.lead(id).Nurture.Track)
	for i := 0; i < 2*len(track.Steps)+2; i++ {
		if due := w.lead(id).Nurture.DueAt; due.After(w.clock.Now()) {
			w.clock.Set(due)
		}
		w.tick()
	}
	l := w.lead(id)
	if l.Nurture.Status != lead.NurtureFinished || l.Nurture.Due() {
		t.Fatalf("after every step the lead should be finished: %+v", l.Nurture)
	}
	got := w.mailTo("finisher")
	if len(got) == 0 || len(got) > len(track.Steps) {
		t.Fatalf("sent %d emails for a %d-step track", len(got), len(track.Steps))
	}
	assets := map[string]bool{}
	for _, s := range l.Nurture.Sent {
		if assets[s.AssetID] || l.Downloaded[0] == s.AssetID {
			t.Fatalf("asset %s offered twice", s.AssetID)
		}
		assets[s.AssetID] = true
	}
}

// pacedMailer records when each send reached the real SES mailer.
type pacedMailer struct {
	mail.Mailer
	mu    sync.Mutex
	times []time.Time
}

func (p *pacedMailer) Send(ctx context.Context, m mail.Message) (string, error) {
	p.mu.Lock()
	p.times = append(p.times, time.Now())
	p.mu.Unlock()
	return p.Mailer.Send(ctx, m)
}

func TestScheduler_neverSendsFasterThanTheRate(t *testing.T) {
	w := newWorld(t)
	const rate = 20
	for i := 0; i < 45; i++ {
		w.capture(fmt.Sprintf("paced%02d", i), 0, nil)
	}
	rec := &pacedMailer{Mailer: w.sched.Mailer}
	w.sched.Mailer, w.sched.Rate = rec, rate
	w.clock.Advance(8 * 24 * time.Hour)
	start := time.Now()
	if rep := w.tick(); rep.Sent != 45 {
		t.Fatalf("report %+v", rep)
	}
	// The pacer hands out one slot every 1/rate seconds and a send never
	// starts before its slot, so the k-th send (from 0) starts at least
	// k/rate after the tick did. A lower bound: a loaded machine only makes
	// sends later, never earlier, so this holds at any load.
	slices.SortFunc(rec.times, func(a, b time.Time) int { return a.Compare(b) })
	interval := time.Second / rate
	for k, at := range rec.times {
		if early := start.Add(time.Duration(k) * interval).Sub(at); early > 0 {
			t.Fatalf("send %d started %v after the tick began, %v before its slot at rate %d/s", k, at.Sub(start), early, rate)
		}
	}
}

func TestScheduler_dueOnAWeekend_waitsForMondayMorning(t *testing.T) {
	w := newWorld(t)
	id := w.capture("weekend", 0, nil)
	loc, _ := time.LoadLocation(w.prog.Schedule.TimeZone)
	saturday := time.Date(2026, 12, 5, 11, 0, 0, 0, loc)
	monday := time.Date(2026, 12, 7, 9, 0, 0, 0, loc)
	if _, err := w.store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
		l.Nurture.DueAt = saturday.Add(-time.Hour)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w.clock.Set(saturday)
	if rep := w.tick(); rep.Sent != 0 || rep.Rescheduled != 1 {
		t.Fatalf("nothing goes out on a Saturday: %+v", rep)
	}
	if due := w.lead(id).Nurture.DueAt; !due.Equal(monday) {
		t.Fatalf("step moved to %v, want Monday 09:00 %v", due.In(loc), monday)
	}
	w.clock.Set(monday)
	if rep := w.tick(); rep.Sent != 1 {
		t.Fatalf("Monday morning: %+v", rep)
	}
	next := w.lead(id).Nurture.DueAt.In(loc)
	if wd := next.Weekday(); wd == time.Saturday || wd == time.Sunday || next.Hour() < 9 || next.Hour() >= 17 {
		t.Fatalf("next step due %v, outside business hours", next)
	}
}

func TestScheduler_leadsZone_browserElseCountry_setsTheirWindow(t *testing.T) {
	w := newWorld(t)
	berlin, _ := time.LoadLocation(w.prog.Schedule.TimeZone)
	newYork, _ := time.LoadLocation("America/New_York")
	mondayNY8am := time.Date(2026, 12, 7, 8, 0, 0, 0, newYork) // 14:00 in Berlin
	for _, tc := range []struct {
		name string
		set  func(l *lead.Lead)
	}{
		{"browser zone", func(l *lead.Lead) { l.TimeZone = "America/New_York" }},
		{"country answer", func(l *lead.Lead) { l.Country = "US" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := w.capture("zone-"+strings.ReplaceAll(tc.name, " ", "-"), 0, nil)
			if _, err := w.store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
				tc.set(l)
				l.Nurture.DueAt = mondayNY8am
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			// Monday 08:30 in New York (14:30 Berlin): Berlin's window is
			// open, the lead's is not yet.
			w.clock.Set(time.Date(2026, 12, 7, 8, 30, 0, 0, newYork))
			if rep := w.tick(); rep.Sent != 0 || rep.Rescheduled != 1 {
				t.Fatalf("08:30 in the lead's zone: %+v, want the step moved, not sent", rep)
			}
			if due := w.lead(id).Nurture.DueAt; !due.Equal(time.Date(2026, 12, 7, 9, 0, 0, 0, newYork)) {
				t.Fatalf("step moved to %v, want 09:00 New York", due.In(newYork))
			}
			// 17:30 Berlin is 11:30 New York: sent though Berlin is closed.
			w.clock.Set(time.Date(2026, 12, 7, 17, 30, 0, 0, berlin))
			if rep := w.tick(); rep.Sent != 1 {
				t.Fatalf("11:30 in New York: %+v, want the step sent", rep)
			}
		})
	}
}

// flakyMailer puts the real SES mailer behind failures SES can answer with.
type flakyMailer struct {
	mail.Mailer
	mu     sync.Mutex
	calls  int
	reject string // address SES rejects for good
}

func (f *flakyMailer) Send(ctx context.Context, m mail.Message) (string, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.mu.Unlock()
	if m.To == f.reject {
		return "", fmt.Errorf("%w: MessageRejected: Email address is not verified", mail.ErrRejected)
	}
	if n%2 == 1 {
		return "", fmt.Errorf("%w: Maximum sending rate exceeded", mail.ErrThrottled)
	}
	return f.Mailer.Send(ctx, m)
}

func TestScheduler_throttledHalfTheTime_everyoneGetsOneEmail_rejectedLeadStopped(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < 12; i++ {
		w.capture(fmt.Sprintf("throttled%02d", i), 0, nil)
	}
	rejectedID := w.capture("rejected", 0, nil)
	w.sched.Mailer = &flakyMailer{Mailer: w.sched.Mailer, reject: "rejected@" + w.domain}
	w.sched.Workers = 1
	w.clock.Advance(8 * 24 * time.Hour)
	rep := w.tick()
	if rep.Sent != 12 || rep.Failed != 1 {
		t.Fatalf("report %+v, want 12 sent and 1 failed", rep)
	}
	for i := 0; i < 12; i++ {
		if n := len(w.mailTo(fmt.Sprintf("throttled%02d", i))); n != 1 {
			t.Fatalf("throttled%02d got %d emails", i, n)
		}
	}
	l := w.lead(rejectedID)
	if l.Nurture.Status != lead.NurtureStopped || !strings.Contains(l.Nurture.StopReason, "MessageRejected") || len(l.Nurture.Sent) != 0 || l.Nurture.NextStep != 0 {
		t.Fatalf("a permanent rejection stops nurture with the reason: %+v", l.Nurture)
	}
}

// throttledMailer is SES refusing every call for rate.
type throttledMailer struct{}

func (throttledMailer) Send(context.Context, mail.Message) (string, error) {
	return "", fmt.Errorf("%w: Maximum sending rate exceeded", mail.ErrThrottled)
}

// A step SES keeps refusing stays due, the track's last one included (its
// claim had moved the lead on). The shipped track's last step is for leads
// scoring 50 or more; this one does.
func TestScheduler_throttledThroughout_lastStepStaysDue(t *testing.T) {
	w := newWorld(t)
	id := w.capture("laststep", 0, nil)
	track, _ := w.prog.Track(w.lead(id).Nurture.Track)
	last := len(track.Steps) - 1
	if _, err := w.store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
		l.Score = lead.Score{Fit: 60}
		l.Nurture.NextStep, l.Nurture.DueAt = last, w.clock.Now().Add(-time.Minute)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	real := w.sched.Mailer
	w.sched.Mailer = throttledMailer{}
	if rep := w.tick(); rep.Deferred != 1 || rep.Sent != 0 {
		t.Fatalf("report %+v, want 1 deferred", rep)
	}
	l := w.lead(id)
	if n := l.Nurture; n.Status != lead.NurtureActive || n.NextStep != last || !n.Due() || n.DueAt.After(w.clock.Now()) || len(n.Sent) != 0 {
		t.Fatalf("after SES refused the last step: %+v; want it still due", n)
	}
	w.sched.Mailer = real
	if rep := w.tick(); rep.Sent != 1 {
		t.Fatalf("the next tick sends it: %+v", rep)
	}
	// Sent, and the lead waits to move on to evergreen.
	if n := w.lead(id).Nurture; n.NextStep != len(track.Steps) || !n.Due() || len(n.Sent) != 1 || len(w.mailTo("laststep")) != 1 {
		t.Fatalf("after the last step: %+v", n)
	}
}

// pausedMailer is SES saying the account may not send at all.
type pausedMailer struct {
	mu    sync.Mutex
	calls int
}

func (p *pausedMailer) Send(context.Context, mail.Message) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	return "", fmt.Errorf("%w: ses send email: SendingPausedException: sending is paused for this account", mail.ErrAccountPaused)
}

// An account SES paused ends the tick at once: no lead's step fails for it,
// and every step stays due for the tick after the account is fixed.
func TestScheduler_accountPaused_tickStops_stepsStayDue(t *testing.T) {
	w := newWorld(t)
	var ids []string
	for i := 0; i < 5; i++ {
		ids = append(ids, w.capture(fmt.Sprintf("paused%d", i), 0, nil))
	}
	w.clock.Advance(8 * 24 * time.Hour)
	real := w.sched.Mailer
	paused := &pausedMailer{}
	w.sched.Mailer, w.sched.Workers = paused, 1

	rep, err := w.sched.Tick(context.Background(), w.clock.Now())
	if !errors.Is(err, mail.ErrAccountPaused) || rep.Sent != 0 || rep.Failed != 0 || !rep.Partial {
		t.Fatalf("report %+v, err %v; want a partial tick that says the account cannot send", rep, err)
	}
	// The worker may have taken one more lead before the tick saw the refusal.
	if paused.calls >= len(ids) {
		t.Errorf("%d sends tried after SES said the account cannot send", paused.calls)
	}
	for _, id := range ids {
		if n := w.lead(id).Nurture; n.Status != lead.NurtureActive || !n.Due() || len(n.Sent) != 0 {
			t.Fatalf("lead %s after the paused tick: %+v; want its step still due", id, n)
		}
	}
	w.sched.Mailer = real
	if rep := w.tick(); rep.Sent != len(ids) {
		t.Fatalf("once the account sends again every step goes: %+v", rep)
	}
}

func TestScheduler_nearItsDeadline_stopsAndLeavesTheRestDue(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < 5; i++ {
		w.capture(fmt.Sprintf("late%d", i), 0, nil)
	}
	w.clock.Advance(8 * 24 * time.Hour)
	// Less time left than the margin a tick keeps for finishing.
	ctx, cancel := context.WithTimeout(context.Background(), deadlineMargin-time.Second)
	defer cancel()
	rep, err := w.sched.Tick(ctx, w.clock.Now())
	if err != nil || !rep.Partial || rep.Sent != 0 {
		t.Fatalf("report %+v err %v: a tick out of time sends nothing", rep, err)
	}
	if rep := w.tick(); rep.Sent != 5 {
		t.Fatalf("the next tick sends what was left: %+v", rep)
	}
}
