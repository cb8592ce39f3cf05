package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/limit"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

// withLimits counts the fixture's form posts with the shipped policy in
// its own table, as the product does.
func (f *fixture) withLimits() *limit.Limiter {
	l := &limit.Limiter{Policy: limit.Default(), Counter: f.store, Clock: f.clock}
	f.capture.Limits = l
	f.capture.Capturer.Limits = l
	return l
}

// postFrom posts a valid form for email from a source IP.
func (f *fixture) postFrom(t *testing.T, ip, email string) httpapi.Response {
	t.Helper()
	form := f.prog.Forms[0]
	v := validValues(f, form, email)
	v.Set("submission", "n-"+email+"-"+strconv.FormatInt(f.clock.Now().UnixNano(), 36))
	req := formPost(form.ID, v, f.clock.Now())
	req.RequestContext.HTTP.SourceIP = ip
	return f.handle(t, req)
}

// One client posts the shipped limit's Max forms (some of them junk: they
// count too), the next is answered 429 with Retry-After and a page saying
// when to try again, and stores nothing; another client is not affected;
// after the window the client posts again.
func TestCapture_perIPLimit_429AtNPlusOne_resetsAfterTheWindow(t *testing.T) {
	f := newFixture(t)
	lim := f.withLimits()
	rule := lim.Policy.CaptureIP
	start := f.clock.Now()
	windowEnd := start.Truncate(rule.Window).Add(rule.Window)
	for i := range rule.Max {
		if i%5 == 4 { // a bad address: refused, and counted
			if resp := f.postFrom(t, "198.51.100.4", fmt.Sprintf("bad%d@@example.com", i)); resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("post %d: a bad address answered %d", i+1, resp.StatusCode)
			}
			continue
		}
		if resp := f.postFrom(t, "198.51.100.4", fmt.Sprintf("p%d@example.com", i)); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("post %d of %d answered %d: %s", i+1, rule.Max, resp.StatusCode, resp.Body)
		}
	}
	over := f.postFrom(t, "198.51.100.4", "over@example.com")
	wait := int(windowEnd.Sub(start).Seconds())
	if over.StatusCode != http.StatusTooManyRequests || over.Headers["retry-after"] != strconv.Itoa(wait) {
		t.Fatalf("post %d answered %d, retry-after %q; want 429, %d", rule.Max+1, over.StatusCode, over.Headers["retry-after"], wait)
	}
	minutes := fmt.Sprintf("try again in %d minutes", (wait+59)/60)
	if !strings.Contains(over.Body, "Too many requests") || !strings.Contains(over.Body, minutes) {
		t.Errorf("the page does not say what happened and when to retry (%q):\n%s", minutes, over.Body)
	}
	if l, _ := f.lead(t, "over@example.com"); l != nil {
		t.Error("the refused post stored its lead")
	}
	// A script reading JSON is told the same.
	form := f.prog.Forms[0]
	js := formPost(form.ID, validValues(f, form, "js@example.com"), start)
	js.Headers["accept"] = "*/*"
	js.RequestContext.HTTP.SourceIP = "198.51.100.4"
	resp := f.handle(t, js)
	var body struct{ Error string }
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body.Error, minutes) {
		t.Errorf("JSON: %d %s", resp.StatusCode, resp.Body)
	}

	if resp := f.postFrom(t, "198.51.100.5", "neighbour@example.com"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another client answered %d", resp.StatusCode)
	}
	f.clock.Set(windowEnd)
	if resp := f.postFrom(t, "198.51.100.4", "later@example.com"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("after the window the client answered %d: %s", resp.StatusCode, resp.Body)
	}
}

// One address posted again and again, each time from another IP (under
// every per-IP limit): the address's limit stops it, and its timeline
// holds only the posts that passed.
func TestCapture_perAddressLimit_fromManyIPs(t *testing.T) {
	f := newFixture(t)
	rule := f.withLimits().Policy.CaptureAddress
	for i := range rule.Max {
		if resp := f.postFrom(t, fmt.Sprintf("198.51.100.%d", i+1), "pumped@example.com"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("post %d answered %d: %s", i+1, resp.StatusCode, resp.Body)
		}
		f.clock.Advance(time.Second)
	}
	over := f.postFrom(t, "198.51.100.200", "pumped@example.com")
	if over.StatusCode != http.StatusTooManyRequests || over.Headers["retry-after"] == "" {
		t.Fatalf("post %d for one address answered %d (retry-after %q), want 429", rule.Max+1, over.StatusCode, over.Headers["retry-after"])
	}
	if _, acts := f.lead(t, "pumped@example.com"); len(acts) != rule.Max {
		t.Errorf("%d downloads stored, want %d", len(acts), rule.Max)
	}
	if resp := f.postFrom(t, "198.51.100.200", "someone-else@example.com"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another address from that IP answered %d", resp.StatusCode)
	}
}

