package httpapi_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/token"
)

// alerted opens an SLA on a lead, as the alert's email going out does.
func (f *salesFixture) alerted(t *testing.T, email, owner string, since time.Time) string {
	t.Helper()
	id := f.newLead(t, email)
	if _, err := f.store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
		l.Alerts = append(l.Alerts, lead.SentAlert{ID: "alert-" + id[:6], Threshold: "mql", Score: 55, At: since, To: owner})
		l.Open(lead.SLA{Alert: "alert-" + id[:6], Threshold: "mql", Owner: owner, Since: since,
			RemindAt: since.Add(4 * time.Hour), EscalateAt: since.Add(24 * time.Hour), EscalateTo: "sales-managers@acme.example"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return id
}

var (
	inboxRowRe    = regexp.MustCompile(`<p class="who"><a href="([^"]+)">([^<]+)</a>`)
	inboxAcceptRe = regexp.MustCompile(`<a href="([^"]+)" class="accept">Accept</a>`)
)

func TestInbox_listsTheOwnersOpenAlerts_oldestFirst_notTheDecidedOne(t *testing.T) {
	f := newSalesFixture(t)
	now := f.clock.Now()
	owner := "sales@acme.example"
	newer := f.alerted(t, "newer@example.com", owner, now.Add(-2*time.Hour))
	older := f.alerted(t, "older@example.com", owner, now.Add(-30*time.Hour))
	decided := f.alerted(t, "decided@example.com", owner, now.Add(-50*time.Hour))
	f.alerted(t, "elsewhere@example.com", "emea@acme.example", now.Add(-3*time.Hour))
	if _, err := f.store.UpdateLead(context.Background(), newer, func(l *lead.Lead, _ bool) error {
		l.Name, l.Company = "Grace O'Hopper", "Compilers & Co"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sales.Desk.Decide(context.Background(), decided, sales.Decision{Accept: true, At: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.UpdateLead(context.Background(), older, func(l *lead.Lead, _ bool) error {
		l.Wake(l.SLA.Since.Add(5 * time.Hour)) // reminded (and its reminder sent), not escalated
		l.PendingAlerts = nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	resp := f.do(t, linkEvent(t, "inbox-page.json", sales.InboxToken(f.signer, owner, now)))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /i answered %d:\n%s", resp.StatusCode, resp.Body)
	}
	body := resp.Body
	if resp.Headers["content-security-policy"] == "" || resp.Headers["x-robots-tag"] != "noindex, nofollow" || strings.Contains(body, "<script") {
		t.Fatalf("headers %v", resp.Headers)
	}
	rows := inboxRowRe.FindAllStringSubmatch(body, -1)
	if len(rows) != 2 || rows[0][2] != "Ada Lovelace" || rows[1][2] != "Grace O&#39;Hopper" {
		t.Fatalf("rows %q; want the older lead, then the newer, not the decided or another owner's:\n%s", rows, body)
	}
	for _, want := range []string{
		`<p id="count" class="count">2 leads wait for your decision, the longest waiting first.</p>`,
		"sales@acme.example", "waiting <time", ">30 hours</time>", ">2 hours</time>",
		`<li class="overdue">`, "reminded on ", "escalates on ", "reminder due ", "Compilers &amp; Co", "score <strong>",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the inbox lacks %q", want)
		}
	}
	// Each dossier link is fresh, beside the inbox's own path, and decides
	// as the owner.
	for i, id := range []string{older, newer} {
		path := rows[i][1]
		tok, ok := strings.CutPrefix(path, "/s/")
		if !ok {
			t.Fatalf("dossier link %q", path)
		}
		c, err := f.signer.Verify(tok, token.PurposeDossier, now.Add(sales.LinkTTL-time.Minute))
		if alertID, via := sales.ParseRef(c.Ref); err != nil || c.LeadID != id || alertID != "alert-"+id[:6] || via != sales.ViaInbox {
			t.Errorf("row %d: claims %+v, %v", i, c, err)
		}
	}
	accepts := inboxAcceptRe.FindAllStringSubmatch(body, -1)
	if len(accepts) != 2 {
		t.Fatalf("accept links %q", accepts)
	}
	if c, err := f.signer.Verify(strings.TrimPrefix(accepts[0][1], "/s/"), token.PurposeAccept, now); err != nil || c.LeadID != older {
		t.Fatalf("the first row's Accept link: %+v, %v", c, err)
	}
	d := f.do(t, withBody(linkEvent(t, "sales-accept.json", strings.TrimPrefix(accepts[0][1], "/s/")), url.Values{"action": {"accept"}}))
	if d.StatusCode != http.StatusOK || f.mustLead(t, older).Sales.By != owner {
		t.Fatalf("accept from the inbox: %d %+v", d.StatusCode, f.mustLead(t, older).Sales)
	}
	after := f.do(t, linkEvent(t, "inbox-page.json", sales.InboxToken(f.signer, owner, now)))
	if rows := inboxRowRe.FindAllStringSubmatch(after.Body, -1); len(rows) != 1 || strings.Contains(after.Body, "Ada Lovelace") {
		t.Fatalf("after the accept the inbox lists %q", rows)
	}
}

func TestInbox_nothingOpen_saysSo(t *testing.T) {
	f := newSalesFixture(t)
	resp := f.do(t, linkEvent(t, "inbox-page.json", sales.InboxToken(f.signer, "nobody@acme.example", f.clock.Now())))
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "No lead waits for your decision.") {
		t.Fatalf("%d\n%s", resp.StatusCode, resp.Body)
	}
}

func TestInbox_underABasePath_linksStayUnderIt(t *testing.T) {
	f := newSalesFixture(t)
	f.alerted(t, "ada@example.com", "sales@acme.example", f.clock.Now().Add(-time.Hour))
	req := linkEvent(t, "inbox-page.json", sales.InboxToken(f.signer, "sales@acme.example", f.clock.Now()))
	req.RawPath = "/prod" + req.RawPath
	rows := inboxRowRe.FindAllStringSubmatch(f.do(t, req).Body, -1)
	if len(rows) != 1 || !strings.HasPrefix(rows[0][1], "/prod/s/") {
		t.Fatalf("rows %q", rows)
	}
}

func TestInbox_badLinksAndPosts(t *testing.T) {
	f := newSalesFixture(t)
	id := f.alerted(t, "ada@example.com", "sales@acme.example", f.clock.Now().Add(-time.Hour))
	want := handleLink(t, f.links, linkEvent(t, "unsubscribe-page.json", "not-a-token"))
	now := f.clock.Now()
	for name, tok := range map[string]string{
		"a dossier token": f.token(token.PurposeDossier, id),
		"expired":         f.signer.Sign(token.Claims{Purpose: token.PurposeInbox, Ref: "sales@acme.example", Expires: now}),
		"garbage":         "not-a-token",
	} {
		if got := f.do(t, linkEvent(t, "inbox-page.json", tok)); !sameResponse(got, want) {
			t.Errorf("%s: %d, want the invalid-link page", name, got.StatusCode)
		}
	}
	post := linkEvent(t, "inbox-page.json", sales.InboxToken(f.signer, "sales@acme.example", now))
	post.RouteKey = "POST /i/{token}"
	post.RequestContext.HTTP.Method = http.MethodPost
	if got := f.do(t, post); got.StatusCode != http.StatusMethodNotAllowed || got.Headers["allow"] != "GET" {
		t.Fatalf("POST /i: %d %v", got.StatusCode, got.Headers)
	}
	// An inbox token is no good on the sales page either.
	if got := f.do(t, linkEvent(t, "dossier-page.json", sales.InboxToken(f.signer, "sales@acme.example", now))); !sameResponse(got, want) {
		t.Fatalf("an inbox token on /s: %d", got.StatusCode)
	}
}

func TestSales_expiredLink_offersAFreshOne_toTheOwner_never_toTheHolder(t *testing.T) {
	f := newSalesFixture(t)
	now := f.clock.Now()
	id := f.alerted(t, "ada@example.com", "sales@acme.example", now.Add(-40*24*time.Hour))
	alertID := f.mustLead(t, id).SLA.Alert
	before := f.mustLead(t, id)
	old := f.signer.Sign(token.Claims{Purpose: token.PurposeAccept, LeadID: id, Ref: alertID, Expires: now.Add(-10 * 24 * time.Hour)})

	page := f.do(t, linkEvent(t, "sales-accept-page.json", old))
	if page.StatusCode != httpapi.ExpiredLinkStatus || !strings.Contains(page.Body, "<h1>This link has expired</h1>") ||
		!strings.Contains(page.Body, `<form method="post" action="/s/`+old+`"><input type="hidden" name="action" value="fresh-link"><button type="submit">Send a fresh link to sales@acme.example</button></form>`) {
		t.Fatalf("GET of an expired link answered %d:\n%s", page.StatusCode, page.Body)
	}
	// A decision through it changes nothing.
	if r := f.do(t, linkEvent(t, "sales-accept.json", old)); r.StatusCode != httpapi.ExpiredLinkStatus || f.mustLead(t, id).Version != before.Version {
		t.Fatalf("accept through an expired link: %d", r.StatusCode)
	}

	ask := withBody(linkEvent(t, "sales-accept.json", old), url.Values{"action": {"fresh-link"}})
	for range 3 { // asked again and again: one link an hour
		r := f.do(t, ask)
		if r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "A fresh link is on its way") || !strings.Contains(r.Body, "sales@acme.example") {
			t.Fatalf("POST fresh-link answered %d:\n%s", r.StatusCode, r.Body)
		}
	}
	l := f.mustLead(t, id)
	if len(l.PendingAlerts) != 1 {
		t.Fatalf("pending %+v, want one fresh link", l.PendingAlerts)
	}
	p := l.PendingAlerts[0]
	if p.Kind != lead.FollowLink || p.To != "sales@acme.example" || p.Of != alertID || p.Threshold != "mql" || !p.Ready() || l.Outbox() == nil {
		t.Fatalf("fresh link %+v, outbox %v", p, l.Outbox())
	}
	if l.Sales != nil || l.SLA == nil {
		t.Fatalf("asking for a link decided something: %+v %+v", l.Sales, l.SLA)
	}
	// An hour later it may be asked for again.
	f.clock.Advance(time.Hour)
	f.do(t, ask)
	if n := len(f.mustLead(t, id).PendingAlerts); n != 2 {
		t.Fatalf("%d pending an hour later, want 2", n)
	}
}
