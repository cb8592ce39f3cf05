package main

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// website is a marketing site on an origin of its own: a blog post that
// links to a landing page, where the form's snippet is pasted.
type website struct {
	*httptest.Server
	snippet atomic.Pointer[string]
	frame   atomic.Pointer[string] // an iframe of the hosted page
}

func newWebsite(t *testing.T) *website {
	t.Helper()
	w := &website{}
	mux := http.NewServeMux()
	page := func(body string) http.HandlerFunc {
		return func(rw http.ResponseWriter, r *http.Request) {
			rw.Header().Set("content-type", "text/html; charset=utf-8")
			fmt.Fprintf(rw, "<!doctype html><html lang=en><head><meta charset=utf-8><title>Acme Cloud</title></head><body><h1>Acme Cloud</h1>%s</body></html>", body)
		}
	}
	mux.HandleFunc("GET /blog/post", page(`<p>Our cloud bill, explained.</p><a id="read" href="/landing?utm_source=newsletter&amp;utm_campaign=winter-26">Get the guide</a>`))
	mux.HandleFunc("GET /landing", func(rw http.ResponseWriter, r *http.Request) { page(*w.snippet.Load())(rw, r) })
	// The same snippet with data-nurture-fetch added to the form tag, as
	// the README says.
	mux.HandleFunc("GET /landing-fetch", func(rw http.ResponseWriter, r *http.Request) {
		page(strings.Replace(*w.snippet.Load(), " data-nurture-form=", " data-nurture-fetch data-nurture-form=", 1))(rw, r)
	})
	mux.HandleFunc("GET /frame", func(rw http.ResponseWriter, r *http.Request) { page(*w.frame.Load())(rw, r) })
	w.Server = httptest.NewServer(mux)
	t.Cleanup(w.Close)
	return w
}

// demoSnippet is what a marketer copies from the demo page for form id.
func demoSnippet(t *testing.T, s *stack, id string) string {
	t.Helper()
	resp, err := http.Get(s.api + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`(?s)<section class="form" id="form-` + regexp.QuoteMeta(id) + `">.*?<textarea[^>]*>(.*?)</textarea>`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("the demo page shows no snippet for %s", id)
	}
	return html.UnescapeString(string(m[1]))
}

// posts records what the browser posts to the forms and where the answers
// redirect it.
type posts struct {
	sent      chan url.Values
	redirects chan string
	blocked   chan string // requests the browser blocked, and why
	pages     chan string // the API's pages the browser loaded
}

func watchPosts(t *testing.T, ctx context.Context, api string) *posts {
	t.Helper()
	p := &posts{sent: make(chan url.Values, 16), redirects: make(chan string, 16), blocked: make(chan string, 16), pages: make(chan string, 16)}
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventLoadingFailed); ok && e.BlockedReason != "" {
			p.blocked <- fmt.Sprintf("%s %s (%s)", e.Type, e.BlockedReason, e.ErrorText)
			return
		}
		if e, ok := ev.(*network.EventResponseReceived); ok && e.Type == network.ResourceTypeDocument && strings.HasPrefix(e.Response.URL, api+"/forms/") {
			p.pages <- fmt.Sprintf("%d %s", e.Response.Status, e.Response.URL)
			return
		}
		e, ok := ev.(*network.EventRequestWillBeSent)
		if !ok {
			return
		}
		if e.RedirectResponse != nil && strings.HasPrefix(e.RedirectResponse.URL, api+"/forms/") {
			p.redirects <- fmt.Sprintf("%d %s", e.RedirectResponse.Status, e.Request.URL)
			return
		}
		if e.Request.Method == http.MethodPost && strings.HasPrefix(e.Request.URL, api+"/forms/") {
			var body strings.Builder
			for _, d := range e.Request.PostDataEntries {
				body.Write(d.Bytes)
			}
			v, _ := url.ParseQuery(body.String())
			p.sent <- v
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return p
}

func (p *posts) next(t *testing.T) url.Values {
	t.Helper()
	select {
	case v := <-p.sent:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("the browser posted no form")
		return nil
	}
}

func (p *posts) redirect(t *testing.T) string {
	t.Helper()
	select {
	case r := <-p.redirects:
		return r
	case <-time.After(20 * time.Second):
		t.Fatal("the form post was not answered with a redirect")
		return ""
	}
}

