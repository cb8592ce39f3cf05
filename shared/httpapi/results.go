package httpapi

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/report"
	"github.com/leadnurture/nurture/shared/token"
)

// Results serves the program's results behind a signed link (the weekly
// digest carries a fresh one; make run's demo page too):
//
//	GET /results/{token}                     the report page: the last 8
//	                                         weeks, or ?period=week|month,
//	                                         or ?from=2026-11-01&to=2026-11-30
//	GET /results/{token}?csv=<table>&...     that table as CSV
//
// The page runs no script: its charts are SVG drawn here, its tables
// scroll inside their box, so it reads on a phone. A tampered or expired
// link gets the links' one invalid page; a bad period a 400 saying what
// was wrong.
type Results struct {
	Rollup  *report.Rollup
	Signer  *token.Signer
	Program *program.Program
	Clock   clock.Clock
	Log     *slog.Logger
}

func (h *Results) site() linkSite {
	return linkSite{Signer: h.Signer, Program: h.Program, Clock: h.Clock, Log: h.Log}
}

// Handle answers one results request.
func (h *Results) Handle(ctx context.Context, req Request) (Response, error) {
	r, resp, ok := h.site().open(ctx, req, link.Results)
	if !ok {
		return resp, nil
	}
	if r.Method != http.MethodGet {
		return h.site().methodNotAllowed(http.MethodGet, "Open the link to the results in your browser."), nil
	}
	q, _ := url.ParseQuery(req.RawQueryString)
	per, err := report.ParsePeriod(q.Get("period"), q.Get("from"), q.Get("to"), r.Now)
	if err != nil {
		r.Log.Info("results period rejected", "reason", err.Error())
		return linkPage(http.StatusBadRequest, Page{Title: "Choose another period", Lead: "The period could not be shown: " + err.Error() + ".",
			Links: []PageLink{{URL: r.Action, Label: "The last 8 weeks"}}, Company: h.site().company()}), nil
	}
	days, err := h.Rollup.Read(ctx, per, r.Now)
	if err != nil {
		return h.site().unavailable(r.Log, err, "We could not read the results just now. Please open the link again in a minute."), nil
	}
	before, err := h.Rollup.Read(ctx, per.Before(), r.Now)
	if err != nil {
		return h.site().unavailable(r.Log, err, "We could not read the results just now. Please open the link again in a minute."), nil
	}
	rep := report.Compute(h.Program, per, days, before)
	if id := q.Get("csv"); id != "" {
		t, ok := rep.Table(id)
		if !ok {
			return linkPage(http.StatusNotFound, Page{Title: "No such table", Lead: "The results have no table " + strconv.Quote(id) + ".",
				Links: []PageLink{{URL: r.Action, Label: "The results"}}, Company: h.site().company()}), nil
		}
		var b bytes.Buffer
		if err := report.WriteCSV(&b, t); err != nil {
			return Response{}, err
		}
		headers := securityHeaders("text/csv; charset=utf-8")
		headers["content-disposition"] = `attachment; filename="results-` + id + "-" + per.From.Format(report.DateLayout) + "-" + per.To.AddDate(0, 0, -1).Format(report.DateLayout) + `.csv"`
		headers["x-robots-tag"] = "noindex, nofollow"
		r.Log.Info("results csv", "table", id)
		return Response{StatusCode: http.StatusOK, Headers: headers, Body: b.String()}, nil
	}
	r.Log.Info("results shown", "from", per.From.Format(report.DateLayout), "days", per.Days())
	return linkHTML(http.StatusOK, resultsTemplate, h.page(r, q, rep)), nil
}

// resultsPage is what results.html.tmpl shows.
type resultsPage struct {
	Period, AsOf, Action, From, To string
	Periods                        []periodLink
	Headline                       []report.Figure
	Funnel                         barChart
	Weeks                          weekChart
	Tables                         []resultsTable
	Company                        string
}

type periodLink struct {
	Label, URL string
	Current    bool
}

type resultsTable struct {
	ID, Title, Note, CSV string
	Folded               bool
	Columns              []string
	Rows                 [][]cell
}

type cell struct{ Text, Class string }

// open are the tables shown unfolded; the rest fold under their titles.
var openTables = map[string]bool{"funnel": true, "seeds": true, "timing": true, "assets": true, "gaps": true, "topics": true, "words": true}

