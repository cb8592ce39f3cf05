package program

import (
	"fmt"
	"slices"
	"strings"
)

// String says the condition in words, for reports: "timeline now or
// next-quarter, score at least 70".
func (c Condition) String() string {
	var parts []string
	for _, q := range sortedKeys(c.Answer) {
		parts = append(parts, q+" "+strings.Join(c.Answer[q], " or "))
	}
	if s := c.Score.String(); s != "" {
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "always"
	}
	return strings.Join(parts, ", ")
}

// String says the band in words: "score at least 70", "score below 20",
// "score at least 40 and below 70"; "" for no band.
func (b ScoreBand) String() string {
	switch {
	case b.AtLeast != nil && b.Below != nil:
		return fmt.Sprintf("score at least %d and below %d", *b.AtLeast, *b.Below)
	case b.AtLeast != nil:
		return fmt.Sprintf("score at least %d", *b.AtLeast)
	case b.Below != nil:
		return fmt.Sprintf("score below %d", *b.Below)
	}
	return ""
}

// ScoreRange is the lowest and the highest score the program gives a lead
// that is still mailed. The lowest is the worst fit with nothing done
// (activity points only fall below zero by unsubscribing). The highest is
// the best fit of every field and question, every asset downloaded and
// clicked once and every question answered, without decay: a score band
// beyond it is one no lead reaches.
func (p *Program) ScoreRange() (lowest, highest int) {
	bounds := func(points []int) (int, int) {
		lo, hi := 0, 0
		for _, pt := range points {
			lo, hi = min(lo, pt), max(hi, pt)
		}
		return lo, hi
	}
	add := func(points []int) {
		lo, hi := bounds(points)
		lowest += lo
		highest += hi
	}
	for _, fit := range p.Scoring.Fit {
		var pts []int
		for _, pt := range fit {
			pts = append(pts, pt)
		}
		add(pts)
	}
	for _, q := range p.Questions {
		if q.Field != "" {
			continue
		}
		var pts []int
		for _, o := range q.Options {
			pts = append(pts, o.Points)
		}
		add(pts)
	}
	add([]int{p.Scoring.FreeMail.Points})
	act := p.Scoring.Activities
	for _, a := range p.Assets {
		highest += max(act.Download[a.Stage], 0) + max(act.Click[a.Stage], 0) + max(act.Open, 0)
	}
	highest += max(act.Answer, 0) * len(p.Questions)
	return lowest, highest
}

// Preferred says what an answer steers towards, in words: "decision
// stage; case-study, checklist".
func (o Option) Preferred() string {
	var parts []string
	if len(o.Stages) > 0 {
		parts = append(parts, strings.Join(o.Stages, ", ")+" stage")
	}
	for _, l := range [][]string{o.Formats, o.Topics} {
		if len(l) > 0 {
			parts = append(parts, strings.Join(l, ", "))
		}
	}
	return strings.Join(parts, "; ")
}

// Jump is where a lead just sent step `from` of the track goes next: the
// index of the step the first branch it meets names. meets tests a
// condition. ok is false when no branch applies and the lead goes on to
// the next step.
func (t Track) Jump(from int, meets func(Condition) bool) (int, Branch, bool) {
	if from < 0 || from >= len(t.Steps) {
		return 0, Branch{}, false
	}
	for _, b := range t.Steps[from].Next {
		if !meets(b.When) {
			continue
		}
		// Validation allows only later steps; a target gone from the
		// program is the next step.
		if i, ok := t.StepIndex(b.Goto); ok && i > from {
			return i, b, true
		}
		return 0, Branch{}, false
	}
	return 0, Branch{}, false
}

// Exited returns the track's first exit the lead meets.
func (t Track) Exited(meets func(Condition) bool) (Exit, bool) {
	i := slices.IndexFunc(t.Exits, func(e Exit) bool { return meets(e.When) })
	if i < 0 {
		return Exit{}, false
	}
	return t.Exits[i], true
}
