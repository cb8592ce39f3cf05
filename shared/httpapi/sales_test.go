package httpapi_test

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/scoring"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

type salesFixture struct {
	*linksFixture
	sales  *httpapi.Sales
	inbox  *httpapi.Inbox
	routes *httpapi.LinkRoutes // the links function: /u, /a, /k, /s and /i
}

// newSalesFixture adds the sales page to the links fixture; captures are
// scored, so the dossier has reasons and a score history.
func newSalesFixture(t testing.TB) *salesFixture {
	t.Helper()
	f := newLinksFixture(t)
	f.capture.Capturer.Scorer = scoring.New(f.prog)
	s := f.salesWith(t, f.store)
	inbox := &httpapi.Inbox{Inbox: &sales.Inbox{Program: f.prog, Store: f.store}, Signer: f.signer, Program: f.prog, Clock: f.clock, Log: s.Log}
	return &salesFixture{linksFixture: f, sales: s, inbox: inbox, routes: &httpapi.LinkRoutes{Links: f.links, Sales: s, Inbox: inbox}}
}

func (f *linksFixture) salesWith(t testing.TB, st *store.Store) *httpapi.Sales {
	t.Helper()
	win, err := nurture.NewWindow(f.prog.Schedule)
	if err != nil {
		t.Fatal(err)
	}
	return &httpapi.Sales{
		Desk:   &sales.Desk{Program: f.prog, Store: st, Window: win},
		Signer: f.signer,
		Clock:  f.clock,
		Log:    slog.New(slog.NewJSONHandler(f.logs, nil)),
	}
}

// do sends the request through the links function, as API Gateway would.
func (f *salesFixture) do(t testing.TB, req httpapi.Request) httpapi.Response {
	t.Helper()
	resp, err := f.routes.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned an error (API Gateway would answer 500): %v", err)
	}
	return resp
}

func (f *salesFixture) token(purpose, leadID string) string {
	return sign(f.signer, purpose, leadID, "alert-1", f.clock.Now())
}

// withBody replaces a POST sample's form body.
func withBody(req httpapi.Request, v url.Values) httpapi.Request {
	req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(v.Encode())), true
	return req
}

var (
	salesFormRe = regexp.MustCompile(`<form method="post" action="([^"]*)" id="(accept|return)-form"( class="focus")?>`)
	optionRe    = regexp.MustCompile(`<option value="([^"]*)">`)
	polylineRe  = regexp.MustCompile(`<polyline points="([0-9., -]+)"`)
	seenRe      = regexp.MustCompile(`<input type="hidden" name="decided" value="([^"]+)">`)
)

