package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/alert"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// SalesStore is what the sales page reads of the lead store.
type SalesStore interface {
	GetLead(ctx context.Context, id string) (*lead.Lead, bool, error)
	Activities(ctx context.Context, leadID string, now time.Time) ([]lead.Activity, error)
}

// Sales serves the links in sales alerts, each carrying a signed token for
// one lead (and the alert in its Ref):
//
//	GET  /s/{token}  the lead's dossier, with Accept and Return-to-nurture forms; changes nothing
//	POST /s/{token}  action=accept, or action=return with reason=<code>: records the decision
//
// The alert's three links (Open the dossier, Accept, Return to nurture) all
// lead to the page; an Accept or Return link only highlights its form, since
// a GET never changes anything (mail scanners fetch every link). Every bad
// link gets the very page Links answers, and the page works without
// JavaScript: the CSP allows none, so the score chart is server-drawn SVG.
type Sales struct {
	Sales   *alert.Sales
	Store   SalesStore
	Program *program.Program
	Signer  *token.Signer
	Clock   clock.Clock
	Log     *slog.Logger
}

// linkSales is the first path segment of the sales links.
const linkSales = "s"

// salesPurposes are the token purposes the sales page accepts, in the order
// tried; the purpose found says which form to highlight.
var salesPurposes = []string{token.PurposeDossier, token.PurposeAccept, token.PurposeReturn}

// Form fields and values of the sales page's forms.
const (
	salesFieldAction = "action"
	salesFieldReason = "reason"
	salesAccept      = "accept"
	salesReturn      = "return"
)

// Handle answers one sales link request.
func (h *Sales) Handle(ctx context.Context, req Request) (Response, error) {
	method, path := routeOf(req)
	tok := req.PathParameters["token"]
	log := h.Log.With("requestId", req.RequestContext.RequestID, "route", method+" /s/{token}")

	if !isSalesPath(path) {
		log.Info("link rejected", "reason", "unknown route")
		return h.invalid(), nil
	}
	if method != http.MethodGet && method != http.MethodPost {
		resp := linkPage(http.StatusMethodNotAllowed, Page{Title: "Method not allowed", Lead: "Open the link from the email in your browser.", Company: h.company()})
		resp.Headers["allow"] = "GET, POST"
		return resp, nil
	}
	var values map[string]string
	if method == http.MethodPost {
		// The cap is checked before the token, as on the other links.
		var err error
		values, err = formValues(req)
		if errors.Is(err, errTooLarge) {
			log.Info("link rejected", "reason", "body too large")
			return linkPage(http.StatusRequestEntityTooLarge, Page{Title: "Too much data", Lead: "The request carried more data than this link accepts.", Company: h.company()}), nil
		}
	}
	now := h.Clock.Now()
	claims, ok := h.verify(tok, now)
	if !ok {
		log.Info("link rejected", "reason", "invalid or expired token")
		return h.invalid(), nil
	}
	log = log.With("leadId", claims.LeadID, "purpose", claims.Purpose, "alertId", safeID(claims.Ref))
	action := formAction(req, linkSales, tok)

	if method == http.MethodGet {
		return h.dossier(ctx, log, claims, action, now), nil
	}
	return h.decide(ctx, log, claims, values, action, now), nil
}

// routeOf tells the method and path from API Gateway's route key, or from
// the request itself for an event without one ($default route, hand-made).
func routeOf(req Request) (method, path string) {
	method, path, ok := strings.Cut(req.RouteKey, " ")
	if !ok {
		method, path = req.RequestContext.HTTP.Method, req.RawPath
	}
	return method, path
}

func isSalesPath(path string) bool {
	return path == "/s/{token}" || strings.HasPrefix(path, "/s/")
}

// verify accepts a token signed for any of the sales purposes.
func (h *Sales) verify(tok string, now time.Time) (token.Claims, bool) {
	for _, p := range salesPurposes {
		if c, err := h.Signer.Verify(tok, p, now); err == nil {
			return c, true
		}
	}
	return token.Claims{}, false
}

