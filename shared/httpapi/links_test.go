package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/engagement"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

type linksFixture struct {
	*fixture
	key    token.Key
	signer *token.Signer // signs the links the tests follow
	links  *httpapi.Links
	logs   *syncBuffer
}

// syncBuffer collects log lines written by concurrent requests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newKey(t testing.TB, id string) token.Key {
	t.Helper()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		t.Fatal(err)
	}
	return token.Key{ID: id, Secret: secret}
}

func newSigner(t testing.TB, keys ...token.Key) *token.Signer {
	t.Helper()
	s, err := token.NewSigner(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newLinksFixture adds the link handler to the capture fixture: its own
// table on DynamoDB Local, a fixed clock and a fresh signing key.
func newLinksFixture(t testing.TB) *linksFixture {
	t.Helper()
	f := newFixture(t)
	key := newKey(t, "k1")
	signer := newSigner(t, key)
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	return &linksFixture{
		fixture: f,
		key:     key,
		signer:  signer,
		logs:    logs,
		links:   f.linksWith(signer, f.store, log),
	}
}

func (f *fixture) linksWith(signer *token.Signer, st engagement.Store, log *slog.Logger) *httpapi.Links {
	if log == nil {
		log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	return &httpapi.Links{
		Engagement: &engagement.Service{Program: f.prog, Store: st, Log: log, LeadIDs: testenv.LeadIDs},
		Signer:     signer,
		Program:    f.prog,
		Clock:      f.clock,
		Log:        log,
	}
}

// newLead captures a lead through the capture handler, as a form post would.
func (f *linksFixture) newLead(t testing.TB, email string) string {
	t.Helper()
	form := f.prog.Forms[0]
	resp, err := f.capture.Handle(context.Background(), formPost(form.ID, validValues(f.fixture, form, email), f.clock.Now()))
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("capture %s: %d %v %s", email, resp.StatusCode, err, resp.Body)
	}
	return testenv.LeadID(email)
}

// sign makes the token a nurture email would carry, valid for 30 days.
func sign(s *token.Signer, purpose, leadID, ref string, now time.Time) string {
	return s.Sign(token.Claims{Purpose: purpose, LeadID: leadID, Track: "cloud-cost", Step: 1, Ref: ref, Expires: now.Add(30 * 24 * time.Hour)})
}

func (f *linksFixture) unsubToken(leadID string) string {
	return sign(f.signer, token.PurposeUnsubscribe, leadID, "", f.clock.Now())
}

func (f *linksFixture) answerToken(leadID, ref string) string {
	return sign(f.signer, token.PurposeAnswer, leadID, ref, f.clock.Now())
}

// linkEvent reads a sample from events/links and puts tok where the sample's
// token is: a static sample cannot carry a token for the test's random key.
func linkEvent(t testing.TB, name, tok string) httpapi.Request {
	t.Helper()
	return testworld.LinkEvent(t, name, tok)
}

func (f *linksFixture) do(t testing.TB, req httpapi.Request) httpapi.Response {
	t.Helper()
	return handleLink(t, f.links, req)
}

func handleLink(t testing.TB, h *httpapi.Links, req httpapi.Request) httpapi.Response {
	t.Helper()
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned an error (API Gateway would answer 500): %v", err)
	}
	return resp
}

func (f *linksFixture) mustLead(t testing.TB, id string) *lead.Lead {
	t.Helper()
	l, found, err := f.store.GetLead(context.Background(), id)
	if err != nil || !found {
		t.Fatalf("lead %s: found=%v err=%v", id, found, err)
	}
	return l
}

func (f *linksFixture) activities(t testing.TB, id, kind string) []lead.Activity {
	t.Helper()
	acts, err := f.store.Activities(context.Background(), id, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	var out []lead.Activity
	for _, a := range acts {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out
}

func (f *linksFixture) due(t testing.TB, id string) bool {
	t.Helper()
	ids, err := f.store.DueLeads(context.Background(), f.clock.Now().Add(365*24*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(ids, id)
}

func escaped(s string) string { return html.EscapeString(s) }

func TestLinks_oneClickUnsubscribe_suppressesAtOnce(t *testing.T) {
	f := newLinksFixture(t)
	id := f.newLead(t, "ada@example.com")
	if !f.due(t, id) {
		t.Fatal("a fresh lead should have a nurture step due")
	}
	req := linkEvent(t, "unsubscribe-one-click.json", f.unsubToken(id))
	if body, _ := base64.StdEncoding.DecodeString(req.Body); !req.IsBase64Encoded || string(body) != "List-Unsubscribe=One-Click" || len(req.Cookies) != 0 {
		t.Fatalf("the sample should be a cookie-less RFC 8058 post, base64 as API Gateway sends it: %q", body)
	}

	resp := f.do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("one-click unsubscribe answered %d, want 200: %s", resp.StatusCode, resp.Body)
	}
	if loc, ok := resp.Headers["location"]; ok {
		t.Fatalf("RFC 8058: no redirect, got location %q", loc)
	}
	if !strings.HasPrefix(resp.Headers["content-type"], "text/html") || resp.Headers["cache-control"] != "no-store" {
		t.Errorf("headers = %v", resp.Headers)
	}
	if !strings.Contains(resp.Body, "You are unsubscribed") {
		t.Errorf("the page should confirm: %s", resp.Body)
	}

	l := f.mustLead(t, id)
	if l.Suppression == nil || l.Suppression.Reason != lead.SuppressedUnsubscribed || l.Mailable() {
		t.Fatalf("suppression = %+v", l.Suppression)
	}
	if l.Nurture.Status != lead.NurtureStopped || !l.Nurture.DueAt.IsZero() {
		t.Errorf("nurture = %+v, want stopped", l.Nurture)
	}
	if f.due(t, id) {
		t.Error("the scheduler would still find the lead due")
	}
	if acts := f.activities(t, id, lead.KindUnsubscribe); len(acts) != 1 {
		t.Errorf("unsubscribe activities = %+v", acts)
	}
	if logs := f.logs.String(); !strings.Contains(logs, `"oneClick":true`) || strings.Contains(logs, "ada@example.com") {
		t.Errorf("log should note the one-click post and never the address:\n%s", logs)
	}
}

func TestLinks_repeatedOneClick_oneUnsubscribe(t *testing.T) {
	f := newLinksFixture(t)
	id := f.newLead(t, "ada@example.com")
	before := f.mustLead(t, id).Version
	tok := f.unsubToken(id)

	resps := make([]httpapi.Response, 5)
	var wg sync.WaitGroup
	for i := range resps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resps[i], _ = f.links.Handle(context.Background(), linkEvent(t, "unsubscribe-one-click.json", tok))
		}()
	}
	wg.Wait()
	for i, r := range resps {
		if r.StatusCode != http.StatusOK || r.Body != resps[0].Body {
			t.Errorf("post %d: %d, want the same 200 page every time:\n%s", i, r.StatusCode, r.Body)
		}
	}
	// And once more, later.
	f.clock.Advance(time.Hour)
	if r := f.do(t, linkEvent(t, "unsubscribe-one-click.json", tok)); r.StatusCode != http.StatusOK || r.Body != resps[0].Body {
		t.Errorf("a later post: %d %s", r.StatusCode, r.Body)
	}
	if acts := f.activities(t, id, lead.KindUnsubscribe); len(acts) != 1 {
		t.Fatalf("6 posts made %d unsubscribe activities, want 1", len(acts))
	}
	if l := f.mustLead(t, id); l.Version != before+1 {
		t.Fatalf("the lead was written %d times, want once", l.Version-before)
	}
}

var (
	formRe   = regexp.MustCompile(`<form method="post" action="([^"]*)">`)
	hiddenRe = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// submit posts the page's form as a browser would.
func submit(t *testing.T, page httpapi.Response, from httpapi.Request) httpapi.Request {
	t.Helper()
	m := formRe.FindStringSubmatch(page.Body)
	if m == nil || !strings.Contains(page.Body, `<button type="submit">`) {
		t.Fatalf("the page has no form with a button:\n%s", page.Body)
	}
	action := html.UnescapeString(m[1])
	v := url.Values{}
	for _, h := range hiddenRe.FindAllStringSubmatch(page.Body, -1) {
		v.Add(html.UnescapeString(h[1]), html.UnescapeString(h[2]))
	}
	req := from
	req.RouteKey = strings.Replace(from.RouteKey, "GET ", "POST ", 1)
	req.RequestContext.RouteKey = req.RouteKey
	req.RequestContext.HTTP.Method = "POST"
	req.RawPath, req.RequestContext.HTTP.Path = action, action
	req.Headers = map[string]string{"content-type": "application/x-www-form-urlencoded", "accept": "text/html", "origin": "null"}
	req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(v.Encode())), true
	return req
}

func TestLinks_unsubscribePage_showsFormAndChangesNothing(t *testing.T) {
	f := newLinksFixture(t)
	id := f.newLead(t, "ada@example.com")
	before := f.mustLead(t, id)
	tok := f.unsubToken(id)
	req := linkEvent(t, "unsubscribe-page.json", tok)

	resp := f.do(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /u answered %d: %s", resp.StatusCode, resp.Body)
	}
	for _, want := range []string{
		escaped("Unsubscribe from " + f.prog.Sender.Company + " emails?"),
		`<form method="post" action="/u/` + tok + `">`,
		`<button type="submit">Unsubscribe</button>`,
	} {
		if !strings.Contains(resp.Body, want) {
			t.Errorf("the page lacks %q:\n%s", want, resp.Body)
		}
	}
	if resp.Headers["cache-control"] != "no-store" || !strings.Contains(resp.Headers["content-security-policy"], "form-action 'self'") {
		t.Errorf("headers = %v", resp.Headers)
	}

	// Scanners fetch it again and again, some with a body.
	for i := 0; i < 3; i++ {
		f.do(t, req)
	}
	withBody := req
	withBody.Body = strings.Repeat("x", 2*httpapi.MaxBody)
	if r := f.do(t, withBody); r.StatusCode != http.StatusOK {
		t.Errorf("a GET with a body answered %d", r.StatusCode)
	}
	l := f.mustLead(t, id)
	if l.Version != before.Version || !l.Mailable() || l.Nurture.Status != lead.NurtureActive || !f.due(t, id) {
		t.Fatalf("a GET changed the lead: version %d -> %d, suppression %+v, nurture %+v", before.Version, l.Version, l.Suppression, l.Nurture)
	}
	if acts := f.activities(t, id, lead.KindUnsubscribe); len(acts) != 0 {
		t.Fatalf("a GET recorded %v", acts)
	}

	// The button posts what a mail client's one-click posts.
	post := submit(t, resp, req)
	if b, _ := base64.StdEncoding.DecodeString(post.Body); string(b) != "List-Unsubscribe=One-Click" {
		t.Errorf("the form posts %q", b)
	}
	if r := f.do(t, post); r.StatusCode != http.StatusOK || !strings.Contains(r.Body, "You are unsubscribed") {
		t.Fatalf("confirming answered %d: %s", r.StatusCode, r.Body)
	}
	if l := f.mustLead(t, id); l.Mailable() {
		t.Fatal("confirming did not unsubscribe")
	}
}

func TestLinks_answer_pageShowsQuestion_confirmStoresIt(t *testing.T) {
	f := newLinksFixture(t)
	id := f.newLead(t, "ada@example.com")
	q, ok := f.prog.Question("industry")
	if !ok || q.Field != "industry" || len(q.Options) < 2 {
		t.Fatalf("the default program needs the industry question: %+v", q)
	}
	opt := q.Options[1]
	before := f.mustLead(t, id)
	if before.Industry == opt.Value {
		t.Fatalf("pick an answer the lead does not have yet")
	}
	tok := f.answerToken(id, q.ID+"="+opt.Value)

	page := f.do(t, linkEvent(t, "answer-page.json", tok))
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET /a answered %d: %s", page.StatusCode, page.Body)
	}
	for _, want := range []string{escaped(q.Text), escaped(opt.Label), `<form method="post" action="/a/` + tok + `">`, `<button type="submit">`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the page lacks %q:\n%s", want, page.Body)
		}
	}
	if l := f.mustLead(t, id); l.Version != before.Version || l.Industry != before.Industry || len(l.Answers) != 0 {
		t.Fatalf("a GET changed the lead: %+v", l)
	}

	confirm := linkEvent(t, "answer-confirm.json", tok)
	resp := f.do(t, confirm)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, escaped("Thanks, we'll tailor what we send you")) {
		t.Fatalf("POST /a answered %d:\n%s", resp.StatusCode, resp.Body)
	}
	l := f.mustLead(t, id)
	if l.Industry != opt.Value || l.Answers[q.ID] != opt.Value {
		t.Fatalf("industry %q answers %v, want %q", l.Industry, l.Answers, opt.Value)
	}
	acts := f.activities(t, id, lead.KindAnswer)
	if len(acts) != 1 || acts[0].Detail != q.ID+"="+opt.Value || acts[0].Track != "cloud-cost" || acts[0].Step != 1 {
		t.Fatalf("answer activities = %+v", acts)
	}
	if !l.Mailable() {
		t.Error("answering must not stop mail")
	}

	// Confirmed twice (a double click, a reload): the same page, no change.
	again := f.do(t, confirm)
	if again.StatusCode != http.StatusOK || again.Body != resp.Body {
		t.Errorf("a second confirm: %d %s", again.StatusCode, again.Body)
	}
	if l2 := f.mustLead(t, id); l2.Version != l.Version || len(f.activities(t, id, lead.KindAnswer)) != 1 {
		t.Errorf("a second confirm changed the lead (version %d -> %d)", l.Version, l2.Version)
	}
}