func TestSales_dossierPage_showsTheLead_changesNothing(t *testing.T) {
	f := newSalesFixture(t)
	id := f.newLead(t, "ada@example.com")
	// Some history: an answer, a nurture email's open by a privacy proxy.
	q, _ := f.prog.Question("industry")
	if err := f.links.Engagement.Answer(context.Background(), id, "cloud-cost", 1, q.ID, q.Options[1].Value, f.clock.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.AddActivity(context.Background(), id, lead.Activity{
		Key: "open-proxy", Kind: lead.KindOpen, At: f.clock.Now().Add(2 * time.Hour), Machine: true, MachineReason: "opened by a privacy proxy",
	}); err != nil {
		t.Fatal(err)
	}
	f.clock.Advance(3 * time.Hour)
	before := f.mustLead(t, id)
	if before.Score.At.IsZero() {
		t.Fatalf("the capture should have scored the lead: %+v", before.Score)
	}
	actsBefore, _ := f.store.Activities(context.Background(), id, f.clock.Now())
	tok := f.token(token.PurposeDossier, id)

	resp := f.do(t, linkEvent(t, "dossier-page.json", tok))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /s answered %d:\n%s", resp.StatusCode, resp.Body)
	}
	body := resp.Body
	for _, want := range []string{
		"<h1>Ada Lovelace</h1>",                      // capture fills every text field with the name
		escaped(q.Text), escaped(q.Options[1].Label), // the answer
		`<tr class="machine">`, `<span class="tag">machine</span>`, "opened by a privacy proxy",
		"Downloaded", "Why this score", "Talking points",
		`<svg id="score-chart" role="img" aria-label="Score over time: `, "<title>Score over time: ",
		// The dossier link only shows: the decisions are the other links'.
		`<p class="sub" id="other-decision">To accept the lead or return it to nurture, use the Accept or Return link in the alert`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if t.Failed() {
		t.Fatalf("page:\n%s", body)
	}
	if forms := salesFormRe.FindAllStringSubmatch(body, -1); len(forms) != 0 {
		t.Fatalf("the dossier link's page offers forms: %q", forms)
	}
	// The chart: a line through the score history, from 0 at capture to now.
	m := polylineRe.FindStringSubmatch(body)
	if m == nil || len(strings.Fields(m[1])) < 2 {
		t.Fatalf("no polyline with points in the chart")
	}
	d := sales.Build(f.prog, before, actsBefore, f.clock.Now())
	if got := len(strings.Fields(m[1])); got != len(d.Series)+1 {
		t.Errorf("the line has %d points, want the %d of the series and the start at 0", got, len(d.Series))
	}
	if !strings.Contains(body, `<p class="score" id="score">`+strconv.FormatFloat(d.Score, 'f', -1, 64)+`</p>`) {
		t.Errorf("the page should show the score %v", d.Score)
	}
	for _, r := range d.Reasons {
		if !strings.Contains(body, escaped(r.Why)) {
			t.Errorf("the reason %q is missing", r.Why)
		}
	}
	// Nothing that could run: the CSP forbids scripts, the page needs none.
	for _, bad := range []string{"<script", "javascript:", " onclick=", " onload=", "src=\"http"} {
		if strings.Contains(strings.ToLower(body), bad) {
			t.Errorf("the page contains %q", bad)
		}
	}
	if resp.Headers["cache-control"] != "no-store" || resp.Headers["x-robots-tag"] == "" ||
		!strings.Contains(resp.Headers["content-security-policy"], "default-src 'none'") {
		t.Errorf("headers = %v", resp.Headers)
	}

	// Scanners fetch every link of the alert, again and again.
	for _, purpose := range []string{token.PurposeDossier, token.PurposeAccept, token.PurposeReturn} {
		for i := 0; i < 2; i++ {
			if r := f.do(t, linkEvent(t, "dossier-page.json", f.token(purpose, id))); r.StatusCode != http.StatusOK {
				t.Fatalf("GET with a %s token answered %d", purpose, r.StatusCode)
			}
		}
	}
	l := f.mustLead(t, id)
	actsAfter, _ := f.store.Activities(context.Background(), id, f.clock.Now())
	if l.Version != before.Version || l.Sales != nil || len(actsAfter) != len(actsBefore) || l.Nurture.Status != lead.NurtureActive || !f.due(t, id) {
		t.Fatalf("a GET changed the lead: version %d -> %d, sales %+v, %d -> %d activities", before.Version, l.Version, l.Sales, len(actsBefore), len(actsAfter))
	}
	if strings.Contains(f.logs.String(), "ada@example.com") || strings.Contains(f.logs.String(), tok) {
		t.Error("the log holds an address or a token")
	}
}

// Each decision link's page offers its own decision only, posting to the
// link itself.
func TestSales_acceptAndReturnLinks_offerOnlyTheirDecision(t *testing.T) {
	f := newSalesFixture(t)
	id := f.newLead(t, "ada@example.com")
	for purpose, decision := range map[string]string{token.PurposeAccept: "accept", token.PurposeReturn: "return"} {
		tok := f.token(purpose, id)
		body := f.do(t, linkEvent(t, "sales-accept-page.json", tok)).Body
		forms := salesFormRe.FindAllStringSubmatch(body, -1)
		if len(forms) != 1 || forms[0][2] != decision || forms[0][1] != "/s/"+tok || forms[0][3] == "" {
			t.Fatalf("%s link: forms %q, want the %s form only", purpose, forms, decision)
		}
		autofocus := `<button type="submit" autofocus>Accept</button>`
		if decision == "return" {
			autofocus = `<select name="reason" id="reason" required autofocus>`
		}
		if !strings.Contains(body, autofocus) || !strings.Contains(body, `id="other-decision"`) {
			t.Errorf("%s link: %q or the other decision's note missing", purpose, autofocus)
		}
		if decision != "return" {
			continue
		}
		var codes []string
		for _, m := range optionRe.FindAllStringSubmatch(body, -1) {
			codes = append(codes, m[1])
		}
		want := []string{""}
		for _, r := range sales.ReturnReasons {
			want = append(want, r.Code)
			if !strings.Contains(body, ">"+escaped(r.Label)+"</option>") {
				t.Errorf("no option labelled %q", r.Label)
			}
		}
		if strings.Join(codes, ",") != strings.Join(want, ",") {
			t.Errorf("reason options = %q, want %q", codes, want)
		}
	}
}

func TestSales_acceptThenReturn_throughTheForms(t *testing.T) {
	f := newSalesFixture(t)
	id := f.newLead(t, "ada@example.com")

	accept := f.do(t, linkEvent(t, "sales-accept.json", f.token(token.PurposeAccept, id)))
	if accept.StatusCode != http.StatusOK || !strings.Contains(accept.Body, `<h1 id="notice">Accepted</h1>`) ||
		!strings.Contains(accept.Body, "Ada Lovelace") || !strings.Contains(accept.Body, `<a href="/s/`) ||
		!strings.Contains(accept.Body, `<p id="decided">Decided by sales@acme.example on `) {
		t.Fatalf("POST action=accept answered %d:\n%s", accept.StatusCode, accept.Body)
	}
	l := f.mustLead(t, id)
	if l.Sales == nil || l.Sales.Status != lead.SalesAccepted || l.Sales.By != "sales@acme.example" || l.Nurture.Status != lead.NurtureStopped || l.Nurture.Due() || f.due(t, id) {
		t.Fatalf("after accept: sales %+v nurture %+v", l.Sales, l.Nurture)
	}
	// The page now says so, and its form carries the decision it saw.
	page := f.do(t, linkEvent(t, "dossier-page.json", f.token(token.PurposeReturn, id)))
	if !strings.Contains(page.Body, `<p class="decision" id="current-decision">Accepted by sales on `) ||
		!strings.Contains(page.Body, " (sales@acme.example).</p>") ||
		!strings.Contains(page.Body, escaped("nurture stopped: "+lead.StopAccepted)) {
		t.Fatalf("the page should show the decision:\n%s", page.Body)
	}
	seen := seenRe.FindAllStringSubmatch(page.Body, -1)
	if len(seen) != 1 || seen[0][1] != l.Sales.Stamp() {
		t.Fatalf("the forms should carry the decision's stamp %q: %q", l.Sales.Stamp(), seen)
	}

	// The return link of the alert, posted without having seen the
	// decision (an old page, another tab): already decided, nothing changed.
	f.clock.Advance(24 * time.Hour)
	stale := f.do(t, linkEvent(t, "sales-return.json", f.token(token.PurposeReturn, id)))
	if stale.StatusCode != http.StatusConflict || !strings.Contains(stale.Body, "Already decided by sales@acme.example on ") ||
		!strings.Contains(stale.Body, ": accepted. Nothing was changed.") {
		t.Fatalf("a return from before the accept answered %d:\n%s", stale.StatusCode, stale.Body)
	}
	if f.mustLead(t, id).Version != l.Version {
		t.Fatal("a decision too late changed the lead")
	}
	// From the page that shows the accept, sales may change its mind.
	ret := f.do(t, withBody(linkEvent(t, "sales-return.json", f.token(token.PurposeReturn, id)),
		url.Values{"action": {"return"}, "reason": {"not-ready"}, "decided": {seen[0][1]}}))
	if ret.StatusCode != http.StatusOK || !strings.Contains(ret.Body, "Returned to nurture") || !strings.Contains(ret.Body, "Not ready to buy yet") {
		t.Fatalf("POST action=return answered %d:\n%s", ret.StatusCode, ret.Body)
	}
	l = f.mustLead(t, id)
	if l.Sales == nil || l.Sales.Status != lead.SalesReturned || l.Sales.Reason != "not-ready" || !l.Nurture.Due() || !f.due(t, id) {
		t.Fatalf("after return: sales %+v nurture %+v", l.Sales, l.Nurture)
	}
	page = f.do(t, linkEvent(t, "dossier-page.json", f.token(token.PurposeAccept, id)))
	if !strings.Contains(page.Body, "Returned to nurture on ") || !strings.Contains(page.Body, "Not ready to buy yet.</p>") ||
		!strings.Contains(page.Body, "<td>Returned to nurture: Not ready to buy yet (by sales@acme.example)</td>") {
		t.Fatalf("the page should show the return and its reason:\n%s", page.Body)
	}
	// Posting the same form again (a reload, a double click) is refused,
	// saying who decided: never applied twice.
	again := f.do(t, withBody(linkEvent(t, "sales-return.json", f.token(token.PurposeReturn, id)),
		url.Values{"action": {"return"}, "reason": {"no-budget"}, "decided": {seen[0][1]}}))
	if again.StatusCode != http.StatusConflict || !strings.Contains(again.Body, "Already decided by sales@acme.example on ") ||
		!strings.Contains(again.Body, "returned to nurture (Not ready to buy yet). Nothing was changed.") || f.mustLead(t, id).Version != l.Version {
		t.Fatalf("a repeated return: %d, version %d -> %d\n%s", again.StatusCode, l.Version, f.mustLead(t, id).Version, again.Body)
	}
	// Each token posts its own decision only: a forwarded dossier link, or
	// an Accept link, cannot return the lead, and so on.
	f.clock.Advance(time.Hour)
	stamp := seenRe.FindStringSubmatch(page.Body)[1]
	for _, tc := range []struct{ purpose, action string }{
		{token.PurposeDossier, "accept"}, {token.PurposeDossier, "return"},
		{token.PurposeAccept, "return"}, {token.PurposeReturn, "accept"},
	} {
		r := f.do(t, withBody(linkEvent(t, "sales-accept.json", f.token(tc.purpose, id)), url.Values{"action": {tc.action}, "reason": {"no-budget"}, "decided": {stamp}}))
		if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "Nothing was changed") {
			t.Errorf("%s with the %s token: %d, want 403", tc.action, tc.purpose, r.StatusCode)
		}
	}
	if got := f.mustLead(t, id); got.Version != l.Version {
		t.Fatalf("a refused decision changed the lead: %+v", got.Sales)
	}
	if r := f.do(t, withBody(linkEvent(t, "sales-accept.json", f.token(token.PurposeAccept, id)), url.Values{"action": {"accept"}, "decided": {stamp}})); r.StatusCode != http.StatusOK {
		t.Fatalf("accept with the accept token: %d", r.StatusCode)
	}
	if l := f.mustLead(t, id); l.Sales.Status != lead.SalesAccepted || l.Nurture.Due() {
		t.Fatalf("accepted again: %+v %+v", l.Sales, l.Nurture)
	}
	var details []string
	for _, a := range f.activities(t, id, sales.KindDecision) {
		details = append(details, a.Detail)
	}
	if strings.Join(details, "|") != "accepted|returned: not-ready|accepted" {
		t.Fatalf("sales activities = %q", details)
	}
	for _, a := range f.activities(t, id, sales.KindDecision) {
		if a.By != "sales@acme.example" {
			t.Errorf("the decision %s does not say who made it: %q", a.Detail, a.By)
		}
	}
}

