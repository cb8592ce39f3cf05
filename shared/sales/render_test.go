package sales_test

import (
	"html"
	"strings"
	"testing"

	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/sales/salestest"
)

var testSender = program.Sender{From: "Acme Cloud Insights <insights@acme.example>", ReplyTo: "insights@acme.example", Company: "Acme Cloud, Inc."}

func TestRenderAlert_subjectPartsLinksAndTags(t *testing.T) {
	m, err := sales.RenderAlert(salestest.Dossier(), salestest.Links, testSender, "finance@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if want := "MQL: Ada Lovelace, Analytical Engines — score 54"; m.Subject != want {
		t.Errorf("Subject = %q, want %q", m.Subject, want)
	}
	if m.From != testSender.From || m.To != "finance@acme.example" || m.ReplyTo != testSender.ReplyTo {
		t.Errorf("From/To/ReplyTo = %q %q %q", m.From, m.To, m.ReplyTo)
	}
	want := map[string]string{"kind": "alert", "lead": "lead1", "threshold": "mql"}
	if len(m.Tags) != len(want) {
		t.Errorf("Tags = %v, want %v", m.Tags, want)
	}
	for k, v := range want {
		if m.Tags[k] != v {
			t.Errorf("tag %s = %q, want %q", k, m.Tags[k], v)
		}
	}
	for _, part := range []struct{ name, body string }{{"html", html.UnescapeString(m.HTML)}, {"text", m.Text}} {
		for _, s := range []string{
			"Ada Lovelace", "CTO, VP or other executive", "Analytical Engines", "Financial services", "GB", "ada@engines.example",
			"54", "+15", "fit: timeline now", "+7.8", "-10", "When are you planning to act on this?", "This quarter",
			"Paying for Nines", "Multi-Region or Multi-AZ?", "SLOs in Plain Language", "1 Dec 2026 09:00", "2 Dec 2026 11:00",
			"reliability, cloud-cost", "A model for weighing redundancy spend", "next step due 8 Dec 2026",
			"Open the dossier", "Accept", "Return to nurture", "machine, not the person: scanner user agent",
		} {
			if !strings.Contains(part.body, s) {
				t.Errorf("%s part lacks %q", part.name, s)
			}
		}
		if strings.Contains(part.body, "delivered") {
			t.Errorf("%s part shows deliveries, which say nothing about the person", part.name)
		}
	}
	for _, u := range []string{salestest.Links.Dossier, salestest.Links.Accept, salestest.Links.Return} {
		if !strings.Contains(m.HTML, `<a ses:no-track href="`+u+`"`) {
			t.Errorf("html lacks untracked link %s", u)
		}
		if !strings.Contains(m.Text, u) {
			t.Errorf("text lacks %s", u)
		}
	}
	if n := strings.Count(m.HTML, "<a "); n != 3 || strings.Count(m.HTML, "ses:no-track") != 3 {
		t.Errorf("html has %d links, %d untracked; want our 3, all untracked", n, strings.Count(m.HTML, "ses:no-track"))
	}
	// The person did one download, received one email, clicked once and
	// answered once; the scanner's click and the proxy's open are not theirs.
	if !strings.Contains(m.Text, "1 download · 1 nurture email received · 1 click · 1 answer · 2 automated opens/clicks not counted") {
		t.Errorf("text summary:\n%s", m.Text)
	}
	if strings.Contains(m.Text, "Clicked “Multi-Region or Multi-AZ?” in a nurture email  +4") == false {
		t.Errorf("the person's click should read as theirs:\n%s", m.Text)
	}
	if strings.Count(m.Text, "Clicked “Multi-Region") != 1 {
		t.Errorf("the scanner's click reads as the person's:\n%s", m.Text)
	}
}

