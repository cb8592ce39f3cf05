package httpapi_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

type fixture struct {
	prog    *program.Program
	store   *store.Store
	capture *httpapi.Capture
	clock   *clock.Fixed
}

// newFixture gives each test its own table on the shared DynamoDB Local.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	shipped, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	// These tests are about capture and links whatever the consent
	// asked: their leads need no confirmation. Double opt-in has its own
	// (confirmlinks_test.go).
	single := *shipped
	single.DoubleOptIn = program.DoubleOptIn{}
	prog := &single
	db := testenv.Dynamo(t)
	table := testenv.UniqueName("capture")
	if err := store.EnsureTable(context.Background(), db, table); err != nil {
		t.Fatal(err)
	}
	st := store.New(db, table, store.Options{})
	clk := clock.NewFixed(time.Date(2026, 11, 25, 9, 12, 31, 0, time.UTC))
	return &fixture{
		prog:  prog,
		store: st,
		clock: clk,
		capture: &httpapi.Capture{
			Capturer: &lead.Capturer{Program: prog, Store: st, Clock: clk, IDs: testenv.LeadIDs},
			Log:      slog.New(slog.NewJSONHandler(io.Discard, nil)),
		},
	}
}

// loadEvent reads a sample from events/capture.
func loadEvent(t *testing.T, name string) httpapi.Request {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "capture", name))
	if err != nil {
		t.Fatal(err)
	}
	var req httpapi.Request
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

// formPost is a browser's form post as API Gateway delivers it.
var formPost = testworld.FormPost

func (f *fixture) handle(t *testing.T, req httpapi.Request) httpapi.Response {
	t.Helper()
	resp, err := f.capture.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned an error (API Gateway would answer 500): %v", err)
	}
	return resp
}

