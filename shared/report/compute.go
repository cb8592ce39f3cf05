package report

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/display"
	"github.com/leadnurture/nurture/shared/program"
)

// Period is the span a report covers: whole days in UTC, From inclusive,
// To exclusive.
type Period struct {
	From, To time.Time
}

// Day is the start of t's day in UTC.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// LastDays is the period of n days ending with now's day.
func LastDays(n int, now time.Time) Period {
	to := Day(now).AddDate(0, 0, 1)
	return Period{From: to.AddDate(0, 0, -n), To: to}
}

// DateLayout is how dates are written in periods and tables.
const DateLayout = "2006-01-02"

// MaxDays bounds a custom period: two years of days.
const MaxDays = 731

// ParsePeriod reads a period: "week" (the last 7 days), "month" (the last
// 30), "8w" (the last 8 weeks, the default when all is empty), or from and
// to as dates (to inclusive; either may be left out: from alone runs to
// today, to alone covers the 8 weeks before it).
func ParsePeriod(name, from, to string, now time.Time) (Period, error) {
	if from != "" || to != "" {
		end := Day(now)
		if to != "" {
			t, err := time.Parse(DateLayout, to)
			if err != nil {
				return Period{}, fmt.Errorf("to: %q is not a date like 2026-11-30", to)
			}
			end = t
		}
		start := end.AddDate(0, 0, -55)
		if from != "" {
			f, err := time.Parse(DateLayout, from)
			if err != nil {
				return Period{}, fmt.Errorf("from: %q is not a date like 2026-11-01", from)
			}
			start = f
		}
		p := Period{From: start, To: end.AddDate(0, 0, 1)}
		switch {
		case !p.From.Before(p.To):
			return Period{}, fmt.Errorf("from %s is after to %s", from, to)
		case p.Days() > MaxDays:
			return Period{}, fmt.Errorf("at most %d days at a time (from %s to %s is %d)", MaxDays, p.From.Format(DateLayout), end.Format(DateLayout), p.Days())
		}
		return p, nil
	}
	switch name {
	case "week":
		return LastDays(7, now), nil
	case "month":
		return LastDays(30, now), nil
	case "", "8w":
		return LastDays(56, now), nil
	}
	return Period{}, fmt.Errorf("period %q: use week, month or 8w, or from and to dates", name)
}

// Days is how many days the period covers.
func (p Period) Days() int { return int(p.To.Sub(p.From).Hours() / 24) }

// Before is the period of the same length just before this one.
func (p Period) Before() Period { return Period{From: p.From.Add(-p.To.Sub(p.From)), To: p.From} }

// String is "2026-11-01 to 2026-11-30".
func (p Period) String() string {
	return p.From.Format(DateLayout) + " to " + p.To.AddDate(0, 0, -1).Format(DateLayout)
}

// Table is one table of the report, as text: the page, the CSV and the
// terminal show the same cells.
type Table struct {
	ID      string
	Title   string
	Note    string
	Columns []string
	Rows    [][]string
}

// Bar is one bar of a chart: a label and a count.
type Bar struct {
	Label string
	N     int
}

// Week is one week of the trend chart.
type Week struct {
	Start                                  time.Time
	Captured, Mailed, Clicks, Ready, Taken int
}

// Figure is one headline number with the one of the period before.
type Figure struct {
	Label      string
	Value      string
	N, Before  int
	Percentage bool // N and Before are tenths of a percent
}

