package server

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"strings"

	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/webform"
)

type demoForm struct {
	Form  program.Form
	Asset program.Asset
	// HTML is the snippet as the page includes it, Text as it shows it.
	HTML template.HTML
	Text string
	Rows int
	Page string // the hosted page
}

type demoData struct {
	Company string
	Now     string
	CSS     template.CSS
	Forms   []demoForm
	Links   []Link
	Inboxes []Link
	Results string
}

// The demo page is a marketing site's page with the forms pasted into it:
// each form is webform's snippet exactly as the page shows it for copying,
// so what people copy is what the demo and its browser tests run.
var (
	//go:embed demo.html.tmpl
	demoHTML     string
	demoTemplate = template.Must(template.New("demo").Parse(demoHTML))
)

func (s *srv) demo(w http.ResponseWriter, r *http.Request) {
	p := s.o.Program
	// The API is this server, as the browser reached it.
	base := "http://" + r.Host
	data := demoData{
		Company: p.Sender.Company,
		Now:     s.o.Clock.Now().Format("Mon 2 Jan 2006 15:04 MST"),
		CSS:     webform.CSS(),
		Links:   s.o.Links,
	}
	if s.o.Inboxes != nil {
		data.Inboxes = s.o.Inboxes(base)
	}
	if s.o.Results != nil {
		data.Results = s.o.Results(base)
	}
	for _, f := range p.Forms {
		snippet, err := webform.Snippet(p, f.ID, base, webform.Options{})
		if err != nil {
			s.o.Log.Error("render demo form", "formId", f.ID, "error", err.Error())
			http.Error(w, "render failed", http.StatusInternalServerError)
			return
		}
		asset, _ := p.Asset(f.Asset)
		data.Forms = append(data.Forms, demoForm{
			Form: f, Asset: asset,
			// webform renders the snippet with html/template.
			HTML: template.HTML(snippet), Text: snippet, Rows: strings.Count(snippet, "\n") + 1,
			Page: webform.ActionURL(base, f.ID), // GET is the hosted page
		})
	}
	var buf bytes.Buffer
	if err := demoTemplate.Execute(&buf, data); err != nil {
		s.o.Log.Error("render demo page", "error", err.Error())
		http.Error(w, "render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("content-type", "text/html; charset=utf-8")
	w.Header().Set("cache-control", "no-store")
	_, _ = w.Write(buf.Bytes())
}
