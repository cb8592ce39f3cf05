// Package webform is the lead form as a website shows it, made from the
// program: the HTML snippet a marketer pastes (plain HTML that works
// without JavaScript), the script that enhances it in the browser
// (forms.js, served as GET /forms.js), and the hosted page around it
// (GET /forms/{formId}) for sites that cannot take HTML. Every value in
// the snippet is the same for every visitor, so it can be pasted once and
// cached anywhere; what differs per page view the script adds.
package webform

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"net/url"
	"strings"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

var (
	//go:embed snippet.html.tmpl page.html.tmpl
	files embed.FS
	//go:embed forms.js
	script []byte
	//go:embed form.css
	css string

	snippetTemplate = template.Must(template.ParseFS(files, "snippet.html.tmpl"))
	pageTemplate    = template.Must(template.ParseFS(files, "page.html.tmpl"))
	scriptETag      = func() string {
		sum := sha256.Sum256(script)
		return `"` + hex.EncodeToString(sum[:12]) + `"`
	}()
)

// ScriptPath is where the API serves Script.
const ScriptPath = "/forms.js"

// Script is forms.js, the script every snippet loads.
func Script() []byte { return script }

// ScriptETag is a strong validator of Script, so a browser's copy is
// revalidated for a 304 instead of downloaded again.
func ScriptETag() string { return scriptETag }

// CSS is a plain style for the snippet's classes (nurture-form,
// nurture-consent, nurture-error, nurture-thanks); the hosted page uses
// it, and a site may copy it or style the classes its own way.
func CSS() template.CSS { return template.CSS(css) }

// Options change the snippet.
type Options struct {
	// Fetch sends the form in the background and shows the answer in
	// place (data-nurture-fetch), instead of a page load to the content.
	Fetch bool
}

// ActionURL is where form formID posts, on the API at baseURL.
func ActionURL(baseURL, formID string) string {
	return strings.TrimRight(baseURL, "/") + "/forms/" + url.PathEscape(formID)
}

// ScriptURL is the script on the API at baseURL.
func ScriptURL(baseURL string) string { return strings.TrimRight(baseURL, "/") + ScriptPath }

type field struct {
	ID, Name, Label, Type, Autocomplete string
	Required                            bool
	MaxLen                              int
	Options                             []program.Option
}

type snippetData struct {
	Form           program.Form
	Action, Script string
	Button         string
	Fetch          bool
	Fields         []field
}

// Snippet is the HTML a website pastes for form formID: the form posting
// to the API at baseURL, and the script tag. It fails only for a form the
// program does not have.
func Snippet(p *program.Program, formID, baseURL string, o Options) (string, error) {
	form, ok := p.Form(formID)
	if !ok {
		return "", fmt.Errorf("%w %q", lead.ErrUnknownForm, formID)
	}
	asset, _ := p.Asset(form.Asset)
	d := snippetData{
		Form: form, Action: ActionURL(baseURL, form.ID), Script: ScriptURL(baseURL), Fetch: o.Fetch,
		Button: "Get the " + asset.Format,
	}
	if asset.Format == "" {
		d.Button = "Send"
	}
	required := map[string]bool{"email": true}
	for _, name := range form.Required {
		required[name] = true
	}
	for _, name := range form.Fields {
		f := field{
			ID: form.ID + "-" + name, Name: name, Label: Label(name), Type: "text",
			Autocomplete: autocomplete[name], Required: required[name], MaxLen: lead.MaxFieldLen(name),
		}
		if name == "email" {
			f.Type = "email"
		}
		// A field a profiling question fills offers the question's
		// options: the capture accepts only those.
		for _, q := range p.Questions {
			if q.Field == name && len(q.Options) > 0 {
				f.Options = q.Options
			}
		}
		d.Fields = append(d.Fields, f)
	}
	var buf bytes.Buffer
	if err := snippetTemplate.Execute(&buf, d); err != nil {
		return "", fmt.Errorf("render form %s: %w", form.ID, err)
	}
	return buf.String(), nil
}

// autocomplete lets browsers fill in what they know (HTML autofill tokens).
var autocomplete = map[string]string{
	"email": "email", "name": "name", "company": "organization", "role": "organization-title", "country": "country-name",
}

var labels = map[string]string{
	"email": "Email", "name": "Name", "company": "Company", "role": "Role", "industry": "Industry",
	"companySize": "Company size", "country": "Country", "timeline": "Timeline", "consent": "Consent",
}

// Label is the human name of a form field.
func Label(name string) string {
	if l, ok := labels[name]; ok {
		return l
	}
	return name
}

// PageOptions change the hosted page.
type PageOptions struct {
	// Embed is the variant for an iframe on the website: the form alone,
	// sent in the background, so the answer shows inside the frame.
	Embed bool
}

type pageData struct {
	Form                   program.Form
	Asset                  program.Asset
	Company, PostalAddress string
	Embed                  bool
	Snippet                template.HTML
	CSS                    template.CSS
}

// Page is the hosted page of form formID: the asset's title and summary
// and the form, as the API at baseURL serves it.
func Page(p *program.Program, formID, baseURL string, o PageOptions) (string, error) {
	snippet, err := Snippet(p, formID, baseURL, Options{Fetch: o.Embed})
	if err != nil {
		return "", err
	}
	form, _ := p.Form(formID)
	asset, _ := p.Asset(form.Asset)
	d := pageData{
		Form: form, Asset: asset, Company: p.Sender.Company, PostalAddress: p.Sender.PostalAddress, Embed: o.Embed,
		// The snippet is html/template's own output.
		Snippet: template.HTML(snippet), CSS: CSS(),
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		return "", fmt.Errorf("render page of form %s: %w", form.ID, err)
	}
	return buf.String(), nil
}
