// Package chart works out the dossier's score chart: which points it draws
// and where, as SVG coordinates and labels. Everything is a finished string,
// so the template only places them and nothing but numbers reaches its
// attributes; the page needs no script (its CSP allows none).
package chart

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sales"
)

// Chart is the score over time, laid out in a Width×Height viewBox.
type Chart struct {
	Width, Height          int
	Left, Right, Top, Base string // the plot area's edges
	Line                   string // the polyline's points, "x,y x,y …"
	Dots                   []Mark // one a point, its label for a tooltip
	YTicks, XTicks         []Mark
	Thresholds             []Mark // one dashed line an alert threshold
	Label                  string // what a screen reader hears
	Rows                   []Row  // the same points as a table
}

// Mark is a place on the chart and its label; X or Y is empty where the
// mark spans the plot (a Y tick, a threshold) or sits on an axis.
type Mark struct{ X, Y, Label string }

// Row is one point of the table under the chart.
type Row struct{ When, Score string }

// The viewBox and the plot area in it; the margins hold the tick labels.
const (
	width, height              = 640, 240
	plotL, plotR, plotT, plotB = 48.0, 624.0, 14.0, 206.0
)

// Series is what the chart draws: the score after each scored activity and
// now. A lead starts at 0, so when its whole history is still kept (it was
// created within retention; 0 keeps everything) the line starts at 0 on the
// day it was created. A lead with no history is one point: score, now.
func Series(scored []sales.Point, created time.Time, retention time.Duration, score float64, now time.Time) []sales.Point {
	pts := append([]sales.Point(nil), scored...)
	if !created.IsZero() && (len(pts) == 0 || !created.After(pts[0].At)) &&
		(retention == 0 || created.After(now.Add(-retention))) {
		pts = append([]sales.Point{{At: created, Score: 0}}, pts...)
	}
	if len(pts) == 0 {
		pts = []sales.Point{{At: now, Score: score}}
	}
	return pts
}

// New lays pts out (oldest first; Series gives at least one) with a dashed line for
// each threshold. The time axis is at least a day wide and ends at the last
// point; the score axis runs from 0 (or the lowest score) to above the
// highest score and threshold, in steps of 1, 2 or 5 times a power of ten.
// Dates are shown in loc.
func New(pts []sales.Point, thresholds []program.Threshold, loc *time.Location) Chart {
	if len(pts) == 0 {
		return Chart{Width: width, Height: height, Label: "No score yet"}
	}
	t0, t1 := pts[0].At, pts[len(pts)-1].At
	lo, hi := 0.0, 10.0
	for _, p := range pts {
		t0, t1 = minTime(t0, p.At), maxTime(t1, p.At)
		lo, hi = math.Min(lo, p.Score), math.Max(hi, p.Score)
	}
	for _, th := range thresholds {
		hi = math.Max(hi, float64(th.Score))
	}
	if t1.Sub(t0) < 24*time.Hour {
		// At least a day wide, ending at the last point, so the dates tell apart.
		t0 = t1.Add(-24 * time.Hour)
	}
	step := niceStep((hi - lo) / 4)
	lo, hi = math.Floor(lo/step)*step, math.Ceil(hi*1.05/step)*step
	x := func(t time.Time) float64 {
		return plotL + (plotR-plotL)*float64(t.Sub(t0))/float64(t1.Sub(t0))
	}
	y := func(s float64) float64 { return plotB - (plotB-plotT)*(s-lo)/(hi-lo) }

	c := Chart{Width: width, Height: height, Left: number(plotL), Right: number(plotR), Top: number(plotT), Base: number(plotB)}
	layout := "2 Jan 2006"
	if t1.Sub(t0) < 72*time.Hour {
		layout = "2 Jan 15:04"
	}
	line := make([]string, 0, len(pts))
	for _, p := range pts {
		px, py := number(x(p.At)), number(y(p.Score))
		line = append(line, px+","+py)
		c.Dots = append(c.Dots, Mark{X: px, Y: py, Label: p.At.In(loc).Format(layout) + ": " + number(p.Score)})
		c.Rows = append(c.Rows, Row{When: p.At.In(loc).Format("2 Jan 2006 15:04"), Score: number(p.Score)})
	}
	c.Line = strings.Join(line, " ")
	for s := lo; s <= hi+step/2; s += step {
		c.YTicks = append(c.YTicks, Mark{Y: number(y(s)), Label: number(s)})
	}
	for i := 0; i <= 2; i++ {
		t := t0.Add(time.Duration(float64(t1.Sub(t0)) * float64(i) / 2))
		c.XTicks = append(c.XTicks, Mark{X: number(x(t)), Label: t.In(loc).Format(layout)})
	}
	var names []string
	for _, th := range thresholds {
		c.Thresholds = append(c.Thresholds, Mark{Y: number(y(float64(th.Score))), Label: th.Name + " " + strconv.Itoa(th.Score)})
		names = append(names, th.Name+" at "+strconv.Itoa(th.Score))
	}
	first, last := pts[0], pts[len(pts)-1]
	c.Label = fmt.Sprintf("Score over time: %s on %s, %s now", number(first.Score), first.At.In(loc).Format("2 Jan 2006"), number(last.Score))
	if len(names) > 0 {
		c.Label += "; alert thresholds " + strings.Join(names, ", ")
	}
	return c
}

// number shows a coordinate or a score: one decimal at most.
func number(f float64) string { return strconv.FormatFloat(math.Round(f*10)/10, 'f', -1, 64) }

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