// dossier renders the lead's page; it only reads.
func (h *Sales) dossier(ctx context.Context, log *slog.Logger, c token.Claims, action string, now time.Time) Response {
	l, found, err := h.Store.GetLead(ctx, c.LeadID)
	if err != nil {
		return h.unavailable(log, err)
	}
	if !found {
		log.Info("link rejected", "reason", "unknown lead")
		return h.invalid()
	}
	acts, err := h.Store.Activities(ctx, c.LeadID, now)
	if err != nil {
		return h.unavailable(log, err)
	}
	d := alert.Build(h.Program, l, acts, now)
	v := h.dossierView(d, l, c, action, now)
	return salesHTML(http.StatusOK, dossierTemplate, v)
}

// decide records the decision a form posted.
func (h *Sales) decide(ctx context.Context, log *slog.Logger, c token.Claims, values map[string]string, action string, now time.Time) Response {
	var (
		err    error
		notice salesNotice
	)
	switch values[salesFieldAction] {
	case salesAccept:
		err = h.Sales.Accept(ctx, c.LeadID, now)
		notice = salesNotice{
			Title: "Accepted",
			Lead:  "The lead is yours. Nurture emails to them have stopped.",
		}
	case salesReturn:
		reason, ok := alert.ReturnReasonFor(values[salesFieldReason])
		if !ok {
			log.Info("sales decision rejected", "reason", "unknown return reason")
			return h.badRequest("Choose a reason", "Go back and choose why the lead goes back to nurture. Nothing was changed.", action)
		}
		err = h.Sales.Return(ctx, c.LeadID, reason.Code, now)
		notice = salesNotice{
			Title: "Returned to nurture",
			Lead:  "The lead goes on with nurture emails. Reason: " + reason.Label + ".",
		}
	default:
		log.Info("sales decision rejected", "reason", "unknown action")
		return h.badRequest("Choose Accept or Return to nurture", "The form sent no decision. Nothing was changed.", action)
	}
	switch {
	case errors.Is(err, alert.ErrUnknownLead):
		log.Info("link rejected", "reason", "unknown lead")
		return h.invalid()
	case errors.Is(err, alert.ErrUnknownReason):
		return h.badRequest("Choose a reason", "Go back and choose why the lead goes back to nurture. Nothing was changed.", action)
	case err != nil:
		return h.unavailable(log, err)
	}
	log.Info("sales decision", "decision", values[salesFieldAction], "returnReason", safeID(values[salesFieldReason]))
	// The name only makes the page friendlier; a failed read does not
	// undo the decision, so it is left out then.
	if l, found, err := h.Store.GetLead(ctx, c.LeadID); err == nil && found {
		notice.Name = l.Name
		if notice.Name == "" {
			notice.Name = l.Email
		}
	}
	notice.Back, notice.Company = action, h.company()
	return salesHTML(http.StatusOK, noticeTemplate, notice)
}

func (h *Sales) company() string { return h.Program.Sender.Company }

// invalid is the one invalid-link page of the links, byte for byte.
func (h *Sales) invalid() Response { return (&Links{Program: h.Program}).invalid() }

func (h *Sales) badRequest(title, text, back string) Response {
	return salesHTML(http.StatusBadRequest, noticeTemplate, salesNotice{Title: title, Lead: text, Back: back, Company: h.company()})
}

// unavailable answers an infrastructure failure with a retryable 503 that
// names no internal error.
func (h *Sales) unavailable(log *slog.Logger, err error) Response {
	log.Error("sales link failed", "error", err.Error())
	return unavailablePage("We could not complete this just now. Please open the link again in a minute. Nothing was changed.", h.company())
}

