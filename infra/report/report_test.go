package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/local/sestrack"
	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/report"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/token"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const (
	readerAgent  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"
	scannerAgent = "Mimecast Web Security Service"
	// Apple Mail Privacy Protection opens every message as this.
	privacyProxy = "Mozilla/5.0"
)

// history is the product as the functions build it (testworld), with the
// scheduler's mail going through the local stack's stand-in for the SES
// configuration set: it publishes every message's Send and Delivery events
// and records clicks and opens on its tracked links, each handed to the
// engagement handler and kept, to be delivered again.
type history struct {
	*testworld.World
	tracker *sestrack.Tracker
	api     *httptest.Server
	rollup  *report.Rollup

	mu     sync.Mutex
	events []json.RawMessage
}

func newHistory(t *testing.T) *history {
	t.Helper()
	h := &history{World: testworld.New(t, testworld.Options{Name: "report"})}
	h.tracker = &sestrack.Tracker{
		Mailer: h.SES, ConfigurationSet: "nurture-test", Clock: h.Clock, Log: h.Log,
		Publish: func(ctx context.Context, raw json.RawMessage) error {
			h.mu.Lock()
			h.events = append(h.events, append(json.RawMessage(nil), raw...))
			h.mu.Unlock()
			return h.App.HandleSESEvent(ctx, raw)
		},
	}
	h.api = httptest.NewServer(h.tracker.Handler())
	t.Cleanup(h.api.Close)
	h.tracker.BaseURL = h.api.URL
	h.Scheduler.Mailer = h.tracker
	h.rollup = &report.Rollup{Program: h.Program, Journal: h.Store, Shelf: h.Store, Log: h.Log}
	return h
}

// capture posts a website form as API Gateway hands it to the capture
// function.
func (h *history) capture(formID string, fields url.Values) string {
	h.T.Helper()
	fields.Set("consent", "yes")
	res, err := h.App.Forms.Handle(context.Background(), testworld.FormPost(formID, fields, h.Clock.Now()))
	if err != nil || res.StatusCode >= 400 {
		h.T.Fatalf("post form %s: %d %v\n%s", formID, res.StatusCode, err, res.Body)
	}
	h.Drain()
	id := testenv.LeadID(fields.Get("email"))
	if l := h.Lead(id); l.Unconfirmed() {
		h.Confirm(id) // double opt-in: the person confirms the address
	}
	return id
}

var hrefRE = regexp.MustCompile(`href="([^"]*)"`)

// nurtureMail is the one nurture email SES local holds for the lead.
func (h *history) nurtureMail(addr string) (htmlBody, text string) {
	h.T.Helper()
	mail := h.MailTo(addr)
	for _, m := range mail {
		if strings.Contains(m.HTML, sestrack.OpenPath) && testworld.ConfirmLink(m) == "" {
			return m.HTML, m.Text
		}
	}
	h.T.Fatalf("no nurture email to %s among %d", addr, len(mail))
	return "", ""
}

// visit GETs a tracked URL of an email as a browser with the user agent
// would (not following the redirect).
func (h *history) visit(rawURL, agent string) *http.Response {
	h.T.Helper()
	req, _ := http.NewRequest(http.MethodGet, rawURL, nil)
	req.Header.Set("User-Agent", agent)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		h.T.Fatal(err)
	}
	resp.Body.Close()
	h.Drain()
	return resp
}

// clickAsset clicks the email's first tracked link, its asset button.
func (h *history) clickAsset(addr, agent string) {
	h.T.Helper()
	body, _ := h.nurtureMail(addr)
	for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
		if u := html.UnescapeString(m[1]); strings.HasPrefix(u, h.api.URL+sestrack.ClickPath) {
			if resp := h.visit(u, agent); resp.StatusCode != http.StatusFound {
				h.T.Fatalf("click %s: %d", u, resp.StatusCode)
			}
			return
		}
	}
	h.T.Fatalf("no tracked link in the email to %s", addr)
}

