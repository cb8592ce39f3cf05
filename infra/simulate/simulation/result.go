package simulation

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// Result is what happened to every persona.
type Result struct {
	Start, End time.Time
	Thresholds []program.Threshold
	Journeys   []Journey
	Ticks      int // scheduler ticks run
}

// Journey is one persona's months.
type Journey struct {
	Persona   program.Persona
	Zone      *time.Location // the lead's zone at the end: dates are shown in it
	Downloads []Download
	Emails    []*Email
	Months    []Month
	Crossings []Crossing
	// Nurture says where nurture stands at the end, in words; Status is
	// the lead's nurture status then (lead.NurtureActive ...).
	Nurture string
	Status  string
}

// Download is a form the persona filled in.
type Download struct {
	At          time.Time
	Form, Asset string
	Points      float64 // what the download changed the score by
	Score       float64 // the score right after
}

// Email is one email the product sent the persona, and what came of it.
type Email struct {
	At        time.Time
	MessageID string
	Kind      string // the message's kind tag (mail.KindNurture)
	Track     string
	Step      int // from 0
	Asset     string
	Subject   string
	Question  string // the question it asked, if any
	// Note says why it is not the step after the previous email, if it is
	// not: "jumped from step 2: timeline now".
	Note string
	// Did is what the persona (or its link scanner) did with it.
	Did []string
	// Counted is what the product made of that, e.g. "+6 click" or
	// "2 machine clicks (not scored)".
	Counted []string
	Points  float64 // what its opens, clicks and answers changed the score by
	// Score is the score after the persona did what it did with the email
	// (when it arrived, if nothing).
	Score float64

	answer string // the persona's answer to Question ("timeline=now"), if it has one
}

// Month is the score over one month of the run.
type Month struct {
	From, To  time.Time
	End, Peak float64
}

// Crossing is a threshold the score crossed upward.
type Crossing struct {
	Threshold string
	At        time.Time // when the score crossed it
	Score     float64
	Because   string    // what pushed it over, in the score's words
	Alerted   time.Time // when sales got the alert; zero if not (yet)
	To        string    // who got it
}

// Crossed returns the persona's first crossing of a threshold.
func (j Journey) Crossed(threshold string) (Crossing, bool) {
	for _, c := range j.Crossings {
		if c.Threshold == threshold {
			return c, true
		}
	}
	return Crossing{}, false
}

// Journey returns the journey of a persona by id.
func (r *Result) Journey(id string) (Journey, bool) {
	for _, j := range r.Journeys {
		if j.Persona.ID == id {
			return j, true
		}
	}
	return Journey{}, false
}

// result reads back from the product what it made of each persona.
func (r *sim) result(ctx context.Context) (*Result, error) {
	res := &Result{Start: r.start, End: r.end, Thresholds: r.prog.Thresholds, Ticks: r.ticks}
	r.moveTo(r.end)
	for _, p := range r.personas {
		if err := p.sample(ctx); err != nil {
			return nil, err
		}
		j, err := p.journey(ctx)
		if err != nil {
			return nil, fmt.Errorf("persona %s: %w", p.ID, err)
		}
		res.Journeys = append(res.Journeys, j)
	}
	return res, nil
}

func (p *persona) journey(ctx context.Context) (Journey, error) {
	j := p.j
	l, found, err := p.r.app.Store.GetLead(ctx, p.leadID)
	if err != nil {
		return j, fmt.Errorf("read lead: %w", err)
	}
	if !found {
		j.Nurture = "no lead: the form was not captured"
		return j, nil
	}
	if zone, err := time.LoadLocation(l.Zone(p.r.prog)); err == nil {
		j.Zone = zone
	}
	acts, err := p.r.app.Store.Activities(ctx, p.leadID, p.r.end)
	if err != nil {
		return j, fmt.Errorf("read activities: %w", err)
	}
	p.count(&j, acts)
	j.Months = p.months()
	j.Crossings = crossings(l, acts, p.r.prog.Thresholds)
	j.Nurture, j.Status = nurtureState(l), l.Nurture.Status
	return j, nil
}

