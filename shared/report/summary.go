// Package report is the program's results: the funnel, the time leads take
// to become sales-ready and sales to decide, how the content performs and
// what leads say. It knows nothing of DynamoDB or HTTP.
//
// Every number is counted from activities, and only from them: a summary
// of an hour or a day is rebuilt from that span's activities (Build), never
// added to, so a redelivered event (one activity, by its key) or a re-run
// rollup never counts twice. Summaries add up (Merge) into any period.
package report

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// Entry is one activity of the journal with its lead as the rollup read
// it (nil when the lead is gone, e.g. erased). Engaged, for a sales
// alert, lists the assets the lead downloaded or clicked as a reader
// before it.
type Entry struct {
	LeadID  string
	Act     lead.Activity
	Lead    *lead.Lead
	Engaged []string
}

// Summary is what happened in a span (an hour or a day): counters by
// metric, dimension and value, and the few records a count cannot carry
// (times to sales-ready and to a decision, what leads wrote).
type Summary struct {
	// Start and End bound the span; Built is when the rollup read it, and a
	// span is complete once Built is at or after its End.
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	Built time.Time `json:"built,omitzero"`
	// Counts are keyed Key(metric, dimension, value).
	Counts    map[string]int `json:"counts,omitempty"`
	Ready     []Ready        `json:"ready,omitempty"`
	Decisions []Decision     `json:"decisions,omitempty"`
	Wishes    []Wish         `json:"wishes,omitempty"`
}

// Ready is one sales alert: the lead became sales-ready at Threshold.
type Ready struct {
	Lead      string    `json:"lead"`
	At        time.Time `json:"at"`
	FirstAt   time.Time `json:"firstAt,omitzero"` // the lead's first capture
	Threshold string    `json:"threshold"`
	Route     string    `json:"route,omitempty"`
	Engaged   []string  `json:"engaged,omitempty"`
}

// Decision is one sales decision on a lead.
type Decision struct {
	Lead    string    `json:"lead"`
	At      time.Time `json:"at"`
	AlertAt time.Time `json:"alertAt,omitzero"`
	Status  string    `json:"status"`
	Reason  string    `json:"reason,omitempty"`
	Route   string    `json:"route,omitempty"`
	Overdue bool      `json:"overdue,omitempty"`
}

// Wish is what a reader answered to "What would help you most next?".
type Wish struct {
	At    time.Time `json:"at"`
	Topic string    `json:"topic,omitempty"`
	Asset string    `json:"asset,omitempty"`
	Words string    `json:"words,omitempty"`
}

// Metrics counted.
const (
	Captured          = "captured"
	CapturedNew       = "captured-new"
	CapturedReturning = "captured-returning"
	Enrolled          = "enrolled"
	Mailed            = "mailed"
	Delivered         = "delivered"
	OpensHuman        = "opens-human"
	OpensMachine      = "opens-machine"
	ClicksHuman       = "clicks-human"
	ClicksMachine     = "clicks-machine"
	Answers           = "answers"
	Unsubscribes      = "unsubscribes"
	Bounces           = "bounces"
	Complaints        = "complaints"
	Accepted          = "accepted"
	Returned          = "returned"
	RatedUseful       = "rated-useful"
	RatedNotUseful    = "rated-not-useful"
	Wishes            = "wishes"
	// readyPrefix and returnedPrefix start the metrics per threshold and
	// per return reason: "ready:mql", "returned:no-budget".
	readyPrefix    = "ready:"
	returnedPrefix = "returned:"
)

// ReadyAt is the metric of leads becoming sales-ready at a threshold.
func ReadyAt(threshold string) string { return readyPrefix + threshold }

// ReturnedFor is the metric of leads returned for a reason.
func ReturnedFor(reason string) string { return returnedPrefix + reason }

// Dimensions a metric is counted by. DimAll has the one value "".
const (
	DimAll      = "all"
	DimForm     = "form"
	DimTrack    = "track"
	DimStep     = "step"
	DimAsset    = "asset"
	DimTopic    = "topic"
	DimStage    = "stage"
	DimFormat   = "format"
	DimIndustry = "industry"
	DimSize     = "company-size"
	DimRoute    = "route"
)

// Dimensions are the ones a funnel can be broken down by, in order.
var Dimensions = []string{DimForm, DimTrack, DimStep, DimAsset, DimTopic, DimStage, DimIndustry, DimSize, DimRoute}

