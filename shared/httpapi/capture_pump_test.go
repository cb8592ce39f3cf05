package httpapi_test

import (
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/scoring"
	"github.com/leadnurture/nurture/shared/token"
)

// newScoredFixture scores captures and answers, as the product does.
func newScoredFixture(t *testing.T) (*linksFixture, scoring.Model) {
	t.Helper()
	f := newLinksFixture(t)
	m := scoring.New(f.prog)
	f.capture.Capturer.Scorer = m
	f.links.Engagement.Scorer = m
	return f, m
}

// postForm posts v to the form at the given time as its own submission.
func (f *linksFixture) postForm(t *testing.T, formID string, v url.Values, at time.Time) {
	t.Helper()
	v.Set("submission", "nonce-"+strconv.FormatInt(at.UnixNano(), 36))
	if resp := f.handle(t, formPost(formID, v, at)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("post to %s answered %d: %s", formID, resp.StatusCode, resp.Body)
	}
}

// The finding of issue 13: four posts to one form for one address, each
// its own submission, within a second, took a lead over MQL and HOT
// ("score 60", "score 90"). The asset is one the lead has after the first
// post: the others score nothing and alert nobody.
func TestCapture_sameFormFourTimesInASecond_scoresOnce_alertsNobody(t *testing.T) {
	f, m := newScoredFixture(t)
	form, _ := f.prog.Form("cost-of-nines")
	asset, _ := f.prog.Asset(form.Asset)
	v := url.Values{"email": {"mallory@example.com"}, "name": {"Mallory"}, "company": {"Pump Ltd"},
		"industry": {"finance"}, "companySize": {"501-5000"}, "country": {"GB"}, "consent": {"yes"}}
	start := f.clock.Now()
	f.postForm(t, form.ID, v, start)
	first, _ := f.lead(t, "mallory@example.com")
	once := m.Value(first.Score, start)
	hot := f.prog.Thresholds[len(f.prog.Thresholds)-1]
	if pumped := once + 3*float64(f.prog.Scoring.Activities.Download[asset.Stage]); pumped < float64(hot.Score) {
		t.Fatalf("three more downloads would reach %.0f, under %s's %d: the test would prove nothing", pumped, hot.Name, hot.Score)
	}

	for i := 1; i < 4; i++ {
		f.postForm(t, form.ID, v, start.Add(time.Duration(i)*250*time.Millisecond))
	}
	l, acts := f.lead(t, "mallory@example.com")
	if got := m.Value(l.Score, start); math.Abs(got-once) > 0.01 {
		t.Errorf("score after four posts %.1f, want the first post's %.1f", got, once)
	}
	if len(l.PendingAlerts) != 0 || len(l.Score.Disarmed) != 0 {
		t.Errorf("the posts raised alerts: pending %+v, disarmed %v", l.PendingAlerts, l.Score.Disarmed)
	}
	if len(acts) != 4 {
		t.Fatalf("want four downloads in the timeline, got %d", len(acts))
	}
	for _, a := range acts[1:] {
		if !a.Repeat || a.Points != 0 || a.Earned != 0 {
			t.Errorf("a repeated download: repeat %v, points %.1f, earned %d", a.Repeat, a.Points, a.Earned)
		}
	}
	d := sales.Build(f.prog, l, acts, start.Add(time.Second))
	if last := d.Events[len(d.Events)-1]; !strings.Contains(last.Detail, "already had it: scores nothing") {
		t.Errorf("the timeline should say the download scored nothing: %+v", last)
	}
}

