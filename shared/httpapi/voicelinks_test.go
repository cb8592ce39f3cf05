package httpapi_test

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/token"
)

// withForm puts a urlencoded body on a sample post, as a browser sends it.
func withForm(req httpapi.Request, v url.Values) httpapi.Request {
	req.Body = base64.StdEncoding.EncodeToString([]byte(v.Encode()))
	req.IsBase64Encoded = true
	req.Headers["content-type"] = "application/x-www-form-urlencoded"
	return req
}

// "Was this useful?": the GET shows the answer with a button and changes
// nothing; the post records it once, with the asset's format and stage.
func TestLinks_rating_pageThenConfirm_recordedOnce(t *testing.T) {
	f := newLinksFixture(t)
	id := f.newLead(t, "ada@example.com")
	asset, _ := f.prog.Asset("multi-region-whitepaper")
	tok := sign(f.signer, token.PurposeNotUseful, id, asset.ID, f.clock.Now())
	before := f.mustLead(t, id)

	page := f.do(t, linkEvent(t, "rate-page.json", tok))
	if page.StatusCode != http.StatusOK {
		t.Fatalf("GET /r answered %d:\n%s", page.StatusCode, page.Body)
	}
	for _, want := range []string{escaped("Was “" + asset.Title + "” useful?"), "Not really. Confirm, and we send fewer whitepapers like it.", `action="/r/` + tok + `"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the page lacks %q:\n%s", want, page.Body)
		}
	}
	if l := f.mustLead(t, id); l.Version != before.Version || len(f.activities(t, id, lead.KindRating)) != 0 {
		t.Fatal("a GET of a rating link changed the lead")
	}

	resp := f.do(t, linkEvent(t, "rate-confirm.json", tok))
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "We send fewer whitepapers like") || !strings.Contains(resp.Body, `<a href="/p/`) {
		t.Fatalf("POST /r answered %d:\n%s", resp.StatusCode, resp.Body)
	}
	acts := f.activities(t, id, lead.KindRating)
	if len(acts) != 1 || acts[0].AssetID != asset.ID || acts[0].Format != "whitepaper" || acts[0].Stage != "consideration" || acts[0].Detail != lead.RatedNotUseful || acts[0].Track != "cloud-cost" || acts[0].Step != 1 {
		t.Fatalf("rating activities %+v", acts)
	}
	if f, s := f.mustLead(t, id).Unhelpful(f.prog); f["whitepaper"] != 1 || s["consideration"] != 1 {
		t.Errorf("the lead remembers %v %v, want the whitepaper's format and stage", f, s)
	}
	again := f.do(t, linkEvent(t, "rate-confirm.json", tok))
	if again.StatusCode != http.StatusOK || len(f.activities(t, id, lead.KindRating)) != 1 || again.Body != resp.Body {
		t.Errorf("a second confirm: %d, %d ratings\n%s", again.StatusCode, len(f.activities(t, id, lead.KindRating)), again.Body)
	}
	yes := f.do(t, linkEvent(t, "rate-confirm.json", sign(f.signer, token.PurposeUseful, id, asset.ID, f.clock.Now())))
	if yes.StatusCode != http.StatusOK || len(f.activities(t, id, lead.KindRating)) != 1 || !strings.Contains(yes.Body, "You told us already") {
		t.Errorf("the other answer later: %d, %d ratings\n%s", yes.StatusCode, len(f.activities(t, id, lead.KindRating)), yes.Body)
	}
}

