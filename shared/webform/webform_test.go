package webform_test

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/webform"
)

const api = "https://go.acme.example"

func defaultProgram(t *testing.T) *program.Program {
	t.Helper()
	p, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// What a marketer pastes is the same for every visitor: nothing in it is
// made per render, so it can be pasted once and cached anywhere.
func TestSnippet_sameForEveryone_noPerRenderValues(t *testing.T) {
	p := defaultProgram(t)
	for _, f := range p.Forms {
		a, err := webform.Snippet(p, f.ID, api, webform.Options{})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := webform.Snippet(p, f.ID, api, webform.Options{})
		if a != b {
			t.Fatalf("%s: two renders differ", f.ID)
		}
		for _, perView := range []string{`name="_t"`, `name="_s"`, `name="submission"`, `name="page"`, `name="referrer"`, `name="tz"`, "localhost"} {
			if strings.Contains(a, perView) {
				t.Errorf("%s: the snippet carries %s; the script adds it per page view", f.ID, perView)
			}
		}
	}
}

func TestSnippet_theFormFromTheProgram(t *testing.T) {
	p := defaultProgram(t)
	form := p.Forms[0]
	for _, f := range p.Forms {
		if len(f.Required) > 1 {
			form = f // one with a required field besides email
		}
	}
	s, err := webform.Snippet(p, form.ID, api+"/", webform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustContain := []string{
		`<form class="nurture-form" method="post" action="` + api + `/forms/` + form.ID + `"`,
		`data-nurture-form="` + form.ID + `"`,
		`<script src="` + api + `/forms.js" defer></script>`,
		`<input id="` + form.ID + `-email" name="email" type="email" maxlength="254" autocomplete="email" required>`,
		// Bots fill in the hidden honeypot; people never see it.
		`<input name="website" type="text" tabindex="-1" autocomplete="off">`,
		`<input type="checkbox" name="consent" value="yes" required>`,
	}
	for _, name := range form.Fields {
		mustContain = append(mustContain, `name="`+name+`"`)
	}
	for _, name := range form.Required {
		if name != "email" {
			mustContain = append(mustContain, `<label for="`+form.ID+`-`+name+`">`+webform.Label(name)+`</label>`)
		}
	}
	for _, w := range mustContain {
		if !strings.Contains(s, w) {
			t.Errorf("the snippet lacks %s:\n%s", w, s)
		}
	}
	if !strings.Contains(s, "(optional)") {
		t.Errorf("optional fields should say so:\n%s", s)
	}
	if strings.Contains(s, "data-nurture-fetch") {
		t.Error("the plain snippet posts the plain way")
	}
	// A field a profiling question fills offers its options, and only those.
	for _, q := range p.Questions {
		if !slices.Contains(form.Fields, q.Field) || len(q.Options) == 0 {
			continue
		}
		sel := regexp.MustCompile(`(?s)<select id="` + form.ID + `-` + q.Field + `" name="` + q.Field + `">(.*?)</select>`).FindStringSubmatch(s)
		if sel == nil {
			t.Errorf("%s: no select for question %s:\n%s", form.ID, q.ID, s)
			continue
		}
		if got := strings.Count(sel[1], "<option"); got != len(q.Options)+1 {
			t.Errorf("%s: %d options, want the question's %d and Choose…", q.Field, got, len(q.Options))
		}
	}
	if !strings.Contains(s, form.Consent.Text) {
		t.Errorf("the consent text is missing:\n%s", s)
	}
	if fetch, _ := webform.Snippet(p, form.ID, api, webform.Options{Fetch: true}); !strings.Contains(fetch, ` data-nurture-fetch>`) {
		t.Errorf("the fetch variant has no data-nurture-fetch:\n%s", fetch)
	}
}

func TestSnippet_unknownForm(t *testing.T) {
	if _, err := webform.Snippet(defaultProgram(t), "no-such-form", api, webform.Options{}); !errors.Is(err, lead.ErrUnknownForm) {
		t.Fatalf("err = %v, want lead.ErrUnknownForm", err)
	}
	if _, err := webform.Page(defaultProgram(t), "no-such-form", api, webform.PageOptions{}); !errors.Is(err, lead.ErrUnknownForm) {
		t.Fatalf("err = %v, want lead.ErrUnknownForm", err)
	}
}

func TestSnippet_programTextIsEscaped(t *testing.T) {
	p := defaultProgram(t)
	p.Forms[0].Consent.Text = `Yes <script>alert(1)</script> & "more"`
	s, err := webform.Snippet(p, p.Forms[0].ID, api, webform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s, "<script>alert") || !strings.Contains(s, "Yes &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;more&#34;") {
		t.Fatalf("the consent text is not escaped:\n%s", s)
	}
}

func TestPage_standaloneAndEmbed(t *testing.T) {
	p := defaultProgram(t)
	for _, f := range p.Forms {
		asset, _ := p.Asset(f.Asset)
		page, err := webform.Page(p, f.ID, api, webform.PageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		snippet, _ := webform.Snippet(p, f.ID, api, webform.Options{})
		for _, w := range []string{"<h1>" + asset.Title + "</h1>", asset.Summary, snippet, p.Sender.Company} {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the hosted page lacks %q", f.ID, w)
			}
		}
		embed, err := webform.Page(p, f.ID, api, webform.PageOptions{Embed: true})
		if err != nil {
			t.Fatal(err)
		}
		fetch, _ := webform.Snippet(p, f.ID, api, webform.Options{Fetch: true})
		if !strings.Contains(embed, fetch) || strings.Contains(embed, "<h1>") || !strings.Contains(embed, `class="embed"`) {
			t.Errorf("%s: the embed variant is the fetch form alone:\n%s", f.ID, embed)
		}
	}
}

// The script is small and posts what the capture reads (the capture's
// tests in httpapi check the names against its own).
func TestScript_smallWithValidator(t *testing.T) {
	if n := len(webform.Script()); n == 0 || n > 8<<10 {
		t.Errorf("forms.js is %d bytes; a few KB, please", n)
	}
	if !regexp.MustCompile(`^"[0-9a-f]{24}"$`).MatchString(webform.ScriptETag()) {
		t.Errorf("ETag %s", webform.ScriptETag())
	}
}
