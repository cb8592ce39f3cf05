package nurture_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/program"
)

// Double opt-in in the scheduler, through the product as the functions
// build it (testworld), with the shipped program: it asks every lead to
// confirm (doubleOptIn.required), reminds once after 2 days and deletes the
// unconfirmed after 7.

func newConfirmWorld(t *testing.T) *testworld.World {
	return testworld.New(t, testworld.Options{Name: "confirm"})
}

// post fills in a form as a visitor does, as a new page view each time.
func post(w *testworld.World, local, formID string, fields map[string]string) lead.Outcome {
	w.T.Helper()
	vals := map[string]string{"email": w.Email(local)}
	for k, v := range fields {
		vals[k] = v
	}
	out, err := w.Capturer().Capture(context.Background(), lead.Submission{
		FormID: formID, Fields: vals, Consent: true, ReceivedAt: w.Clock.Now(),
		SubmissionID: w.Clock.Now().Format(time.RFC3339Nano),
	})
	if err != nil {
		w.T.Fatal(err)
	}
	return out
}

// tickEvery runs the scheduler every step for d (EventBridge Scheduler
// runs it every few minutes; fewer ticks keep the test quick) and adds up
// what the ticks did.
func tickEvery(w *testworld.World, step, d time.Duration) nurture.Report {
	w.T.Helper()
	var sum nurture.Report
	for end := w.Clock.Now().Add(d); w.Clock.Now().Before(end); w.Clock.Advance(step) {
		rep, err := w.Scheduler.Tick(context.Background(), w.Clock.Now())
		if err != nil {
			w.T.Fatal(err)
		}
		sum.Sent += rep.Sent
		sum.Expired += rep.Expired
	}
	return sum
}

func TestConfirm_unconfirmedLead_oneConfirmation_oneReminder_thenDeleted_neverMailedAgain(t *testing.T) {
	w := newConfirmWorld(t)
	out := post(w, "silent", "finops-guide", map[string]string{"name": "Ada"})
	if !out.Confirm || out.Enrolled != "" {
		t.Fatalf("capture %+v: want the lead waiting for its confirmation, in no track", out)
	}
	start := w.Clock.Now()

	// The first tick sends the confirmation email: the person waits for it.
	if rep := tickEvery(w, time.Hour, time.Hour); rep.Sent != 1 {
		t.Fatalf("first tick: %+v, want the confirmation email", rep)
	}
	mail := w.MailTo(w.Email("silent"))
	if len(mail) != 1 || testworld.ConfirmLink(mail[0]) == "" || mail[0].Subject != w.Program.DoubleOptIn.Subject {
		t.Fatalf("mail %+v, want one confirmation email", mail)
	}
	asset, _ := w.Program.Asset("cloud-bill-explained")
	if m := mail[0]; strings.Contains(m.Text, asset.URL) || strings.Contains(m.Text, "Unsubscribe") || !strings.Contains(m.Text, "Hi Ada,") ||
		!strings.Contains(m.Text, w.Program.Forms[0].Consent.Text) || !strings.Contains(m.HTML, "ses:no-track") {
		t.Errorf("the confirmation email should greet, quote the consent and carry only the untracked confirmation link:\n%s", m.Text)
	}

	// A week of ticks: the one reminder, then the end.
	var rep nurture.Report
	var remindedAt time.Time
	for range 8 * 4 {
		r := tickEvery(w, 6*time.Hour, 6*time.Hour)
		if r.Sent > 0 && remindedAt.IsZero() {
			remindedAt = w.Clock.Now().Add(-6 * time.Hour)
		}
		rep.Sent += r.Sent
		rep.Expired += r.Expired
	}
	mail = w.MailTo(w.Email("silent"))
	if rep.Sent != 1 || len(mail) != 2 || !strings.HasPrefix(mail[1].Subject, nurture.ReminderPrefix) || testworld.ConfirmLink(mail[1]) == "" {
		t.Fatalf("a week of ticks sent %d (%d mails), want exactly one reminder", rep.Sent, len(mail))
	}
	if want := start.Add(w.Program.DoubleOptIn.RemindAfter.Duration); remindedAt.Before(want) || remindedAt.After(want.Add(6*time.Hour)) {
		t.Errorf("reminder at %v, want %s after %v", remindedAt, w.Program.DoubleOptIn.RemindAfter, start)
	}
	if len(w.NurtureMailTo(w.Email("silent"))) != 0 {
		t.Error("an unconfirmed lead got nurture mail")
	}
	if rep.Expired != 1 {
		t.Errorf("%d expired, want the lead deleted when its wait ended", rep.Expired)
	}
	id := testenv.LeadID(w.Email("silent"))
	if _, found, err := w.Store.GetLead(context.Background(), id); err != nil || found {
		t.Fatalf("the unconfirmed lead is still stored after its wait (found=%v, %v)", found, err)
	}
	if ex, err := w.Store.Export(context.Background(), id); err != nil || len(ex.Activities) != 0 || ex.Events != 0 {
		t.Fatalf("left behind: %d activities, %d event records (%v)", len(ex.Activities), ex.Events, err)
	}
	// Its confirmation link now says it expired, and to fill in the form again.
	resp := w.Open(http.MethodPost, testworld.ConfirmLink(mail[0]), nil)
	if resp.StatusCode != http.StatusGone || !strings.Contains(resp.Body, "fill in the form again") {
		t.Errorf("an expired link: %d\n%s", resp.StatusCode, resp.Body)
	}
	if rep := tickEvery(w, 5*24*time.Hour, 30*24*time.Hour); rep.Sent != 0 || len(w.MailTo(w.Email("silent"))) != 2 {
		t.Errorf("a month later %d more emails, want none", rep.Sent)
	}
}