func sameResponse(a, b httpapi.Response) bool {
	return a.StatusCode == b.StatusCode && a.Body == b.Body && maps.Equal(a.Headers, b.Headers) && a.IsBase64Encoded == b.IsBase64Encoded
}

// flip changes the character at i to another character of the token alphabet.
func flip(tok string, i, by int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	c := strings.IndexByte(alphabet, tok[i])
	return tok[:i] + string(alphabet[(c+by)%len(alphabet)]) + tok[i+1:]
}

func TestLinks_badLinks_allGetTheSamePage_leadUnchanged(t *testing.T) {
	f := newLinksFixture(t)
	id := f.newLead(t, "ada@example.com")
	before := f.mustLead(t, id)
	now := f.clock.Now()
	s := f.signer
	unsub := f.unsubToken(id)
	answer := f.answerToken(id, "industry=healthcare")
	ghost := testenv.LeadID("nobody@example.com")
	sameID := newSigner(t, newKey(t, "k1")) // another secret under our key id
	otherID := newSigner(t, newKey(t, "k9"))
	withExpiry := func(purpose, ref string, exp time.Time) string {
		return s.Sign(token.Claims{Purpose: purpose, LeadID: id, Track: "cloud-cost", Step: 1, Ref: ref, Expires: exp})
	}

	type tc struct{ name, route, tok string }
	cases := []tc{
		{"empty", "u", ""},
		{"garbage", "u", "not-a-token"},
		{"garbage on /a", "a", "hello"},
		{"percent-encoded", "u", "%2e%2e%2fadmin"},
		{"padding added", "u", unsub + "="},
		{"line break", "u", unsub[:40] + "\n" + unsub[40:]},
		{"space", "u", " " + unsub},
		{"very long", "u", strings.Repeat("A", 5000)},
		{"one character more", "u", unsub + "A"},
		{"last character dropped", "u", unsub[:len(unsub)-1]},
		{"first character dropped", "u", unsub[1:]},
		{"truncated to half", "u", unsub[:len(unsub)/2]},
		{"truncated to the header", "u", unsub[:6]},
		{"answer truncated", "a", answer[:len(answer)-4]},
		{"signed with another secret under our key id", "u", sign(sameID, token.PurposeUnsubscribe, id, "", now)},
		{"signed with an unknown key", "u", sign(otherID, token.PurposeUnsubscribe, id, "", now)},
		{"answer signed with an unknown key", "a", sign(otherID, token.PurposeAnswer, id, "industry=healthcare", now)},
		{"expired", "u", withExpiry(token.PurposeUnsubscribe, "", now.Add(-time.Second))},
		{"expires this second", "u", withExpiry(token.PurposeUnsubscribe, "", now)},
		{"no expiry", "u", withExpiry(token.PurposeUnsubscribe, "", time.Time{})},
		{"answer expired", "a", withExpiry(token.PurposeAnswer, "industry=healthcare", now.Add(-time.Minute))},
		{"answer token on /u", "u", answer},
		{"unsubscribe token on /a", "a", unsub},
		{"accept token on /u", "u", sign(s, token.PurposeAccept, id, "", now)},
		{"lead does not exist", "u", f.unsubToken(ghost)},
		{"answer for a lead that does not exist", "a", f.answerToken(ghost, "industry=healthcare")},
		{"unknown question", "a", f.answerToken(id, "shoe-size=42")},
		{"unknown answer", "a", f.answerToken(id, "industry=aerospace")},
		{"answer without value", "a", f.answerToken(id, "industry")},
		{"answer without ref", "a", f.answerToken(id, "")},
	}
	// Every position changed, two ways: the nearest character and one that
	// flips the top bit of the 6 bits a base64 character carries.
	for i := range unsub {
		cases = append(cases,
			tc{"unsubscribe token, character " + strconv.Itoa(i) + " changed", "u", flip(unsub, i, 1)},
			tc{"unsubscribe token, character " + strconv.Itoa(i) + " high bit flipped", "u", flip(unsub, i, 32)})
	}
	for i := range answer {
		cases = append(cases, tc{"answer token, character " + strconv.Itoa(i) + " changed", "a", flip(answer, i, 1)})
	}

	want := f.do(t, linkEvent(t, "unsubscribe-page.json", "not-a-token"))
	if want.StatusCode != httpapi.InvalidLinkStatus || want.StatusCode < 400 || want.StatusCode >= 500 {
		t.Fatalf("a bad link answered %d, want %d", want.StatusCode, httpapi.InvalidLinkStatus)
	}
	samples := map[string][2]string{"u": {"unsubscribe-page.json", "unsubscribe-one-click.json"}, "a": {"answer-page.json", "answer-confirm.json"}}
	for _, c := range cases {
		for _, sample := range samples[c.route] {
			got := f.do(t, linkEvent(t, sample, c.tok))
			if !sameResponse(got, want) {
				t.Errorf("%s (%s): got %d %v\n%s\nwant the one invalid-link page %d %v", c.name, sample, got.StatusCode, got.Headers, got.Body, want.StatusCode, want.Headers)
			}
		}
	}

	l := f.mustLead(t, id)
	if l.Version != before.Version || !l.Mailable() || l.Industry != before.Industry || len(l.Answers) != 0 {
		t.Fatalf("a bad link changed the lead: version %d -> %d", before.Version, l.Version)
	}
	if n := len(f.activities(t, id, lead.KindUnsubscribe)) + len(f.activities(t, id, lead.KindAnswer)); n != 0 {
		t.Fatalf("a bad link recorded %d activities", n)
	}
	if _, found, _ := f.store.GetLead(context.Background(), ghost); found {
		t.Fatal("a link for an unknown lead created it")
	}
	logs := f.logs.String()
	for _, want := range []string{"invalid or expired token", "unknown lead", "unknown question or answer"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log should give the reason %q", want)
		}
	}
	for _, secret := range []string{unsub, answer, "ada@example.com"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains a token or an address")
		}
	}
}