var pixelRE = regexp.MustCompile(`<img src="([^"]*` + regexp.QuoteMeta(sestrack.OpenPath) + `[^"]*)"`)

func (h *history) open(addr, agent string) {
	h.T.Helper()
	body, _ := h.nurtureMail(addr)
	m := pixelRE.FindStringSubmatch(body)
	if m == nil {
		h.T.Fatalf("no open pixel in the email to %s", addr)
	}
	h.visit(html.UnescapeString(m[1]), agent)
}

// textLink is the URL the email's plain-text part gives for label.
func textLink(t *testing.T, text, label string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)` + regexp.QuoteMeta(label) + `: (https://\S+)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no %q link in:\n%s", label, text)
	}
	return m[1]
}

// press opens a link in mail and presses its page's button.
func (h *history) press(rawURL string, form url.Values) {
	h.T.Helper()
	if resp := h.Open(http.MethodGet, rawURL, nil); resp.StatusCode != http.StatusOK {
		h.T.Fatalf("GET %s: %d\n%s", rawURL, resp.StatusCode, resp.Body)
	}
	if resp := h.Open(http.MethodPost, rawURL, form); resp.StatusCode != http.StatusOK {
		h.T.Fatalf("POST %s: %d\n%s", rawURL, resp.StatusCode, resp.Body)
	}
	h.Drain()
}

// crossAgain brings a nurtured lead one point under the MQL threshold and
// has it post a second form: the returning capture crosses, and the
// alerts function mails the alert.
func (h *history) crossAgain(id, formID string, fields url.Values) {
	h.T.Helper()
	h.OneBelowTheThreshold(id)
	h.capture(formID, fields)
	if l := h.Lead(id); len(l.Alerts) == 0 {
		h.T.Fatalf("no alert for %s: %+v", id, l.Score)
	}
}

// alertLink is a decision link of the lead's alert email to sales.
func (h *history) alertLink(addr, label string) string {
	h.T.Helper()
	for _, o := range h.Program.Owners() {
		for _, m := range h.MailTo(o.Address) {
			if strings.Contains(m.Text, addr) && strings.Contains(m.Text, label+": ") {
				return textLink(h.T, m.Text, label)
			}
		}
	}
	h.T.Fatalf("no alert about %s with %q", addr, label)
	return ""
}