// NotGiven is the value of a dimension the lead or activity has none of.
const NotGiven = "(none)"

// Key is a counter's key.
func Key(metric, dim, value string) string { return metric + "|" + dim + "|" + value }

// SplitKey is Key's inverse.
func SplitKey(k string) (metric, dim, value string) {
	metric, rest, _ := strings.Cut(k, "|")
	dim, value, _ = strings.Cut(rest, "|")
	return metric, dim, value
}

// StepValue is a step's value of DimStep: its track and number (1-based).
func StepValue(track string, step int) string { return track + "#" + strconv.Itoa(step+1) }

// Build summarises the entries of one span. It is a pure function of the
// entries: the same activities give the same summary however often the
// rollup runs.
func Build(p *program.Program, start, end, built time.Time, entries []Entry) Summary {
	s := Summary{Start: start.UTC(), End: end.UTC(), Built: built.UTC(), Counts: map[string]int{}}
	for _, e := range entries {
		s.add(p, e)
	}
	slices.SortFunc(s.Ready, func(a, b Ready) int { return a.At.Compare(b.At) })
	slices.SortFunc(s.Decisions, func(a, b Decision) int { return a.At.Compare(b.At) })
	slices.SortFunc(s.Wishes, func(a, b Wish) int { return a.At.Compare(b.At) })
	return s
}

func (s *Summary) count(metric string, dims map[string][]string) {
	s.Counts[Key(metric, DimAll, "")]++
	for d, vs := range dims {
		for _, v := range vs {
			s.Counts[Key(metric, d, v)]++
		}
	}
}

// add counts one activity.
func (s *Summary) add(p *program.Program, e Entry) {
	a := e.Act
	if a.Track == program.ConfirmTrack && a.Kind != lead.KindConfirm && a.Kind != lead.KindBounce && a.Kind != lead.KindComplaint {
		return // a confirmation email's delivery, open or click: not nurture
	}
	dims := dimensions(p, e)
	switch a.Kind {
	case lead.KindConfirm:
		// Double opt-in: nurture starts when the person confirms.
		s.count(Enrolled, dims)
	case lead.KindDownload:
		s.count(Captured, dims)
		if a.New {
			s.count(CapturedNew, dims)
		} else {
			s.count(CapturedReturning, dims)
		}
		if a.Track != "" {
			s.count(Enrolled, dims)
		}
	case lead.KindSent:
		s.count(Mailed, dims)
	case lead.KindDelivered:
		s.count(Delivered, dims)
	case lead.KindOpen:
		s.count(pick(a.Machine, OpensMachine, OpensHuman), dims)
	case lead.KindClick:
		s.count(pick(a.Machine, ClicksMachine, ClicksHuman), dims)
	case lead.KindAnswer:
		s.count(Answers, dims)
	case lead.KindUnsubscribe:
		s.count(Unsubscribes, dims)
	case lead.KindBounce:
		s.count(Bounces, dims)
	case lead.KindComplaint:
		s.count(Complaints, dims)
	case lead.KindRating:
		// Counted by the asset's format and stage as they were.
		rd := map[string][]string{DimAsset: {or(a.AssetID)}, DimFormat: {or(a.Format)}, DimStage: {or(a.Stage)}}
		s.count(pick(a.Detail == lead.RatedUseful, RatedUseful, RatedNotUseful), rd)
	case lead.KindWish:
		s.count(Wishes, map[string][]string{DimTopic: {or(a.Detail)}})
		s.Wishes = append(s.Wishes, Wish{At: a.At, Topic: a.Detail, Asset: a.AssetID, Words: a.Words})
	case kindAlert:
		if a.Threshold == "" {
			return // a reminder, an escalation or a fresh link
		}
		s.count(ReadyAt(a.Threshold), dims)
		r := Ready{Lead: e.LeadID, At: a.At, Threshold: a.Threshold, Route: first(dims[DimRoute]), Engaged: e.Engaged}
		if e.Lead != nil {
			r.FirstAt = e.Lead.CreatedAt
		}
		s.Ready = append(s.Ready, r)
	case kindDecision:
		status, reason, _ := strings.Cut(a.Detail, ": ")
		d := Decision{Lead: e.LeadID, At: a.At, AlertAt: a.AlertAt, Status: status, Reason: reason, Route: first(dims[DimRoute]), Overdue: a.Overdue}
		switch status {
		case lead.SalesAccepted:
			s.count(Accepted, dims)
		case lead.SalesReturned:
			s.count(Returned, dims)
			s.count(ReturnedFor(reason), dims)
		default:
			return
		}
		s.Decisions = append(s.Decisions, d)
	}
}

