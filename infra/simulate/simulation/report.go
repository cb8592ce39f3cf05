package simulation

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/leadnurture/nurture/shared/program"
)

// Date layouts of the report: dates are in the lead's own zone.
const (
	dateTime = "Mon 02 Jan 2006 15:04"
	day      = "Mon 2 Jan 2006"
	barWidth = 40
)

// WriteText writes the report a marketer reads: per persona a table of the
// emails, the score month by month and the thresholds crossed; then one
// summary line per threshold saying who reached it and when.
func (r *Result) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("%d personas, %d months from %s (%s); the scheduler ticks every %s\n",
		len(r.Journeys), r.months(), r.Start.Format(day), r.Start.Location(), strings.TrimSuffix(TickEvery.String(), "0s"))
	var ts []string
	for _, t := range r.Thresholds {
		ts = append(ts, fmt.Sprintf("%s %d", t.Name, t.Score))
	}
	ew.printf("thresholds: %s\n", strings.Join(ts, ", "))
	for _, j := range r.Journeys {
		r.writeJourney(ew, j)
	}
	ew.printf("\nsummary (day 1 is the persona's first download)\n")
	for _, line := range r.Summary() {
		ew.printf("  %s\n", line)
	}
	return ew.err
}

func (r *Result) writeJourney(ew *errWriter, j Journey) {
	pe := j.Persona
	ew.printf("\n== %s: %s\n", pe.ID, pe.About)
	var who []string
	for _, v := range []string{pe.Profile.Industry, pe.Profile.CompanySize, pe.Profile.Role, pe.Profile.Country} {
		if v != "" {
			who = append(who, v)
		}
	}
	if pe.Profile.Timeline != "" {
		who = append(who, "timeline "+pe.Profile.Timeline)
	}
	b := pe.Behaviour
	ew.printf("   %s · %s · opens %s, clicks %s, answers %s%s\n\n", pe.Email, strings.Join(who, ", "),
		orNever(string(b.Opens)), orNever(string(b.Clicks)), orNever(string(b.Answers)), map[bool]string{true: " · link scanner"}[b.Scanner])

	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "   date (%s)\temail\tasset\tasks\tdid\tpoints\tscore\tnote\n", j.Zone)
	type row struct {
		at   time.Time
		line string
	}
	var rows []row
	for _, d := range j.Downloads {
		rows = append(rows, row{d.At, fmt.Sprintf("   %s\tform %s\t%s\t\tdownloaded\t%s\t%.0f\n",
			d.At.In(j.Zone).Format(dateTime), d.Form, d.Asset, signed(d.Points), d.Score)})
	}
	for _, e := range j.Emails {
		did := strings.Join(e.Did, ", ")
		if did == "" {
			did = "nothing"
		}
		if len(e.Counted) > 0 && strings.Contains(strings.Join(e.Counted, " "), "machine") {
			did += ": " + e.Counted[len(e.Counted)-1]
		}
		note := ""
		if e.Note != "" {
			note = "\t" + e.Note
		}
		rows = append(rows, row{e.At, fmt.Sprintf("   %s\t%s\t%s\t%s\t%s\t%s\t%.0f%s\n",
			e.At.In(j.Zone).Format(dateTime), e.Label(), e.Asset, e.Question, did, signed(e.Points), e.Score, note)})
	}
	// Downloads and emails in the order they happened.
	for i := 1; i < len(rows); i++ {
		for k := i; k > 0 && rows[k].at.Before(rows[k-1].at); k-- {
			rows[k], rows[k-1] = rows[k-1], rows[k]
		}
	}
	for _, rw := range rows {
		fmt.Fprint(tw, rw.line)
	}
	if err := tw.Flush(); err != nil && ew.err == nil {
		ew.err = err
	}

	home := r.Start.Location()
	ew.printf("\n   score by month (at the month's end, and its peak)\n")
	top := 100.0
	for _, t := range r.Thresholds {
		top = math.Max(top, float64(t.Score)*1.25)
	}
	for i, m := range j.Months {
		if math.IsNaN(m.End) {
			ew.printf("   %2d  %s – %s      -\n", i+1, m.From.In(home).Format("Jan 02"), m.To.AddDate(0, 0, -1).In(home).Format("Jan 02"))
			continue
		}
		ew.printf("   %2d  %s – %s  %5.0f  peak %3.0f  %s\n", i+1, m.From.In(home).Format("Jan 02"),
			m.To.AddDate(0, 0, -1).In(home).Format("Jan 02"), m.End, m.Peak, bar(m.End, top))
	}
	ew.printf("\n")
	for _, t := range r.Thresholds {
		c, ok := j.Crossed(t.Name)
		if !ok {
			ew.printf("   %s %d not reached\n", t.Name, t.Score)
			continue
		}
		ew.printf("   %s %d crossed %s at %.0f, day %d", t.Name, t.Score, c.At.In(j.Zone).Format(dateTime), c.Score, j.Day(c.At))
		if c.Because != "" {
			ew.printf(" (%s)", c.Because)
		}
		if c.Alerted.IsZero() {
			ew.printf("; the alert to sales is still waiting\n")
		} else {
			ew.printf("; sales alerted at %s (%s)\n", c.Alerted.In(j.Zone).Format("15:04"), c.To)
		}
	}
	ew.printf("   nurture at the end: %s\n", j.Nurture)
}