// The table throttling the counters must not lose a lead: every post is
// stored (fail open), the log says the limit was not counted, and no post
// is answered 5xx.
func TestCapture_limiterThrottled_failsOpen_everyLeadStored(t *testing.T) {
	f := newFixture(t)
	var logs bytes.Buffer
	lim := &limit.Limiter{Policy: limit.Default(), Counter: store.New(testenv.ThrottledDynamo(t), "throttled", store.Options{}),
		Clock: f.clock, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	f.capture.Limits, f.capture.Capturer.Limits = lim, lim
	n := lim.Policy.CaptureIP.Max + 5
	for i := range n {
		email := fmt.Sprintf("kept%d@example.com", i)
		if resp := f.postFrom(t, "198.51.100.4", email); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("post %d answered %d: %s", i+1, resp.StatusCode, resp.Body)
		}
		if l, _ := f.lead(t, email); l == nil {
			t.Fatalf("lead %d lost", i+1)
		}
	}
	if c := strings.Count(logs.String(), "limit not counted; allowed"); c != 2*n {
		t.Errorf("%d log lines say a limit was not counted, want %d (IP and address, per post)", c, 2*n)
	}
}

// A flood of junk unsubscribe links from the readers' own IP, around real
// one-click unsubscribes from it: every real one succeeds, every junk one
// gets the invalid-link page, and the junk costs not one write (so it can
// use up no limit and no capacity a real link needs).
func TestLinks_junkUnsubscribeFlood_realOneClicksAllSucceed(t *testing.T) {
	f := newLinksFixture(t)
	lim := &limit.Limiter{Policy: limit.Default(), Counter: f.store, Clock: f.clock}
	f.links.Limits = lim
	const ip, readers = "198.51.100.9", 12
	ids := make([]string, readers)
	for i := range ids {
		ids[i] = f.newLead(t, fmt.Sprintf("reader%d@example.com", i))
	}
	junk := func(i int) httpapi.Request {
		paths := []string{"/u/x", "/u/" + strings.Repeat("A", 200), "/u/" + f.unsubToken(ids[0])[:40], "/u/%00"}
		req := testworld.LinkRequest(http.MethodPost, "https://api.example"+paths[i%len(paths)], url.Values{"List-Unsubscribe": {"One-Click"}}, f.clock.Now())
		req.RequestContext.HTTP.SourceIP = ip
		return req
	}
	writes := f.store.Usage().Write()
	for i := range 3 * lim.Policy.LinkIP.Max {
		if resp := f.do(t, junk(i)); resp.StatusCode != httpapi.InvalidLinkStatus {
			t.Fatalf("junk %d answered %d", i, resp.StatusCode)
		}
	}
	if w := f.store.Usage().Write() - writes; w != 0 {
		t.Errorf("the junk cost %.1f write units, want none", w)
	}
	for i, id := range ids {
		for j := range 20 {
			f.do(t, junk(j))
		}
		req := linkEvent(t, "unsubscribe-one-click.json", f.unsubToken(id))
		req.RequestContext.HTTP.SourceIP = ip
		if resp := f.do(t, req); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "You are unsubscribed") {
			t.Fatalf("real unsubscribe %d answered %d: %s", i+1, resp.StatusCode, resp.Body)
		}
		if f.mustLead(t, id).Mailable() {
			t.Fatalf("reader %d still mailable", i+1)
		}
	}
}