func TestLinks_keyRotation_oldKeyWorksWhileListed(t *testing.T) {
	f := newLinksFixture(t)
	old, current := f.key, newKey(t, "k2")
	a, b := f.newLead(t, "ada@example.com"), f.newLead(t, "grace@example.com")
	sentBefore := newSigner(t, old) // signed the mail already out
	tokA := sign(sentBefore, token.PurposeUnsubscribe, a, "", f.clock.Now())
	tokB := sign(sentBefore, token.PurposeUnsubscribe, b, "", f.clock.Now())

	rotated := f.linksWith(newSigner(t, current, old), f.store, nil)
	if r := handleLink(t, rotated, linkEvent(t, "unsubscribe-page.json", tokA)); r.StatusCode != http.StatusOK {
		t.Fatalf("a link signed with a key still listed: GET answered %d", r.StatusCode)
	}
	if r := handleLink(t, rotated, linkEvent(t, "unsubscribe-one-click.json", tokA)); r.StatusCode != http.StatusOK {
		t.Fatalf("a link signed with a key still listed: POST answered %d", r.StatusCode)
	}
	if f.mustLead(t, a).Mailable() {
		t.Fatal("the old key's link did not unsubscribe")
	}
	newTok := sign(newSigner(t, current, old), token.PurposeUnsubscribe, b, "", f.clock.Now())
	if r := handleLink(t, rotated, linkEvent(t, "unsubscribe-page.json", newTok)); r.StatusCode != http.StatusOK {
		t.Fatalf("a link signed with the current key: GET answered %d", r.StatusCode)
	}

	removed := f.linksWith(newSigner(t, current), f.store, nil)
	want := handleLink(t, removed, linkEvent(t, "unsubscribe-page.json", "garbage"))
	for _, sample := range []string{"unsubscribe-page.json", "unsubscribe-one-click.json"} {
		if got := handleLink(t, removed, linkEvent(t, sample, tokB)); !sameResponse(got, want) {
			t.Errorf("%s with a removed key: %d %s", sample, got.StatusCode, got.Body)
		}
	}
	if !f.mustLead(t, b).Mailable() {
		t.Fatal("a link signed with a removed key unsubscribed")
	}
}

func TestLinks_dynamoDown_503WithRetryAfter(t *testing.T) {
	f := newLinksFixture(t)
	// A table that does not exist fails every call, as an outage would.
	broken := store.New(testenv.Dynamo(t), testenv.UniqueName("missing"), store.Options{})
	h := f.linksWith(newSigner(t, f.key), broken, nil)
	id := testenv.LeadID("ada@example.com")
	for _, req := range []httpapi.Request{
		linkEvent(t, "unsubscribe-page.json", f.unsubToken(id)),
		linkEvent(t, "unsubscribe-one-click.json", f.unsubToken(id)),
		linkEvent(t, "answer-page.json", f.answerToken(id, "industry=healthcare")),
		linkEvent(t, "answer-confirm.json", f.answerToken(id, "industry=healthcare")),
	} {
		resp := handleLink(t, h, req)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Headers["retry-after"] == "" {
			t.Errorf("%s: got %d %v, want 503 with retry-after", req.RouteKey, resp.StatusCode, resp.Headers)
		}
		for _, leak := range []string{"ResourceNotFound", "non-existent", "table", "dynamodb", "missing"} {
			if strings.Contains(strings.ToLower(resp.Body), strings.ToLower(leak)) {
				t.Errorf("%s: the page names the internal error (%q):\n%s", req.RouteKey, leak, resp.Body)
			}
		}
	}
}

func TestLinks_bodyTooLarge_413_nothingChanged(t *testing.T) {
	f := newLinksFixture(t)
	id := f.newLead(t, "ada@example.com")
	req := linkEvent(t, "unsubscribe-one-click.json", f.unsubToken(id))
	req.Body = base64.StdEncoding.EncodeToString([]byte("List-Unsubscribe=One-Click&x=" + strings.Repeat("x", httpapi.MaxBody)))
	if resp := f.do(t, req); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("got %d, want 413", resp.StatusCode)
	}
	if !f.mustLead(t, id).Mailable() {
		t.Fatal("an oversized post unsubscribed")
	}
}

func TestLinks_anyPostBodyUnsubscribes(t *testing.T) {
	f := newLinksFixture(t)
	bodies := map[string]httpapi.Request{}
	plain := linkEvent(t, "unsubscribe-one-click.json", "")
	for email, mut := range map[string]func(r *httpapi.Request){
		"empty@example.com":     func(r *httpapi.Request) { r.Body, r.IsBase64Encoded = "", false; delete(r.Headers, "content-type") },
		"multipart@example.com": func(r *httpapi.Request) { multipartOneClick(r) },
		"text@example.com": func(r *httpapi.Request) {
			r.Headers["content-type"] = "text/plain"
			r.Body, r.IsBase64Encoded = "hello", false
		},
		"badb64@example.com": func(r *httpapi.Request) { r.Body = "%%%" },
	} {
		id := f.newLead(t, email)
		r := linkEvent(t, "unsubscribe-one-click.json", f.unsubToken(id))
		r.Headers = maps.Clone(plain.Headers)
		mut(&r)
		bodies[id] = r
	}
	for id, r := range bodies {
		if resp := f.do(t, r); resp.StatusCode != http.StatusOK || f.mustLead(t, id).Mailable() {
			t.Errorf("content-type %q body %q: %d, the lead must be unsubscribed", r.Headers["content-type"], r.Body, resp.StatusCode)
		}
	}
}