// "What would help": the topic and a box; the words come back escaped, as
// they are kept; "something else" without a word stores nothing.
func TestLinks_help_wordsShownBackEscaped_nothingSaidRefused(t *testing.T) {
	f := newLinksFixture(t)
	id := f.newLead(t, "ada@example.com")
	tok := sign(f.signer, token.PurposeHelp, id, "rightsizing-guide=reliability", f.clock.Now())
	page := f.do(t, linkEvent(t, "help-page.json", tok))
	for _, want := range []string{"You chose: " + f.prog.TopicLabel("reliability"), `<textarea id="words" name="words" maxlength="500"`, `action="/h/` + tok + `"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the page lacks %q:\n%s", want, page.Body)
		}
	}
	if len(f.activities(t, id, lead.KindWish)) != 0 || f.mustLead(t, id).Voice.Wants != "" {
		t.Fatal("a GET of a help link recorded something")
	}

	resp := f.do(t, withForm(linkEvent(t, "help-confirm.json", tok), url.Values{"words": {`<img src=x onerror=alert(1)> "quoted" & more`}}))
	if resp.StatusCode != http.StatusOK || strings.Contains(resp.Body, "<img") || !strings.Contains(resp.Body, "&lt;img src=x onerror=alert(1)&gt; &#34;quoted&#34; &amp; more") {
		t.Fatalf("POST /h answered %d:\n%s", resp.StatusCode, resp.Body)
	}
	wishes := f.activities(t, id, lead.KindWish)
	if len(wishes) != 1 || wishes[0].Words != `<img src=x onerror=alert(1)> "quoted" & more` || wishes[0].Detail != "reliability" || wishes[0].AssetID != "rightsizing-guide" {
		t.Fatalf("wishes %+v", wishes)
	}

	// The sample's own words, sent from another email's link: kept too.
	other := sign(f.signer, token.PurposeHelp, id, "finops-business-case=", f.clock.Now())
	if resp := f.do(t, linkEvent(t, "help-confirm.json", other)); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "We are moving to multi-region next quarter &amp; need a plan") {
		t.Errorf("the sample's words: %d\n%s", resp.StatusCode, resp.Body)
	}

	empty := sign(f.signer, token.PurposeHelp, id, "commitments-webinar=", f.clock.Now())
	resp = f.do(t, withForm(linkEvent(t, "help-confirm.json", empty), url.Values{"words": {" \r\n\u200b "}}))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, "Nothing was sent") || !strings.Contains(resp.Body, "<textarea") {
		t.Errorf("something else without a word: %d\n%s", resp.StatusCode, resp.Body)
	}
	if n := len(f.activities(t, id, lead.KindWish)); n != 2 {
		t.Errorf("%d wishes stored, want 2", n)
	}

	for name, ref := range map[string]string{"unknown topic": "rightsizing-guide=shoes", "unknown asset": "no-such-asset=reliability", "no separator": "rightsizing-guide"} {
		bad := sign(f.signer, token.PurposeHelp, id, ref, f.clock.Now())
		if resp := f.do(t, linkEvent(t, "help-confirm.json", bad)); resp.StatusCode != httpapi.InvalidLinkStatus {
			t.Errorf("%s: %d, want the invalid-link page", name, resp.StatusCode)
		}
	}
}

// The preference page: saved choices, refused without a topic, and a way
// to unsubscribe from everything.
func TestLinks_preferences_saveAndRefuseNoTopic(t *testing.T) {
	f := newLinksFixture(t)
	id := f.newLead(t, "ada@example.com")
	tok := sign(f.signer, token.PurposePrefs, id, "", f.clock.Now())
	page := f.do(t, linkEvent(t, "preferences-page.json", tok))
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, `<a href="/u/`) || !strings.Contains(page.Body, `type="radio" name="cadence" value="less"`) {
		t.Fatalf("GET /p answered %d:\n%s", page.StatusCode, page.Body)
	}
	before := f.mustLead(t, id)

	resp := f.do(t, withForm(linkEvent(t, "preferences-save.json", tok), url.Values{"cadence": {"less"}}))
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, "choose at least one topic") {
		t.Errorf("no topic: %d\n%s", resp.StatusCode, resp.Body)
	}
	if f.mustLead(t, id).Version != before.Version {
		t.Error("a refused save changed the lead")
	}

	resp = f.do(t, linkEvent(t, "preferences-save.json", tok))
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "Your choices are saved") || !strings.Contains(resp.Body, "Emails less often") {
		t.Fatalf("POST /p answered %d:\n%s", resp.StatusCode, resp.Body)
	}
	if l := f.mustLead(t, id); !l.Voice.LessOften || !l.Muted("reliability") {
		t.Errorf("saved %+v", l.Voice)
	}
	f.do(t, linkEvent(t, "preferences-save.json", tok))
	if n := len(f.activities(t, id, lead.KindPreferences)); n != 1 {
		t.Errorf("the same choices saved twice are noted %d times, want once", n)
	}

	forged := withForm(linkEvent(t, "preferences-save.json", tok), url.Values{"topic:cloud-cost": {"yes"}, "topic:shoes": {"yes"}})
	if resp := f.do(t, forged); resp.StatusCode != http.StatusOK || f.mustLead(t, id).Muted("cloud-cost") {
		t.Errorf("a field of no topic is ignored: %d", resp.StatusCode)
	}
}

// A rating, help or preferences token works on its own route only, and
// "yes" and "not really" are different tokens.
func TestLinks_voiceTokens_onlyForTheirOwnRoute(t *testing.T) {
	f := newLinksFixture(t)
	id := f.newLead(t, "ada@example.com")
	useful := sign(f.signer, token.PurposeUseful, id, "rightsizing-guide", f.clock.Now())
	prefs := sign(f.signer, token.PurposePrefs, id, "", f.clock.Now())
	for name, req := range map[string]httpapi.Request{
		"rating token on /p":       linkEvent(t, "preferences-save.json", useful),
		"preferences token on /r":  linkEvent(t, "rate-confirm.json", prefs),
		"preferences token on /h":  linkEvent(t, "help-confirm.json", prefs),
		"unsubscribe token on /r":  linkEvent(t, "rate-confirm.json", f.unsubToken(id)),
		"rating of no asset":       linkEvent(t, "rate-confirm.json", sign(f.signer, token.PurposeUseful, id, "no-such-asset", f.clock.Now())),
		"rating token on /u":       linkEvent(t, "unsubscribe-one-click.json", useful),
		"rating of a missing lead": linkEvent(t, "rate-confirm.json", sign(f.signer, token.PurposeUseful, testenv.LeadID("nobody@example.com"), "rightsizing-guide", f.clock.Now())),
	} {
		if resp := f.do(t, req); resp.StatusCode != httpapi.InvalidLinkStatus {
			t.Errorf("%s: %d, want the invalid-link page", name, resp.StatusCode)
		}
	}
	if l := f.mustLead(t, id); !l.Mailable() || l.Voice.LessOften || len(f.activities(t, id, lead.KindRating)) != 0 {
		t.Error("a token on the wrong route changed the lead")
	}
}