// Valid link posts are limited per lead and per IP (429, nothing changed),
// but an unsubscribe never is: from the very client and for the very lead
// that used their limits up, it still works.
func TestLinks_limitedPosts_butNeverAnUnsubscribe(t *testing.T) {
	f := newLinksFixture(t)
	lim := &limit.Limiter{Policy: limit.Default(), Counter: f.store, Clock: f.clock}
	f.links.Limits = lim
	id := f.newLead(t, "busy@example.com")
	q, _ := f.prog.Question("industry")
	post := func(ip, leadID string) httpapi.Response {
		req := linkEvent(t, "answer-confirm.json", f.answerToken(leadID, q.ID+"="+q.Options[1].Value))
		req.RequestContext.HTTP.SourceIP = ip
		return f.do(t, req)
	}
	for i := range lim.Policy.LinkLead.Max {
		if resp := post(fmt.Sprintf("198.51.100.%d", i+1), id); resp.StatusCode != http.StatusOK {
			t.Fatalf("answer %d answered %d", i+1, resp.StatusCode)
		}
	}
	over := post("198.51.100.250", id)
	if over.StatusCode != http.StatusTooManyRequests || over.Headers["retry-after"] == "" || !strings.Contains(over.Body, "Nothing was changed") {
		t.Fatalf("answer %d for one lead answered %d (retry-after %q): %s", lim.Policy.LinkLead.Max+1, over.StatusCode, over.Headers["retry-after"], over.Body)
	}
	unsub := linkEvent(t, "unsubscribe-one-click.json", f.unsubToken(id))
	unsub.RequestContext.HTTP.SourceIP = "198.51.100.250"
	if resp := f.do(t, unsub); resp.StatusCode != http.StatusOK || f.mustLead(t, id).Mailable() {
		t.Fatalf("the lead's unsubscribe after its limit answered %d: %s", resp.StatusCode, resp.Body)
	}

	// One IP posting for many leads: the IP's limit, then still its unsubscribes.
	other := f.newLead(t, "other@example.com")
	for i := range lim.Policy.LinkIP.Max {
		resp := post("203.0.113.99", token.PurposeAnswer+strconv.Itoa(i)) // leads of their own, each under its limit
		if resp.StatusCode == http.StatusTooManyRequests {
			t.Fatalf("post %d of one IP refused under its limit", i+1)
		}
	}
	if resp := post("203.0.113.99", other); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("post %d of one IP answered %d, want 429", lim.Policy.LinkIP.Max+1, resp.StatusCode)
	}
	unsub = linkEvent(t, "unsubscribe-one-click.json", f.unsubToken(other))
	unsub.RequestContext.HTTP.SourceIP = "203.0.113.99"
	if resp := f.do(t, unsub); resp.StatusCode != http.StatusOK || f.mustLead(t, other).Mailable() {
		t.Fatalf("the limited IP's unsubscribe answered %d: %s", resp.StatusCode, resp.Body)
	}
	if l := f.mustLead(t, other); len(l.Answers) != 0 {
		t.Errorf("the refused answer changed the lead: %v", l.Answers)
	}
}

// With double opt-in, every new address costs a confirmation email: one
// client may ask for only so many an hour (ConfirmIP), below its form-post
// limit. A known lead posting again costs no confirmation and is not
// refused, and another client is not affected.
func TestCapture_confirmationLimit_newAddressesPerIP_knownLeadsPass(t *testing.T) {
	f := newFixture(t)
	shipped, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	if !shipped.NeedsConfirmation(shipped.Forms[0], "") {
		t.Fatal("the shipped program's first form should ask to confirm")
	}
	f.prog, f.capture.Capturer.Program = shipped, shipped
	lim := f.withLimits()
	f.capture.Capturer.Known = f.store
	rule := lim.Policy.ConfirmIP
	if rule.Max >= lim.Policy.CaptureIP.Max {
		t.Fatalf("the confirmation limit (%d) should be below the form-post limit (%d)", rule.Max, lim.Policy.CaptureIP.Max)
	}
	for i := range rule.Max {
		if resp := f.postFrom(t, "198.51.100.9", fmt.Sprintf("new%d@example.com", i)); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("new address %d answered %d: %s", i+1, resp.StatusCode, resp.Body)
		}
	}
	over := f.postFrom(t, "198.51.100.9", "one-too-many@example.com")
	if over.StatusCode != http.StatusTooManyRequests || over.Headers["retry-after"] == "" {
		t.Fatalf("new address %d from one client answered %d (retry-after %q), want 429", rule.Max+1, over.StatusCode, over.Headers["retry-after"])
	}
	if l, _ := f.lead(t, "one-too-many@example.com"); l != nil {
		t.Error("the refused post stored its lead, and would be mailed a confirmation")
	}
	if resp := f.postFrom(t, "198.51.100.9", "new0@example.com"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a known lead posting again answered %d, want it stored", resp.StatusCode)
	}
	if resp := f.postFrom(t, "198.51.100.10", "neighbour@example.com"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("another client answered %d", resp.StatusCode)
	}
}