func (h *Results) page(r linkRequest, q url.Values, rep report.Report) resultsPage {
	keep := url.Values{}
	for _, k := range []string{"period", "from", "to"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	p := resultsPage{
		Period: rep.Period.String(), Action: r.Action, Headline: rep.Headline, Company: h.site().company(),
		From: rep.Period.From.Format(report.DateLayout), To: rep.Period.To.AddDate(0, 0, -1).Format(report.DateLayout),
		Funnel: funnelChart(rep.Funnel), Weeks: weeksChart(rep.Weeks),
	}
	p.AsOf = "live as of " + r.Now.UTC().Format("2 Jan 2006 15:04") + " UTC"
	custom := q.Get("from") != "" || q.Get("to") != ""
	for _, pl := range []struct{ label, name string }{{"Last 7 days", "week"}, {"Last 30 days", "month"}, {"Last 8 weeks", ""}} {
		u := r.Action
		if pl.name != "" {
			u += "?period=" + pl.name
		}
		p.Periods = append(p.Periods, periodLink{Label: pl.label, URL: u, Current: !custom && (q.Get("period") == pl.name || (pl.name == "" && q.Get("period") == "8w"))})
	}
	for _, t := range rep.Tables {
		csv := url.Values{}
		for k, v := range keep {
			csv[k] = v
		}
		csv.Set("csv", t.ID)
		rt := resultsTable{ID: t.ID, Title: t.Title, Note: t.Note, Columns: t.Columns, Folded: !openTables[t.ID], CSV: r.Action + "?" + csv.Encode()}
		for _, row := range t.Rows {
			cells := make([]cell, len(row))
			for i, v := range row {
				switch {
				case i > 0 && report.Numeric(v):
					cells[i] = cell{Text: v, Class: "n"}
				case t.ID == "words" && i == len(row)-1:
					cells[i] = cell{Text: v, Class: "words"}
				default:
					cells[i] = cell{Text: v}
				}
			}
			rt.Rows = append(rt.Rows, cells)
		}
		p.Tables = append(p.Tables, rt)
	}
	return p
}

// barChart is the funnel as horizontal bars in a Width×Height viewBox,
// every coordinate a finished string.
type barChart struct {
	Width, Height int
	Label         string
	Bars          []bar
}

type bar struct {
	Label, N, X, Y, W, H, TextY, NumX string
}

const (
	chartWidth  = 640
	labelWidth  = 200
	barRow      = 24
	barHeight   = 16
	numberWidth = 48
)

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

func funnelChart(bars []report.Bar) barChart {
	c := barChart{Width: chartWidth, Height: max(len(bars)*barRow, barRow)}
	most := 1
	var said []string
	for _, b := range bars {
		most = max(most, b.N)
		said = append(said, b.Label+" "+strconv.Itoa(b.N))
	}
	c.Label = "The funnel: " + strings.Join(said, ", ")
	span := float64(chartWidth - labelWidth - numberWidth)
	for i, b := range bars {
		w := span * float64(b.N) / float64(most)
		y := float64(i*barRow) + float64(barRow-barHeight)/2
		c.Bars = append(c.Bars, bar{
			Label: b.Label, N: strconv.Itoa(b.N), X: strconv.Itoa(labelWidth), Y: f1(y), W: f1(w), H: strconv.Itoa(barHeight),
			TextY: f1(y + barHeight - 3), NumX: f1(labelWidth + w + 6),
		})
	}
	return c
}

// weekChart is captured and sales-ready leads a week, as paired columns.
type weekChart struct {
	Width, Height int
	Left, Base    string
	Max           int
	Label         string
	Bars          []column
	Ticks         []tick
}

type column struct{ X, Y, W, H, Fill, Title string }

type tick struct{ X, Y, Label string }

func weeksChart(ws []report.Week) weekChart {
	const height, top, base, left = 200, 24.0, 176.0, 8.0
	c := weekChart{Width: chartWidth, Height: height, Left: f1(left), Base: f1(base), Max: 1}
	for _, w := range ws {
		c.Max = max(c.Max, w.Captured, w.Ready)
	}
	var said []string
	slot := (chartWidth - left) / float64(max(len(ws), 1))
	colW := slot * 0.35
	for i, w := range ws {
		x := left + float64(i)*slot + slot*0.12
		for j, v := range []struct {
			n          int
			fill, what string
		}{{w.Captured, "#0b5cad", "captured"}, {w.Ready, "#15803d", "sales-ready"}} {
			h := (base - top) * float64(v.n) / float64(c.Max)
			c.Bars = append(c.Bars, column{X: f1(x + float64(j)*colW), Y: f1(base - h), W: f1(colW), H: f1(h), Fill: v.fill,
				Title: "week from " + w.Start.Format("2 Jan") + ": " + strconv.Itoa(v.n) + " " + v.what})
		}
		c.Ticks = append(c.Ticks, tick{X: f1(x + colW), Y: f1(base + 16), Label: w.Start.Format("2 Jan")})
		said = append(said, w.Start.Format("2 Jan")+": "+strconv.Itoa(w.Captured)+" captured, "+strconv.Itoa(w.Ready)+" sales-ready")
	}
	c.Label = "Week by week: " + strings.Join(said, "; ")
	return c
}
