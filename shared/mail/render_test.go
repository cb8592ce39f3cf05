package mail_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/mail/mailtest"
)

func TestRenderNurture_bothParts_showWhatTheReaderNeeds(t *testing.T) {
	m := mailtest.Render(t, mailtest.NurtureEmail())
	for _, want := range []string{
		"Hi Ada,",
		"Teams that tag early save the most.",
		"This checklist shows where to start.",
		"The cloud waste checklist",
		"Checklist",
		"Twelve checks that find idle spend.",
		"Because you read “The FinOps field guide”",
		"How large is your company?",
		"1–50", "51–500", "500+",
		"https://api.acme.example/a/tokSmall",
		"https://api.acme.example/a/tokMid",
		"https://api.acme.example/a/tokLarge",
		"You receive this email because you downloaded “The FinOps field guide” from Acme Analytics Ltd.",
		"Unsubscribe",
		mailtest.UnsubscribeURL,
		"Acme Analytics Ltd",
		"1 Harbour Street, Bristol BS1 4XX, United Kingdom",
	} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("text part lacks %q", want)
		}
		if !strings.Contains(m.HTML, htmlEscaped(want)) {
			t.Errorf("HTML part lacks %q", want)
		}
	}
	// The asset link keeps its campaign parameters (HTML escapes the &).
	if !strings.Contains(m.Text, "Read the checklist: "+mailtest.AssetURL) {
		t.Errorf("text part does not spell out the asset link:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, `href="`+strings.ReplaceAll(mailtest.AssetURL, "&", "&amp;")+`"`) {
		t.Errorf("HTML part does not link the asset:\n%s", m.HTML)
	}
}

// htmlEscaped is how html/template writes text that has no markup in it.
func htmlEscaped(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

func TestRenderNurture_envelopeAndHeaders(t *testing.T) {
	m := mailtest.Render(t, mailtest.NurtureEmail())
	if m.From != "Acme Insights <insights@acme.example>" || m.To != "ada@example.com" || m.ReplyTo != "team@acme.example" {
		t.Errorf("from/to/reply-to = %q/%q/%q", m.From, m.To, m.ReplyTo)
	}
	if m.Subject != "Cutting cloud waste in 30 days" {
		t.Errorf("subject = %q", m.Subject)
	}
	want := []mail.Header{
		{Name: "List-Unsubscribe", Value: "<" + mailtest.UnsubscribeURL + ">"},
		{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
	}
	if len(m.Headers) != len(want) || m.Headers[0] != want[0] || m.Headers[1] != want[1] {
		t.Errorf("headers = %q, want %q", m.Headers, want)
	}
}

func TestRenderNurture_unsubscribeLink_notClickTracked(t *testing.T) {
	m := mailtest.Render(t, mailtest.NurtureEmail())
	if !strings.Contains(m.HTML, `<a ses:no-track href="`+mailtest.UnsubscribeURL+`"`) {
		t.Errorf("unsubscribe link lacks ses:no-track:\n%s", m.HTML)
	}
	// Our own signed links record themselves; only the asset link (and the
	// hidden honeypot) go through SES click tracking, tagged.
	e := mailtest.NurtureEmail()
	answers := 0
	if e.Question != nil {
		answers = len(e.Question.Answers)
	}
	if n := strings.Count(m.HTML, "ses:no-track"); n != 4+answers {
		t.Errorf("ses:no-track appears %d times, want on the unsubscribe, preferences, two rating and %d answer links", n, answers)
	}
	if !strings.Contains(m.HTML, `ses:tags="link:asset;asset:`+e.Asset.ID+`;"`) {
		t.Errorf("the asset link should carry its SES link tags:\n%s", m.HTML)
	}
	if !strings.Contains(m.HTML, `ses:tags="link:honeypot;"`) {
		t.Errorf("the hidden honeypot link is missing:\n%s", m.HTML)
	}
}

func TestRenderNurture_greeting(t *testing.T) {
	for _, tc := range []struct{ name, firstName, want string }{
		{"known first name", "Ada", "Hi Ada,"},
		{"no first name", "", "Hello,"},
		{"only spaces", "   ", "Hello,"},
		{"accents kept", "Zoë-Seán", "Hi Zoë-Seán,"},
		{"bidi and invisible characters dropped", "\u202eAda\u200b", "Hi Ada,"},
		{"line breaks with a header are not a name", "Ada\r\nBcc: x", "Hello,"},
		{"a link is not a name", "https://evil.example/reset?acct=1", "Hello,"},
		{"a domain is not a name", "evil.example", "Hello,"},
		{"an address is not a name", "ada@example.com", "Hello,"},
		{"digits are not a name", "Winner 2026", "Hello,"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mailtest.NurtureEmail()
			e.FirstName = tc.firstName
			m := mailtest.Render(t, e)
			if !strings.HasPrefix(m.Text, tc.want+"\n") {
				t.Errorf("text starts %q, want %q", firstLine(m.Text), tc.want)
			}
			if !strings.Contains(m.HTML, ">"+tc.want+"</p>") {
				t.Errorf("HTML lacks greeting %q", tc.want)
			}
		})
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func TestRenderNurture_hostileText_escapedInHTML(t *testing.T) {
	e := mailtest.NurtureEmail()
	e.FirstName = "<script>alert(1)</script>"
	e.Asset.Title = `Guide "<b>bold</b>" & more`
	e.Question.Answers[0].Label = `<img src=x onerror=alert(1)>`
	m := mailtest.Render(t, e)
	for _, bad := range []string{"<script>", "<b>", "<img", "onerror=alert(1)>"} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("HTML contains raw %q", bad)
		}
	}
	for _, want := range []string{"&lt;b&gt;bold&lt;/b&gt;", "&amp; more", "&lt;img src=x onerror=alert(1)&gt;"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("HTML lacks escaped %q", want)
		}
	}
	// Markup is no name: the greeting is the neutral one in both parts.
	if !strings.Contains(m.HTML, ">Hello,</p>") || !strings.HasPrefix(m.Text, "Hello,\n") || strings.Contains(m.Text, "script") {
		t.Errorf("a name of markup was greeted:\n%s", m.Text)
	}
}