func multipartOneClick(r *httpapi.Request) {
	r.Headers["content-type"] = "multipart/form-data; boundary=xyz"
	body := "--xyz\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--xyz--\r\n"
	r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
}

func TestLinks_otherMethod_405(t *testing.T) {
	f := newLinksFixture(t)
	req := linkEvent(t, "unsubscribe-page.json", f.unsubToken(f.newLead(t, "ada@example.com")))
	req.RouteKey, req.RequestContext.HTTP.Method = "$default", "DELETE"
	if resp := f.do(t, req); resp.StatusCode != http.StatusMethodNotAllowed || resp.Headers["allow"] != "GET, POST" {
		t.Fatalf("got %d %v", resp.StatusCode, resp.Headers)
	}
}

func TestRoutes_linksAndCapture(t *testing.T) {
	got := map[string]string{}
	for _, r := range httpapi.Routes {
		got[r.RouteKey()] = r.Function
	}
	for key, fn := range map[string]string{
		"POST /forms/{formId}": "capture", "GET /forms.js": "capture", "GET /forms/{formId}": "capture",
		"GET /u/{token}": "links", "POST /u/{token}": "links",
		"GET /a/{token}": "links", "POST /a/{token}": "links",
	} {
		if got[key] != fn {
			t.Errorf("route %s is served by %q, want %q", key, got[key], fn)
		}
	}
}