// play drives the scripted history and returns the end of it.
//
//	ada  finops-guide form; step 1 mailed and delivered; opens it as a
//	     reader, clicks its asset, answers its question, rates it useful;
//	     posts a second form (returning), crosses MQL; sales accepts.
//	bob  cost-of-nines form; step 1 mailed and delivered; Apple's proxy
//	     opens it, a scanner clicks it; rates it not useful; posts a second
//	     form, crosses MQL; sales returns it, "not ready".
//	cy   finops-guide form; step 1; writes what would help; unsubscribes.
//	dee  slo-primer form; step 1; nothing more.
func (h *history) play() {
	t := h.T
	ada, bob, cy, dee := h.Email("ada"), h.Email("bob"), h.Email("cy"), h.Email("dee")
	adaID := h.capture("finops-guide", url.Values{"email": {ada}, "name": {"Ada Lovelace"}, "company": {"Engines"}, "companySize": {"51-500"}})
	bobID := h.capture("cost-of-nines", url.Values{"email": {bob}, "name": {"Bob"}, "company": {"Banking Co"}, "industry": {"finance"}, "companySize": {"5000+"}})
	cyID := h.capture("finops-guide", url.Values{"email": {cy}, "company": {"Cy Ltd"}})
	deeID := h.capture("slo-primer", url.Values{"email": {dee}})
	// Step 1 for all four, in one tick once all are due.
	for _, id := range []string{adaID, bobID, cyID, deeID} {
		if due := h.Lead(id).Nurture.DueAt; due.After(h.Clock.Now()) {
			h.Clock.Set(due)
		}
	}
	h.Tick()
	h.Drain()
	for _, id := range []string{adaID, bobID, cyID, deeID} {
		if n := h.Lead(id).Nurture.Emails; n != 1 {
			t.Fatalf("lead %s has %d emails, want step 1", id, n)
		}
	}
	// Readers come later than scanners: past the bot window.
	h.Clock.Set(h.Clock.Now().Add(10 * time.Minute))
	h.open(ada, readerAgent)
	h.clickAsset(ada, readerAgent)
	h.open(bob, privacyProxy)
	h.clickAsset(bob, scannerAgent)

	_, adaText := h.nurtureMail(ada)
	h.press(textLink(t, adaText, "- Gathering information for a purchase"), url.Values{})
	h.press(textLink(t, adaText, "- Yes"), url.Values{})
	_, bobText := h.nurtureMail(bob)
	h.press(textLink(t, bobText, "- Not really"), url.Values{})
	// "What would help you most next?", answered with something else and a
	// few words, on the link every third email carries.
	cyLead := h.Lead(cyID)
	step := cyLead.Nurture.Sent[0]
	help := link.Help.URL(testworld.BaseURL, h.Signer.Sign(token.Claims{Purpose: token.PurposeHelp, LeadID: cyID,
		Track: step.Track, Step: step.Step, Ref: step.AssetID + "=", Expires: h.Clock.Now().Add(time.Hour)}))
	h.press(help, url.Values{"words": {"=A checklist for <b>Kubernetes</b> costs"}})
	_, cyText := h.nurtureMail(cy)
	h.press(textLink(t, cyText, "Unsubscribe"), url.Values{})

	h.Clock.Set(h.Clock.Now().Add(time.Hour))
	h.crossAgain(adaID, "downtime-report", url.Values{"email": {ada}, "company": {"Engines"}})
	h.crossAgain(bobID, "slo-primer", url.Values{"email": {bob}})
	h.Clock.Set(h.Clock.Now().Add(time.Hour))
	h.press(h.alertLink(ada, "Accept"), url.Values{"action": {"accept"}})
	h.press(h.alertLink(bob, "Return to nurture"), url.Values{"action": {"return"}, "reason": {"not-ready"}})
	if l := h.Lead(adaID); l.Sales == nil || l.Sales.Status != lead.SalesAccepted {
		t.Fatalf("ada not accepted: %+v", l.Sales)
	}
	_ = deeID
}

// redeliver hands every SES event published so far to the engagement
// handler again, as EventBridge may.
func (h *history) redeliver() int {
	h.T.Helper()
	h.mu.Lock()
	evs := append([]json.RawMessage(nil), h.events...)
	h.mu.Unlock()
	for _, raw := range evs {
		if err := h.App.HandleSESEvent(context.Background(), raw); err != nil {
			h.T.Fatal(err)
		}
	}
	h.Drain()
	return len(evs)
}

// makeReport is `make report` with the options, as of the world's clock.
func (h *history) makeReport(o Options) string {
	h.T.Helper()
	var out bytes.Buffer
	if err := Run(context.Background(), h.rollup, o, h.Clock.Now(), &out); err != nil {
		h.T.Fatalf("make report %+v: %v", o, err)
	}
	return out.String()
}