// TestLocalStack_formOnAnotherWebsite_inChromium is the form as a website
// has it: the snippet copied from the demo page, pasted into a page on
// another origin, in a browser whose clock is in New York.
func TestLocalStack_formOnAnotherWebsite_inChromium(t *testing.T) {
	site, other := newWebsite(t), newWebsite(t) // only site is in SITE_ORIGINS
	s := startStack(t, tuesdayMorning, "SITE_ORIGINS="+site.URL)
	defer s.stop(t)
	prog, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	form := prog.Forms[0]
	asset, _ := prog.Asset(form.Asset)
	snippet := demoSnippet(t, s, form.ID)
	if !strings.Contains(snippet, `action="`+s.api+`/forms/`+form.ID+`"`) || !strings.Contains(snippet, `src="`+s.api+`/forms.js"`) {
		t.Fatalf("the demo page's snippet does not post to the stack:\n%s", snippet)
	}
	frame := `<iframe id="embedded" src="` + s.api + `/forms/` + form.ID + `?embed=1" title="` + form.Title + `" style="border:0;width:100%;height:36rem"></iframe>`
	for _, w := range []*website{site, other} {
		w.snippet.Store(&snippet)
		w.frame.Store(&frame)
	}

	st := s.store(t)
	stored := func(email string) (*lead.Lead, []lead.Activity) {
		t.Helper()
		id := s.leadID(t, email)
		l, found, err := st.GetLead(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !found {
			return nil, nil
		}
		acts, err := st.Activities(context.Background(), id, s.now(t).Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return l, acts
	}

	ctx := browser(t)
	p := watchPosts(t, ctx, s.api)
	newYork := chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "America/New_York"})
		return err
	})
	sel := "form[data-nurture-form=" + form.ID + "]"
	fill := func(email string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.WaitVisible(sel+" input[name=email]"),
			chromedp.SendKeys(sel+" input[name=email]", email),
			chromedp.SendKeys(sel+" input[name=name]", "Ada Lovelace"),
			chromedp.SetValue(sel+" select[name=companySize]", "51-500"),
			chromedp.Click(sel+" input[name=consent]"),
		)
	}
	// A person takes a few seconds; faster posts are treated as bots.
	human := chromedp.Sleep(lead.DefaultMinFillTime + 500*time.Millisecond)
	leave := func() {
		t.Helper()
		// The asset is on the public web, out of reach here.
		if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
			t.Fatalf("browser: %v", err)
		}
	}
	landing := site.URL + "/landing?utm_source=newsletter&utm_campaign=winter-26"

	// A reader of the blog follows the newsletter link to the landing page
	// and asks for the guide.
	visit := func(email string) url.Values {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(site.URL+"/blog/post"),
			chromedp.Click("#read"),
			fill(email), human,
			chromedp.Click(sel+" button[type=submit]"),
		)
		if err != nil {
			t.Fatalf("browser: %v\n%s", err, s.output)
		}
		posted := p.next(t)
		if got, want := p.redirect(t), "303 "+asset.URL; got != want {
			t.Errorf("after submitting, the browser was sent to %q, want %q", got, want)
		}
		leave()
		return posted
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), newYork); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	first := visit("ada@example.com")
	if first.Get("tz") != "America/New_York" || first.Get("_t") == "" || first.Get("_s") == "" || first.Get("submission") == "" {
		t.Errorf("the script should post the browser's time zone, its times and a nonce; posted %v", first)
	}
	l, acts := stored("ada@example.com")
	if l == nil {
		t.Fatalf("no lead stored\n%s", s.output)
	}
	want := lead.Attribution{SourcePage: landing, Referrer: site.URL + "/blog/post", UTMSource: "newsletter", UTMCampaign: "winter-26"}
	if l.FirstTouch == nil || *l.FirstTouch != want {
		t.Errorf("first touch = %+v, want %+v", l.FirstTouch, want)
	}
	if l.Consent == nil || l.Consent.SourcePage != landing {
		t.Errorf("consent evidence = %+v, want the landing page", l.Consent)
	}
	if l.TimeZone != "America/New_York" {
		t.Errorf("the lead's time zone is %q, want the browser's America/New_York", l.TimeZone)
	}

	// A later visit is a second page view with a nonce of its own: a
	// second download, not a duplicate of the first.
	second := visit("ada@example.com")
	if second.Get("submission") == first.Get("submission") {
		t.Errorf("two page views posted the same nonce %q", first.Get("submission"))
	}
	if _, acts = stored("ada@example.com"); len(acts) != 2 {
		t.Errorf("two visits made %d activities, want two downloads: %+v", len(acts), acts)
	}

	// Sent within two seconds of the page showing: a bot's, answered like a
	// success, and nothing is stored.
	err = chromedp.Do(ctx,
		chromedp.Navigate(landing),
		chromedp.WaitVisible(sel+" input[name=email]"),
		chromedp.Evaluate[chromedp.Void](`(() => {
			const f = document.querySelector("`+sel+`");
			f.email.value = "quick@example.com";
			f.consent.checked = true;
			f.requestSubmit();
		})()`),
	)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	quick := p.next(t)
	rendered, _ := strconv.ParseInt(quick.Get("_t"), 10, 64)
	sent, _ := strconv.ParseInt(quick.Get("_s"), 10, 64)
	if rendered == 0 || sent-rendered >= lead.DefaultMinFillTime.Milliseconds() {
		t.Fatalf("the quick post should carry times under 2 s apart; posted _t=%q _s=%q", quick.Get("_t"), quick.Get("_s"))
	}
	if got := p.redirect(t); got != "303 "+asset.URL {
		t.Errorf("a bot is answered like a person; got %q", got)
	}
	leave()
	if l, _ := stored("quick@example.com"); l != nil {
		t.Errorf("a post %d ms after the page showed stored a lead", sent-rendered)
	}

	// Sent in the background from a page of the site: a field error from
	// the API's JSON, then the thank-you in place, and no page load.
	fetchPage := site.URL + "/landing-fetch?utm_source=ads"
	err = chromedp.Do(ctx,
		chromedp.Navigate(fetchPage),
		// The browser accepts name@localhost, the API does not.
		fill("grace@localhost"), human,
		chromedp.Click(sel+" button[type=submit]"),
		chromedp.WaitVisible(sel+" .nurture-error"),
	)
	if err != nil {
		t.Fatalf("fetch form: %v\n%s", err, s.output)
	}
	p.next(t)
	fieldError, _ := chromedp.Run(ctx, chromedp.Text(sel+` [data-nurture-error="email"]`))
	invalid, _ := chromedp.Run(ctx, chromedp.AttributeValue(sel+" input[name=email]", "aria-invalid"))
	if !strings.Contains(fieldError, "name@example.com") || invalid.Value != "true" {
		t.Errorf("the email field should say what to correct; says %q, aria-invalid %+v", fieldError, invalid)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(sel+" input[name=email]", "grace@example.com"),
		chromedp.Click(sel+" button[type=submit]"),
		chromedp.WaitVisible(".nurture-thanks"),
	)
	if err != nil {
		t.Fatalf("fetch form: %v\n%s", err, s.output)
	}
	p.next(t)
	thanks, _ := chromedp.Run(ctx, chromedp.Text(".nurture-thanks"))
	href, _ := chromedp.Run(ctx, chromedp.JavascriptAttribute[string](".nurture-thanks a", "href"))
	at, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.Contains(thanks, "Thank you") || !strings.Contains(thanks, asset.Title) || href != asset.URL || at != fetchPage {
		t.Errorf("the thank-you says %q and links %q on %s; want the asset %s on the same page", thanks, href, at, asset.URL)
	}
	if l, acts := stored("grace@example.com"); l == nil || len(acts) != 1 || l.FirstTouch.UTMSource != "ads" {
		t.Errorf("the fetched form stored %+v with %d activities", l, len(acts))
	}
	if errs, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("[data-nurture-error]").length`)); errs != 0 {
		t.Errorf("%d field errors still show after the thank-you", errs)
	}

	// Scripts on a page of the site may read the API's answers (the JSON
	// post preflighted); on a page of another origin they may not.
	const probe = `fetch("%s/forms/%s", {method: "POST", headers: %s, body: %s})
		.then(r => "read " + r.status, e => "refused")`
	simple := fmt.Sprintf(probe, s.api, form.ID, `{Accept: "application/json"}`, `new URLSearchParams({email: "not-an-address"})`)
	preflighted := fmt.Sprintf(probe, s.api, form.ID, `{"Content-Type": "application/json"}`, `JSON.stringify({email: "not-an-address"})`)
	for _, c := range []struct {
		origin, script, want string
	}{
		{site.URL, simple, "read 400"}, {site.URL, preflighted, "read 400"},
		{other.URL, simple, "refused"}, {other.URL, preflighted, "refused"},
	} {
		if err := chromedp.Do(ctx, chromedp.Navigate(c.origin+"/blog/post")); err != nil {
			t.Fatalf("browser: %v", err)
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](c.script, chromedp.EvalAwaitPromise))
		if err != nil || got != c.want {
			t.Errorf("fetch from %s (%.40s...): %q %v, want %q", c.origin, c.script, got, err, c.want)
		}
	}
	drain(p)

	// On another origin the fetch form cannot read the answer, so it posts
	// the plain way: the same submission, stored once.
	err = chromedp.Do(ctx,
		chromedp.Navigate(other.URL+"/landing-fetch"),
		fill("hopper@example.com"), human,
		chromedp.Click(sel+" button[type=submit]"),
	)
	if err != nil {
		t.Fatalf("fetch form on another origin: %v", err)
	}
	fetched, posted := p.next(t), p.next(t)
	if got := p.redirect(t); got != "303 "+asset.URL {
		t.Errorf("the refused fetch should fall back to a plain post answered with the asset; got %q", got)
	}
	if fetched.Get("submission") == "" || posted.Get("submission") != fetched.Get("submission") {
		t.Errorf("the fetch and its plain post should be one submission; posted %v then %v", fetched, posted)
	}
	leave()
	if l, acts := stored("hopper@example.com"); l == nil || len(acts) != 1 {
		t.Errorf("the refused fetch and its plain post stored %+v with %d activities, want one download", l, len(acts))
	}

	// The hosted page, for a marketer who cannot edit the site: the form
	// posts to the API it came from, which sends the reader on to the
	// content (the page's CSP allows both).
	hosted := s.api + "/forms/" + form.ID + "?utm_source=hosted"
	err = chromedp.Do(ctx,
		chromedp.Navigate(hosted),
		fill("hosted@example.com"), human,
		chromedp.Click(sel+" button[type=submit]"),
	)
	if err != nil {
		t.Fatalf("hosted page: %v\n%s", err, s.output)
	}
	p.next(t)
	if got := p.redirect(t); got != "303 "+asset.URL {
		t.Errorf("the hosted page's post was sent to %q", got)
	}
	leave()
	select {
	case b := <-p.blocked:
		t.Errorf("the browser blocked a request of the hosted page: %s", b)
	default:
	}
	if l, _ := stored("hosted@example.com"); l == nil || l.FirstTouch.SourcePage != hosted || l.FirstTouch.UTMSource != "hosted" {
		t.Errorf("the hosted page stored %+v", l)
	}

	// The hosted page's embed variant may be framed by the site, and by no
	// other origin.
	drain(p)
	embed := s.api + "/forms/" + form.ID + "?embed=1"
	for _, c := range []struct {
		origin  string
		blocked bool
	}{{site.URL, false}, {other.URL, true}} {
		if err := chromedp.Do(ctx, chromedp.Navigate(c.origin+"/frame")); err != nil {
			t.Fatalf("frame: %v", err)
		}
		var loaded, blocked []string
		for len(p.pages) > 0 {
			loaded = append(loaded, <-p.pages)
		}
		for len(p.blocked) > 0 {
			blocked = append(blocked, <-p.blocked)
		}
		if shown := len(loaded) == 1 && loaded[0] == "200 "+embed && len(blocked) == 0; shown == c.blocked {
			t.Errorf("the embed page framed by %s: loaded %q, blocked %q; want it blocked: %v", c.origin, loaded, blocked, c.blocked)
		}
	}

	// Without JavaScript the same snippet is a plain form: it posts from
	// any origin, with no timing check, and the browser's Referer is all
	// that is known of the page (the site's origin, under the default
	// referrer policy).
	err = chromedp.Do(ctx,
		noScript,
		chromedp.Navigate(other.URL+"/landing?utm_source=newsletter"),
		fill("lovelace@example.com"),
		chromedp.Click(sel+" button[type=submit]"),
	)
	if err != nil {
		t.Fatalf("no script: %v", err)
	}
	plain := p.next(t)
	if got := p.redirect(t); got != "303 "+asset.URL {
		t.Errorf("without JavaScript: sent to %q", got)
	}
	leave()
	if plain.Get("_t") != "" || plain.Get("tz") != "" {
		t.Errorf("without JavaScript the post carries only the form's own fields; posted %v", plain)
	}
	l, acts = stored("lovelace@example.com")
	if l == nil || len(acts) != 1 {
		t.Fatalf("without JavaScript: lead %+v, %d activities\n%s", l, len(acts), s.output)
	}
	if l.FirstTouch.SourcePage != other.URL+"/" || l.Name != "Ada Lovelace" || l.Consent == nil {
		t.Errorf("without JavaScript: stored %+v, first touch %+v", l, l.FirstTouch)
	}
}

// drain forgets what the probes posted.
func drain(p *posts) {
	for {
		select {
		case <-p.sent:
		case <-p.redirects:
		case <-p.blocked:
		case <-p.pages:
		default:
			return
		}
	}
}
