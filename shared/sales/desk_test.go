package sales_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

// salesFixture is a table of its own on DynamoDB Local, the default
// program, and a scheduler that mails into a counter, to check what a
// later tick makes of a decision.
type salesFixture struct {
	prog   *program.Program
	store  *store.Store
	win    nurture.Window
	sales  *sales.Desk
	sched  *nurture.Scheduler
	mailer *countingMailer
	track  program.Track
	now    time.Time
}

type countingMailer struct{ sent atomic.Int64 }

func (m *countingMailer) Send(context.Context, mail.Message) (string, error) {
	n := m.sent.Add(1)
	return fmt.Sprintf("msg-%d", n), nil
}

func newSalesFixture(t *testing.T) *salesFixture {
	t.Helper()
	prog, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	db := testenv.Dynamo(t)
	table := testenv.UniqueName("sales")
	if err := store.EnsureTable(context.Background(), db, table); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, table, store.Options{})
	win, err := nurture.NewWindow(prog.Schedule)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	signer, err := token.NewSigner(token.Key{ID: "k1", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	track, ok := prog.Track("cloud-cost-track")
	if !ok || len(track.Steps) < 3 {
		t.Fatalf("the default program needs the cloud-cost track: %+v", track)
	}
	m := &countingMailer{}
	return &salesFixture{
		prog: prog, store: st, win: win, track: track, mailer: m,
		sales: &sales.Desk{Program: prog, Store: st, Window: win},
		sched: &nurture.Scheduler{
			Program: prog, Store: st, Mailer: m, Signer: signer, Window: win, BaseURL: "https://go.acme.example",
			Rate: 100, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		},
		// A Tuesday morning in Berlin, inside the send window.
		now: time.Date(2026, 11, 24, 9, 30, 0, 0, time.UTC),
	}
}

// newLead stores a lead in the middle of its track: step 1 sent, step 2
// (index 1) due tomorrow.
func (f *salesFixture) newLead(t *testing.T, email string, change func(l *lead.Lead)) string {
	t.Helper()
	id := testenv.LeadID(email)
	_, err := f.store.UpdateLead(context.Background(), id, func(l *lead.Lead, isNew bool) error {
		if !isNew {
			t.Fatalf("lead %s exists", email)
		}
		*l = lead.Lead{
			ID: id, Email: email, Name: "Ada Lovelace", Company: "Analytical Engines", TimeZone: "America/New_York",
			CreatedAt: f.now.Add(-72 * time.Hour), Topics: []string{"cloud-cost"},
			Nurture: lead.Nurture{
				Track: f.track.ID, NextStep: 1, Status: lead.NurtureActive, DueAt: f.now.Add(24 * time.Hour),
				Sent: []lead.SentStep{{Track: f.track.ID, Step: 0, MessageID: "m0", At: f.now.Add(-48 * time.Hour)}},
			},
		}
		if change != nil {
			change(l)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *salesFixture) lead(t *testing.T, id string) *lead.Lead {
	t.Helper()
	l, found, err := f.store.GetLead(context.Background(), id)
	if err != nil || !found {
		t.Fatalf("lead %s: found=%v err=%v", id, found, err)
	}
	return l
}

// due asks the due index as the scheduler does, a year ahead.
func (f *salesFixture) due(t *testing.T, id string) bool {
	t.Helper()
	ids, err := f.store.DueLeads(context.Background(), f.now.Add(365*24*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(ids, id)
}

func (f *salesFixture) salesDetails(t *testing.T, id string) []string {
	t.Helper()
	acts, err := f.store.Activities(context.Background(), id, f.now.Add(365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range acts {
		if a.Kind == sales.KindDecision {
			out = append(out, a.Detail)
		}
	}
	return out
}

// tickAll runs the scheduler at every day of the next two months, as the
// scheduled ticks would, and returns how many emails went out.
func (f *salesFixture) tickAll(t *testing.T) int64 {
	t.Helper()
	before := f.mailer.sent.Load()
	for d := 0; d < 60; d++ {
		at := f.now.Add(time.Duration(d)*24*time.Hour + 5*time.Hour) // 14:30 UTC: in Berlin's and New York's window on weekdays
		if _, err := f.sched.Tick(context.Background(), at); err != nil {
			t.Fatal(err)
		}
	}
	return f.mailer.sent.Load() - before
}

func TestSales_accept_stopsNurtureAtOnce_schedulerSendsNothing(t *testing.T) {
	f := newSalesFixture(t)
	id := f.newLead(t, "ada@example.com", func(l *lead.Lead) {
		l.Nurture.DueAt = f.now.Add(-time.Minute)
	})
	if !f.due(t, id) {
		t.Fatal("the lead should be due before the decision")
	}

	if err := f.sales.Accept(context.Background(), id, f.now); err != nil {
		t.Fatal(err)
	}
	l := f.lead(t, id)
	if l.Sales == nil || l.Sales.Status != lead.SalesAccepted || !l.Sales.At.Equal(f.now) || l.Sales.Reason != "" {
		t.Fatalf("sales = %+v", l.Sales)
	}
	n := l.Nurture
	if n.Status != lead.NurtureStopped || n.StopReason != lead.StopAccepted || !n.DueAt.IsZero() || n.Due() {
		t.Fatalf("nurture = %+v, want stopped by sales, nothing due", n)
	}
	if !l.Mailable() {
		t.Error("accepting is not a suppression: sales may still write to the lead")
	}
	if f.due(t, id) {
		t.Fatal("the due index still lists the accepted lead")
	}
	if sent := f.tickAll(t); sent != 0 {
		t.Fatalf("two months of ticks sent %d emails to an accepted lead", sent)
	}
	if l2 := f.lead(t, id); l2.Nurture.Status != lead.NurtureStopped || l2.Nurture.NextStep != 1 {
		t.Fatalf("after the ticks: %+v", l2.Nurture)
	}

	// A double click, a reload of the confirmation, a second rep: no change.
	version := f.lead(t, id).Version
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.sales.Accept(context.Background(), id, f.now.Add(time.Duration(i+1)*time.Minute)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	l = f.lead(t, id)
	if l.Version != version || !l.Sales.At.Equal(f.now) {
		t.Fatalf("accepting again changed the lead: version %d -> %d, sales %+v", version, l.Version, l.Sales)
	}
	if got := f.salesDetails(t, id); !slices.Equal(got, []string{"accepted"}) {
		t.Fatalf("sales activities = %q, want one \"accepted\"", got)
	}
}

// "Did not respond" resumes (program.yaml's returns): the lead rejoins its
// track where it left it.
func TestSales_returnAfterAccept_rejoinsTrack_dueAgain_reasonKept(t *testing.T) {
	f := newSalesFixture(t)
	id := f.newLead(t, "ada@example.com", nil)
	if err := f.sales.Accept(context.Background(), id, f.now); err != nil {
		t.Fatal(err)
	}
	at := f.now.Add(3 * 24 * time.Hour) // Friday
	if err := f.sales.Return(context.Background(), id, "no-response", at); err != nil {
		t.Fatal(err)
	}
	l := f.lead(t, id)
	if l.Sales == nil || l.Sales.Status != lead.SalesReturned || l.Sales.Reason != "no-response" || !l.Sales.At.Equal(at) {
		t.Fatalf("sales = %+v", l.Sales)
	}
	want := f.win.Next(at.Add(f.track.Steps[1].Wait.Duration), "America/New_York")
	n := l.Nurture
	if n.Status != lead.NurtureActive || n.StopReason != "" || !n.DueAt.Equal(want) || n.NextStep != 1 {
		t.Fatalf("nurture = %+v, want active again at step 2, due %s", n, want)
	}
	if !f.due(t, id) {
		t.Fatal("the due index does not list the returned lead")
	}
	// The scheduler sends the next step when it is due, not before.
	if _, err := f.sched.Tick(context.Background(), want.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if f.mailer.sent.Load() != 0 {
		t.Fatal("a step went out before it was due")
	}
	if rep, err := f.sched.Tick(context.Background(), want); err != nil || rep.Sent != 1 {
		t.Fatalf("tick at the due time: %+v %v", rep, err)
	}
	l = f.lead(t, id)
	if len(l.Nurture.Sent) != 2 || l.Nurture.Sent[1].Step != 1 || l.Nurture.NextStep != 2 {
		t.Fatalf("the returned lead should get step 2: %+v", l.Nurture)
	}
	if l.Sales.Reason != "no-response" {
		t.Fatalf("nurture mail must keep the reason: %+v", l.Sales)
	}

	// The same return again changes nothing; another reason that also
	// resumes replaces the first and leaves the schedule alone.
	version, dueAt := l.Version, l.Nurture.DueAt
	if err := f.sales.Return(context.Background(), id, "no-response", at.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if l = f.lead(t, id); l.Version != version {
		t.Fatal("returning a returned lead with the same reason wrote it")
	}
	if err := f.sales.Return(context.Background(), id, "other", at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if l = f.lead(t, id); l.Sales.Reason != "other" || !l.Nurture.DueAt.Equal(dueAt) || l.Nurture.Status != lead.NurtureActive {
		t.Fatalf("after a second reason: sales %+v nurture %+v", l.Sales, l.Nurture)
	}
	if got := f.salesDetails(t, id); !slices.Equal(got, []string{"accepted", "returned: no-response", "returned: other"}) {
		t.Fatalf("sales activities = %q", got)
	}
}

func TestSales_returnWithoutAccept_keepsSchedule(t *testing.T) {
	f := newSalesFixture(t)
	id := f.newLead(t, "ada@example.com", nil)
	before := f.lead(t, id)
	if err := f.sales.Return(context.Background(), id, "other", f.now); err != nil {
		t.Fatal(err)
	}
	l := f.lead(t, id)
	if l.Sales == nil || l.Sales.Reason != "other" {
		t.Fatalf("sales = %+v", l.Sales)
	}
	if l.Nurture.Status != lead.NurtureActive || !l.Nurture.DueAt.Equal(before.Nurture.DueAt) || !f.due(t, id) {
		t.Fatalf("a lead still in nurture keeps its next step: before %+v after %+v", before.Nurture, l.Nurture)
	}
}

// A returned lead rejoins nurture as the program maps the reason
// (program.yaml's returns): "not ready" and "no budget" go to evergreen,
// "wrong person" stops mail, "did not respond" resumes, and a lead whose
// track was through moves on instead of hearing nothing ever again.
func TestSales_return_rejoinsByReason(t *testing.T) {
	finished := func(l *lead.Lead) {
		p, _ := program.Default()
		track, _ := p.Track(l.Nurture.Track)
		l.Nurture.NextStep, l.Nurture.Status, l.Nurture.DueAt = len(track.Steps), lead.NurtureFinished, time.Time{}
	}
	for _, tc := range []struct {
		name, reason string
		start        func(l *lead.Lead)
		wantStatus   string
		wantTrack    string
		wantStep     int
		wantMail     bool
	}{
		{"not ready: evergreen", "not-ready", nil, lead.NurtureActive, program.EvergreenTrack, 0, true},
		{"no budget: evergreen", "no-budget", nil, lead.NurtureActive, program.EvergreenTrack, 0, true},
		{"wrong person: no more mail", "wrong-person", nil, lead.NurtureStopped, "cloud-cost-track", 1, false},
		{"did not respond: where it left off", "no-response", nil, lead.NurtureActive, "cloud-cost-track", 1, true},
		{"finished track, did not respond: moves on to evergreen", "no-response", finished, lead.NurtureActive, program.EvergreenTrack, 0, true},
		{"finished track, not ready: evergreen", "not-ready", finished, lead.NurtureActive, program.EvergreenTrack, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSalesFixture(t)
			id := f.newLead(t, "ada@example.com", tc.start)
			if err := f.sales.Accept(context.Background(), id, f.now); err != nil {
				t.Fatal(err)
			}
			// Stopped, so that a new download does not enrol the accepted lead in a new track.
			if l := f.lead(t, id); l.Nurture.Status != lead.NurtureStopped {
				t.Fatalf("accepted: %+v", l.Nurture)
			}
			at := f.now.Add(time.Hour)
			if err := f.sales.Return(context.Background(), id, tc.reason, at); err != nil {
				t.Fatal(err)
			}
			l := f.lead(t, id)
			n := l.Nurture
			if n.Status != tc.wantStatus || n.Track != tc.wantTrack || n.NextStep != tc.wantStep || f.due(t, id) != tc.wantMail {
				t.Fatalf("returned (%s): %+v, listed due %v", tc.reason, n, f.due(t, id))
			}
			if tc.wantTrack == program.EvergreenTrack {
				// Its first evergreen email a cadence after the return.
				if want := f.win.Next(at.Add(f.prog.Evergreen.Every.Duration), l.Zone(f.prog)); !n.DueAt.Equal(want) {
					t.Errorf("evergreen due %s, want %s", n.DueAt, want)
				}
			}
			if !tc.wantMail && n.StopReason != lead.StopReturned(tc.reason) {
				t.Errorf("stop reason %q", n.StopReason)
			}
			if sent := f.tickAll(t) > 0; sent != tc.wantMail {
				t.Fatalf("ticks sent mail: %v, want %v", sent, tc.wantMail)
			}
		})
	}
}

func TestSales_returnSuppressedLead_staysUnmailable(t *testing.T) {
	for _, reason := range []string{lead.SuppressedUnsubscribed, lead.SuppressedBounced} {
		t.Run(reason, func(t *testing.T) {
			f := newSalesFixture(t)
			id := f.newLead(t, "ada@example.com", nil)
			if err := f.sales.Accept(context.Background(), id, f.now); err != nil {
				t.Fatal(err)
			}
			// The lead unsubscribes (or bounces) while sales holds it.
			if _, err := f.store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
				l.Suppress(reason, f.now.Add(time.Hour))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := f.sales.Return(context.Background(), id, "other", f.now.Add(2*time.Hour)); err != nil {
				t.Fatal(err)
			}
			l := f.lead(t, id)
			if l.Sales.Status != lead.SalesReturned || l.Sales.Reason != "other" {
				t.Fatalf("the decision is recorded all the same: %+v", l.Sales)
			}
			if l.Mailable() || l.Nurture.Status != lead.NurtureStopped || l.Nurture.StopReason != reason || l.Nurture.Due() || f.due(t, id) {
				t.Fatalf("a suppressed lead must stay without mail: suppression %+v nurture %+v", l.Suppression, l.Nurture)
			}
			if sent := f.tickAll(t); sent != 0 {
				t.Fatalf("ticks sent %d emails to a suppressed lead", sent)
			}
		})
	}
}

func TestSales_unknownLeadOrReason(t *testing.T) {
	f := newSalesFixture(t)
	ghost := testenv.LeadID("nobody@example.com")
	if err := f.sales.Accept(context.Background(), ghost, f.now); !errors.Is(err, sales.ErrUnknownLead) {
		t.Fatalf("accept of an unknown lead: %v", err)
	}
	if err := f.sales.Return(context.Background(), ghost, "not-ready", f.now); !errors.Is(err, sales.ErrUnknownLead) {
		t.Fatalf("return of an unknown lead: %v", err)
	}
	if _, found, _ := f.store.GetLead(context.Background(), ghost); found {
		t.Fatal("a decision about an unknown lead created it")
	}
	id := f.newLead(t, "ada@example.com", nil)
	before := f.lead(t, id)
	for _, code := range []string{"", "Not ready to buy yet", "NOT-READY", "accepted", "other "} {
		if err := f.sales.Return(context.Background(), id, code, f.now); !errors.Is(err, sales.ErrUnknownReason) {
			t.Errorf("return with reason %q: %v, want ErrUnknownReason", code, err)
		}
	}
	if l := f.lead(t, id); l.Version != before.Version || l.Sales != nil {
		t.Fatal("an unknown reason changed the lead")
	}
	for _, r := range sales.ReturnReasons {
		if got, ok := sales.ReturnReasonFor(r.Code); !ok || got != r || r.Label == "" {
			t.Errorf("reason %+v", r)
		}
	}
}