func TestRenderAlert_escapesEverythingFromTheLead(t *testing.T) {
	d := salestest.Dossier()
	d.Name = "Ada <script>alert(1)</script>\r\nBcc: evil@x.example \u202egnp.exe"
	d.Company = `"Engines" & <b>Sons</b>`
	d.Answers[0].Answer = `<img src=x onerror=alert(1)>`
	d.Events[0].Title = `<a href="https://evil.example">win</a>`
	m, err := sales.RenderAlert(d, salestest.Links, testSender, "finance@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.Subject, "\r\n\u202e") {
		t.Errorf("subject keeps line breaks or bidi controls: %q", m.Subject)
	}
	// Markup is no name: the address heads the alert.
	if !strings.HasPrefix(m.Subject, "MQL: ada@engines.example, \"Engines\" & <b>Sons</b> — ") {
		t.Errorf("Subject = %q", m.Subject)
	}
	for _, bad := range []string{"<script>", "<b>", "<img", `href="https://evil.example"`} {
		if strings.Contains(m.HTML, bad) {
			t.Errorf("html contains %q unescaped", bad)
		}
	}
	for _, good := range []string{"Ada &lt;script&gt;alert(1)&lt;/script&gt; Bcc: evil@x.example gnp.exe", "&#34;Engines&#34; &amp; &lt;b&gt;Sons&lt;/b&gt;", "&lt;img src=x onerror=alert(1)&gt;"} {
		if !strings.Contains(m.HTML, good) {
			t.Errorf("html lacks escaped %q", good)
		}
	}
	for _, line := range strings.Split(m.Text, "\n") {
		if strings.HasPrefix(line, "Bcc:") {
			t.Errorf("a name added a line to the text part: %q", line)
		}
	}
}

func TestRenderAlert_withoutThresholdOrName(t *testing.T) {
	d := sales.Dossier{LeadID: "lead2", Email: "x@y.example", Score: -0.3}
	m, err := sales.RenderAlert(d, salestest.Links, testSender, "sales@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Sales-ready lead: x@y.example — score 0"; m.Subject != want {
		t.Errorf("Subject = %q, want %q", m.Subject, want)
	}
	if _, ok := m.Tags["threshold"]; ok {
		t.Errorf("threshold tag without a threshold: %v", m.Tags)
	}
}

func TestRenderAlert_refusesWhatCannotBeSent(t *testing.T) {
	bad := salestest.Links
	bad.Accept = "javascript:alert(1)"
	tests := map[string]func() error{
		"no recipient": func() error {
			_, err := sales.RenderAlert(salestest.Dossier(), salestest.Links, testSender, "")
			return err
		},
		"recipient with a line break": func() error {
			_, err := sales.RenderAlert(salestest.Dossier(), salestest.Links, testSender, "a@b.example\r\nBcc: c@d.example")
			return err
		},
		"no sender": func() error {
			_, err := sales.RenderAlert(salestest.Dossier(), salestest.Links, program.Sender{}, "a@b.example")
			return err
		},
		"not an http link": func() error {
			_, err := sales.RenderAlert(salestest.Dossier(), bad, testSender, "a@b.example")
			return err
		},
		"no lead id": func() error {
			_, err := sales.RenderAlert(sales.Dossier{}, salestest.Links, testSender, "a@b.example")
			return err
		},
	}
	for name, render := range tests {
		if err := render(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestRenderAlert_olderActivityNotRead_saysSo(t *testing.T) {
	d := salestest.Dossier()
	m, err := sales.RenderAlert(d, salestest.Links, testSender, "finance@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Text, "older activity is not shown") {
		t.Fatalf("a whole story should not mention older activity:\n%s", m.Text)
	}
	d.Older = true
	m, err = sales.RenderAlert(d, salestest.Links, testSender, "finance@acme.example")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "(older activity is not shown, here or on the dossier page; the score counts it)") ||
		!strings.Contains(m.HTML, "Older activity is not shown, here or on the dossier page; the score counts it.") {
		t.Fatalf("the alert should say older activity is not shown:\n%s", m.Text)
	}
}
