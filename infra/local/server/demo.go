package server

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"html/template"
	"net/http"
	"strconv"

	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/program"
)

type demoField struct {
	Name, Label, Type string
	Required          bool
	Options           []program.Option
}

type demoForm struct {
	Form   program.Form
	Asset  program.Asset
	Fields []demoField
}

type demoData struct {
	Company    string
	Now        string
	RenderedAt string
	Nonce      string
	Page       string
	Forms      []demoForm
	Links      []Link
	Honeypot   string
}

// The demo page is what a marketing site would embed: plain HTML forms that
// work without JavaScript, with the honeypot and time-trap fields included.
var demoTemplate = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Company}} resources (local demo)</title>
<style>
body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;color:#1d2330;line-height:1.45}
section.form{border:1px solid #d5dae3;border-radius:8px;padding:1rem 1.25rem;margin:1rem 0}
label{display:block;margin:.5rem 0 .15rem;font-weight:600}
input[type=email],input[type=text],select{width:100%;max-width:24rem;padding:.4rem;font:inherit}
.consent{font-weight:normal;display:flex;gap:.5rem;align-items:flex-start;max-width:40rem}
.hp{position:absolute;left:-10000px;top:auto;width:1px;height:1px;overflow:hidden}
button{margin-top:.75rem;padding:.5rem 1rem;font:inherit;background:#0b5cad;color:#fff;border:0;border-radius:6px}
.meta{color:#5b6475;font-size:.9rem}
.controls form{display:inline}
.controls button{background:#5b6475}
</style></head><body>
<header><h1>{{.Company}} resources</h1>
<p class="meta">Local demo of the website forms. Local time is {{.Now}}.</p></header>
<main>
{{range $f := .Forms}}
<section class="form" id="form-{{$f.Form.ID}}">
<h2>{{$f.Form.Title}}</h2>
<p class="meta">{{$f.Asset.Format}} · {{$f.Asset.Stage}} · {{$f.Asset.Summary}}</p>
<form method="post" action="/forms/{{$f.Form.ID}}">
{{range $f.Fields}}
<label for="{{$f.Form.ID}}-{{.Name}}">{{.Label}}{{if not .Required}} (optional){{end}}</label>
{{if .Options}}<select id="{{$f.Form.ID}}-{{.Name}}" name="{{.Name}}"{{if .Required}} required{{end}}><option value="">Choose…</option>{{range .Options}}<option value="{{.Value}}">{{.Label}}</option>{{end}}</select>
{{else}}<input id="{{$f.Form.ID}}-{{.Name}}" name="{{.Name}}" type="{{.Type}}"{{if .Required}} required{{end}} autocomplete="{{if eq .Name "email"}}email{{else if eq .Name "name"}}name{{else if eq .Name "company"}}organization{{else}}off{{end}}">{{end}}
{{end}}
{{with $f.Form.Consent.Text}}<label class="consent"><input type="checkbox" name="consent" value="yes"{{if $f.Form.Consent.Required}} required{{end}}> <span>{{.}}</span></label>{{end}}
<div class="hp" aria-hidden="true"><label>Leave this empty <input name="{{$.Honeypot}}" type="text" tabindex="-1" autocomplete="off"></label></div>
<input type="hidden" name="_t" value="{{$.RenderedAt}}">
<input type="hidden" name="submission" value="{{$.Nonce}}-{{$f.Form.ID}}">
<input type="hidden" name="page" value="{{$.Page}}">
<button type="submit">Get the {{$f.Asset.Format}}</button>
</form>
</section>
{{end}}
</main>
<section class="controls"><h2>Local stack</h2>
<p class="meta">"Send the next email" moves the clock to the next scheduled nurture step (and on to the send window's opening, if it falls at night or on a weekend) and sends it.</p>
<form method="post" action="/_local/next"><button type="submit" id="send-next">Send the next email</button></form>
<form method="post" action="/_local/tick"><button type="submit">Run a scheduler tick</button></form>
<form method="post" action="/_local/clock"><input type="hidden" name="advance" value="168h"><button type="submit">Advance the clock a week</button></form>
<ul>{{range .Links}}<li><a href="{{.URL}}">{{.Name}}</a>: {{.URL}}</li>{{end}}</ul>
</section>
</body></html>`))

func (s *srv) demo(w http.ResponseWriter, r *http.Request) {
	p := s.o.Program
	now := s.o.Clock.Now()
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	data := demoData{
		Company:    p.Sender.Company,
		Now:        now.Format("Mon 2 Jan 2006 15:04 MST"),
		RenderedAt: strconv.FormatInt(now.UnixMilli(), 10),
		Nonce:      hex.EncodeToString(nonce[:]),
		Page:       "http://" + r.Host + "/",
		Links:      s.o.Links,
		Honeypot:   httpapi.FieldHoneypot,
	}
	for _, f := range p.Forms {
		asset, _ := p.Asset(f.Asset)
		df := demoForm{Form: f, Asset: asset}
		required := map[string]bool{"email": true}
		for _, name := range f.Required {
			required[name] = true
		}
		for _, name := range f.Fields {
			field := demoField{Name: name, Label: httpapi.FieldLabel(name), Type: "text", Required: required[name]}
			if name == "email" {
				field.Type = "email"
			}
			for _, q := range p.Questions {
				if q.Field == name {
					field.Options = q.Options
				}
			}
			df.Fields = append(df.Fields, field)
		}
		data.Forms = append(data.Forms, df)
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
