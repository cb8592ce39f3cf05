package httpapi

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/display"
	"github.com/leadnurture/nurture/shared/httpapi/chart"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/token"
)

// dossierPage is what dossier.html.tmpl shows: the dossier with every
// value in words, dates in the program's zone.
type dossierPage struct {
	D sales.Dossier
	// Heading names the lead: their name, or their address when the name
	// field holds something else (display.Name).
	Heading string
	// MailTo is set when the address may be linked as mailto: (it passes
	// lead.IsAddress as stored, so nothing like ?cc= can ride along).
	MailTo   bool
	Decide   string // "accept" or "return": the one decision the link may post; empty for the dossier link
	Action   string // where the forms post
	Reasons  []sales.ReturnReason
	Decision string // the current sales decision, in words
	Seen     string // its Stamp, posted back with the forms
	Waiting  string // the SLA of an alert waiting for a decision, in words
	Alerted  string // the alert the link came from, in words
	Score    string
	Points   []pointRow
	Events   []eventRow // newest first
	Words    []wordsRow // the lead's own words, newest first
	Chart    chart.Chart
	Zone     string
	Limit    int // sales.TimelineLimit, for the note on older activity
	Company  string
}

type pointRow struct{ Why, Points string }

type wordsRow struct{ When, ISO, About, Text string }

type eventRow struct {
	When, ISO, What, Title, Detail, Points string
	Machine                                bool
}

// salesNotice is what notice.html.tmpl shows: a short page after a
// decision, or about a bad form.
type salesNotice struct {
	Title, Lead, Name string
	Detail            string // who decided, when
	Back              string // the dossier's path
	Company           string
}

// dateTime is how the page writes a moment in full.
const dateTime = "Mon 2 Jan 2006 15:04 MST"

func newDossierPage(prog *program.Program, d sales.Dossier, l *lead.Lead, c token.Claims, action string, now time.Time) dossierPage {
	loc := location(l.Zone(prog))
	v := dossierPage{
		D: d, Action: action, Reasons: sales.ReturnReasons, Score: number(d.Score),
		Zone: loc.String(), Company: prog.Sender.Company, Limit: sales.TimelineLimit,
		Heading: leadHeading(d.Name, d.Email), MailTo: lead.IsAddress(l.Email) && l.Email == d.Email,
	}
	v.Decide = linkDecision[c.Purpose]
	if s := d.Sales; s != nil {
		when := s.At.In(loc).Format(dateTime)
		by := ""
		if s.By != "" {
			by = " (" + s.By + ")"
		}
		switch s.Status {
		case lead.SalesAccepted:
			v.Decision = "Accepted by sales on " + when + by + "."
		case lead.SalesReturned:
			v.Decision = "Returned to nurture on " + when + by + ": " + reasonLabel(s.Reason) + "."
		}
		v.Seen = s.Stamp()
	}
	v.Waiting = waitingWords(l.SLA, loc)
	alertID, _ := sales.ParseRef(c.Ref)
	for _, a := range l.Alerts {
		if alertID != "" && a.ID == alertID {
			v.Alerted = fmt.Sprintf("Alert “%s” sent %s at a score of %s.", a.Threshold, a.At.In(loc).Format(dateTime), number(a.Score))
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
		if e.Kind == sales.KindDecision {
			row.Detail = decisionWords(e.Detail)
			if e.By != "" {
				row.Detail += " (by " + e.By + ")"
			}
		}
		v.Events = append(v.Events, row)
	}
	for _, w := range d.Words {
		v.Words = append(v.Words, wordsRow{When: w.At.In(loc).Format("2 Jan 2006"), ISO: w.At.UTC().Format(time.RFC3339), About: w.About, Text: w.Text})
	}
	series := chart.Series(d.Series, l.CreatedAt, prog.ActivityRetention(), d.Score, now)
	v.Chart = chart.New(series, prog.Thresholds, loc)
	return v
}

// leadHeading is how a page names a lead: by name when it is one, else by
// address.
func leadHeading(name, email string) string {
	if n, ok := display.Name(name); ok {
		return n
	}
	return display.Text(email)
}

// location is the zone the dossier shows dates in: the lead's (see
// lead.Zone), so "opened at 08:10" reads as the lead's morning.
func location(zone string) *time.Location {
	if loc, err := time.LoadLocation(zone); err == nil && zone != "" {
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
		if r, ok := sales.ReturnReasonFor(code); ok {
			return "Returned to nurture: " + r.Label
		}
		return "Returned to nurture"
	}
	return detail
}

var eventNames = map[string]string{
	lead.KindDownload:        "Downloaded",
	lead.KindEmail:           "Nurture email sent",
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
	lead.KindKeep:            "Asked to keep getting emails",
	lead.KindConfirm:         "Confirmed the address",
	lead.KindRating:          "Rated an email",
	lead.KindWish:            "Told us what would help next",
	lead.KindPreferences:     "Chose what they get",
	sales.KindDecision:       "Sales decision",
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
