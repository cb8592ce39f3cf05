package main

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// The README walk's lead's own voice, in a browser without JavaScript: the
// lead says an email was not really useful, answers "What would help you
// most next?" with a topic and a few words, and chooses less often on its
// preference page; the words are on its dossier page.
func TestLocalStack_leadsOwnVoice_inChromium(t *testing.T) {
	s := startStack(t, tuesdayMorning)
	defer s.stop(t)
	prog, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	const email = "ada@voice.example"
	resp := s.post(t, "/forms/"+prog.Forms[0].ID, `{"email":"`+email+`","name":"Ada Lovelace","consent":true}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("capture answered %d\n%s", resp.StatusCode, s.output)
	}
	s.confirm(t, email)
	id := s.leadID(t, email)

	// "Send the next email" until one asks what would help.
	var text string
	for i := 0; i < 8 && !strings.Contains(text, prog.AskText()); i++ {
		resp := s.post(t, "/_local/next", "")
		resp.Body.Close()
		mail, err := localstack.SentMail(context.Background(), s.ses)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mail {
			if strings.EqualFold(m.To[0], email) {
				text = m.Text
			}
		}
	}
	if !strings.Contains(text, prog.AskText()) {
		t.Fatalf("no email asked what would help; the latest:\n%s\n%s", text, s.output)
	}
	linkFor := func(label string) string {
		t.Helper()
		m := regexp.MustCompile(`(?m)` + regexp.QuoteMeta(label) + `: (\S+)$`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("the email has no %q link:\n%s", label, text)
		}
		return m[1]
	}

	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), noScript); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Not really useful: the page asks, its button records.
	if err := within(ctx, 30*time.Second, chromedp.Navigate(linkFor("- Not really")), chromedp.Click("button[type=submit]")); err != nil {
		t.Fatalf("rate the email: %v", err)
	}
	if h := textOf(t, ctx, "h1", "Thanks"); h != "Thanks for telling us" {
		t.Errorf("after rating the page says %q", h)
	}
	// What would help: a topic and a few words.
	words := "We need to show finance where the money goes <by Friday>."
	err = within(ctx, 30*time.Second,
		chromedp.Navigate(linkFor("- "+prog.TopicLabel("reliability"))),
		chromedp.WaitVisible("#words"),
		chromedp.SendKeys("#words", words),
		chromedp.Click("button[type=submit]"),
	)
	if err != nil {
		t.Fatalf("say what would help: %v", err)
	}
	if quote := textOf(t, ctx, "blockquote", ""); quote != words {
		t.Errorf("the thanks page quotes %q, want the words as written", quote)
	}
	// Preferences: less often.
	err = within(ctx, 30*time.Second,
		chromedp.Navigate(linkFor("Choose topics and how often")),
		chromedp.Click(`input[name=cadence][value=less]`),
		chromedp.Click("button[type=submit]"),
	)
	if err != nil {
		t.Fatalf("choose less often: %v", err)
	}
	if h := textOf(t, ctx, "h1", "saved"); h != "Your choices are saved" {
		t.Errorf("after saving the page says %q", h)
	}

	l, found, err := s.store(t).GetLead(context.Background(), id)
	if err != nil || !found {
		t.Fatalf("lead: %v %v", found, err)
	}
	if !l.Voice.LessOften || l.Voice.Wants != "reliability" {
		t.Errorf("the lead's voice is %+v, want less often and reliability next", l.Voice)
	}

	// The words wait for sales on the dossier page.
	dossier := s.api + "/s/" + s.signer(t).Sign(token.Claims{Purpose: token.PurposeDossier, LeadID: id, Expires: s.now(t).Add(24 * time.Hour)})
	if err := within(ctx, 30*time.Second, chromedp.Navigate(dossier), chromedp.WaitVisible("#words")); err != nil {
		t.Fatalf("open the dossier: %v\n%s", err, s.output)
	}
	if quote, _ := chromedp.Run(ctx, chromedp.Text("figure.words blockquote")); quote != words {
		t.Errorf("the dossier quotes %q, want the words as written", quote)
	}
}

// within runs browser actions with a deadline of their own, so a page that
// is not what the test expects fails that step, not the whole test's time.
func within(ctx context.Context, d time.Duration, steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return chromedp.Do(ctx, steps...)
}

// textOf waits for the page the last click led to to show selector
// (containing want, when given) and returns its text: a form's post
// replaces the page, and the old one may still answer for a moment.
func textOf(t *testing.T, ctx context.Context, selector, want string) string {
	t.Helper()
	var got string
	for range 100 {
		js := fmt.Sprintf("(document.readyState === 'complete' && document.querySelector(%q)) ? document.querySelector(%q).innerText : ''", selector, selector)
		got, _ = chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if got != "" && strings.Contains(got, want) {
			return got
		}
		_ = chromedp.Do(ctx, chromedp.Sleep(100*time.Millisecond))
	}
	return got
}
