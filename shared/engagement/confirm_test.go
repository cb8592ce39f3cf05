package engagement_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
)

// The confirmation link of double opt-in, through the capture and links
// functions as the app builds them (the shipped program asks every lead to
// confirm).

// postForm posts a form through the capture function as a browser does,
// and returns the lead's id.
func (w *world) postForm(local, formID string, v url.Values) string {
	w.T.Helper()
	v.Set("email", w.Email(local))
	v.Set("consent", "yes")
	res, err := w.App.Capture.Handle(context.Background(), testworld.FormPost(formID, v, w.Clock.Now()))
	if err != nil || res.StatusCode != http.StatusSeeOther {
		w.T.Fatalf("form post: %d %v (%s)", res.StatusCode, err, res.Body)
	}
	return testenv.LeadID(w.Email(local))
}

// confirmationLink has the tick send the lead's confirmation email and
// returns its link.
func (w *world) confirmationLink(l *lead.Lead) string {
	w.T.Helper()
	w.Tick()
	for _, m := range w.MailTo(l.Email) {
		if u := testworld.ConfirmLink(m); u != "" {
			return u
		}
	}
	w.T.Fatalf("no confirmation email to %s", l.Email)
	return ""
}

// browse is a request of the link from a browser, with its own address
// and user agent as API Gateway reports them.
func (w *world) browse(method, rawURL, ip, ua string) httpapi.Response {
	w.T.Helper()
	var form url.Values
	if method == http.MethodPost {
		form = url.Values{}
	}
	req := testworld.LinkRequest(method, rawURL, form, w.Clock.Now())
	req.RequestContext.HTTP.SourceIP, req.RequestContext.HTTP.UserAgent = ip, ua
	req.Headers["user-agent"] = ua
	resp, err := w.App.LinkRoutes.Handle(context.Background(), req)
	if err != nil {
		w.T.Fatalf("%s %s: %v", method, rawURL, err)
	}
	return resp
}

func TestConfirmLink_getChangesNothing_postConfirmsOnce_evidenceInTheExport(t *testing.T) {
	var logs bytes.Buffer
	w := &world{testworld.New(t, testworld.Options{Name: "confirm", Logs: &logs})}
	id := w.postForm("ada", "finops-guide", url.Values{"name": {"Ada Lovelace"}})
	l := w.Lead(id)
	link := w.confirmationLink(l)
	before := w.Lead(id)
	acts := len(w.Activities(id))

	// A security scanner, then the person, open the link: a page with a
	// button, and nothing changes.
	for _, ua := range []string{"Mozilla/5.0 (compatible; SafeLinks)", chrome} {
		page := w.browse(http.MethodGet, link, "198.51.100.1", ua)
		if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `method="post"`) ||
			!strings.Contains(page.Body, w.Program.ConfirmButton()) || !strings.Contains(page.Body, "a few related articles") {
			t.Fatalf("GET: %d, want the page with the consent and a Confirm button\n%s", page.StatusCode, page.Body)
		}
	}
	if got := w.Lead(id); got.Version != before.Version || !got.Unconfirmed() || len(w.Activities(id)) != acts {
		t.Fatalf("a GET changed the lead: version %d -> %d, unconfirmed %v", before.Version, got.Version, got.Unconfirmed())
	}

	// The button posts, twice (a double click): confirmed once.
	w.Clock.Advance(3 * time.Hour)
	confirmedAt := w.Clock.Now()
	for i := range 2 {
		resp := w.browse(http.MethodPost, link, "203.0.113.9", chrome)
		if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "your address is confirmed") {
			t.Fatalf("POST %d: %d\n%s", i+1, resp.StatusCode, resp.Body)
		}
		w.Clock.Advance(time.Minute)
	}
	if n := len(w.ActivitiesOf(id, lead.KindConfirm)); n != 1 {
		t.Errorf("%d confirmations recorded, want 1", n)
	}
	ex, err := w.Store.Export(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	form, _ := w.Program.Form("finops-guide")
	c := ex.Lead.Consent
	if ex.Lead.Unconfirmed() || c == nil || c.Confirmed == nil {
		t.Fatalf("the export shows no confirmation: %+v", c)
	}
	if got := *c.Confirmed; !got.At.Equal(confirmedAt) || !got.Asked.Equal(l.OptIn.Since) || got.IP != "203.0.113.9" ||
		got.UserAgent != chrome || got.FormID != form.ID || got.Text != form.Consent.Text {
		t.Errorf("confirmation evidence %+v", got)
	}
	// The evidence is the lead's, not the log's.
	for _, secret := range []string{"203.0.113.9", "198.51.100.1", chrome, l.Email} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the logs carry %q", secret)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"confirmed"`) {
		t.Error("the confirmation is not logged (by lead id)")
	}
}

func TestConfirmLink_expired_saysSo_tampered_theInvalidLinkPage(t *testing.T) {
	w := newWorld(t)
	id := w.postForm("late", "finops-guide", url.Values{})
	l := w.Lead(id)
	link := w.confirmationLink(l)

	// One character changed: the plain page of every bad link.
	i := strings.LastIndex(link, "/") + 5
	c := byte('A')
	if link[i] == c {
		c = 'B'
	}
	tampered := link[:i] + string(c) + link[i+1:]
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		if resp := w.browse(m, tampered, "203.0.113.9", chrome); resp.StatusCode != httpapi.InvalidLinkStatus || !strings.Contains(resp.Body, "This link does not work") {
			t.Errorf("%s of a tampered link: %d\n%s", m, resp.StatusCode, resp.Body)
		}
	}

	// A week and a minute later (the lead not deleted yet): expired.
	w.Clock.Set(l.OptIn.ExpiresAt.Add(time.Minute))
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		resp := w.browse(m, link, "203.0.113.9", chrome)
		if resp.StatusCode != http.StatusGone || !strings.Contains(resp.Body, "This link has expired") || !strings.Contains(resp.Body, "fill in the form again") {
			t.Errorf("%s of an expired link: %d\n%s", m, resp.StatusCode, resp.Body)
		}
	}
	if got := w.Lead(id); !got.Unconfirmed() || got.Confirmed() || len(w.ActivitiesOf(id, lead.KindConfirm)) != 0 {
		t.Errorf("an expired link confirmed the lead")
	}
	// The form posted again starts a new wait; the old link still does
	// not confirm it.
	w.postForm("late", "finops-guide", url.Values{})
	if resp := w.browse(http.MethodPost, link, "203.0.113.9", chrome); resp.StatusCode != http.StatusGone || w.Lead(id).Confirmed() {
		t.Errorf("the link of an earlier wait: %d, confirmed %v", resp.StatusCode, w.Lead(id).Confirmed())
	}
}

func TestConfirm_noAlertBeforeConfirmation_evenWithAHighScore_thenAtConfirmation(t *testing.T) {
	w := newWorld(t)
	id := w.postForm("eager", "finops-guide", url.Values{"company": {"Analytical Engines"}, "companySize": {"501-5000"}})
	l := w.Lead(id)
	link := w.confirmationLink(l)
	w.OneBelowTheThreshold(id)
	// A post of another form carries the score over the threshold.
	w.postForm("eager", "downtime-report", url.Values{"company": {"Analytical Engines"}, "industry": {"finance"}})
	w.Drain()
	l = w.Lead(id)
	mql := w.Program.Thresholds[0]
	if score := l.Score.Fit + int(l.Score.Activity); score < mql.Score {
		t.Fatalf("score %d, want the post to reach %s (%d)", score, mql.Name, mql.Score)
	}
	if len(l.PendingAlerts) != 0 || len(l.Alerts) != 0 || len(w.alertsFor(l)) != 0 {
		t.Fatalf("an unconfirmed lead alerted sales: pending %+v, sent %+v", l.PendingAlerts, l.Alerts)
	}
	form, _ := w.Program.Form("downtime-report")
	var why string
	for _, d := range w.ActivitiesOf(id, lead.KindDownload) {
		if d.AssetID == form.Asset {
			why = strings.Join(d.Why, "; ")
		}
	}
	if !strings.Contains(why, "not confirmed") {
		t.Errorf("the second download's ledger should say why no alert: %q", why)
	}
	// Days of ticks: still nothing for sales.
	for range 3 {
		w.Clock.Advance(24 * time.Hour)
		w.Tick()
		w.Drain()
	}
	if len(w.alertsFor(l)) != 0 {
		t.Fatal("an unconfirmed lead alerted sales after ticks")
	}
	// The person confirms: now sales hears of it, once.
	if resp := w.browse(http.MethodPost, link, "203.0.113.9", chrome); resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm: %d", resp.StatusCode)
	}
	w.Drain()
	l = w.Lead(id)
	if len(l.Alerts) != 1 || l.Alerts[0].Threshold != mql.Name || len(w.alertsFor(l)) != 1 {
		t.Fatalf("after confirming: alerts %+v, want one %s alert", l.Alerts, mql.Name)
	}
}
