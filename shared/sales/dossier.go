package sales

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/display"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/scoring"
)

// Dossier is everything sales should know about a lead.
type Dossier struct {
	LeadID      string
	Name        string
	Email       string
	Company     string
	Role        string
	Industry    string
	CompanySize string
	Country     string
	Timeline    string // the buying timeline they answered, if any

	Score     float64
	Threshold string // the level this dossier alerts for; empty on the page
	// Reasons are the biggest contributions to the score, largest first.
	Reasons []Reason
	// Events is the lead's story, oldest first.
	Events []Event
	// Topics they care about, in order of first interest.
	Topics []string
	// TalkingPoints come from the assets they engaged with.
	TalkingPoints []string
	Answers       []Answer
	// Words are what the lead wrote when asked what would help, newest
	// first, verbatim (cleaned of what hides or reorders text, never
	// rewritten): sales hears the lead's own words.
	Words []Words
	// Series is the score over time, for the chart.
	Series []Point

	// Older is set when the lead has activities older than the newest
	// TimelineLimit the dossier was built from: shown as such; the score
	// counts them.
	Older bool

	Sales      *lead.SalesDecision
	Suppressed string // why mail stopped, if it did
	Nurture    string // where the lead is in nurture, in words
}

// Reason is one contribution to the score.
type Reason struct {
	Points float64
	Why    string
}

// Event is one line of the timeline.
type Event struct {
	At      time.Time
	Kind    string // download, email, open, click, answer, bounce, unsubscribe ...
	Title   string // what it was about, e.g. the asset title
	Detail  string
	Machine bool // a scanner's or a privacy proxy's, not the person's
	Points  float64
	By      string // who made a sales decision
}

// Answer is one profiling answer.
type Answer struct{ Question, Answer string }

// Words are a lead's own words: when, the topic it chose with them (empty
// for something else), and the text.
type Words struct {
	At    time.Time
	About string
	Text  string
}

// Point is the score at a moment.
type Point struct {
	At    time.Time
	Score float64
}

// TimelineLimit is how many of a lead's newest activities a dossier and an
// alert read (store.RecentActivities): a year of a busy lead's events
// and more, while a lead with thousands (pumped, or very long-lived) costs
// no more to show and cannot time out a page or an alert.
const TimelineLimit = 200