func (f *fixture) lead(t *testing.T, email string) (*lead.Lead, []lead.Activity) {
	t.Helper()
	id := testenv.LeadID(email)
	l, found, err := f.store.GetLead(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		return nil, nil
	}
	acts, err := f.store.Activities(context.Background(), id, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return l, acts
}

func validValues(f *fixture, form program.Form, email string) url.Values {
	v := url.Values{"email": {email}}
	for _, name := range form.Fields {
		if name == "email" {
			continue
		}
		v.Set(name, "Ada Lovelace")
		for _, q := range f.prog.Questions {
			if q.Field == name {
				v.Set(name, q.Options[0].Value)
			}
		}
	}
	if form.Consent.Required {
		v.Set("consent", "yes")
	}
	return v
}

func TestCapture_urlencodedSample_storesLeadAndDownload(t *testing.T) {
	f := newFixture(t)
	req := loadEvent(t, "form-urlencoded.json")
	resp := f.handle(t, req)

	form, _ := f.prog.Form(req.PathParameters["formId"])
	asset, _ := f.prog.Asset(form.Asset)
	want := form.ThankYouURL
	if want == "" {
		want = asset.URL
	}
	if resp.StatusCode != http.StatusSeeOther || resp.Headers["location"] != want {
		t.Fatalf("got %d location %q, want 303 to %q; body %s", resp.StatusCode, resp.Headers["location"], want, resp.Body)
	}
	l, acts := f.lead(t, "ada.lovelace@analytical-engines.example")
	if l == nil {
		t.Fatal("no lead stored")
	}
	if l.Name != "Ada Lovelace" || l.Company != "Analytical Engines Ltd" {
		t.Errorf("profile = %+v", l)
	}
	if l.Consent == nil || l.Consent.Version != form.Consent.Version || l.Consent.FormID != form.ID || l.Consent.SourcePage == "" {
		t.Errorf("consent evidence = %+v", l.Consent)
	}
	if l.FirstTouch == nil || l.FirstTouch.UTMSource != "linkedin" || l.FirstTouch.UTMCampaign == "" {
		t.Errorf("attribution = %+v", l.FirstTouch)
	}
	if len(acts) != 1 || acts[0].Kind != lead.KindDownload || acts[0].AssetID != asset.ID || acts[0].FormID != form.ID {
		t.Fatalf("activities = %+v", acts)
	}
	track, _ := f.prog.TrackForTopic(asset.Topics[0])
	if l.Nurture.Track != track.ID || l.Nurture.Status != lead.NurtureActive || l.Nurture.NextStep != 0 {
		t.Errorf("nurture = %+v, want enrolled in %s", l.Nurture, track.ID)
	}
	received := time.UnixMilli(req.RequestContext.TimeEpoch).UTC()
	if !l.Nurture.DueAt.Equal(received.Add(track.Steps[0].Wait.Duration)) {
		t.Errorf("first step due %v, want %v", l.Nurture.DueAt, received.Add(track.Steps[0].Wait.Duration))
	}
}

func TestCapture_jsonSample_answersJSON(t *testing.T) {
	f := newFixture(t)
	req := loadEvent(t, "json.json")
	resp := f.handle(t, req)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Headers["content-type"], "application/json") {
		t.Fatalf("got %d %v %s", resp.StatusCode, resp.Headers, resp.Body)
	}
	var body struct {
		OK    bool `json:"ok"`
		Asset struct{ ID, URL string }
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || !body.OK || body.Asset.URL == "" {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	var posted map[string]any
	_ = json.Unmarshal([]byte(req.Body), &posted)
	if l, _ := f.lead(t, strings.ToLower(posted["email"].(string))); l == nil {
		t.Fatal("no lead stored from the JSON post")
	}
}

func TestCapture_multipartSample_storesLead(t *testing.T) {
	f := newFixture(t)
	resp := f.handle(t, loadEvent(t, "multipart.json"))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
	}
	if l, _ := f.lead(t, "grace.hopper@navy.example"); l == nil || l.Name != "Grace Hopper" {
		t.Fatalf("lead = %+v", l)
	}
}

func TestCapture_sameEmailTwoForms_oneLeadTwoDownloads(t *testing.T) {
	f := newFixture(t)
	if len(f.prog.Forms) < 2 {
		t.Fatal("the default program needs two forms for this test")
	}
	a, b := f.prog.Forms[0], f.prog.Forms[1]
	now := f.clock.Now()
	f.handle(t, formPost(a.ID, validValues(f, a, "Ada@Example.com"), now))
	f.handle(t, formPost(b.ID, validValues(f, b, " ada@example.COM "), now.Add(time.Hour)))

	l, acts := f.lead(t, "ada@example.com")
	if l == nil {
		t.Fatal("no lead")
	}
	if len(acts) != 2 || len(l.Downloaded) != 2 {
		t.Fatalf("want one lead with two downloads, got downloaded=%v activities=%d", l.Downloaded, len(acts))
	}
	if !l.CreatedAt.Equal(now) {
		t.Errorf("created %v, want the first post's time %v", l.CreatedAt, now)
	}
}

func TestCapture_sameFormLaterAgain_addsActivity(t *testing.T) {
	f := newFixture(t)
	form := f.prog.Forms[0]
	now := f.clock.Now()
	f.handle(t, formPost(form.ID, validValues(f, form, "ada@example.com"), now))
	f.handle(t, formPost(form.ID, validValues(f, form, "ada@example.com"), now.Add(24*time.Hour)))
	if _, acts := f.lead(t, "ada@example.com"); len(acts) != 2 {
		t.Fatalf("a deliberate second download a day later is a second activity; got %d", len(acts))
	}
}

func TestCapture_doubleClickAndRetries_oneActivity(t *testing.T) {
	f := newFixture(t)
	form := f.prog.Forms[0]
	v := validValues(f, form, "ada@example.com")
	v.Set("submission", "nonce-123")
	now := f.clock.Now()
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Each click is its own request, a few hundred ms apart.
			resp, err := f.capture.Handle(context.Background(), formPost(form.ID, v, now.Add(time.Duration(i)*300*time.Millisecond)))
			if err != nil || resp.StatusCode != http.StatusSeeOther {
				t.Errorf("post %d: %d %v", i, resp.StatusCode, err)
			}
		}(i)
	}
	wg.Wait()
	l, acts := f.lead(t, "ada@example.com")
	if len(acts) != 1 {
		t.Fatalf("10 posts of one submission made %d activities, want 1", len(acts))
	}
	if l.Version != 1 {
		t.Fatalf("the lead was written %d times, want once", l.Version)
	}
}