// salesHTML renders a sales page with the links' headers: never stored,
// never indexed.
func salesHTML(status int, t *template.Template, data any) Response {
	var buf bytes.Buffer
	if err := t.Execute(&buf, data); err != nil {
		return Response{StatusCode: http.StatusInternalServerError, Body: "internal error"}
	}
	h := securityHeaders("text/html; charset=utf-8")
	h["x-robots-tag"] = "noindex, nofollow"
	return Response{StatusCode: status, Headers: h, Body: buf.String()}
}

// salesNotice is a short page after a decision, or about a bad form.
type salesNotice struct {
	Title, Lead, Name string
	Back              string // the dossier's path
	Company           string
}

// dossierPage is what the dossier template shows.
type dossierPage struct {
	D        alert.Dossier
	Focus    string // "accept" or "return": the form the alert's link asked for
	Action   string
	Reasons  []alert.ReturnReason
	Decision string // the current sales decision, in words
	Alerted  string // the alert the link came from, in words
	Score    string
	Points   []pointRow
	Events   []eventRow
	Chart    chart
	Zone     string
	Company  string
}

type pointRow struct{ Why, Points string }

type eventRow struct {
	When, ISO, What, Title, Detail, Points string
	Machine                                bool
}

func (h *Sales) dossierView(d alert.Dossier, l *lead.Lead, c token.Claims, action string, now time.Time) dossierPage {
	loc := h.location()
	v := dossierPage{
		D: d, Action: action, Reasons: alert.ReturnReasons, Score: number(d.Score),
		Zone: loc.String(), Company: h.company(),
	}
	switch c.Purpose {
	case token.PurposeAccept:
		v.Focus = salesAccept
	case token.PurposeReturn:
		v.Focus = salesReturn
	}
	if s := d.Sales; s != nil {
		when := s.At.In(loc).Format("Mon 2 Jan 2006 15:04 MST")
		switch s.Status {
		case lead.SalesAccepted:
			v.Decision = "Accepted by sales on " + when + "."
		case lead.SalesReturned:
			label := s.Reason
			if r, ok := alert.ReturnReasonFor(s.Reason); ok {
				label = r.Label
			}
			v.Decision = "Returned to nurture on " + when + ": " + label + "."
		}
	}
	for _, a := range l.Alerts {
		if c.Ref != "" && a.ID == c.Ref {
			v.Alerted = fmt.Sprintf("Alert “%s” sent %s at a score of %s.", a.Threshold, a.At.In(loc).Format("Mon 2 Jan 2006 15:04 MST"), number(a.Score))
		}
	}
	for _, r := range d.Reasons {
		v.Points = append(v.Points, pointRow{Why: r.Why, Points: signed(r.Points)})
	}
	for i := len(d.Events) - 1; i >= 0; i-- { // newest first
		e := d.Events[i]
		row := eventRow{
			When: e.At.In(loc).Format("2 Jan 2006 15:04"), ISO: e.At.UTC().Format(time.RFC3339),
			What: eventWords(e.Kind), Title: e.Title, Detail: e.Detail, Machine: e.Machine,
		}
		if e.Points != 0 {
			row.Points = signed(e.Points)
		}
		if e.Kind == alert.KindSales {
			row.Detail = decisionWords(e.Detail)
		}
		v.Events = append(v.Events, row)
	}
	v.Chart = h.scoreChart(d, l, now, loc)
	return v
}

// location is the zone dates are shown in: the program's.
func (h *Sales) location() *time.Location {
	if loc, err := time.LoadLocation(h.Program.Schedule.TimeZone); err == nil && h.Program.Schedule.TimeZone != "" {
		return loc
	}
	return time.UTC
}

// decisionWords turns a sales activity's detail ("returned: not-ready")
// into what the page says.
func decisionWords(detail string) string {
	status, code, _ := strings.Cut(detail, ": ")
	switch status {
	case lead.SalesAccepted:
		return "Accepted"
	case lead.SalesReturned:
		if r, ok := alert.ReturnReasonFor(code); ok {
			return "Returned to nurture: " + r.Label
		}
		return "Returned to nurture"
	}
	return detail
}