// count joins the activities the product recorded to the downloads and
// emails they belong to.
func (p *persona) count(j *Journey, acts []lead.Activity) {
	machine := map[*Email]map[string]int{}
	for _, a := range acts {
		switch a.Kind {
		case lead.KindDownload:
			for i := range j.Downloads {
				if d := &j.Downloads[i]; d.Asset == a.AssetID && d.At.Equal(a.At) {
					d.Points, d.Score = a.Points, a.ScoreAfter
				}
			}
		case lead.KindOpen, lead.KindClick, lead.KindAnswer:
			e := emailOf(j.Emails, a)
			if e == nil {
				continue
			}
			if a.Machine {
				if machine[e] == nil {
					machine[e] = map[string]int{}
				}
				machine[e][a.Kind]++
				continue
			}
			e.Points += a.Points
			if a.Earned != 0 || a.Points != 0 {
				e.Counted = append(e.Counted, fmt.Sprintf("%+g %s", a.Points, a.Kind))
			}
		}
	}
	for e, kinds := range machine {
		var parts []string
		for _, k := range []string{lead.KindOpen, lead.KindClick} {
			if n := kinds[k]; n > 0 {
				parts = append(parts, plural(n, "machine "+k))
			}
		}
		e.Counted = append(e.Counted, strings.Join(parts, ", ")+" (not scored)")
	}
}

// emailOf finds the email an activity is about: by MessageId, or for an
// answer (which comes from a link, not SES) by its track and step.
func emailOf(emails []*Email, a lead.Activity) *Email {
	var found *Email
	for _, e := range emails {
		switch {
		case a.MessageID != "" && e.MessageID == a.MessageID:
			return e
		case a.MessageID == "" && e.Track == a.Track && e.Step == a.Step && !e.At.After(a.At):
			found = e
		}
	}
	return found
}

// months sums the samples up month by month.
func (p *persona) months() []Month {
	var out []Month
	for from := p.r.start; from.Before(p.r.end); from = from.AddDate(0, 1, 0) {
		m := Month{From: from, To: from.AddDate(0, 1, 0), End: math.NaN(), Peak: math.NaN()}
		for _, s := range p.samples {
			if s.at.After(from) && !s.at.After(m.To) {
				m.End = s.score
				if math.IsNaN(m.Peak) || s.score > m.Peak {
					m.Peak = s.score
				}
			}
		}
		out = append(out, m)
	}
	return out
}

// crossings are the thresholds the lead crossed: the alerts sales got, and
// those still waiting at the end, each with the activity that crossed it.
func crossings(l *lead.Lead, acts []lead.Activity, thresholds []program.Threshold) []Crossing {
	level := map[string]float64{}
	for _, t := range thresholds {
		level[t.Name] = float64(t.Score)
	}
	// The activity that crossed is the latest one, by the time the alert
	// names, that took the score from below the threshold to it or above.
	crossedBy := func(threshold string, by time.Time) (time.Time, string) {
		for i := len(acts) - 1; i >= 0; i-- {
			a := acts[i]
			if !a.At.After(by) && a.ScoreAfter >= level[threshold] && a.ScoreAfter-a.Points < level[threshold] {
				return a.At, strings.Join(a.Why, "; ")
			}
		}
		return by, ""
	}
	var out []Crossing
	for _, a := range l.Alerts {
		at, why := crossedBy(a.Threshold, a.At)
		out = append(out, Crossing{Threshold: a.Threshold, At: at, Score: a.Score, Because: why, Alerted: a.At, To: a.To})
	}
	for _, a := range l.PendingAlerts {
		at, why := crossedBy(a.Threshold, a.At)
		out = append(out, Crossing{Threshold: a.Threshold, At: at, Score: a.Score, Because: why})
	}
	sort.SliceStable(out, func(i, k int) bool { return out[i].At.Before(out[k].At) })
	return out
}

// nurtureState says in words where the lead's nurture stands.
func nurtureState(l *lead.Lead) string {
	n := l.Nurture
	switch {
	case l.Suppression != nil:
		return "no more mail: " + l.Suppression.Reason
	case n.Status == lead.NurtureActive && n.Track == program.EvergreenTrack:
		return "evergreen, the next email due " + n.DueAt.Format(time.DateOnly)
	case n.Status == lead.NurtureActive:
		return fmt.Sprintf("in %s, step %d due %s", n.Track, n.NextStep+1, n.DueAt.Format(time.DateOnly))
	case n.Status == lead.NurtureFinished:
		return "finished " + n.Track + "; nothing more is scheduled"
	case n.Status == lead.NurtureStopped:
		return "stopped: " + n.StopReason
	case n.Status == lead.NurtureDormant:
		return "dormant: no answer to the re-engagement email of " + n.AskedAt.Format(time.DateOnly) + "; a download or a click wakes it"
	}
	return "not in nurture"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// reached lists the journeys that crossed a threshold, earliest first.
func (r *Result) reached(threshold string) (crossed []Journey, never []Journey) {
	for _, j := range r.Journeys {
		if _, ok := j.Crossed(threshold); ok {
			crossed = append(crossed, j)
		} else {
			never = append(never, j)
		}
	}
	slices.SortStableFunc(crossed, func(a, b Journey) int {
		ca, _ := a.Crossed(threshold)
		cb, _ := b.Crossed(threshold)
		return ca.At.Compare(cb.At)
	})
	return crossed, never
}