// csvTable reads one table of `make report FORMAT=csv TABLE=id` by its
// first column.
func (h *history) csvTable(o Options, id string) map[string][]string {
	h.T.Helper()
	o.Format, o.Table = "csv", id
	rows, err := csv.NewReader(strings.NewReader(h.makeReport(o))).ReadAll()
	if err != nil {
		h.T.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range rows[1:] {
		out[r[0]] = r[1:]
	}
	return out
}

// want is what the script did, as the report must count it.
var wantFunnel = map[string]string{
	"Leads captured": "6", "new": "4", "returning": "2", "Enrolled in a track": "4",
	"Emails mailed": "4", "Emails delivered": "4",
	"Opens by people": "1", "Opens by machines": "1", "Clicks by people": "1", "Clicks by machines": "1",
	"Answers": "1", "Unsubscribes": "1", "Bounces": "0", "Complaints": "0",
	"Sales-ready (mql)": "2", "Sales-ready (hot)": "0", "Accepted by sales": "1", "Returned to nurture": "1",
	"returned: not-ready": "1", "returned: no-budget": "0",
}

func (h *history) checkNumbers(o Options) {
	t := h.T
	t.Helper()
	funnel := h.csvTable(o, "funnel")
	for step, want := range wantFunnel {
		if got := funnel[step]; len(got) != 1 || got[0] != want {
			t.Errorf("funnel %q = %v, want %s", step, got, want)
		}
	}
	seeds := h.csvTable(o, "seeds")
	for measure, want := range map[string][]string{
		"Sales-ready leads decided within the SLA": {"2", "2", "100.0%"},
		"Sales-ready leads not decided yet":        {"0", "2", "0.0%"},
		"New leads that became sales-ready":        {"2", "4", "50.0%"},
	} {
		if got := seeds[measure]; strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("seeds %q = %v, want %v", measure, got, want)
		}
	}
	industry := h.csvTable(o, "by-industry")
	// Bob is the one lead that said its industry; it crossed and was returned.
	if got := industry["finance"]; len(got) < 5 || got[0] != "2" || got[1] != "1" || got[4] != "1" {
		t.Errorf("by industry, finance = %v, want 2 captured, 1 new, 1 mailed", got)
	}
	ratings := h.csvTable(o, "ratings")
	if len(ratings) == 0 {
		t.Errorf("no ratings table rows")
	}
	words := h.makeReport(Options{From: o.From, To: o.To, Table: "words", Format: "csv"})
	if !strings.Contains(words, "'=A checklist for <b>Kubernetes</b> costs") {
		t.Errorf("the words, formula-safe, not in the CSV:\n%s", words)
	}
	text := h.makeReport(Options{From: o.From, To: o.To})
	for _, want := range []string{"Leads captured", "Clicks by machines", "== Content performance", "== Content gaps", "== In their own words"} {
		if !strings.Contains(text, want) {
			t.Errorf("make report's text has no %q:\n%s", want, text)
		}
	}
}

// The done-when: a known scripted history through the real
// handlers; make report (text and CSV) shows exactly those numbers; they
// stay exact after every SES event is delivered again and the rollup is
// re-run.
func TestReport_scriptedHistory_exactNumbers_againAfterRedeliveryAndRerun(t *testing.T) {
	h := newHistory(t)
	h.play()
	now := h.Clock.Now()
	o := Options{From: report.Day(testenv.Tuesday).Format(report.DateLayout), To: report.Day(now).Format(report.DateLayout)}

	// Live from the journal, before any rollup ran.
	h.checkNumbers(o)
	live := h.makeReport(Options{From: o.From, To: o.To, Format: "csv"})

	// The rollup as scheduled, and the days rebuilt: the same numbers.
	if err := h.rollup.Run(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	rolled := h.makeReport(Options{From: o.From, To: o.To, Format: "csv", Rebuild: true})
	if rolled != live {
		t.Errorf("the rolled-up report differs from the live one:\n%s\n---\n%s", rolled, live)
	}
	h.checkNumbers(o)

	// Every SES event again, the rollup again: nothing changes.
	if n := h.redeliver(); n < 10 {
		t.Fatalf("only %d SES events were published", n)
	}
	if err := h.rollup.Run(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	again := h.makeReport(Options{From: o.From, To: o.To, Format: "csv", Rebuild: true})
	if again != live {
		t.Errorf("after redelivery and a re-run the report changed:\n%s\n---\n%s", again, live)
	}
	h.checkNumbers(o)
}

// The kinds the report reads are the sales package's.
func TestKinds_areTheSalesPackages(t *testing.T) {
	if sales.KindAlert != "alert" || sales.KindDecision != "sales" {
		t.Fatalf("sales kinds are %q and %q; shared/report counts \"alert\" and \"sales\"", sales.KindAlert, sales.KindDecision)
	}
}