func TestRenderNurture_optionalPartsLeftOut(t *testing.T) {
	e := mailtest.NurtureEmail()
	e.Question = nil
	e.Reason = ""
	e.Downloaded = ""
	e.AssetURL = ""
	e.Sender.ReplyTo = ""
	m := mailtest.Render(t, e)
	for _, part := range []string{m.Text, m.HTML} {
		if strings.Contains(part, "How large") || strings.Contains(part, "Because you read") {
			t.Errorf("a left-out part shows:\n%s", part)
		}
		if !strings.Contains(part, "You receive this email because you downloaded content from Acme Analytics Ltd.") {
			t.Errorf("footer lacks the generic reason:\n%s", part)
		}
		if !strings.Contains(part, "https://acme.example/guides/finops") {
			t.Error("without AssetURL the asset's own URL is not linked")
		}
	}
	if m.ReplyTo != "" {
		t.Errorf("reply-to = %q, want none", m.ReplyTo)
	}
}

// Every email ends with "Was this useful?" and links the reader's
// preference page next to Unsubscribe: a reader can say what helps, or
// change what and how often, instead of leaving altogether.
func TestRenderNurture_ratingAndPreferences_atTheFootOfBothParts(t *testing.T) {
	m := mailtest.Render(t, mailtest.NurtureEmail())
	want := "Was this useful?\n- Yes: " + mailtest.UsefulURL + "\n- Not really: " + mailtest.NotUsefulURL + "\n"
	if !strings.Contains(m.Text, want) {
		t.Errorf("text part lacks the rating:\n%s", m.Text)
	}
	if !strings.Contains(m.Text, "Choose topics and how often: "+mailtest.PreferencesURL+"\nUnsubscribe: "+mailtest.UnsubscribeURL) {
		t.Errorf("text footer lacks the preferences link before Unsubscribe:\n%s", m.Text)
	}
	for _, link := range []string{mailtest.UsefulURL, mailtest.NotUsefulURL, mailtest.PreferencesURL} {
		if !strings.Contains(m.HTML, `<a ses:no-track href="`+link+`"`) {
			t.Errorf("HTML lacks the untracked link %s:\n%s", link, m.HTML)
		}
	}
	rating, footer := strings.Index(m.HTML, "Was this useful?"), strings.Index(m.HTML, "You receive this email")
	if rating < 0 || rating > footer || rating < strings.Index(m.HTML, "How large is your company?") {
		t.Errorf("the rating should come after the question, before the footer:\n%s", m.HTML)
	}
}

// "What would help you most next?" is a question block of its own, with
// a link per topic.
func TestRenderNurture_helpQuestion_linksEachTopic(t *testing.T) {
	e := mailtest.NurtureEmail()
	e.Question = nil
	e.Help = &mail.QuestionBlock{Text: "What would help you most next?", Answers: []mail.AnswerLink{
		{Label: "Cloud costs", URL: "https://api.acme.example/h/tokCost"},
		{Label: "Something else", URL: "https://api.acme.example/h/tokElse"},
	}}
	m := mailtest.Render(t, e)
	if !strings.Contains(m.Text, "What would help you most next?\n- Cloud costs: https://api.acme.example/h/tokCost\n- Something else: https://api.acme.example/h/tokElse\n") {
		t.Errorf("text part:\n%s", m.Text)
	}
	for _, link := range []string{"https://api.acme.example/h/tokCost", "https://api.acme.example/h/tokElse"} {
		if !strings.Contains(m.HTML, `<a ses:no-track href="`+link+`"`) {
			t.Errorf("HTML lacks %s", link)
		}
	}
	e.Help.Answers[0].URL = "javascript:alert(1)"
	if _, err := mail.RenderNurture(e); err == nil || !strings.Contains(err.Error(), "help question answer 1 URL") {
		t.Errorf("a help link that is not http(s): err = %v", err)
	}
}