func TestSales_badForm_400_nothingChanged(t *testing.T) {
	f := newSalesFixture(t)
	id := f.newLead(t, "ada@example.com")
	before := f.mustLead(t, id)
	tok := f.token(token.PurposeReturn, id)
	for name, v := range map[string]url.Values{
		"unknown reason":  {"action": {"return"}, "reason": {"bored"}},
		"no reason":       {"action": {"return"}},
		"empty reason":    {"action": {"return"}, "reason": {""}},
		"label as reason": {"action": {"return"}, "reason": {"Not ready to buy yet"}},
		"unknown action":  {"action": {"delete"}},
		"no action":       {"reason": {"not-ready"}},
	} {
		resp := f.do(t, withBody(linkEvent(t, "sales-return.json", tok), v))
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, "Nothing was changed") {
			t.Errorf("%s: %d, want a 400 page:\n%s", name, resp.StatusCode, resp.Body)
		}
		if resp.Headers["content-type"] != "text/html; charset=utf-8" {
			t.Errorf("%s: headers %v", name, resp.Headers)
		}
	}
	if l := f.mustLead(t, id); l.Version != before.Version || l.Sales != nil {
		t.Fatalf("a bad form changed the lead")
	}
}

func TestSales_badLinks_theLinksInvalidPage(t *testing.T) {
	f := newSalesFixture(t)
	id := f.newLead(t, "ada@example.com")
	before := f.mustLead(t, id)
	now := f.clock.Now()
	dossier := f.token(token.PurposeDossier, id)
	ghost := testenv.LeadID("nobody@example.com")
	other := newSigner(t, newKey(t, "k9"))
	sameID := newSigner(t, newKey(t, "k1"))
	// Expired beyond the grace in which an expired link offers a fresh one,
	// or expired for a lead that is gone.
	expired := f.signer.Sign(token.Claims{Purpose: token.PurposeAccept, LeadID: id, Expires: now.Add(-sales.ExpiredGrace - time.Second)})
	expiredGhost := f.signer.Sign(token.Claims{Purpose: token.PurposeDossier, LeadID: testenv.LeadID("nobody@example.com"), Expires: now})

	type tc struct{ name, tok string }
	cases := []tc{
		{"empty", ""},
		{"garbage", "not-a-token"},
		{"very long", strings.Repeat("A", 5000)},
		{"truncated", dossier[:len(dossier)/2]},
		{"one character more", dossier + "A"},
		{"padding added", dossier + "="},
		{"expired more than a year ago", expired},
		{"expired, its lead gone", expiredGhost},
		{"an inbox token", sales.InboxToken(f.signer, "sales@acme.example", now)},
		{"unsubscribe token", f.unsubToken(id)},
		{"answer token", f.answerToken(id, "industry=healthcare")},
		{"signed with an unknown key", sign(other, token.PurposeDossier, id, "", now)},
		{"signed with another secret under our key id", sign(sameID, token.PurposeAccept, id, "", now)},
		{"lead does not exist", f.token(token.PurposeDossier, ghost)},
		{"accept for a lead that does not exist", f.token(token.PurposeAccept, ghost)},
		{"return for a lead that does not exist", f.token(token.PurposeReturn, ghost)},
	}
	for i := range dossier {
		cases = append(cases, tc{"character " + strconv.Itoa(i) + " changed", flip(dossier, i, 1)})
	}

	want := handleLink(t, f.links, linkEvent(t, "unsubscribe-page.json", "not-a-token"))
	if want.StatusCode != httpapi.InvalidLinkStatus {
		t.Fatalf("the links' invalid page answered %d", want.StatusCode)
	}
	for _, c := range cases {
		for _, sample := range []string{"dossier-page.json", "sales-accept-page.json", "sales-accept.json", "sales-return.json"} {
			got := f.do(t, linkEvent(t, sample, c.tok))
			if !sameResponse(got, want) {
				t.Errorf("%s (%s): got %d %v\n%s\nwant the links' invalid-link page", c.name, sample, got.StatusCode, got.Headers, got.Body)
			}
			// The sales handler on its own answers the same.
			if direct, _ := f.sales.Handle(context.Background(), linkEvent(t, sample, c.tok)); !sameResponse(direct, want) {
				t.Errorf("%s (%s): the sales handler answered %d", c.name, sample, direct.StatusCode)
			}
		}
	}
	// And sales tokens are no good on the other links.
	for _, purpose := range []string{token.PurposeDossier, token.PurposeAccept, token.PurposeReturn} {
		for _, sample := range []string{"unsubscribe-one-click.json", "answer-confirm.json"} {
			if got := f.do(t, linkEvent(t, sample, f.token(purpose, id))); !sameResponse(got, want) {
				t.Errorf("a %s token on %s: %d", purpose, sample, got.StatusCode)
			}
		}
	}
	l := f.mustLead(t, id)
	if l.Version != before.Version || l.Sales != nil || !l.Mailable() {
		t.Fatalf("a bad link changed the lead: version %d -> %d", before.Version, l.Version)
	}
	if len(f.activities(t, id, sales.KindDecision)) != 0 {
		t.Fatal("a bad link recorded a decision")
	}
	if _, found, _ := f.store.GetLead(context.Background(), ghost); found {
		t.Fatal("a link for an unknown lead created it")
	}
	logs := f.logs.String()
	for _, reason := range []string{"invalid or expired token", "unknown lead"} {
		if !strings.Contains(logs, reason) {
			t.Errorf("the log should give the reason %q", reason)
		}
	}
}