// Build assembles the dossier of a lead from its record and activities.
func Build(p *program.Program, l *lead.Lead, acts []lead.Activity, now time.Time) Dossier {
	m := scoring.New(p)
	// What the person typed is cleaned once here (display.Text), for every
	// page, email and post that shows the dossier.
	d := Dossier{
		LeadID: l.ID, Name: display.Text(l.Name), Email: display.Text(l.Email), Company: display.Text(l.Company),
		Role: label(p, "role", l.Role), Industry: label(p, "industry", l.Industry),
		CompanySize: label(p, "companySize", l.CompanySize), Country: display.Text(l.Country),
		Timeline: label(p, "timeline", l.Timeline),
		Score:    round1(m.Value(l.Score, now)), Topics: l.Topics, Sales: l.Sales,
	}
	if l.Suppression != nil {
		d.Suppressed = l.Suppression.Reason
	}
	d.Nurture = nurtureState(p, l)

	// Activity contributions, decayed to now like the score itself.
	byWhy := map[string]float64{}
	var order []string
	engaged := map[string]bool{}
	for _, a := range acts {
		if a.Kind == lead.KindSent {
			continue // the step itself shows the email (below)
		}
		e := event(p, a)
		d.Events = append(d.Events, e)
		if a.Points != 0 {
			d.Series = append(d.Series, Point{At: a.At, Score: a.ScoreAfter})
		}
		if a.Earned != 0 {
			why := describe(e)
			if _, seen := byWhy[why]; !seen {
				order = append(order, why)
			}
			byWhy[why] += float64(a.Earned) * m.Decay(a.At, now)
		}
		if (a.Kind == lead.KindDownload || (a.Kind == lead.KindClick && !a.Machine)) && a.AssetID != "" {
			engaged[a.AssetID] = true
		}
		if a.Kind == lead.KindWish && a.Words != "" {
			d.Words = append([]Words{{At: a.At, About: e.Title, Text: a.Words}}, d.Words...)
		}
	}
	// The lead keeps its latest emails; older ones are told by their
	// Delivery activities.
	// A listed email is known by its MessageId once an event brought it,
	// else by its track and step.
	listed := map[string]bool{}
	for _, s := range l.Nurture.Sent {
		asset, _ := p.Asset(s.AssetID)
		d.Events = append(d.Events, Event{At: s.At, Kind: lead.KindEmail, Title: asset.Title, Detail: emailDetail(s.Track, s.Step)})
		if s.MessageID != "" {
			listed[s.MessageID] = true
		} else {
			listed[s.Track+"/"+strconv.Itoa(s.Step)] = true
		}
	}
	for _, a := range acts {
		if a.Kind != lead.KindDelivered || a.Track == "" || listed[a.MessageID] || listed[a.Track+"/"+strconv.Itoa(a.Step)] {
			continue
		}
		asset, _ := p.Asset(a.AssetID)
		d.Events = append(d.Events, Event{At: a.At, Kind: lead.KindEmail, Title: asset.Title, Detail: emailDetail(a.Track, a.Step)})
	}
	sort.SliceStable(d.Events, func(i, j int) bool { return d.Events[i].At.Before(d.Events[j].At) })

	_, fit := m.Fit(l)
	for _, f := range fit {
		why := "fit: " + f.Why
		byWhy[why] = float64(f.Points)
		order = append(order, why)
	}
	for _, why := range order {
		if v := round1(byWhy[why]); v != 0 {
			d.Reasons = append(d.Reasons, Reason{Points: v, Why: why})
		}
	}
	sort.SliceStable(d.Reasons, func(i, j int) bool { return math.Abs(d.Reasons[i].Points) > math.Abs(d.Reasons[j].Points) })
	if len(d.Reasons) > 6 {
		d.Reasons = d.Reasons[:6]
	}

	for _, q := range p.Questions {
		if v, ok := l.Answers[q.ID]; ok {
			d.Answers = append(d.Answers, Answer{Question: q.Text, Answer: optionLabel(q, v)})
		}
	}
	for _, a := range p.Assets {
		if engaged[a.ID] && a.Summary != "" {
			d.TalkingPoints = append(d.TalkingPoints, a.Title+": "+a.Summary)
		}
	}
	d.Series = append(d.Series, Point{At: now, Score: d.Score})
	return d
}

func event(p *program.Program, a lead.Activity) Event {
	asset, _ := p.Asset(a.AssetID)
	e := Event{At: a.At, Kind: a.Kind, Title: asset.Title, Detail: display.Text(a.Detail), Machine: a.Machine, Points: a.Points, By: display.Text(a.By)}
	switch a.Kind {
	case lead.KindDownload:
		e.Detail = downloadDetail(p, a)
	case lead.KindAnswer:
		if qid, v, ok := strings.Cut(a.Detail, "="); ok {
			if q, found := p.Question(qid); found {
				e.Title, e.Detail = q.Text, optionLabel(q, v)
			}
		}
	case lead.KindClick, lead.KindOpen:
		if a.Machine {
			e.Detail = a.MachineReason
		}
	case lead.KindRating:
		e.Detail = "useful"
		if a.Detail == lead.RatedNotUseful {
			e.Detail = "not really useful"
		}
	case lead.KindWish:
		e.Title, e.Detail = "", a.Words
		if a.Detail != "" {
			e.Title = p.TopicLabel(a.Detail)
		}
	}
	return e
}

// fieldNames are the profile fields as the timeline names them.
var fieldNames = map[string]string{"companySize": "company size", "timeline": "buying timeline"}