// Change says how the figure moved against the period before.
func (f Figure) Change() string {
	d := f.N - f.Before
	unit := ""
	n := strconv.Itoa(abs(d))
	if f.Percentage {
		n, unit = strconv.FormatFloat(float64(abs(d))/10, 'f', 1, 64), " points"
	}
	switch {
	case d > 0:
		return "+" + n + unit
	case d < 0:
		return "−" + n + unit
	}
	return "no change"
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// Report is the program's results for a period.
type Report struct {
	Period   Period
	Built    time.Time // the oldest rollup the report read; zero when all live
	Headline []Figure
	Funnel   []Bar
	Weeks    []Week
	Tables   []Table
}

// Table returns the table with the id.
func (r Report) Table(id string) (Table, bool) {
	i := slices.IndexFunc(r.Tables, func(t Table) bool { return t.ID == id })
	if i < 0 {
		return Table{}, false
	}
	return r.Tables[i], true
}

// TableIDs lists the tables' ids in order.
func (r Report) TableIDs() []string {
	ids := make([]string, len(r.Tables))
	for i, t := range r.Tables {
		ids[i] = t.ID
	}
	return ids
}

// gone labels what the program no longer has.
const gone = "no longer in the program"

// Compute makes the report of the period from the summaries of its days
// (or hours), and of the period before for the headline's changes. Empty
// summaries give zeros everywhere.
func Compute(p *program.Program, per Period, days, before []Summary) Report {
	s := Merge(days...)
	r := Report{Period: per}
	for _, d := range days {
		if !d.Built.IsZero() && (r.Built.IsZero() || d.Built.Before(r.Built)) {
			r.Built = d.Built
		}
	}
	r.Headline = headline(s, per, Merge(before...))
	r.Funnel = funnel(p, s)
	r.Weeks = weeks(per, days)
	r.Tables = append(r.Tables, funnelTable(p, s))
	for _, d := range Dimensions {
		r.Tables = append(r.Tables, byTable(p, s, d))
	}
	r.Tables = append(r.Tables, timingTable(p, s), seedsTable(s, per), assetsTable(p, s), neverClickedTable(p, s),
		gapsTable(p, s), ratingsTable(p, s), topicsTable(p, s), wordsTable(p, s), weeksTable(r.Weeks))
	return r
}

// funnelRow is one metric of the funnel: its label and metric.
type funnelRow struct{ label, metric string }

func funnelRows(p *program.Program) []funnelRow {
	rows := []funnelRow{
		{"Leads captured", Captured}, {"  new", CapturedNew}, {"  returning", CapturedReturning},
		{"Enrolled in a track", Enrolled}, {"Emails mailed", Mailed}, {"Emails delivered", Delivered},
		{"Opens by people", OpensHuman}, {"Opens by machines", OpensMachine},
		{"Clicks by people", ClicksHuman}, {"Clicks by machines", ClicksMachine},
		{"Answers", Answers}, {"Unsubscribes", Unsubscribes}, {"Bounces", Bounces}, {"Complaints", Complaints},
	}
	for _, t := range p.Thresholds {
		rows = append(rows, funnelRow{"Sales-ready (" + t.Name + ")", ReadyAt(t.Name)})
	}
	return append(rows, funnelRow{"Accepted by sales", Accepted}, funnelRow{"Returned to nurture", Returned})
}

func funnel(p *program.Program, s Summary) []Bar {
	var bars []Bar
	for _, r := range funnelRows(p) {
		if strings.HasPrefix(r.label, "  ") || r.metric == OpensMachine || r.metric == ClicksMachine {
			continue // the chart shows the main line
		}
		bars = append(bars, Bar{Label: r.label, N: s.Total(r.metric)})
	}
	return bars
}

func funnelTable(p *program.Program, s Summary) Table {
	t := Table{ID: "funnel", Title: "The funnel", Columns: []string{"Step", "Count"},
		Note: "Each row counts activities in the period; machine opens and clicks (scanners, privacy proxies) are apart from people's."}
	for _, r := range funnelRows(p) {
		t.Rows = append(t.Rows, []string{strings.TrimSpace(r.label), strconv.Itoa(s.Total(r.metric))})
	}
	for _, reason := range returnReasons(p, s) {
		label := "  returned: " + reason
		if _, ok := p.Returns[reason]; !ok && len(p.Returns) > 0 {
			label += " (" + gone + ")"
		}
		t.Rows = append(t.Rows, []string{strings.TrimSpace(label), strconv.Itoa(s.Total(ReturnedFor(reason)))})
	}
	return t
}

// returnReasons are the program's return reasons and any others counted.
func returnReasons(p *program.Program, s Summary) []string {
	var out []string
	for r := range p.Returns {
		out = append(out, r)
	}
	for k := range s.Counts {
		if m, d, _ := SplitKey(k); d == DimAll && strings.HasPrefix(m, returnedPrefix) {
			if r := strings.TrimPrefix(m, returnedPrefix); !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	sort.Strings(out)
	return out
}

// byColumns are the metrics of the tables by dimension.
func byColumns(p *program.Program) []funnelRow {
	cols := []funnelRow{
		{"Captured", Captured}, {"New", CapturedNew}, {"Returning", CapturedReturning}, {"Enrolled", Enrolled},
		{"Mailed", Mailed}, {"Delivered", Delivered}, {"Human opens", OpensHuman}, {"Machine opens", OpensMachine},
		{"Human clicks", ClicksHuman}, {"Machine clicks", ClicksMachine}, {"Answers", Answers},
		{"Unsubscribes", Unsubscribes}, {"Bounces", Bounces}, {"Complaints", Complaints},
	}
	for _, t := range p.Thresholds {
		cols = append(cols, funnelRow{"Ready " + t.Name, ReadyAt(t.Name)})
	}
	return append(cols, funnelRow{"Accepted", Accepted}, funnelRow{"Returned", Returned})
}

var dimTitles = map[string]string{
	DimForm: "form", DimTrack: "track", DimStep: "step", DimAsset: "asset", DimTopic: "topic",
	DimStage: "stage", DimFormat: "format", DimIndustry: "industry", DimSize: "company size", DimRoute: "sales route",
}

func byTable(p *program.Program, s Summary, dim string) Table {
	cols := byColumns(p)
	t := Table{ID: "by-" + dim, Title: "The funnel by " + dimTitles[dim], Columns: []string{dimTitles[dim]}}
	t.Columns[0] = strings.ToUpper(t.Columns[0][:1]) + t.Columns[0][1:]
	for _, c := range cols {
		t.Columns = append(t.Columns, c.label)
	}
	for _, v := range dimValues(p, s, dim) {
		row := []string{label(p, dim, v)}
		for _, c := range cols {
			row = append(row, strconv.Itoa(s.Count(c.metric, dim, v)))
		}
		t.Rows = append(t.Rows, row)
	}
	switch dim {
	case DimIndustry, DimSize, DimRoute, DimForm:
		t.Note = "Counted by the lead as it is now: its " + dimTitles[dim] + " when the report was rolled up."
	case DimTopic:
		t.Note = "An asset on two topics counts under both."
	}
	return t
}

// dimValues are the program's values of a dimension, then any others the
// summary has counts for (what the program no longer has, and none).
func dimValues(p *program.Program, s Summary, dim string) []string {
	var out []string
	switch dim {
	case DimForm:
		for _, f := range p.Forms {
			out = append(out, f.ID)
		}
	case DimTrack:
		for _, t := range p.Tracks {
			out = append(out, t.ID)
		}
	case DimStep:
		for _, t := range p.Tracks {
			for i := range t.Steps {
				out = append(out, StepValue(t.ID, i))
			}
		}
	case DimAsset:
		for _, a := range p.Assets {
			out = append(out, a.ID)
		}
	case DimTopic:
		for _, t := range p.ChoosableTopics() {
			out = append(out, t.Topic)
		}
	case DimStage:
		out = append(out, program.Stages...)
	case DimFormat:
		out = append(out, program.Formats...)
	case DimIndustry:
		out = append(out, options(p, "industry")...)
	case DimSize:
		out = append(out, options(p, "companySize")...)
	case DimRoute:
		for _, o := range p.Owners() {
			out = append(out, o.Address)
		}
	}
	for _, v := range s.Values(dim) {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// options are the values a profile field's question offers.
func options(p *program.Program, field string) []string {
	var out []string
	for _, q := range p.Questions {
		if q.Field == field {
			for _, o := range q.Options {
				out = append(out, o.Value)
			}
		}
	}
	return out
}

// label is how a dimension's value reads, saying so when the program no
// longer has it.
func label(p *program.Program, dim, v string) string {
	if v == NotGiven {
		return v
	}
	known := true
	name := v
	switch dim {
	case DimForm:
		f, ok := p.Form(v)
		known, name = ok, pickLabel(f.Title, v)
	case DimTrack:
		_, known = p.Track(v)
		switch v {
		case program.EvergreenTrack:
			known, name = true, "evergreen cadence"
		case program.ReengageTrack:
			known, name = true, "re-engagement email"
		}
	case DimStep:
		track, n, _ := strings.Cut(v, "#")
		i, _ := strconv.Atoi(n)
		t, ok := p.Track(track)
		known = ok && i >= 1 && i <= len(t.Steps)
		name = track + " step " + n
		if known && t.Steps[i-1].ID != "" {
			name += " (" + t.Steps[i-1].ID + ")"
		}
	case DimAsset:
		a, ok := p.Asset(v)
		known, name = ok, pickLabel(a.Title, v)
	case DimTopic:
		known, name = p.Choosable(v), p.TopicLabel(v)
	case DimStage:
		known = slices.Contains(program.Stages, v)
	case DimFormat:
		known = slices.Contains(program.Formats, v)
	case DimIndustry:
		known = slices.Contains(options(p, "industry"), v)
	case DimSize:
		known = slices.Contains(options(p, "companySize"), v)
	case DimRoute:
		known = slices.ContainsFunc(p.Owners(), func(o program.Owner) bool { return o.Address == v })
	}
	name = display.Text(name)
	if !known {
		return name + " (" + gone + ")"
	}
	return name
}

func pickLabel(title, id string) string {
	if title != "" {
		return title
	}
	return id
}

// readyLeads are the leads that became sales-ready in the period, each
// once, at its first alert (any threshold).
func readyLeads(s Summary) []Ready {
	first := map[string]Ready{}
	for _, r := range s.Ready {
		if f, ok := first[r.Lead]; !ok || r.At.Before(f.At) {
			first[r.Lead] = r
		}
	}
	out := make([]Ready, 0, len(first))
	for _, r := range first {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Ready) int { return a.At.Compare(b.At) })
	return out
}

func timingTable(p *program.Program, s Summary) Table {
	t := Table{ID: "timing", Title: "How long it takes", Columns: []string{"Measure", "Leads", "Median", "90th percentile"},
		Note: "Time to sales-ready counts from the lead's first capture to its alert; time to a decision from the alert to sales' accept or return."}
	for _, th := range p.Thresholds {
		var ds []time.Duration
		seen := map[string]bool{}
		for _, r := range s.Ready {
			if r.Threshold == th.Name && !r.FirstAt.IsZero() && !seen[r.Lead] {
				seen[r.Lead] = true
				ds = append(ds, r.At.Sub(r.FirstAt))
			}
		}
		t.Rows = append(t.Rows, durationRow("Time to sales-ready ("+th.Name+")", ds))
	}
	var ds []time.Duration
	for _, d := range s.Decisions {
		if !d.AlertAt.IsZero() {
			ds = append(ds, d.At.Sub(d.AlertAt))
		}
	}
	t.Rows = append(t.Rows, durationRow("Time to a sales decision", ds))
	return t
}

func durationRow(label string, ds []time.Duration) []string {
	if len(ds) == 0 {
		return []string{label, "0", "–", "–"}
	}
	slices.Sort(ds)
	return []string{label, strconv.Itoa(len(ds)), FormatDuration(percentile(ds, 50)), FormatDuration(percentile(ds, 90))}
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, pc int) time.Duration {
	i := int(math.Ceil(float64(pc)/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// FormatDuration writes a duration as days and hours, or minutes when short.
func FormatDuration(d time.Duration) string {
	switch {
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 24*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h"
	}
	days := int(d / (24 * time.Hour))
	h := int((d % (24 * time.Hour)).Hours())
	if h == 0 {
		return strconv.Itoa(days) + "d"
	}
	return strconv.Itoa(days) + "d " + strconv.Itoa(h) + "h"
}

// Pct writes n of of as a percentage, "–" when of is 0.
func Pct(n, of int) string {
	if of == 0 {
		return "–"
	}
	return strconv.FormatFloat(float64(n)*100/float64(of), 'f', 1, 64) + "%"
}

// tenths is n of of in tenths of a percent.
func tenths(n, of int) int {
	if of == 0 {
		return 0
	}
	return int(math.Round(float64(n) * 1000 / float64(of)))
}

// seeds are the two numbers the program exists to move: sales-ready leads
// nobody decided on in time, and captured leads never ready.
type seeds struct {
	ready, decidedInTime, decidedLate, undecided int
	captured, capturedReady                      int
}

func seedNumbers(s Summary, per Period) seeds {
	var n seeds
	decided := map[string]Decision{}
	for _, d := range s.Decisions {
		if f, ok := decided[d.Lead]; !ok || d.At.Before(f.At) {
			decided[d.Lead] = d
		}
	}
	for _, r := range readyLeads(s) {
		n.ready++
		d, ok := decided[r.Lead]
		switch {
		case !ok:
			n.undecided++
		case d.Overdue:
			n.decidedLate++
		default:
			n.decidedInTime++
		}
		if !r.FirstAt.Before(per.From) && r.FirstAt.Before(per.To) {
			n.capturedReady++
		}
	}
	n.captured = s.Total(CapturedNew)
	return n
}

func seedsTable(s Summary, per Period) Table {
	n := seedNumbers(s, per)
	return Table{ID: "seeds", Title: "The two numbers that matter", Columns: []string{"Measure", "Leads", "Of", "Share"},
		Note: "Sales-ready leads are those alerted in the period; \"in time\" is before the SLA's reminder was due. Captured leads are the new ones of the period, ready by its end.",
		Rows: [][]string{
			{"Sales-ready leads decided within the SLA", strconv.Itoa(n.decidedInTime), strconv.Itoa(n.ready), Pct(n.decidedInTime, n.ready)},
			{"Sales-ready leads decided late", strconv.Itoa(n.decidedLate), strconv.Itoa(n.ready), Pct(n.decidedLate, n.ready)},
			{"Sales-ready leads not decided yet", strconv.Itoa(n.undecided), strconv.Itoa(n.ready), Pct(n.undecided, n.ready)},
			{"New leads that became sales-ready", strconv.Itoa(n.capturedReady), strconv.Itoa(n.captured), Pct(n.capturedReady, n.captured)},
		}}
}

func assetsTable(p *program.Program, s Summary) Table {
	t := Table{ID: "assets", Title: "Content performance",
		Columns: []string{"Asset", "Format", "Stage", "Sends", "Human clicks", "Human click rate", "Sales-ready leads engaged before", "Share of sales-ready leads"},
		Note:    "Click rate is people's clicks per email mailed with the asset. Engaged before: the lead downloaded or clicked it as a reader before its first alert."}
	ready := readyLeads(s)
	engaged := map[string]int{}
	for _, r := range ready {
		for _, a := range uniq(r.Engaged) {
			engaged[a]++
		}
	}
	for _, id := range dimValues(p, s, DimAsset) {
		if id == NotGiven {
			continue
		}
		a, _ := p.Asset(id)
		sends, clicks := s.Count(Mailed, DimAsset, id), s.Count(ClicksHuman, DimAsset, id)
		t.Rows = append(t.Rows, []string{label(p, DimAsset, id), a.Format, a.Stage, strconv.Itoa(sends), strconv.Itoa(clicks),
			Pct(clicks, sends), strconv.Itoa(engaged[id]), Pct(engaged[id], len(ready))})
	}
	return t
}

func uniq(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}

func neverClickedTable(p *program.Program, s Summary) Table {
	t := Table{ID: "never-clicked", Title: "Assets nobody clicked", Columns: []string{"Asset", "Format", "Stage", "Sends"},
		Note: "The program's assets without a click by a person in the period."}
	for _, a := range p.Assets {
		if s.Count(ClicksHuman, DimAsset, a.ID) == 0 {
			t.Rows = append(t.Rows, []string{display.Text(pickLabel(a.Title, a.ID)), a.Format, a.Stage, strconv.Itoa(s.Count(Mailed, DimAsset, a.ID))})
		}
	}
	return t
}

// fits reports whether an asset may go to a lead of the industry.
func fits(a program.Asset, industry string) bool {
	return len(a.Industries) == 0 || slices.Contains(a.Industries, industry)
}

func gapsTable(p *program.Program, s Summary) Table {
	t := Table{ID: "gaps", Title: "Content gaps", Columns: []string{"Gap", "Source", "Detail"},
		Note: "What the library cannot serve: from the program (its industries, stages, formats and steps) and from the leads captured in the period."}
	for _, f := range program.Formats {
		if !slices.ContainsFunc(p.Assets, func(a program.Asset) bool { return a.Format == f }) {
			t.Rows = append(t.Rows, []string{"No " + f, "program", "no asset of this format"})
		}
	}
	for _, ind := range options(p, "industry") {
		for _, st := range program.Stages {
			if !slices.ContainsFunc(p.Assets, func(a program.Asset) bool { return a.Stage == st && fits(a, ind) }) {
				detail := "no " + st + "-stage asset fits it"
				source := "program"
				if n := s.Count(Captured, DimIndustry, ind); n > 0 {
					source = "leads captured"
					detail += fmt.Sprintf("; %d captured in the period", n)
				}
				t.Rows = append(t.Rows, []string{"Industry " + label(p, DimIndustry, ind) + ", " + st, source, detail})
			}
		}
	}
	for _, tr := range p.Tracks {
		for i, st := range tr.Steps {
			if st.Asset != "" || st.Stage == "" {
				continue
			}
			if !slices.ContainsFunc(p.Assets, func(a program.Asset) bool {
				return a.Stage == st.Stage && slices.Contains(a.Topics, tr.Topic) && (len(st.Formats) == 0 || slices.Contains(st.Formats, a.Format))
			}) {
				t.Rows = append(t.Rows, []string{label(p, DimStep, StepValue(tr.ID, i)), "program",
					"no " + st.Stage + "-stage asset on " + tr.Topic + " in " + strings.Join(st.Formats, ", ")})
			}
		}
	}
	for _, ind := range s.Values(DimIndustry) {
		if ind != NotGiven && !slices.Contains(options(p, "industry"), ind) && s.Count(Captured, DimIndustry, ind) > 0 {
			t.Rows = append(t.Rows, []string{"Industry " + display.Text(ind), "leads captured",
				fmt.Sprintf("%d captured; the program does not know it", s.Count(Captured, DimIndustry, ind))})
		}
	}
	if len(t.Rows) == 0 {
		t.Note = "None: the library has an asset for every industry, stage, format and step. " + t.Note
	}
	return t
}

func ratingsTable(p *program.Program, s Summary) Table {
	t := Table{ID: "ratings", Title: "Was it useful?", Columns: []string{"By", "Value", "Useful", "Not really", "Share useful"}}
	for _, dim := range []string{DimAsset, DimFormat, DimStage} {
		for _, v := range dimValues(p, s, dim) {
			y, n := s.Count(RatedUseful, dim, v), s.Count(RatedNotUseful, dim, v)
			if y+n == 0 {
				continue
			}
			t.Rows = append(t.Rows, []string{dimTitles[dim], label(p, dim, v), strconv.Itoa(y), strconv.Itoa(n), Pct(y, y+n)})
		}
	}
	if len(t.Rows) == 0 {
		t.Note = "No ratings in the period."
	}
	return t
}

func topicsTable(p *program.Program, s Summary) Table {
	t := Table{ID: "topics", Title: "What leads ask for", Columns: []string{"Topic", "Asked", "Assets on it", "Note"},
		Note: "Answers to \"What would help you most next?\". A topic no asset answers, and \"something else\", are requests for new content."}
	for _, v := range dimValues(p, s, DimTopic) {
		asked := s.Count(Wishes, DimTopic, v)
		if v == NotGiven {
			if asked > 0 {
				t.Rows = append(t.Rows, []string{"Something else", strconv.Itoa(asked), "–", "no asset answers it: read their words below"})
			}
			continue
		}
		n := 0
		for _, a := range p.Assets {
			if slices.Contains(a.Topics, v) {
				n++
			}
		}
		note := ""
		if n == 0 {
			note = "no asset answers it"
		}
		t.Rows = append(t.Rows, []string{label(p, DimTopic, v), strconv.Itoa(asked), strconv.Itoa(n), note})
	}
	return t
}

func wordsTable(p *program.Program, s Summary) Table {
	t := Table{ID: "words", Title: "In their own words", Columns: []string{"When", "Topic", "About", "Words"},
		Note: "What readers wrote, newest first: input for the next piece of content."}
	ws := slices.Clone(s.Wishes)
	slices.SortStableFunc(ws, func(a, b Wish) int { return b.At.Compare(a.At) })
	for _, w := range ws {
		if strings.TrimSpace(w.Words) == "" {
			continue
		}
		topic := "something else"
		if w.Topic != "" {
			topic = label(p, DimTopic, w.Topic)
		}
		about := ""
		if w.Asset != "" {
			about = label(p, DimAsset, w.Asset)
		}
		t.Rows = append(t.Rows, []string{w.At.UTC().Format("2006-01-02 15:04"), topic, about, display.Text(w.Words)})
	}
	return t
}

func weeks(per Period, days []Summary) []Week {
	var out []Week
	for start := per.From; start.Before(per.To); start = start.AddDate(0, 0, 7) {
		out = append(out, Week{Start: start})
	}
	for _, d := range days {
		i := int(d.Start.Sub(per.From).Hours() / (24 * 7))
		if i < 0 || i >= len(out) {
			continue
		}
		w := &out[i]
		w.Captured += d.Total(Captured)
		w.Mailed += d.Total(Mailed)
		w.Clicks += d.Total(ClicksHuman)
		w.Taken += d.Total(Accepted)
		for k, v := range d.Counts {
			if m, dim, _ := SplitKey(k); dim == DimAll && strings.HasPrefix(m, readyPrefix) {
				w.Ready += v
			}
		}
	}
	return out
}

func weeksTable(ws []Week) Table {
	t := Table{ID: "weeks", Title: "Week by week", Columns: []string{"Week from", "Captured", "Mailed", "Human clicks", "Sales-ready", "Accepted"}}
	for _, w := range ws {
		t.Rows = append(t.Rows, []string{w.Start.Format(DateLayout), strconv.Itoa(w.Captured), strconv.Itoa(w.Mailed),
			strconv.Itoa(w.Clicks), strconv.Itoa(w.Ready), strconv.Itoa(w.Taken)})
	}
	return t
}

func headline(s Summary, per Period, prev Summary) []Figure {
	readyN := func(s Summary) int { return len(readyLeads(s)) }
	n, b := seedNumbers(s, per), seedNumbers(prev, per.Before())
	figs := []Figure{
		{Label: "Leads captured", N: s.Total(Captured), Before: prev.Total(Captured)},
		{Label: "New leads", N: s.Total(CapturedNew), Before: prev.Total(CapturedNew)},
		{Label: "Emails mailed", N: s.Total(Mailed), Before: prev.Total(Mailed)},
		{Label: "Clicks by people", N: s.Total(ClicksHuman), Before: prev.Total(ClicksHuman)},
		{Label: "Sales-ready leads", N: readyN(s), Before: readyN(prev)},
		{Label: "Accepted by sales", N: s.Total(Accepted), Before: prev.Total(Accepted)},
		{Label: "Decided within the SLA", N: tenths(n.decidedInTime, n.ready), Before: tenths(b.decidedInTime, b.ready), Percentage: true, Value: Pct(n.decidedInTime, n.ready)},
	}
	for i := range figs {
		if figs[i].Value == "" {
			figs[i].Value = strconv.Itoa(figs[i].N)
		}
	}
	return figs
}