func TestSales_hostileProfile_escaped(t *testing.T) {
	f := newSalesFixture(t)
	form := f.prog.Forms[0]
	const name = `<script>alert("x")</script><img src=x onerror=alert(1)> O'Brien & Co`
	v := validValues(f.fixture, form, "mallory@example.com")
	v.Set("name", name)
	v.Set("company", `"><svg onload=alert(2)>`)
	if resp, err := f.capture.Handle(context.Background(), formPost(form.ID, v, f.clock.Now())); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("capture: %d %v %s", resp.StatusCode, err, resp.Body)
	}
	id := testenv.LeadID("mallory@example.com")
	body := f.do(t, linkEvent(t, "dossier-page.json", f.token(token.PurposeDossier, id))).Body
	for _, raw := range []string{"<script>", "<img src=x", "<svg onload", `"><svg`} {
		if strings.Contains(body, raw) {
			t.Errorf("the page holds the lead's %q unescaped", raw)
		}
	}
	if !strings.Contains(body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Errorf("the name should show, escaped:\n%s", body)
	}
	confirm := f.do(t, withBody(linkEvent(t, "sales-accept.json", f.token(token.PurposeAccept, id)), url.Values{"action": {"accept"}}))
	if confirm.StatusCode != http.StatusOK || strings.Contains(confirm.Body, "<script>") {
		t.Fatalf("confirmation: %d\n%s", confirm.StatusCode, confirm.Body)
	}
}