// FuzzLinks sends arbitrary tokens and bodies to all four routes against
// DynamoDB Local: never a panic, never a 5xx, and a link that works is one
// we signed.
func FuzzLinks(f *testing.F) {
	fx := newLinksFixture(f)
	id := fx.newLead(f, "fuzz@example.com")
	valid := []string{fx.unsubToken(id), fx.answerToken(id, "industry=healthcare")}
	for _, tok := range valid {
		f.Add(uint8(0), tok, "List-Unsubscribe=One-Click", true)
		f.Add(uint8(1), tok, "", false)
		f.Add(uint8(2), tok, "", false)
		f.Add(uint8(3), tok, "", true)
	}
	for i, name := range []string{"unsubscribe-page.json", "unsubscribe-one-click.json", "answer-page.json", "answer-confirm.json"} {
		b, _ := os.ReadFile(filepath.Join("..", "..", "events", "links", name))
		var ev httpapi.Request
		_ = json.Unmarshal(b, &ev)
		f.Add(uint8(i), ev.PathParameters["token"], ev.Body, ev.IsBase64Encoded)
	}
	f.Add(uint8(1), "", "", false)
	f.Add(uint8(3), "AQJrMQ", "%%%", true)
	f.Add(uint8(0), strings.Repeat("_", 1100), "", false)

	samples := []string{"unsubscribe-one-click.json", "unsubscribe-page.json", "answer-page.json", "answer-confirm.json"}
	base := make([]httpapi.Request, len(samples))
	for i, name := range samples {
		base[i] = linkEvent(f, name, "x")
	}
	f.Fuzz(func(t *testing.T, route uint8, tok, body string, b64 bool) {
		req := base[int(route)%len(base)]
		req.PathParameters = map[string]string{"token": tok}
		req.Headers = maps.Clone(req.Headers)
		req.Body, req.IsBase64Encoded = body, false
		if b64 {
			req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
		}
		resp, err := fx.links.Handle(context.Background(), req)
		if err != nil || resp.StatusCode >= 500 || resp.StatusCode == 0 {
			t.Fatalf("status %d err %v for route %d token %q", resp.StatusCode, err, route, tok)
		}
		if resp.StatusCode == http.StatusOK && !slices.Contains(valid, tok) {
			t.Fatalf("a token we did not sign worked: %q", tok)
		}
	})
}