func TestRenderNurture_formatLabelsAndButtons(t *testing.T) {
	for _, tc := range []struct{ format, label, button string }{
		{"whitepaper", "Whitepaper", "Read the whitepaper"},
		{"ebook", "E-book", "Read the e-book"},
		{"case-study", "Case study", "Read the case study"},
		{"video", "Video", "Watch the video"},
		{"webinar", "Webinar", "Watch the webinar"},
	} {
		e := mailtest.NurtureEmail()
		e.Asset.Format = tc.format
		m := mailtest.Render(t, e)
		if !strings.Contains(m.Text, tc.label+": The cloud waste checklist") || !strings.Contains(m.Text, tc.button+": "+mailtest.AssetURL) {
			t.Errorf("%s: text part:\n%s", tc.format, m.Text)
		}
		if !strings.Contains(m.HTML, ">"+tc.button+"</a>") {
			t.Errorf("%s: HTML button is not %q", tc.format, tc.button)
		}
	}
}

func TestRenderNurture_invalidInput_rejected(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(*mail.NurtureEmail)
		want   string
	}{
		{"CR in subject", func(e *mail.NurtureEmail) { e.Subject = "Hi\rBcc: everyone@example.com" }, "subject contains a line break"},
		{"LF in subject", func(e *mail.NurtureEmail) { e.Subject = "Hi\nBcc: everyone@example.com" }, "subject contains a line break"},
		{"CRLF in recipient", func(e *mail.NurtureEmail) { e.To = "ada@example.com\r\nBcc: x@example.com" }, "to contains a line break"},
		{"LF in sender", func(e *mail.NurtureEmail) { e.Sender.From = "a@acme.example\nBcc: x@example.com" }, "from contains a line break"},
		{"newline in unsubscribe URL", func(e *mail.NurtureEmail) { e.UnsubscribeURL = "https://x.example/u/t\r\nBcc: x" }, "unsubscribe URL"},
		{"angle bracket in unsubscribe URL", func(e *mail.NurtureEmail) { e.UnsubscribeURL = "https://x.example/u/>, <mailto:x@y>" }, "unsubscribe URL"},
		{"no unsubscribe URL", func(e *mail.NurtureEmail) { e.UnsubscribeURL = "" }, "no unsubscribe URL"},
		{"relative unsubscribe URL", func(e *mail.NurtureEmail) { e.UnsubscribeURL = "/u/tok" }, "unsubscribe URL is not an absolute"},
		{"javascript answer URL", func(e *mail.NurtureEmail) { e.Question.Answers[1].URL = "javascript:alert(1)" }, "answer 2 URL"},
		{"question without answers", func(e *mail.NurtureEmail) { e.Question.Answers = nil }, "question without answers"},
		{"no subject", func(e *mail.NurtureEmail) { e.Subject = " " }, "no subject"},
		{"no recipient", func(e *mail.NurtureEmail) { e.To = "" }, "no recipient"},
		{"no postal address", func(e *mail.NurtureEmail) { e.Sender.PostalAddress = "" }, "no sender postal address"},
		{"no asset link at all", func(e *mail.NurtureEmail) { e.AssetURL, e.Asset.URL = "", "" }, "no asset URL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := mailtest.NurtureEmail()
			tc.change(&e)
			_, err := mail.RenderNurture(e)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if errors.Is(err, mail.ErrTransient) || errors.Is(err, mail.ErrThrottled) {
				t.Errorf("a bad email must not look retryable: %v", err)
			}
		})
	}
}

// The re-engagement email offers one untracked "keep them coming" button
// in place of an asset, and keeps the footer and one-click unsubscribe.
func TestRenderNurture_keepBlock_replacesTheAsset(t *testing.T) {
	e := mailtest.NurtureEmail()
	e.Asset, e.AssetURL, e.Reason, e.Question = mail.NurtureEmail{}.Asset, "", "", nil
	e.Subject, e.Intro = "Should we keep sending you articles?", "We have not heard from you in a while."
	e.Keep = &mail.KeepBlock{Label: "Yes, keep them coming", URL: "https://api.acme.example/k/tokKeep"}
	m := mailtest.Render(t, e)
	if !strings.Contains(m.Text, "Yes, keep them coming: https://api.acme.example/k/tokKeep") || !strings.Contains(m.Text, mailtest.UnsubscribeURL) {
		t.Errorf("text part:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, `<a ses:no-track href="https://api.acme.example/k/tokKeep"`) || strings.Contains(m.HTML, "honeypot") ||
		strings.Contains(m.HTML, "The cloud waste checklist") {
		t.Errorf("HTML part:\n%s", m.HTML)
	}
	e.Keep.URL = "javascript:alert(1)"
	if _, err := mail.RenderNurture(e); err == nil {
		t.Error("a keep link that is not http(s) rendered")
	}
}