// A lead stored before addresses were checked strictly (or by any other
// way in): its address is shown but never linked unless it passes the
// check, and bidi or invisible characters never reach the page.
func TestSales_dossierPage_mailtoOnlyForAPlainAddress_bidiStripped(t *testing.T) {
	f := newSalesFixture(t)
	for _, tc := range []struct {
		email, name, heading string
		mailto               bool
	}{
		{"ada@example.com", "Ada \u202eLovelace\u200b", "Ada Lovelace", true},
		{"ada?cc=boss@evil.example", "Ada", "Ada", false},
		{"bob\u202e@example.com", "https://evil.example/reset?acct=1", "bob@example.com", false},
	} {
		id := testenv.LeadID(tc.email)
		if _, err := f.store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
			l.Email, l.Name, l.CreatedAt = tc.email, tc.name, f.clock.Now()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		body := f.do(t, linkEvent(t, "dossier-page.json", f.token(token.PurposeDossier, id))).Body
		if got := strings.Contains(body, `href="mailto:`); got != tc.mailto {
			t.Errorf("%q: mailto link %v, want %v", tc.email, got, tc.mailto)
		}
		if !strings.Contains(body, "<h1>"+escaped(tc.heading)+"</h1>") {
			t.Errorf("%q: the heading should be %q", tc.email, tc.heading)
		}
		if strings.ContainsAny(body, "\u202e\u200b") {
			t.Errorf("%q: the page keeps bidi or invisible characters", tc.email)
		}
	}
}

