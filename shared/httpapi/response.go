package httpapi

import (
	"bytes"
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
)

// securityHeaders go on every page: nothing of ours is ever framed, sniffed
// or allowed to run scripts from elsewhere.
func securityHeaders(contentType string) map[string]string {
	return map[string]string{
		"content-type":            contentType,
		"cache-control":           "no-store",
		"x-content-type-options":  "nosniff",
		"referrer-policy":         "no-referrer",
		"content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
	}
}

// jsonResponse encodes v; encoding plain maps and structs cannot fail.
func jsonResponse(status int, v any) Response {
	b, _ := json.Marshal(v)
	return Response{StatusCode: status, Headers: securityHeaders("application/json"), Body: string(b)}
}

func redirect(location string) Response {
	h := securityHeaders("text/plain; charset=utf-8")
	h["location"] = location
	return Response{StatusCode: http.StatusSeeOther, Headers: h, Body: "See " + location}
}

// Page is the content of a simple HTML page.
type Page struct {
	Title   string
	Lead    string   // first paragraph
	Quote   string   // the person's own words, shown back to them
	Items   []string // a list under it, e.g. what to correct
	Back    bool     // tell the person to go back and correct the form
	Form    *PageForm
	Links   []PageLink // under the form: where else to go
	Company string
}

// PageForm is a form with one button, e.g. to confirm what a link in an
// email asks for: the link's GET only shows the page, the button posts.
type PageForm struct {
	Action string // a same-origin path; the CSP's form-action 'self' allows it
	Hidden []PageField
	// Groups of checkboxes or radio buttons, and a text box, above the
	// button; all optional.
	Groups []PageGroup
	Text   *PageText
	Button string
}

// PageField is a hidden form field.
type PageField struct{ Name, Value string }

// PageGroup is a set of choices under one legend.
type PageGroup struct {
	Legend  string
	Radio   bool // one of them (radio buttons), else any (checkboxes)
	Choices []PageChoice
}

// PageChoice is one checkbox or radio button.
type PageChoice struct {
	Name, Value, Label string
	Checked            bool
}

// PageText is a text box.
type PageText struct {
	Name, Label string
	Max         int // characters
}

// PageLink is a link on a page, to a same-origin path.
type PageLink struct{ URL, Label string }

// The pages' templates and styles. The CSP loads no stylesheet, so a page
// inlines its style: the .css file is parsed with it, as a template named
// after the file.
var (
	//go:embed *.html.tmpl *.css
	pageFiles embed.FS

	pageTemplate    = parsePage("page.html.tmpl", "page.css")
	noticeTemplate  = parsePage("notice.html.tmpl", "page.css")
	dossierTemplate = parsePage("dossier.html.tmpl", "dossier.css")
	inboxTemplate   = parsePage("inbox.html.tmpl", "inbox.css")
	resultsTemplate = parsePage("results.html.tmpl", "results.css")
)

// parsePage parses a page's template and the templates it calls; the page
// is the first.
func parsePage(files ...string) *template.Template {
	return template.Must(template.ParseFS(pageFiles, files...))
}

// htmlResponse renders a simple page.
func htmlResponse(status int, p Page) Response { return render(status, pageTemplate, p) }

// render answers with the page t makes of data.
func render(status int, t *template.Template, data any) Response {
	var buf bytes.Buffer
	// Executing a parsed template into a buffer fails only on a template bug.
	if err := t.Execute(&buf, data); err != nil {
		return Response{StatusCode: http.StatusInternalServerError, Body: "internal error"}
	}
	return Response{StatusCode: status, Headers: securityHeaders("text/html; charset=utf-8"), Body: buf.String()}
}