func TestCapture_botPosts_answeredLikeSuccess_storeNothing(t *testing.T) {
	f := newFixture(t)
	form := f.prog.Forms[0]
	now := f.clock.Now()
	honeypot := validValues(f, form, "bot1@example.com")
	// The literal name, not httpapi.FieldHoneypot: forms pasted on other
	// websites name the hidden field "website", and renaming it in the code
	// would let every bot through them.
	honeypot.Set("website", "http://spam.example")
	tooFast := validValues(f, form, "bot2@example.com")
	tooFast.Set(httpapi.FieldRenderedAt, fmt.Sprint(now.Add(-300*time.Millisecond).UnixMilli()))
	human := validValues(f, form, "human@example.com")
	human.Set(httpapi.FieldRenderedAt, fmt.Sprint(now.Add(-45*time.Second).UnixMilli()))

	for email, v := range map[string]url.Values{"bot1@example.com": honeypot, "bot2@example.com": tooFast} {
		resp := f.handle(t, formPost(form.ID, v, now))
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("%s: got %d, want the same 303 a human gets", email, resp.StatusCode)
		}
		if l, _ := f.lead(t, email); l != nil {
			t.Errorf("%s: a bot post stored a lead", email)
		}
	}
	f.handle(t, formPost(form.ID, human, now))
	if l, _ := f.lead(t, "human@example.com"); l == nil {
		t.Error("a human who took 45 seconds was treated as a bot")
	}
}

func TestCapture_badInput_clear4xx_nothingStored(t *testing.T) {
	f := newFixture(t)
	form := f.prog.Forms[0]
	now := f.clock.Now()
	jsonPost := func(body string) httpapi.Request {
		r := formPost(form.ID, nil, now)
		r.Headers = map[string]string{"content-type": "application/json"}
		r.Body, r.IsBase64Encoded = body, false
		return r
	}
	withValues := func(mut func(v url.Values)) httpapi.Request {
		v := validValues(f, form, "bad@example.com")
		mut(v)
		return formPost(form.ID, v, now)
	}
	big := formPost(form.ID, validValues(f, form, "bad@example.com"), now)
	big.Body = base64.StdEncoding.EncodeToString([]byte("email=bad%40example.com&name=" + strings.Repeat("x", httpapi.MaxBody)))
	unknown := formPost("no-such-form", validValues(f, form, "bad@example.com"), now)
	badBase64 := formPost(form.ID, nil, now)
	badBase64.Body = "%%%not base64"
	xml := jsonPost("<lead/>")
	xml.Headers["content-type"] = "application/xml"

	tests := []struct {
		name   string
		req    httpapi.Request
		status int
		field  string // the field the error names, for 400s with fields
	}{
		{"unknown form", unknown, 404, ""},
		{"bad email", withValues(func(v url.Values) { v.Set("email", "not-an-address") }), 400, "email"},
		{"header injection in email", withValues(func(v url.Values) { v.Set("email", "bad@example.com\r\nBcc: all@example.com") }), 400, "email"},
		{"missing email", withValues(func(v url.Values) { v.Del("email") }), 400, "email"},
		{"newline in name", withValues(func(v url.Values) { v.Set("name", "Ada\nBcc: x") }), 400, "name"},
		{"overlong name", withValues(func(v url.Values) { v.Set("name", strings.Repeat("a", 101)) }), 400, "name"},
		{"body too large", big, 413, ""},
		{"malformed base64", badBase64, 400, ""},
		{"unsupported type", xml, 415, ""},
		{"json array", jsonPost(`["a"]`), 400, ""},
		{"json nested", jsonPost(`{"email":{"x":1}}`), 400, ""},
	}
	if form.Consent.Required {
		tests = append(tests, struct {
			name   string
			req    httpapi.Request
			status int
			field  string
		}{"consent missing", withValues(func(v url.Values) { v.Del("consent") }), 400, "consent"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The JSON flavour carries the field-level messages.
			tt.req.Headers["accept"] = "application/json"
			resp := f.handle(t, tt.req)
			if resp.StatusCode != tt.status {
				t.Fatalf("got %d, want %d: %s", resp.StatusCode, tt.status, resp.Body)
			}
			var body struct {
				Error  string            `json:"error"`
				Fields map[string]string `json:"fields"`
			}
			if err := json.Unmarshal([]byte(resp.Body), &body); err != nil || body.Error == "" {
				t.Fatalf("want a JSON error message, got %q", resp.Body)
			}
			if tt.field != "" && body.Fields[tt.field] == "" {
				t.Fatalf("want a message for field %q, got %v", tt.field, body.Fields)
			}
		})
	}
	if l, _ := f.lead(t, "bad@example.com"); l != nil {
		t.Fatal("a rejected post stored a lead")
	}
}

