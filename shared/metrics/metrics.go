// Package metrics records the program's business events (leads captured,
// nurture emails sent, leads handed to sales, sales' decisions) as
// CloudWatch metrics in the embedded metric format (EMF): one JSON line
// per event on the function's standard output, which CloudWatch Logs turns
// into a data point of Namespace. No PutMetricData call, no permission, no
// latency: the function's log is the transport.
//
// Each line is written by the code that decided the event, after the write
// that decided it went through, so a retry the product recognises (a form
// posted twice, a redelivered stream record, a second click on Accept)
// writes no line. The numbers are for watching the program live; the exact
// funnel is the report's, recomputed from the activities.
package metrics

import (
	"encoding/json"
	"io"
	"maps"
	"sync"
	"time"
)

// Namespace is the CloudWatch namespace of every metric here, the one the
// template's log metric filters and the dashboard use.
const Namespace = "LeadNurturing"

// Metric is one business metric: its CloudWatch name and, for the one that
// has it, its single dimension. Each dimension value is a custom metric of
// its own (billed monthly), so dimensions stay few and their values a
// closed set: never a form, an asset or a lead.
type Metric struct {
	Name string
	// Dimension is the name of the metric's dimension; empty for none.
	Dimension string
	// Values are the dimension's values, all of them.
	Values []string
	// Means says what one data point is, for the dashboard and the docs.
	Means string
}

// Values of LeadsCaptured's dimension.
const (
	LeadNew       = "new"
	LeadReturning = "returning"
)

// The business metrics.
var (
	LeadsCaptured = Metric{Name: "LeadsCaptured", Dimension: "Lead", Values: []string{LeadNew, LeadReturning},
		Means: "a form post that stored a download: a new lead, or a returning one"}
	NurtureEmailsSent = Metric{Name: "NurtureEmailsSent",
		Means: "a nurture email SES accepted (track steps, evergreen and re-engagement emails)"}
	SalesReady = Metric{Name: "SalesReady",
		Means: "a lead handed to sales: an alert's email recorded on the lead, once per threshold crossing"}
	SalesAccepted = Metric{Name: "SalesAccepted", Means: "sales accepted a lead"}
	SalesReturned = Metric{Name: "SalesReturned", Means: "sales returned a lead to nurture"}
)

// All are the business metrics, in funnel order.
var All = []Metric{LeadsCaptured, NurtureEmailsSent, SalesReady, SalesAccepted, SalesReturned}

// Unit of every metric here: each line counts one event.
const Unit = "Count"

// Recorder writes the metric lines. A nil Recorder records nothing, so the
// parts of the product that do not run in a function (a benchmark, a
// simulation) need none. Safe for concurrent use.
type Recorder struct {
	mu     sync.Mutex
	w      io.Writer
	totals map[string]int
}

// New returns a Recorder writing to w: os.Stdout in Lambda, where
// CloudWatch Logs reads the lines.
func New(w io.Writer) *Recorder { return &Recorder{w: w, totals: map[string]int{}} }

// Captured records a capture that stored a download: of a new lead, or of
// one already known.
func (r *Recorder) Captured(at time.Time, leadID string, newLead bool) {
	v := LeadReturning
	if newLead {
		v = LeadNew
	}
	r.count(LeadsCaptured, v, at, leadID, nil)
}

// Sent records a nurture email of track SES accepted.
func (r *Recorder) Sent(at time.Time, leadID, track string) {
	r.count(NurtureEmailsSent, "", at, leadID, map[string]any{"track": track})
}

// SalesReady records a lead handed to sales by an alert for threshold.
func (r *Recorder) SalesReady(at time.Time, leadID, threshold string) {
	r.count(SalesReady, "", at, leadID, map[string]any{"threshold": threshold})
}

// Decided records sales' decision about a lead: accepted, or returned
// with a reason code.
func (r *Recorder) Decided(at time.Time, leadID string, accepted bool, reason string) {
	if accepted {
		r.count(SalesAccepted, "", at, leadID, nil)
		return
	}
	r.count(SalesReturned, "", at, leadID, map[string]any{"reason": reason})
}

// Totals are the data points recorded so far by metric name, and by
// "name/value" for a dimension's value: what the local stack shows.
func (r *Recorder) Totals() map[string]int {
	if r == nil {
		return map[string]int{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.totals)
}

// count writes one EMF line: the metric's value 1 at the event's time,
// with its dimension's value, the lead's id (a property, never a
// dimension: it would make a custom metric per lead) and extra properties.
func (r *Recorder) count(m Metric, value string, at time.Time, leadID string, extra map[string]any) {
	if r == nil {
		return
	}
	line := document(m, value, at)
	line["msg"] = "metric"
	if leadID != "" {
		line["leadId"] = leadID
	}
	for k, v := range extra {
		if v != "" {
			line[k] = v
		}
	}
	b, err := json.Marshal(line)
	if err != nil {
		return // only plain strings and numbers go in: cannot happen
	}
	b = append(b, '\n')
	r.mu.Lock()
	defer r.mu.Unlock()
	r.totals[m.Name]++
	if m.Dimension != "" {
		r.totals[m.Name+"/"+value]++
	}
	// One Write a line, so concurrent lines never interleave; a failed
	// write to standard output has nowhere better to be reported.
	_, _ = r.w.Write(b)
}

// document is the EMF document of one data point of m (value 1) at t,
// with value for its dimension: the root members CloudWatch reads.
func document(m Metric, value string, t time.Time) map[string]any {
	dims := []string{}
	root := map[string]any{m.Name: 1}
	if m.Dimension != "" {
		dims = append(dims, m.Dimension)
		root[m.Dimension] = value
	}
	root["_aws"] = Metadata{
		Timestamp: t.UnixMilli(),
		CloudWatchMetrics: []Directive{{
			Namespace:  Namespace,
			Dimensions: [][]string{dims},
			Metrics:    []Definition{{Name: m.Name, Unit: Unit}},
		}},
	}
	return root
}

// Metadata is the EMF document's _aws member.
type Metadata struct {
	// Timestamp is the event's time in milliseconds since the epoch.
	Timestamp         int64       `json:"Timestamp"`
	CloudWatchMetrics []Directive `json:"CloudWatchMetrics"`
}

// Directive is an EMF MetricDirective: which root members are metrics,
// and which dimension sets (each a list of root members) apply.
type Directive struct {
	Namespace  string       `json:"Namespace"`
	Dimensions [][]string   `json:"Dimensions"`
	Metrics    []Definition `json:"Metrics"`
}

// Definition is an EMF MetricDefinition.
type Definition struct {
	Name string `json:"Name"`
	Unit string `json:"Unit"`
}

// Series is how many CloudWatch custom metrics All makes: one per metric
// without a dimension, one per value of a dimension. CloudWatch bills each
// by the month (the cost model in infra/bench counts them).
func Series() int {
	n := 0
	for _, m := range All {
		n += max(1, len(m.Values))
	}
	return n
}
