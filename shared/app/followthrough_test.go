package app_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/lead"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The done-when for sales follow-through, on the product as the
// functions build it (DynamoDB Local, its stream polled for the alerts
// function, SES local), with the clock moved on: an alert nobody decides
// gets a reminder, then an escalation; Accept stops both; the digest and
// the inbox list what is open and not what was decided.

type followWorld struct{ *testworld.World }

// cross has a nurtured lead post a second form, whose download carries its
// score over the MQL threshold; its alert goes out through the stream.
func (w followWorld) cross(l *lead.Lead) *lead.Lead {
	w.T.Helper()
	mql := w.Program.Thresholds[0]
	if _, err := w.Store.UpdateLead(context.Background(), l.ID, func(x *lead.Lead, _ bool) error {
		x.Score = lead.Score{Activity: float64(mql.Score-1) - float64(x.Score.Fit), Fit: x.Score.Fit, At: w.Clock.Now()}
		return nil
	}); err != nil {
		w.T.Fatal(err)
	}
	form := w.Program.Forms[1]
	res, err := w.App.Capture.Handle(context.Background(), testworld.FormPost(form.ID,
		url.Values{"email": {l.Email}, "name": {l.Name}, "company": {l.Company}, "consent": {"yes"}}, w.Clock.Now()))
	if err != nil || res.StatusCode >= 400 {
		w.T.Fatalf("form post: %d %v", res.StatusCode, err)
	}
	w.Drain()
	return w.Lead(l.ID)
}

// about returns the alerts and follow-ups to addr about a lead (they name
// its address); the digests are digest.
func (w followWorld) about(addr string, l *lead.Lead) []localstack.SentEmail {
	var out []localstack.SentEmail
	for _, m := range w.MailTo(addr) {
		if !isDigest(m) && strings.Contains(m.Text, l.Email) {
			out = append(out, m)
		}
	}
	return out
}

// at moves the clock and runs the scheduler's tick, then hands the stream
// to the alerts function, as Lambda would.
func (w followWorld) at(t time.Time) {
	w.T.Helper()
	w.Clock.Set(t)
	w.Tick()
	w.Drain()
}

func isDigest(m localstack.SentEmail) bool { return strings.Contains(m.Subject, "for your decision") }

func linkIn(t *testing.T, text, label string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(label) + `: (https://\S+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no %q link in:\n%s", label, text)
	}
	return m[1]
}

func TestFollowThrough_reminderThenEscalation_acceptStopsBoth_digestAndInboxListWhatIsOpen(t *testing.T) {
	w := followWorld{testworld.New(t, testworld.Options{Name: "follow"})}
	owner, manager := "sales@acme.example", "sales-managers@acme.example"
	ada := w.Nurtured("ada", map[string]string{"name": "Ada Lovelace", "company": "Analytical Engines"})
	grace := w.Nurtured("grace", map[string]string{"name": "Grace Hopper", "company": "Compilers Ltd"})
	ada, grace = w.cross(ada), w.cross(grace)
	for _, l := range []*lead.Lead{ada, grace} {
		if n := len(w.about(owner, l)); n != 1 || l.SLA == nil || l.SLA.Owner != owner {
			t.Fatalf("%s: %d alerts to %s, SLA %+v", l.Name, n, owner, l.SLA)
		}
	}
	sla := w.Lead(grace.ID).SLA

	// Sales accepts Ada from the alert's Accept link, as a browser posts it.
	accept := linkIn(t, w.about(owner, ada)[0].Text, "Accept")
	if page := w.Open(http.MethodGet, accept, nil); page.StatusCode != http.StatusOK {
		t.Fatalf("the accept page: %d", page.StatusCode)
	}
	if resp := w.Open(http.MethodPost, accept, url.Values{"action": {"accept"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("accept: %d\n%s", resp.StatusCode, resp.Body)
	}
	decided := w.Lead(ada.ID)
	if decided.Sales == nil || decided.Sales.By != owner || !decided.Sales.At.Equal(w.Clock.Now()) || decided.SLA != nil {
		t.Fatalf("after accept: sales %+v SLA %+v", decided.Sales, decided.SLA)
	}
	// Posted again (a double click, or later from the same mail): already
	// decided, by whom.
	again := w.Open(http.MethodPost, accept, url.Values{"action": {"accept"}})
	if again.StatusCode != http.StatusConflict || !strings.Contains(again.Body, "Already decided by "+owner+" on ") {
		t.Fatalf("second accept: %d\n%s", again.StatusCode, again.Body)
	}

	// Four business hours on: Grace's owner is reminded, with fresh links.
	w.at(sla.RemindAt.Add(-time.Minute))
	if n := len(w.about(owner, grace)); n != 1 {
		t.Fatalf("reminded early: %d mails about Grace", n)
	}
	w.at(sla.RemindAt)
	reminders := w.about(owner, grace)
	if len(reminders) != 2 || !strings.HasPrefix(reminders[1].Subject, "Reminder: ") {
		t.Fatalf("mails to the owner about Grace: %d", len(reminders))
	}
	if fresh, old := linkIn(t, reminders[1].Text, "Open the dossier"), linkIn(t, reminders[0].Text, "Open the dossier"); fresh == old {
		t.Fatal("the reminder carries the alert's old link")
	}

	// A business day on: the escalation, to the manager.
	w.at(sla.EscalateAt)
	w.at(sla.EscalateAt.Add(time.Hour)) // and another tick: nothing more
	esc := w.about(manager, grace)
	if len(esc) != 1 || !strings.HasPrefix(esc[0].Subject, "Escalation: ") {
		t.Fatalf("escalations about Grace: %d", len(esc))
	}
	// Ada's accept stopped both.
	if n, m := len(w.about(owner, ada)), len(w.about(manager, ada)); n != 1 || m != 0 {
		t.Fatalf("about Ada after her accept: %d mails to the owner, %d to the manager", n, m)
	}

	// The digest went out at the first tick inside business hours: Grace
	// open, Ada not.
	var digest *localstack.SentEmail
	for _, m := range w.MailTo(owner) {
		if isDigest(m) {
			digest = &m
		}
	}
	if digest == nil || !strings.Contains(digest.Text, "Grace Hopper") || strings.Contains(digest.Text, "Ada Lovelace") {
		t.Fatalf("digest %+v", digest)
	}

	// The inbox, from the digest's link: Grace, not Ada.
	inbox := w.Open(http.MethodGet, linkIn(t, digest.Text, "Your sales inbox"), nil)
	if inbox.StatusCode != http.StatusOK || !strings.Contains(inbox.Body, "Grace Hopper") || strings.Contains(inbox.Body, "Ada Lovelace") ||
		!strings.Contains(inbox.Body, "escalated to "+manager) {
		t.Fatalf("inbox %d:\n%s", inbox.StatusCode, inbox.Body)
	}

	// The manager decides from the escalation: recorded as theirs, and the
	// inbox is empty.
	if resp := w.Open(http.MethodPost, linkIn(t, esc[0].Text, "Return to nurture"), url.Values{"action": {"return"}, "reason": {"not-ready"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("return from the escalation: %d\n%s", resp.StatusCode, resp.Body)
	}
	if s := w.Lead(grace.ID).Sales; s == nil || s.By != manager || s.Status != lead.SalesReturned {
		t.Fatalf("Grace's decision %+v", s)
	}
	if empty := w.Open(http.MethodGet, linkIn(t, digest.Text, "Your sales inbox"), nil); !strings.Contains(empty.Body, "No lead waits for your decision.") {
		t.Fatalf("inbox after both decisions:\n%s", empty.Body)
	}
}