func TestSales_dynamoDown_503(t *testing.T) {
	f := newSalesFixture(t)
	broken := store.New(testenv.Dynamo(t), testenv.UniqueName("missing"), store.Options{})
	h := f.salesWith(t, broken)
	id := testenv.LeadID("ada@example.com")
	for _, req := range []httpapi.Request{
		linkEvent(t, "dossier-page.json", f.token(token.PurposeDossier, id)),
		linkEvent(t, "sales-accept.json", f.token(token.PurposeAccept, id)),
		linkEvent(t, "sales-return.json", f.token(token.PurposeReturn, id)),
	} {
		resp, err := h.Handle(context.Background(), req)
		if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["retry-after"] == "" {
			t.Errorf("%s: got %d %v %v, want 503 with retry-after", req.RouteKey, resp.StatusCode, resp.Headers, err)
		}
		for _, leak := range []string{"ResourceNotFound", "non-existent", "table", "dynamodb", "missing"} {
			if strings.Contains(strings.ToLower(resp.Body), strings.ToLower(leak)) {
				t.Errorf("%s: the page names the internal error (%q)", req.RouteKey, leak)
			}
		}
	}
}

func TestSales_otherMethod_405_tooLarge_413(t *testing.T) {
	f := newSalesFixture(t)
	id := f.newLead(t, "ada@example.com")
	req := linkEvent(t, "dossier-page.json", f.token(token.PurposeDossier, id))
	req.RouteKey, req.RequestContext.HTTP.Method = "$default", "DELETE"
	if resp := f.do(t, req); resp.StatusCode != http.StatusMethodNotAllowed || resp.Headers["allow"] != "GET, POST" {
		t.Fatalf("DELETE: %d %v", resp.StatusCode, resp.Headers)
	}
	big := withBody(linkEvent(t, "sales-accept.json", f.token(token.PurposeAccept, id)), url.Values{"action": {"accept"}, "x": {strings.Repeat("x", httpapi.MaxBody)}})
	if resp := f.do(t, big); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized post: %d", resp.StatusCode)
	}
	if f.mustLead(t, id).Sales != nil {
		t.Fatal("an oversized post decided")
	}
}