// The re-engagement email's "keep them coming": a GET shows the question
// with a button and changes nothing; the POST records that the lead wants
// more, which wakes a dormant lead; confirming twice keeps once.
func TestLinks_keep_pageAsks_confirmKeepsAndWakesADormantLead(t *testing.T) {
	f := newLinksFixture(t)
	id := f.newLead(t, "ada@example.com")
	asked := f.clock.Now().Add(-20 * 24 * time.Hour)
	if _, err := f.store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
		l.Nurture.Ask(lead.SentStep{Track: "reengage", At: asked}, asked.Add(14*24*time.Hour))
		l.Nurture.Sleep()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before := f.mustLead(t, id)
	if before.Nurture.Status != lead.NurtureDormant || f.due(t, id) {
		t.Fatalf("set-up: %+v", before.Nurture)
	}
	tok := f.signer.Sign(token.Claims{Purpose: token.PurposeKeep, LeadID: id, Track: "reengage", Ref: strconv.FormatInt(asked.Unix(), 10), Expires: f.clock.Now().Add(time.Hour)})

	page := f.do(t, linkEvent(t, "keep-page.json", tok))
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `<form method="post" action="/k/`+tok+`">`) || !strings.Contains(page.Body, "Keep them coming") {
		t.Fatalf("GET /k answered %d:\n%s", page.StatusCode, page.Body)
	}
	if l := f.mustLead(t, id); l.Version != before.Version {
		t.Fatal("a GET changed the lead")
	}

	confirm := linkEvent(t, "keep-confirm.json", tok)
	resp := f.do(t, confirm)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, escaped("Thanks, we'll keep them coming")) {
		t.Fatalf("POST /k answered %d:\n%s", resp.StatusCode, resp.Body)
	}
	l := f.mustLead(t, id)
	if l.Nurture.Status != lead.NurtureActive || !l.Nurture.Due() || !f.due(t, id) || !l.EngagedAt.Equal(f.clock.Now()) {
		t.Fatalf("after keep: %+v, want nurture going on", l.Nurture)
	}
	if acts := f.activities(t, id, lead.KindKeep); len(acts) != 1 {
		t.Fatalf("keep activities = %+v", acts)
	}
	again := f.do(t, confirm)
	if again.Body != resp.Body || f.mustLead(t, id).Version != l.Version {
		t.Error("a second confirm changed the lead")
	}

	// A keep token that names no re-engagement email is a bad link.
	bad := f.signer.Sign(token.Claims{Purpose: token.PurposeKeep, LeadID: id, Track: "reengage", Ref: "soon", Expires: f.clock.Now().Add(time.Hour)})
	if resp := f.do(t, linkEvent(t, "keep-confirm.json", bad)); resp.StatusCode != httpapi.InvalidLinkStatus {
		t.Errorf("a keep link without its email answered %d", resp.StatusCode)
	}
}