// The kinds of the sales package's activities (sales.KindAlert,
// sales.KindDecision; a test holds them equal): the domain of results
// needs no mail or links.
const (
	kindAlert    = "alert"
	kindDecision = "sales"
)

// messageKinds are the activities about one nurture email: they have a
// step.
var messageKinds = []string{lead.KindSent, lead.KindDelivered, lead.KindOpen, lead.KindClick, lead.KindAnswer, lead.KindBounce, lead.KindComplaint}

// dimensions are the values of every dimension one activity counts under.
// What the activity names (form, track, step, asset) comes from it; the
// asset's topics and stage from the program as it is; who the lead is
// (industry, company size) and its route from the lead as the rollup read
// it.
func dimensions(p *program.Program, e Entry) map[string][]string {
	a, l := e.Act, e.Lead
	d := map[string][]string{}
	form := a.FormID
	if form == "" && l != nil && l.Consent != nil {
		form = l.Consent.FormID
	}
	d[DimForm] = []string{or(form)}
	track := a.Track
	if track == program.ConfirmTrack {
		track = ""
	}
	if track == "" && a.Kind != lead.KindDownload && l != nil {
		track = l.Nurture.Track
	}
	d[DimTrack] = []string{or(track)}
	if a.Track != "" && a.Track != program.ConfirmTrack && slices.Contains(messageKinds, a.Kind) {
		d[DimStep] = []string{StepValue(a.Track, a.Step)}
	}
	if a.AssetID != "" {
		d[DimAsset] = []string{a.AssetID}
		if as, ok := p.Asset(a.AssetID); ok {
			d[DimTopic] = as.Topics
			d[DimStage] = []string{as.Stage}
		}
	}
	if a.Stage != "" {
		d[DimStage] = []string{a.Stage}
	}
	industry, size := "", ""
	if l != nil {
		industry, size = l.Industry, l.CompanySize
	}
	d[DimIndustry] = []string{or(industry)}
	d[DimSize] = []string{or(size)}
	d[DimRoute] = []string{or(route(a, l))}
	return d
}

// route is the sales route (the owner's address) an activity counts
// under: an alert's own recipient, else the lead's latest alert's.
func route(a lead.Activity, l *lead.Lead) string {
	if a.Kind == kindAlert {
		if _, to, ok := strings.Cut(a.Detail, " to "); ok {
			return program.Mailbox(to)
		}
	}
	if l != nil && len(l.Alerts) > 0 {
		return program.Mailbox(l.Alerts[len(l.Alerts)-1].To)
	}
	return ""
}

func pick(c bool, yes, no string) string {
	if c {
		return yes
	}
	return no
}

func or(v string) string {
	if v == "" {
		return NotGiven
	}
	return v
}

func first(vs []string) string {
	if len(vs) == 0 || vs[0] == NotGiven {
		return ""
	}
	return vs[0]
}

// Merge adds summaries up into one for the span they cover together.
func Merge(ss ...Summary) Summary {
	out := Summary{Counts: map[string]int{}}
	for i, s := range ss {
		if i == 0 || s.Start.Before(out.Start) {
			out.Start = s.Start
		}
		if s.End.After(out.End) {
			out.End = s.End
		}
		if !s.Built.IsZero() && (out.Built.IsZero() || s.Built.Before(out.Built)) {
			out.Built = s.Built
		}
		for k, v := range s.Counts {
			out.Counts[k] += v
		}
		out.Ready = append(out.Ready, s.Ready...)
		out.Decisions = append(out.Decisions, s.Decisions...)
		out.Wishes = append(out.Wishes, s.Wishes...)
	}
	return out
}

// Count is a counter of the summary.
func (s Summary) Count(metric, dim, value string) int { return s.Counts[Key(metric, dim, value)] }

// Total is a metric's count over everything.
func (s Summary) Total(metric string) int { return s.Count(metric, DimAll, "") }

// Values are the values a dimension has counts for, sorted.
func (s Summary) Values(dim string) []string {
	seen := map[string]bool{}
	for k := range s.Counts {
		if _, d, v := SplitKey(k); d == dim {
			seen[v] = true
		}
	}
	out := make([]string, 0, len(seen))
	for v := range seen {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}