func TestCapture_invalidHTMLPost_showsPageWithFieldMessages(t *testing.T) {
	f := newFixture(t)
	form := f.prog.Forms[0]
	v := validValues(f, form, "not an address")
	resp := f.handle(t, formPost(form.ID, v, f.clock.Now()))
	if resp.StatusCode != 400 || !strings.HasPrefix(resp.Headers["content-type"], "text/html") {
		t.Fatalf("got %d %q", resp.StatusCode, resp.Headers["content-type"])
	}
	if !strings.Contains(resp.Body, "Email: enter an email address like name@example.com") {
		t.Fatalf("the page should say what to correct:\n%s", resp.Body)
	}
}

// FuzzCapture feeds arbitrary bodies and content types through the handler
// against DynamoDB Local: whatever arrives, the answer is never a 5xx.
func FuzzCapture(f *testing.F) {
	f.Add("application/x-www-form-urlencoded", "email=a%40b.co&name=A", true)
	f.Add("application/json", `{"email":"a@b.co","consent":true}`, false)
	f.Add("multipart/form-data; boundary=xx", "--xx\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\na@b.co\r\n--xx--\r\n", true)
	f.Add("text/plain", "hello", false)
	f.Add("application/json", `{"email":"a@b.co","name":"\u0000"}`, false)
	f.Add("multipart/form-data", "--", true)
	fx := newFixture(f)
	f.Fuzz(func(t *testing.T, contentType, body string, b64 bool) {
		form := fx.prog.Forms[0]
		req := formPost(form.ID, nil, fx.clock.Now())
		req.Headers["content-type"] = contentType
		req.Body, req.IsBase64Encoded = body, false
		if b64 {
			req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(body)), true
		}
		resp, err := fx.capture.Handle(context.Background(), req)
		if err != nil || resp.StatusCode >= 500 {
			t.Fatalf("status %d err %v for %q %q", resp.StatusCode, err, contentType, body)
		}
	})
}

func TestCapture_timeZone_browserElseCountryElseProgram(t *testing.T) {
	f := newFixture(t)
	form, ok := f.prog.Form("cost-of-nines") // the form that asks for the country
	if !ok || !slices.Contains(form.Fields, "country") {
		t.Fatal("the default program's cost-of-nines form should ask for the country")
	}
	// Each post an hour after the last, so none is taken for a double-click.
	at := f.clock.Now()
	post := func(email, country, tz string) *lead.Lead {
		t.Helper()
		at = at.Add(time.Hour)
		v := validValues(f, form, email)
		v.Set("country", country)
		if tz != "" {
			v.Set(httpapi.FieldTimeZone, tz)
		}
		if resp := f.handle(t, formPost(form.ID, v, at)); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("capture answered %d: %s", resp.StatusCode, resp.Body)
		}
		l, _ := f.lead(t, email)
		return l
	}

	if l := post("ada@example.com", "GB", "America/Los_Angeles"); l.TimeZone != "America/Los_Angeles" || l.Zone(f.prog) != "America/Los_Angeles" {
		t.Errorf("the browser's zone wins: stored %q, zone %q", l.TimeZone, l.Zone(f.prog))
	}
	for _, bad := range []string{"Local", "Mars/Olympus", "../../etc/passwd", "Europe/Berlin\r\nX-Injected: 1", strings.Repeat("Europe/", 40)} {
		if l := post("grace@example.com", "GB", bad); l.TimeZone != "" || l.Zone(f.prog) != "Europe/London" {
			t.Errorf("tz=%q: stored %q, zone %q; want it dropped and the country's zone used", bad, l.TimeZone, l.Zone(f.prog))
		}
	}
	if l := post("ada@example.com", "GB", "Mars/Olympus"); l.TimeZone != "America/Los_Angeles" {
		t.Errorf("a later post with a bad zone must keep the known one, stored %q", l.TimeZone)
	}
	if l := post("alan@example.com", "other", ""); l.Zone(f.prog) != f.prog.Schedule.TimeZone {
		t.Errorf("no browser zone and a country without one: zone %q, want the program's", l.Zone(f.prog))
	}
}