func TestRoutes_sales(t *testing.T) {
	got := map[string]string{}
	for _, r := range httpapi.Routes {
		got[r.RouteKey()] = r.Function
	}
	for _, key := range []string{"GET /s/{token}", "POST /s/{token}"} {
		if got[key] != "links" {
			t.Errorf("route %s is served by %q, want links", key, got[key])
		}
	}
}

// The links function still serves its own links next to the sales page.
func TestLinkRoutes_dispatch(t *testing.T) {
	f := newSalesFixture(t)
	id := f.newLead(t, "ada@example.com")
	if r := f.do(t, linkEvent(t, "unsubscribe-page.json", f.unsubToken(id))); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "Unsubscribe") {
		t.Fatalf("/u through the links function: %d", r.StatusCode)
	}
	// A $default route: the path decides.
	req := linkEvent(t, "dossier-page.json", f.token(token.PurposeDossier, id))
	req.RouteKey = "$default"
	if r := f.do(t, req); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "score-chart") {
		t.Fatalf("/s on the $default route: %d", r.StatusCode)
	}
}

// A path that is no link gets the one invalid-link page, 404, whatever
// token rides along; nothing is looked up or changed.
func TestLinkRoutes_unknownPath_theInvalidLinkPage(t *testing.T) {
	f := newSalesFixture(t)
	id := f.newLead(t, "ada@example.com")
	before := f.mustLead(t, id)
	want := handleLink(t, f.links, linkEvent(t, "unsubscribe-page.json", "not-a-token"))
	if want.StatusCode != http.StatusNotFound {
		t.Fatalf("the invalid-link page answered %d, want 404", want.StatusCode)
	}
	for _, c := range []struct{ routeKey, rawPath, tok string }{
		{"GET /x/{token}", "/x/" + f.unsubToken(id), f.unsubToken(id)},
		{"POST /forms/{formId}", "/forms/" + f.unsubToken(id), f.unsubToken(id)},
		{"$default", "/x/" + f.unsubToken(id), f.unsubToken(id)},
		{"$default", "/U/" + f.unsubToken(id), f.unsubToken(id)},
		{"$default", "/u", f.unsubToken(id)},
		{"$default", "/", f.token(token.PurposeDossier, id)},
		{"$default", "/prod/s/" + f.token(token.PurposeDossier, id), f.token(token.PurposeDossier, id)},
		{"$default", "", f.token(token.PurposeDossier, id)},
	} {
		req := linkEvent(t, "unsubscribe-one-click.json", c.tok)
		req.RouteKey, req.RawPath = c.routeKey, c.rawPath
		if got := f.do(t, req); !sameResponse(got, want) {
			t.Errorf("%s %q: %d\n%s", c.routeKey, c.rawPath, got.StatusCode, got.Body)
		}
	}
	// Without the sales page, its links are unknown too.
	alone := &httpapi.LinkRoutes{Links: f.links}
	if got, _ := alone.Handle(context.Background(), linkEvent(t, "dossier-page.json", f.token(token.PurposeDossier, id))); !sameResponse(got, want) {
		t.Errorf("/s without the sales page: %d", got.StatusCode)
	}
	if l := f.mustLead(t, id); l.Version != before.Version || !l.Mailable() {
		t.Fatal("an unknown path changed the lead")
	}
	if !strings.Contains(f.logs.String(), "unknown route") {
		t.Error("the log should give the reason")
	}
}

