package httpapi

import (
	"bytes"
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
	Items   []string // a list under it, e.g. what to correct
	Back    bool     // tell the person to go back and correct the form
	Form    *PageForm
	Company string
}

// PageForm is a form with one button, e.g. to confirm what a link in an
// email asks for: the link's GET only shows the page, the button posts.
type PageForm struct {
	Action string // a same-origin path; the CSP's form-action 'self' allows it
	Hidden []PageField
	Button string
}

// PageField is a hidden form field.
type PageField struct{ Name, Value string }

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1d2330;line-height:1.5}h1{font-size:1.5rem}li{margin:.25rem 0}a{color:#0b5cad}button{font:inherit;padding:.5rem 1.25rem;border:0;border-radius:.375rem;background:#0b5cad;color:#fff;cursor:pointer}</style>
</head><body><main>
<h1>{{.Title}}</h1>
{{with .Lead}}<p>{{.}}</p>{{end}}
{{with .Items}}<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{if .Back}}<p>Use your browser's Back button to correct the form and send it again; nothing you entered was stored.</p>{{end}}
{{with .Form}}<form method="post" action="{{.Action}}">{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">{{end}}<button type="submit">{{.Button}}</button></form>{{end}}
{{with .Company}}<footer><p><small>{{.}}</small></p></footer>{{end}}
</main></body></html>`))

func htmlResponse(status int, p Page) Response {
	var buf bytes.Buffer
	// Executing a parsed template into a buffer fails only on a template bug.
	if err := pageTemplate.Execute(&buf, p); err != nil {
		return Response{StatusCode: http.StatusInternalServerError, Body: "internal error"}
	}
	return Response{StatusCode: status, Headers: securityHeaders("text/html; charset=utf-8"), Body: buf.String()}
}