// A plain HTML form without the script: the browser's Referer header is the
// page, and its query carries the campaign.
func TestCapture_plainHTMLPost_pageAndUTMFromReferer(t *testing.T) {
	f := newFixture(t)
	form := f.prog.Forms[0]
	req := formPost(form.ID, validValues(f, form, "plain@example.com"), f.clock.Now())
	page := "https://www.acme.example/resources/cloud-bill?utm_source=newsletter&utm_medium=email&utm_campaign=winter-26"
	req.Headers["referer"] = page
	if resp := f.handle(t, req); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
	}
	l, acts := f.lead(t, "plain@example.com")
	if l == nil || len(acts) != 1 {
		t.Fatalf("lead %+v, %d activities", l, len(acts))
	}
	want := lead.Attribution{SourcePage: page, UTMSource: "newsletter", UTMMedium: "email", UTMCampaign: "winter-26"}
	if l.FirstTouch == nil || *l.FirstTouch != want {
		t.Errorf("first touch = %+v, want %+v", l.FirstTouch, want)
	}
	if l.Consent == nil || l.Consent.SourcePage != page {
		t.Errorf("consent evidence = %+v, want source page %s", l.Consent, page)
	}
}

// The script's fields win over the Referer header, and its UTM fields over
// the page URL's.
func TestCapture_scriptFields_pageReferrerUTMAndTimes(t *testing.T) {
	f := newFixture(t)
	form := f.prog.Forms[0]
	now := f.clock.Now()
	v := validValues(f, form, "script@example.com")
	v.Set(httpapi.FieldPage, "https://www.acme.example/landing?utm_source=from-url&utm_campaign=spring#top")
	v.Set(httpapi.FieldReferrer, "https://www.search.example/")
	v.Set("utm_source", "from-field")
	// A browser clock an hour behind: its own two times say 30 s.
	v.Set(httpapi.FieldRenderedAt, fmt.Sprint(now.Add(-time.Hour-30*time.Second).UnixMilli()))
	v.Set(httpapi.FieldSubmittedAt, fmt.Sprint(now.Add(-time.Hour).UnixMilli()))
	req := formPost(form.ID, v, now)
	req.Headers["referer"] = "https://www.acme.example/"
	f.handle(t, req)
	l, _ := f.lead(t, "script@example.com")
	if l == nil {
		t.Fatal("a person who took 30 s by their own clock was taken for a bot")
	}
	want := lead.Attribution{
		SourcePage: "https://www.acme.example/landing?utm_source=from-url&utm_campaign=spring", Referrer: "https://www.search.example/",
		UTMSource: "from-field", UTMCampaign: "spring",
	}
	if *l.FirstTouch != want {
		t.Errorf("first touch = %+v, want %+v", *l.FirstTouch, want)
	}

	// The same browser clock, 0.5 s between its two times: a bot.
	bot := validValues(f, form, "fastbot@example.com")
	bot.Set(httpapi.FieldRenderedAt, fmt.Sprint(now.Add(-time.Hour-500*time.Millisecond).UnixMilli()))
	bot.Set(httpapi.FieldSubmittedAt, fmt.Sprint(now.Add(-time.Hour).UnixMilli()))
	if resp := f.handle(t, formPost(form.ID, bot, now)); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a bot gets the answer a person gets; got %d", resp.StatusCode)
	}
	if l, _ := f.lead(t, "fastbot@example.com"); l != nil {
		t.Error("a post 0.5 s after the form was shown stored a lead")
	}
}