func TestSales_dossierPage_showsTimesInTheLeadsZone(t *testing.T) {
	f := newSalesFixture(t)
	id := f.newLead(t, "ada@example.com")
	if _, err := f.store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
		l.TimeZone = "America/New_York"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	resp := f.do(t, linkEvent(t, "dossier-page.json", f.token(token.PurposeDossier, id)))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /s answered %d", resp.StatusCode)
	}
	created := f.mustLead(t, id).CreatedAt.In(mustLoad(t, "America/New_York")).Format("15:04")
	if !strings.Contains(resp.Body, "times in America/New_York") || !strings.Contains(resp.Body, created) {
		t.Errorf("the dossier should show times in the lead's zone (capture at %s New York):\n%s", created, resp.Body)
	}
}

func mustLoad(t *testing.T, zone string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// A lead with more activities than a page reads (a pumped one, a
// long-lived one): the dossier shows the newest, says older activity is
// not shown, and still scores the lead as it stands.
func TestSales_dossierPage_busyLead_newestOnly_saysOlderNotShown(t *testing.T) {
	f := newSalesFixture(t)
	id := f.newLead(t, "ada@example.com")
	for i := 0; i < sales.TimelineLimit; i++ {
		if _, err := f.store.AddActivity(context.Background(), id, lead.Activity{
			Key: "open-" + strconv.Itoa(i), Kind: lead.KindOpen, At: f.clock.Now().Add(time.Duration(i+1) * time.Minute), Machine: true, MachineReason: "opened by a privacy proxy",
		}); err != nil {
			t.Fatal(err)
		}
	}
	f.clock.Advance(24 * time.Hour)
	body := f.do(t, linkEvent(t, "dossier-page.json", f.token(token.PurposeDossier, id))).Body
	if n := strings.Count(body, `<tr class="machine">`); n != sales.TimelineLimit {
		t.Errorf("the timeline shows %d of the newest opens, want %d", n, sales.TimelineLimit)
	}
	if !strings.Contains(body, `<p class="sub" id="older">Only the newest `+strconv.Itoa(sales.TimelineLimit)+` activities are shown`) {
		t.Errorf("the page should say older activity is not shown")
	}
	if n := strings.Count(body, "<td><time "); n != sales.TimelineLimit {
		t.Errorf("the timeline has %d rows; the oldest activity, the download, should be left out of %d", n, sales.TimelineLimit)
	}
	// A lead with fewer says nothing of the kind.
	other := f.newLead(t, "grace@example.com")
	if body := f.do(t, linkEvent(t, "dossier-page.json", f.token(token.PurposeDossier, other))).Body; strings.Contains(body, `id="older"`) {
		t.Errorf("a lead with a short story should not mention older activity")
	}
}