func TestConfirm_laterPostsOfAnUnconfirmedAddress_noMoreConfirmationEmails(t *testing.T) {
	w := newConfirmWorld(t)
	post(w, "target", "finops-guide", nil)
	tickEvery(w, time.Hour, time.Hour)
	// Someone posts the address again and again, on every form, for days.
	for i := range 12 {
		out := post(w, "target", w.Program.Forms[i%len(w.Program.Forms)].ID, map[string]string{"company": "Example Ltd"})
		if !out.Confirm || out.Enrolled != "" {
			t.Fatalf("post %d: %+v, want it still waiting, in no track", i, out)
		}
		tickEvery(w, 12*time.Hour, 12*time.Hour)
	}
	if n := len(w.MailTo(w.Email("target"))); n != 2 {
		t.Fatalf("%d emails after 12 posts, want the confirmation and one reminder", n)
	}
	// Once the wait ended, a new post is a new start: one new email.
	tickEvery(w, 12*time.Hour, 2*24*time.Hour)
	post(w, "target", "finops-guide", nil)
	tickEvery(w, time.Hour, time.Hour)
	if n := len(w.MailTo(w.Email("target"))); n != 3 {
		t.Fatalf("%d emails after a post once the first wait ended, want one new confirmation", n)
	}
}

func TestConfirm_confirmedLead_getsNurture(t *testing.T) {
	w := newConfirmWorld(t)
	out := post(w, "reader", "finops-guide", nil)
	l := w.Confirm(out.LeadID)
	track, _ := w.Program.TrackForTopic("cloud-cost")
	if l.Nurture.Track != track.ID || !l.Nurture.Due() {
		t.Fatalf("confirmed: nurture %+v, want enrolled in %s", l.Nurture, track.ID)
	}
	l = w.Next(out.LeadID)
	if l.Nurture.Emails != 1 || len(w.NurtureMailTo(l.Email)) != 1 {
		t.Fatalf("after confirming, step 1: %+v", l.Nurture)
	}
	// No reminder for a confirmed address, ever.
	tickEvery(w, 24*time.Hour, 10*24*time.Hour)
	for _, m := range w.MailTo(l.Email) {
		if strings.HasPrefix(m.Subject, nurture.ReminderPrefix) {
			t.Fatalf("a confirmed lead got the reminder")
		}
	}
}

// The program's default, a form's own setting and the lead's country: the
// country wins, then the form.
func TestConfirm_perFormAndCountry_overrides(t *testing.T) {
	w := newConfirmWorld(t)
	p := *w.Program
	p.DoubleOptIn.Required = false
	p.DoubleOptIn.Countries = map[string]bool{"DE": true, "US": false}
	on, off := true, false
	p.Forms = append([]program.Form(nil), p.Forms...)
	p.Forms[0].DoubleOptIn = &on // finops-guide asks
	p.Forms[3].DoubleOptIn = &on // cost-of-nines asks, but not in the US
	p.Forms[1].DoubleOptIn = &off
	w.App.Capturer.Program, w.Scheduler.Program = &p, &p
	cases := []struct {
		local, form, country string
		confirm              bool
	}{
		{"form-asks", "finops-guide", "", true},
		{"default-off", "slo-primer", "", false},
		{"form-off", "downtime-report", "", false},
		{"country-asks", "cost-of-nines", "DE", true},
		{"country-waives", "cost-of-nines", "US", false},
		{"form-asks-elsewhere", "cost-of-nines", "FR", true},
	}
	for _, c := range cases {
		fields := map[string]string{"company": "Example Ltd"}
		if c.country != "" {
			fields["country"] = c.country
		}
		out := post(w, c.local, c.form, fields)
		if l := w.Lead(out.LeadID); l.Unconfirmed() != c.confirm || (l.Nurture.Track == "") != c.confirm {
			t.Errorf("%s: unconfirmed=%v, track %q; want confirmation asked: %v", c.local, l.Unconfirmed(), l.Nurture.Track, c.confirm)
		}
	}
}