var eventNames = map[string]string{
	lead.KindDownload:        "Downloaded",
	"email":                  "Nurture email sent",
	lead.KindDelivered:       "Email delivered",
	lead.KindOpen:            "Opened an email",
	lead.KindClick:           "Clicked",
	lead.KindAnswer:          "Answered",
	lead.KindBounce:          "Bounced",
	lead.KindComplaint:       "Complained",
	lead.KindRejected:        "Rejected by the mail service",
	lead.KindDelayed:         "Delivery delayed",
	lead.KindRenderingFailed: "Email could not be rendered",
	lead.KindUnsubscribe:     "Unsubscribed",
	alert.KindSales:          "Sales decision",
}

func eventWords(kind string) string {
	if w, ok := eventNames[kind]; ok {
		return w
	}
	return kind
}

// number shows a score: one decimal at most.
func number(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

func signed(f float64) string {
	if f > 0 {
		return "+" + number(f)
	}
	return strings.Replace(number(f), "-", "−", 1)
}

// chart is the score over time as SVG coordinates, computed here so the
// template only places them (and nothing but numbers reaches attributes).
type chart struct {
	Width, Height          int
	Left, Right, Top, Base string // the plot area's edges
	Line                   string // the polyline's points
	Dots                   []chartMark
	YTicks, XTicks         []chartMark
	Thresholds             []chartMark
	Label                  string // what a screen reader hears
	Rows                   []chartRow
}

type chartMark struct{ X, Y, Label string }

type chartRow struct{ When, Score string }

const (
	chartW, chartH             = 640, 240
	plotL, plotR, plotT, plotB = 48.0, 624.0, 14.0, 206.0
)

// scoreChart draws the dossier's series: the score after each scored
// activity and now. A lead starts at 0, so when its whole history is kept
// the line starts at 0 on the day it was created.
func (h *Sales) scoreChart(d alert.Dossier, l *lead.Lead, now time.Time, loc *time.Location) chart {
	pts := append([]alert.Point(nil), d.Series...)
	retention := h.Program.ActivityRetention()
	if !l.CreatedAt.IsZero() && (len(pts) == 0 || !l.CreatedAt.After(pts[0].At)) &&
		(retention == 0 || l.CreatedAt.After(now.Add(-retention))) {
		pts = append([]alert.Point{{At: l.CreatedAt, Score: 0}}, pts...)
	}
	if len(pts) == 0 {
		pts = []alert.Point{{At: now, Score: d.Score}}
	}
	t0, t1 := pts[0].At, pts[len(pts)-1].At
	lo, hi := 0.0, 10.0
	for _, p := range pts {
		t0, t1 = minTime(t0, p.At), maxTime(t1, p.At)
		lo, hi = math.Min(lo, p.Score), math.Max(hi, p.Score)
	}
	for _, th := range h.Program.Thresholds {
		hi = math.Max(hi, float64(th.Score))
	}
	if t1.Sub(t0) < 24*time.Hour {
		// At least a day wide, ending now, so the dates tell apart.
		t0 = t1.Add(-24 * time.Hour)
	}
	step := niceStep((hi - lo) / 4)
	lo, hi = math.Floor(lo/step)*step, math.Ceil(hi*1.05/step)*step
	x := func(t time.Time) float64 {
		return plotL + (plotR-plotL)*float64(t.Sub(t0))/float64(t1.Sub(t0))
	}
	y := func(s float64) float64 { return plotB - (plotB-plotT)*(s-lo)/(hi-lo) }

	c := chart{Width: chartW, Height: chartH, Left: coord(plotL), Right: coord(plotR), Top: coord(plotT), Base: coord(plotB)}
	var line []string
	layout := "2 Jan 2006"
	if t1.Sub(t0) < 72*time.Hour {
		layout = "2 Jan 15:04"
	}
	for _, p := range pts {
		px, py := coord(x(p.At)), coord(y(p.Score))
		line = append(line, px+","+py)
		when := p.At.In(loc).Format(layout)
		c.Dots = append(c.Dots, chartMark{X: px, Y: py, Label: when + ": " + number(p.Score)})
		c.Rows = append(c.Rows, chartRow{When: p.At.In(loc).Format("2 Jan 2006 15:04"), Score: number(p.Score)})
	}
	c.Line = strings.Join(line, " ")
	for s := lo; s <= hi+step/2; s += step {
		c.YTicks = append(c.YTicks, chartMark{Y: coord(y(s)), Label: number(s)})
	}
	for i := 0; i <= 2; i++ {
		t := t0.Add(time.Duration(float64(t1.Sub(t0)) * float64(i) / 2))
		c.XTicks = append(c.XTicks, chartMark{X: coord(x(t)), Label: t.In(loc).Format(layout)})
	}
	var names []string
	for _, th := range h.Program.Thresholds {
		c.Thresholds = append(c.Thresholds, chartMark{Y: coord(y(float64(th.Score))), Label: th.Name + " " + strconv.Itoa(th.Score)})
		names = append(names, th.Name+" at "+strconv.Itoa(th.Score))
	}
	first, last := pts[0], pts[len(pts)-1]
	c.Label = fmt.Sprintf("Score over time: %s on %s, %s now", number(first.Score), first.At.In(loc).Format("2 Jan 2006"), number(last.Score))
	if len(names) > 0 {
		c.Label += "; alert thresholds " + strings.Join(names, ", ")
	}
	return c
}

func coord(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

// niceStep rounds a raw tick step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if raw <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

const salesStyle = `body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2330;line-height:1.5}
h1{font-size:1.6rem;margin-bottom:.25rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d8dde6;padding-bottom:.25rem}
a{color:#0b5cad}.sub{color:#4a5468;margin-top:0}.score{font-size:2.5rem;font-weight:700;margin:.5rem 0 0}
dl.profile{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem}dl.profile dt{color:#4a5468}dl.profile dd{margin:0}
.forms{display:flex;flex-wrap:wrap;gap:1rem}.forms form{flex:1 1 16rem;border:2px solid #d8dde6;border-radius:.5rem;padding:1rem}
.forms form.focus{border-color:#0b5cad;background:#eef5fd}.forms h3{margin:0 0 .5rem;font-size:1rem}
button{font:inherit;padding:.5rem 1.25rem;border:0;border-radius:.375rem;background:#0b5cad;color:#fff;cursor:pointer}
button.secondary{background:#4a5468}select{font:inherit;padding:.4rem;margin:0 .5rem .5rem 0}
.decision{font-weight:600;background:#fff6d6;border-left:4px solid #e0b000;padding:.5rem .75rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eceff4;vertical-align:top}
td.num,th.num{text-align:right;white-space:nowrap}tr.machine td{color:#6b7386;font-style:italic}
.tag{display:inline-block;font-style:normal;font-size:.75rem;padding:0 .4rem;border-radius:.25rem;background:#eceff4;color:#4a5468;margin-left:.25rem}
.none{color:#8a93a6}svg{width:100%;height:auto;max-width:40rem}svg text{font-size:11px;fill:#4a5468}`

var dossierTemplate = template.Must(template.New("dossier").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{with .D.Name}}{{.}}{{else}}Lead{{end}}{{with .D.Company}} – {{.}}{{end}}</title>
<style>` + salesStyle + `</style>
</head><body><main>
<header>
<h1>{{with .D.Name}}{{.}}{{else}}{{.D.Email}}{{end}}</h1>
<p class="sub">{{with .D.Role}}{{.}}{{end}}{{if and .D.Role .D.Company}} at {{end}}{{with .D.Company}}{{.}}{{end}}</p>
</header>
{{with .Alerted}}<p>{{.}}</p>{{end}}

<section aria-labelledby="decide">
<h2 id="decide">Your decision</h2>
{{with .Decision}}<p class="decision" id="current-decision">{{.}}</p>{{end}}
<div class="forms">
<form method="post" action="{{.Action}}" id="accept-form"{{if eq .Focus "accept"}} class="focus"{{end}}>
<h3>Accept</h3>
<p>Take the lead. Nurture emails to them stop at once.</p>
<input type="hidden" name="action" value="accept">
<button type="submit"{{if eq .Focus "accept"}} autofocus{{end}}>Accept</button>
</form>
<form method="post" action="{{.Action}}" id="return-form"{{if eq .Focus "return"}} class="focus"{{end}}>
<h3>Return to nurture</h3>
<p>Not for sales yet: the lead goes on with nurture emails.</p>
<input type="hidden" name="action" value="return">
<label for="reason">Reason</label>
<select name="reason" id="reason" required{{if eq .Focus "return"}} autofocus{{end}}>
<option value="">Choose a reason</option>
{{range .Reasons}}<option value="{{.Code}}">{{.Label}}</option>
{{end}}</select>
<button type="submit" class="secondary">Return to nurture</button>
</form>
</div>
</section>

<section aria-labelledby="profile">
<h2 id="profile">Profile</h2>
<p class="score" id="score">{{.Score}}</p><p class="sub">score now</p>
<dl class="profile">
<dt>Name</dt><dd>{{.D.Name}}</dd>
<dt>Email</dt><dd>{{with .D.Email}}<a href="mailto:{{.}}">{{.}}</a>{{end}}</dd>
<dt>Company</dt><dd>{{with .D.Company}}{{.}}{{else}}<span class="none">unknown</span>{{end}}</dd>
<dt>Role</dt><dd>{{with .D.Role}}{{.}}{{else}}<span class="none">unknown</span>{{end}}</dd>
<dt>Industry</dt><dd>{{with .D.Industry}}{{.}}{{else}}<span class="none">unknown</span>{{end}}</dd>
<dt>Company size</dt><dd>{{with .D.CompanySize}}{{.}}{{else}}<span class="none">unknown</span>{{end}}</dd>
{{with .D.Country}}<dt>Country</dt><dd>{{.}}</dd>{{end}}
{{with .D.Timeline}}<dt>Buying timeline</dt><dd>{{.}}</dd>{{end}}
<dt>Nurture</dt><dd>{{.D.Nurture}}</dd>
</dl>
</section>

<section aria-labelledby="why">
<h2 id="why">Why this score</h2>
{{if .Points}}<table><thead><tr><th>Reason</th><th class="num">Points</th></tr></thead><tbody>
{{range .Points}}<tr><td>{{.Why}}</td><td class="num">{{.Points}}</td></tr>
{{end}}</tbody></table>{{else}}<p>Nothing has scored yet.</p>{{end}}
</section>

<section aria-labelledby="chart-h">
<h2 id="chart-h">Score over time</h2>
{{with .Chart}}<svg id="score-chart" role="img" aria-label="{{.Label}}" viewBox="0 0 {{.Width}} {{.Height}}" width="{{.Width}}" height="{{.Height}}" xmlns="http://www.w3.org/2000/svg">
<title>{{.Label}}</title>
<g class="grid">{{range .YTicks}}<line x1="{{$.Chart.Left}}" x2="{{$.Chart.Right}}" y1="{{.Y}}" y2="{{.Y}}" stroke="#eceff4"/>
<text x="{{$.Chart.Left}}" dx="-6" y="{{.Y}}" dy="4" text-anchor="end">{{.Label}}</text>
{{end}}</g>
<g class="thresholds">{{range .Thresholds}}<line x1="{{$.Chart.Left}}" x2="{{$.Chart.Right}}" y1="{{.Y}}" y2="{{.Y}}" stroke="#e0b000" stroke-dasharray="6 4"/>
<text x="{{$.Chart.Right}}" y="{{.Y}}" dy="-4" text-anchor="end">{{.Label}}</text>
{{end}}</g>
<g class="axes" stroke="#4a5468"><line x1="{{.Left}}" x2="{{.Left}}" y1="{{.Top}}" y2="{{.Base}}"/><line x1="{{.Left}}" x2="{{.Right}}" y1="{{.Base}}" y2="{{.Base}}"/></g>
<g class="xlabels">{{range $i, $t := .XTicks}}<text x="{{$t.X}}" y="{{$.Chart.Base}}" dy="18" text-anchor="{{if eq $i 0}}start{{else if eq $i 2}}end{{else}}middle{{end}}">{{$t.Label}}</text>
{{end}}</g>
<polyline points="{{.Line}}" fill="none" stroke="#0b5cad" stroke-width="2.5" stroke-linejoin="round"/>
<g class="dots" fill="#0b5cad">{{range .Dots}}<circle cx="{{.X}}" cy="{{.Y}}" r="3.5"><title>{{.Label}}</title></circle>
{{end}}</g>
</svg>
<details><summary>Score history as a table</summary>
<table><thead><tr><th>When ({{$.Zone}})</th><th class="num">Score</th></tr></thead><tbody>
{{range .Rows}}<tr><td>{{.When}}</td><td class="num">{{.Score}}</td></tr>
{{end}}</tbody></table></details>{{end}}
</section>

{{with .D.Answers}}<section aria-labelledby="answers">
<h2 id="answers">Their answers</h2>
<dl class="profile">{{range .}}<dt>{{.Question}}</dt><dd>{{.Answer}}</dd>
{{end}}</dl>
</section>{{end}}

{{with .D.Topics}}<section aria-labelledby="topics">
<h2 id="topics">Topics</h2>
<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>
</section>{{end}}

{{with .D.TalkingPoints}}<section aria-labelledby="talking">
<h2 id="talking">Talking points</h2>
<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>
</section>{{end}}

<section aria-labelledby="timeline">
<h2 id="timeline">Timeline</h2>
<p class="sub">Newest first, times in {{.Zone}}. Opens and clicks marked <span class="tag">machine</span> were made by mail scanners or privacy proxies, not the person; they do not score.</p>
{{if .Events}}<table id="events"><thead><tr><th>When</th><th>What</th><th>Detail</th><th class="num">Points</th></tr></thead><tbody>
{{range .Events}}<tr{{if .Machine}} class="machine"{{end}}><td><time datetime="{{.ISO}}">{{.When}}</time></td><td>{{.What}}{{if .Machine}} <span class="tag">machine</span>{{end}}{{with .Title}}<br>{{.}}{{end}}</td><td>{{.Detail}}</td><td class="num">{{.Points}}</td></tr>
{{end}}</tbody></table>{{else}}<p>No activity yet.</p>{{end}}
</section>

{{with .Company}}<footer><p><small>{{.}} · lead nurturing</small></p></footer>{{end}}
</main></body></html>`))

var noticeTemplate = template.Must(template.New("notice").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{{.Title}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1d2330;line-height:1.5}h1{font-size:1.5rem}a{color:#0b5cad}</style>
</head><body><main>
<h1 id="notice">{{.Title}}</h1>
{{with .Name}}<p><strong>{{.}}</strong></p>{{end}}
<p>{{.Lead}}</p>
{{with .Back}}<p><a href="{{.}}">Back to the dossier</a></p>{{end}}
{{with .Company}}<footer><p><small>{{.}}</small></p></footer>{{end}}
</main></body></html>`))

// LinkRoutes is the links function: /u and /a go to Links, /s to Sales.
type LinkRoutes struct {
	Links *Links
	Sales *Sales
}

// Handle dispatches one request by its route.
func (h *LinkRoutes) Handle(ctx context.Context, req Request) (Response, error) {
	if _, path := routeOf(req); isSalesPath(path) && h.Sales != nil {
		return h.Sales.Handle(ctx, req)
	}
	return h.Links.Handle(ctx, req)
}