// downloadDetail says what a download changed beyond the download: that it
// was one the lead already had (scoring nothing), and what its form said
// about the person that differs from what was known, applied or not.
func downloadDetail(p *program.Program, a lead.Activity) string {
	var parts []string
	if a.Repeat {
		parts = append(parts, "already had it: scores nothing")
	}
	form := "form “" + a.FormID + "”"
	if f, ok := p.Form(a.FormID); ok && f.Title != "" {
		form = "form “" + f.Title + "”"
	}
	for _, c := range a.Changes {
		name := c.Field
		if n, ok := fieldNames[name]; ok {
			name = n
		}
		said, was := label(p, c.Field, c.Said), label(p, c.Field, c.Was)
		switch {
		case c.Applied:
			parts = append(parts, fmt.Sprintf("%s “%s” added via %s", name, said, form))
		case was != "":
			parts = append(parts, fmt.Sprintf("%s said %s “%s”; kept “%s” (a later form never replaces what is known)", form, name, said, was))
		default:
			parts = append(parts, fmt.Sprintf("%s said %s “%s”; not applied (fit and routing come from the first form and answers in emails)", form, name, said))
		}
	}
	return strings.Join(parts, "; ")
}

// nurtureState says where the lead is in nurture, in words for sales.
func nurtureState(p *program.Program, l *lead.Lead) string {
	n := l.Nurture
	due := n.DueAt.Format("2 Jan 2006")
	switch {
	case l.Suppression != nil:
		return "no mail: " + l.Suppression.Reason
	case n.Status == lead.NurtureDormant:
		return "dormant: no answer to “" + p.Reengage.Subject + "” of " + n.AskedAt.Format("2 Jan 2006") +
			", so no mail until they download or click again"
	case n.Status == lead.NurtureActive && !n.AskedAt.IsZero():
		return "asked “" + p.Reengage.Subject + "” on " + n.AskedAt.Format("2 Jan 2006") + "; dormant from " + due + " without an answer"
	case n.Status == lead.NurtureActive && n.Track == program.EvergreenTrack:
		return "in the evergreen cadence, next email due " + due
	case n.Status == lead.NurtureActive:
		return "in nurture, next step due " + due
	case n.Status == lead.NurtureFinished:
		return "finished the nurture tracks"
	case n.Status == lead.NurtureStopped:
		return "nurture stopped: " + n.StopReason
	}
	return "not in nurture"
}

// emailDetail says which nurture email it was.
func emailDetail(track string, step int) string {
	switch track {
	case program.EvergreenTrack:
		return "evergreen"
	case program.ReengageTrack:
		return "asked whether to go on"
	}
	return "nurture step " + strconv.Itoa(step+1)
}

// label turns an option value into what the form showed.
func label(p *program.Program, field, v string) string {
	for _, q := range p.Questions {
		if q.Field == field {
			return optionLabel(q, v)
		}
	}
	return display.Text(v)
}

func optionLabel(q program.Question, v string) string {
	for _, o := range q.Options {
		if o.Value == v {
			return o.Label
		}
	}
	return display.Text(v)
}

// describe says what an activity was, for the score's reasons. A click
// found to be a scanner's only after it was scored (a burst of clicks) keeps
// its points in the score, but is never described as the person's interest.
func describe(e Event) string {
	if e.Machine {
		switch e.Kind {
		case lead.KindClick:
			return "automated click on “" + e.Title + "” (a scanner, not the person; scored before it was recognised)"
		case lead.KindOpen:
			return "automated opens (not the person; scored before they were recognised)"
		}
	}
	switch e.Kind {
	case lead.KindDownload:
		return "downloaded “" + e.Title + "”"
	case lead.KindClick:
		return "clicked “" + e.Title + "” in a nurture email"
	case lead.KindAnswer:
		return "answered: " + e.Title + " " + e.Detail
	case lead.KindOpen:
		return "opened nurture emails"
	case lead.KindUnsubscribe:
		return "unsubscribed"
	}
	return e.Kind
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }
