package app_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/metrics"
	"github.com/leadnurture/nurture/shared/metrics/metricstest"
)

// The business metrics through the real handlers (DynamoDB Local, the
// table's stream polled for the alerts function, SES local): each business
// event writes exactly one EMF line, of its metric, from the function that
// decided it, and a retry the product recognises writes none.
func TestMetrics_oneLinePerBusinessEvent_noneForARetry(t *testing.T) {
	var out bytes.Buffer
	w := testworld.New(t, testworld.Options{Name: "metrics", Metrics: &out})
	ctx := context.Background()
	seen := 0
	// since returns the data points written since the last call, each line
	// checked against the EMF specification.
	since := func() []metricstest.Point {
		t.Helper()
		all := metricstest.Points(t, out.Bytes())
		pts := all[seen:]
		seen = len(all)
		return pts
	}
	one := func(what string, pts []metricstest.Point, name string, dims ...string) {
		t.Helper()
		if len(pts) != 1 || metricstest.Count(pts, name, dims...) != 1 {
			t.Fatalf("%s: want one %s %v, got %d points: %+v", what, name, dims, len(pts), pts)
		}
		if p := pts[0]; p.Namespace != metrics.Namespace || p.Value != 1 || p.Unit != "Count" || !p.Time.Equal(w.Clock.Now()) {
			t.Errorf("%s: %s %s %v %s at %s, want %s 1 Count at the clock's %s", what, p.Namespace, p.Name, p.Value, p.Unit, p.Time, metrics.Namespace, w.Clock.Now())
		}
	}
	none := func(what string) {
		t.Helper()
		if pts := since(); len(pts) != 0 {
			t.Fatalf("%s: want no metric, got %+v", what, pts)
		}
	}

	// A form post through the capture function's handler: one new lead.
	form := w.Program.Forms[0]
	post := testworld.FormPost(form.ID, url.Values{"email": {w.Email("ada")}, "name": {"Ada Lovelace"}, "company": {"Analytical Engines"}, "consent": {"yes"}}, w.Clock.Now())
	postForm := func() {
		t.Helper()
		if res, err := w.App.Forms.Handle(ctx, post); err != nil || res.StatusCode >= 400 {
			t.Fatalf("form post: %d %v", res.StatusCode, err)
		}
	}
	postForm()
	pts := since()
	one("capture", pts, metrics.LeadsCaptured.Name, "Lead="+metrics.LeadNew)
	id, _ := pts[0].Root["leadId"].(string)
	if w.Lead(id).Email != w.Email("ada") {
		t.Fatalf("the line names lead %q, not Ada's", id)
	}
	// The browser sends it again (a double click, a retry): the same
	// submission, already captured.
	postForm()
	none("the same form post again")

	// Ada confirms her address: the confirmation email is no nurture email.
	w.Confirm(id)
	none("the confirmation email")

	// The scheduler's tick sends step 1: one email; another tick at the
	// same time finds nothing due.
	w.Next(id)
	one("send", since(), metrics.NurtureEmailsSent.Name)
	w.Tick()
	none("a second tick")

	// Her next download crosses the threshold: a returning lead, and the
	// alert goes to sales through the stream, once however often the
	// stream hands the lead over.
	w.OneBelowTheThreshold(id)
	second := testworld.FormPost(w.Program.Forms[1].ID, url.Values{"email": {w.Email("ada")}, "company": {"Analytical Engines"}, "consent": {"yes"}}, w.Clock.Now())
	if res, err := w.App.Forms.Handle(ctx, second); err != nil || res.StatusCode >= 400 {
		t.Fatalf("second form: %d %v", res.StatusCode, err)
	}
	one("returning capture", since(), metrics.LeadsCaptured.Name, "Lead="+metrics.LeadReturning)
	w.Drain()
	one("alert", since(), metrics.SalesReady.Name)
	if err := w.Alerter.Flush(ctx, id); err != nil {
		t.Fatal(err)
	}
	w.Drain()
	none("the alerts function again")

	// Sales accepts from the alert's link, and posts it again.
	l := w.Lead(id)
	if len(l.Alerts) != 1 {
		t.Fatalf("alerts %+v", l.Alerts)
	}
	var mails []string
	for _, m := range w.MailTo(l.Alerts[0].To) {
		if strings.Contains(m.Text, l.Email) { // the package's other tests alert the same address
			mails = append(mails, m.Text)
		}
	}
	if len(mails) != 1 {
		t.Fatalf("%d alerts about Ada to %s", len(mails), l.Alerts[0].To)
	}
	accept := linkIn(t, mails[0], "Accept")
	if resp := w.Open(http.MethodPost, accept, url.Values{"action": {"accept"}}); resp.StatusCode != http.StatusOK {
		t.Fatalf("accept: %d\n%s", resp.StatusCode, resp.Body)
	}
	one("accept", since(), metrics.SalesAccepted.Name)
	if again := w.Open(http.MethodPost, accept, url.Values{"action": {"accept"}}); again.StatusCode != http.StatusConflict {
		t.Fatalf("second accept: %d", again.StatusCode)
	}
	none("the accept posted again")
}