// A later post never replaces what is known: a blank name or company is
// filled in, every other difference is recorded in the timeline and left
// alone, and fit and routing move only with the first form and answers
// given through the signed links in emails.
func TestCapture_laterPosts_neverReplaceTheProfile_fitAndRouteFromAnswersOnly(t *testing.T) {
	f, m := newScoredFixture(t)
	const email = "ada@example.com"
	id := testenv.LeadID(email)
	start := f.clock.Now()

	// First: the SLO primer's form asks only for a name and a role.
	f.postForm(t, "slo-primer", url.Values{"email": {email}, "name": {"Ada Lovelace"}, "role": {"engineering"}, "consent": {"yes"}}, start)
	first, _ := f.lead(t, email)
	fit, _ := m.Fit(first)
	route := sales.Route(f.prog, first)

	// Then someone posts the whitepaper's form for the same address.
	f.postForm(t, "cost-of-nines", url.Values{"email": {email}, "name": {"Mallory"}, "company": {"Evil Corp"},
		"industry": {"finance"}, "companySize": {"501-5000"}, "country": {"GB"}, "consent": {"yes"}}, start.Add(time.Hour))
	// And the report's, with another role.
	f.postForm(t, "downtime-report", url.Values{"email": {email}, "name": {"Ada Lovelace"}, "company": {"Evil Corp"},
		"role": {"executive"}, "consent": {"yes"}}, start.Add(2*time.Hour))

	l, acts := f.lead(t, email)
	if l.Name != "Ada Lovelace" || l.Role != "engineering" || l.Industry != "" || l.CompanySize != "" || l.Country != "" {
		t.Errorf("later posts changed the profile: %+v", l)
	}
	if l.Company != "Evil Corp" {
		t.Errorf("a blank company should be filled in: %q", l.Company)
	}
	if got, _ := m.Fit(l); got != fit || l.Score.Fit != fit {
		t.Errorf("fit moved with later posts: %d (scored %d), want %d", got, l.Score.Fit, fit)
	}
	if r := sales.Route(f.prog, l); r != route {
		t.Errorf("later posts re-routed the lead: %s, want %s", r, route)
	}
	if l.Consent == nil || !l.Consent.At.Equal(start) || l.Consent.FormID != "slo-primer" {
		t.Errorf("the first consent's evidence should stand: %+v", l.Consent)
	}
	changes := map[string]lead.FieldChange{}
	for _, a := range acts {
		for _, c := range a.Changes {
			changes[a.FormID+"/"+c.Field] = c
		}
	}
	for key, want := range map[string]lead.FieldChange{
		"cost-of-nines/name":        {Field: "name", Was: "Ada Lovelace", Said: "Mallory"},
		"cost-of-nines/company":     {Field: "company", Said: "Evil Corp", Applied: true},
		"cost-of-nines/industry":    {Field: "industry", Said: "finance"},
		"cost-of-nines/companySize": {Field: "companySize", Said: "501-5000"},
		"cost-of-nines/country":     {Field: "country", Said: "GB"},
		"downtime-report/role":      {Field: "role", Was: "engineering", Said: "executive"},
	} {
		if changes[key] != want {
			t.Errorf("%s: recorded %+v, want %+v", key, changes[key], want)
		}
	}
	if len(changes) != 6 {
		t.Errorf("recorded changes %+v; a value that did not change is not one", changes)
	}
	d := sales.Build(f.prog, l, acts, start.Add(3*time.Hour))
	var timeline []string
	for _, e := range d.Events {
		timeline = append(timeline, e.Detail)
	}
	for _, want := range []string{
		"form “Get the whitepaper: Paying for Nines” said name “Mallory”; kept “Ada Lovelace”",
		"company “Evil Corp” added via form “Get the whitepaper: Paying for Nines”",
		"form “Get the whitepaper: Paying for Nines” said industry “Financial services”; not applied",
		"form “Download the 2026 Incident Report” said role “CTO, VP or other executive”; kept “Engineering / SRE”",
	} {
		if !strings.Contains(strings.Join(timeline, "\n"), want) {
			t.Errorf("the timeline lacks %q:\n%s", want, strings.Join(timeline, "\n"))
		}
	}

	// The person answers the industry question in an email: that counts.
	q, _ := f.prog.Question("industry")
	tok := sign(f.signer, token.PurposeAnswer, id, q.ID+"=finance", f.clock.Now())
	if resp := f.do(t, linkEvent(t, "answer-confirm.json", tok)); resp.StatusCode != http.StatusOK {
		t.Fatalf("answer: %d %s", resp.StatusCode, resp.Body)
	}
	answered := f.mustLead(t, id)
	if answered.Industry != "finance" || answered.Score.Fit != fit+f.prog.Scoring.Fit["industry"]["finance"] {
		t.Errorf("an answer should set the industry and its fit: %q, fit %d", answered.Industry, answered.Score.Fit)
	}
	if r := sales.Route(f.prog, answered); r == route || !strings.HasPrefix(r, "financial-services") {
		t.Errorf("the answer should route the lead to financial services: %s", r)
	}
}