// Label names an email by its track and step ("cloud-cost-track 3",
// "evergreen 2", "re-engagement").
func (e *Email) Label() string {
	switch e.Track {
	case "":
		return e.Kind
	case program.ReengageTrack:
		return "re-engagement"
	}
	return fmt.Sprintf("%s %d", e.Track, e.Step+1)
}

// Day is the day of the persona's journey t falls on, 1 being the day of
// its first download.
func (j Journey) Day(t time.Time) int {
	if len(j.Downloads) == 0 {
		return 0
	}
	y, m, d := j.Downloads[0].At.In(j.Zone).Date()
	first := time.Date(y, m, d, 0, 0, 0, 0, j.Zone)
	return int(t.Sub(first).Hours()/24) + 1
}

// Summary is one line per threshold: who reached it and when, earliest
// first, and who never did.
func (r *Result) Summary() []string {
	var lines []string
	for _, t := range r.Thresholds {
		crossed, never := r.reached(t.Name)
		var parts []string
		for _, j := range crossed {
			c, _ := j.Crossed(t.Name)
			parts = append(parts, fmt.Sprintf("%s day %d (%s)", j.Persona.ID, j.Day(c.At), c.At.In(j.Zone).Format("2 Jan 2006")))
		}
		line := fmt.Sprintf("%s %d: ", t.Name, t.Score)
		if len(parts) == 0 {
			line += "nobody"
		} else {
			line += strings.Join(parts, ", ")
		}
		if len(never) > 0 {
			ids := make([]string, len(never))
			for i, j := range never {
				ids[i] = j.Persona.ID
			}
			line += "; never: " + strings.Join(ids, ", ")
		}
		lines = append(lines, line)
	}
	return lines
}

// WriteCSV writes one row per download, email, month and crossing, for a
// spreadsheet.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"persona", "what", "date", "zone", "track", "step", "asset", "question", "did", "points", "score", "note"})
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	for _, j := range r.Journeys {
		id, zone := j.Persona.ID, j.Zone.String()
		at := func(t time.Time) string { return t.In(j.Zone).Format("2006-01-02 15:04") }
		for _, d := range j.Downloads {
			_ = cw.Write([]string{id, "download", at(d.At), zone, "", "", d.Asset, "", "form " + d.Form, f(d.Points), f(d.Score), ""})
		}
		for _, e := range j.Emails {
			_ = cw.Write([]string{id, "email", at(e.At), zone, e.Track, strconv.Itoa(e.Step + 1), e.Asset, e.Question,
				strings.Join(append(append([]string(nil), e.Did...), e.Counted...), "; "), f(e.Points), f(e.Score), e.Note})
		}
		for _, m := range j.Months {
			_ = cw.Write([]string{id, "month end", at(m.To), zone, "", "", "", "", "peak " + f(m.Peak), "", f(m.End), ""})
		}
		for _, c := range j.Crossings {
			_ = cw.Write([]string{id, "crossed " + c.Threshold, at(c.At), zone, "", "", "", "", c.Because, "", f(c.Score), ""})
		}
	}
	cw.Flush()
	return cw.Error()
}

func (r *Result) months() int {
	n := 0
	for t := r.Start; t.Before(r.End); t = t.AddDate(0, 1, 0) {
		n++
	}
	return n
}

func bar(score, top float64) string {
	n := int(math.Round(math.Max(score, 0) / top * barWidth))
	return strings.Repeat("█", min(n, barWidth))
}

func signed(v float64) string {
	if v == 0 {
		return ""
	}
	return fmt.Sprintf("%+.0f", v)
}

func orNever(s string) string {
	if s == "" {
		return "never"
	}
	return s
}

// errWriter keeps the first write error, so the report is written without
// an error check per line.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