// Attribution is informational: bad values are cut or dropped, the lead
// is stored all the same, and nothing is stored raw.
func TestCapture_badAttribution_cutOrDropped_leadStored(t *testing.T) {
	f := newFixture(t)
	form := f.prog.Forms[0]
	long := "https://www.acme.example/" + strings.Repeat("a", 5000) + "?utm_source=deep"
	tests := []struct {
		name    string
		set     map[string]string
		referer string
		check   func(t *testing.T, a lead.Attribution)
	}{
		{"over-long page URL is cut, its UTM still read", map[string]string{httpapi.FieldPage: long}, "", func(t *testing.T, a lead.Attribution) {
			if len(a.SourcePage) != 512 || !strings.HasPrefix(long, a.SourcePage) || a.UTMSource != "deep" {
				t.Errorf("source page %d bytes, utm_source %q", len(a.SourcePage), a.UTMSource)
			}
		}},
		{"over-long referrer is cut", map[string]string{httpapi.FieldReferrer: long}, "", func(t *testing.T, a lead.Attribution) {
			if len(a.Referrer) != 512 {
				t.Errorf("referrer %d bytes", len(a.Referrer))
			}
		}},
		{"over-long Referer header is cut", nil, long, func(t *testing.T, a lead.Attribution) {
			if len(a.SourcePage) != 512 || a.UTMSource != "deep" {
				t.Errorf("source page %d bytes, utm_source %q", len(a.SourcePage), a.UTMSource)
			}
		}},
		{"cut inside a character keeps valid UTF-8", map[string]string{"utm_campaign": strings.Repeat("é", 100)}, "", func(t *testing.T, a lead.Attribution) {
			if len(a.UTMCampaign) != 128 || a.UTMCampaign != strings.Repeat("é", 64) {
				t.Errorf("utm_campaign %q", a.UTMCampaign)
			}
		}},
		{"UTM with control characters is dropped", map[string]string{"utm_source": "news\x00letter", "utm_medium": "e\r\nmail", "utm_campaign": "ok"}, "", func(t *testing.T, a lead.Attribution) {
			if a.UTMSource != "" || a.UTMMedium != "" || a.UTMCampaign != "ok" {
				t.Errorf("utm = %+v", a)
			}
		}},
		{"UTM in the page URL with control characters is dropped", map[string]string{httpapi.FieldPage: "https://www.acme.example/?utm_source=a%00b&utm_term=%E2%80%8Bx%0A"}, "", func(t *testing.T, a lead.Attribution) {
			if a.UTMSource != "" || a.UTMTerm != "" {
				t.Errorf("utm = %+v", a)
			}
		}},
		{"not a web page URL is dropped, the Referer taken", map[string]string{httpapi.FieldPage: "javascript:alert(1)", httpapi.FieldReferrer: "data:text/html,hi"}, "https://www.acme.example/x", func(t *testing.T, a lead.Attribution) {
			if a.SourcePage != "https://www.acme.example/x" || a.Referrer != "" {
				t.Errorf("attribution = %+v", a)
			}
		}},
		{"credentials in a URL are never stored", map[string]string{httpapi.FieldPage: "https://user:secret@www.acme.example/p"}, "", func(t *testing.T, a lead.Attribution) {
			if a.SourcePage != "https://www.acme.example/p" {
				t.Errorf("source page %q", a.SourcePage)
			}
		}},
		{"control characters in a URL drop it", map[string]string{httpapi.FieldPage: "https://www.acme.example/\x7fp"}, "", func(t *testing.T, a lead.Attribution) {
			if a.SourcePage != "" {
				t.Errorf("source page %q", a.SourcePage)
			}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			email := fmt.Sprintf("touch%d@example.com", i)
			v := validValues(f, form, email)
			for k, val := range tt.set {
				v.Set(k, val)
			}
			req := formPost(form.ID, v, f.clock.Now())
			if tt.referer != "" {
				req.Headers["referer"] = tt.referer
			}
			if resp := f.handle(t, req); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
			}
			l, _ := f.lead(t, email)
			if l == nil || l.FirstTouch == nil {
				t.Fatal("no lead stored")
			}
			tt.check(t, *l.FirstTouch)
			if l.Consent.SourcePage != l.FirstTouch.SourcePage {
				t.Errorf("consent source page %q, first touch %q", l.Consent.SourcePage, l.FirstTouch.SourcePage)
			}
		})
	}
}

func TestCapture_replayAfter40NewerPosts_changesNothing(t *testing.T) {
	f := newFixture(t)
	form := f.prog.Forms[0]
	now := f.clock.Now()
	first := validValues(f, form, "ada@example.com")
	first.Set("submission", "nonce-first")
	f.handle(t, formPost(form.ID, first, now))
	// More newer posts than the lead itself remembers keys of.
	for i := 0; i < 40; i++ {
		v := validValues(f, form, "ada@example.com")
		v.Set("submission", fmt.Sprintf("nonce-%d", i))
		f.handle(t, formPost(form.ID, v, now.Add(time.Duration(i+1)*time.Minute)))
	}
	before, beforeActs := f.lead(t, "ada@example.com")

	f.handle(t, formPost(form.ID, first, now.Add(2*time.Hour)))

	after, afterActs := f.lead(t, "ada@example.com")
	if after.Version != before.Version || !reflect.DeepEqual(after.Score, before.Score) {
		t.Errorf("the replay changed the lead: version %d -> %d, score %+v -> %+v", before.Version, after.Version, before.Score, after.Score)
	}
	if len(afterActs) != len(beforeActs) {
		t.Errorf("the replay changed the timeline: %d activities -> %d", len(beforeActs), len(afterActs))
	}
}
