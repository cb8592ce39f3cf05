package program

import (
	"fmt"
	"slices"
	"strings"
)

// Checks of what steers a lead through the program: questions' options
// (fit points and content preferences), steps' conditions and jumps, and
// tracks' exits. A mistake here never fails a send; it sends the lead
// somewhere nobody meant, so each is reported with what to write instead.

// optionSteering checks the stages, formats and topics an answer prefers.
// It runs after the assets, which say what topics there are.
func (v *validator) optionSteering() {
	for i, q := range v.p.Questions {
		for j, o := range q.Options {
			op := idx(idx("questions", i)+".options", j)
			for k, s := range o.Stages {
				if !slices.Contains(Stages, s) {
					v.add(idx(op+".stages", k), "%q is not a buying stage; use one of %s", s, strings.Join(Stages, ", "))
				}
			}
			for k, f := range o.Formats {
				if !slices.Contains(Formats, f) {
					v.add(idx(op+".formats", k), "%q is not an asset format; use one of %s", f, strings.Join(Formats, ", "))
				}
			}
			for k, t := range o.Topics {
				if !slices.Contains(v.topics, t) && !v.topicsUnsure {
					msg := fmt.Sprintf("no asset has topic %q; use one of %s", t, strings.Join(v.topics, ", "))
					if s := closest(t, v.topics); s != "" {
						msg += fmt.Sprintf(" (did you mean %q?)", s)
					}
					v.add(idx(op+".topics", k), "%s", msg)
				}
			}
			if o.Points != 0 && q.Field != "" {
				v.add(op+".points", "the fit points of a %s answer are set under scoring.fit.%s; write %s: %d there and remove points here",
					q.Field, q.Field, yamlKey(o.Value), o.Points)
			}
		}
	}
}

// yamlKey quotes a value that YAML would not read back as the same text.
func yamlKey(s string) string {
	if s == "" || strings.ContainsAny(s, ":#{}[],&*!|>'\"%@` ") || strings.IndexFunc(s, func(r rune) bool { return r >= '0' && r <= '9' }) == 0 {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// answersUsed checks, once every condition is read, that each option of a
// question without a field does something (points, a preference, or a
// condition that tests it), and that some step asks each such question.
func (v *validator) answersUsed() {
	for i, q := range v.p.Questions {
		if q.Field != "" || q.ID == "" {
			continue
		}
		path := idx("questions", i)
		if !v.asked[q.ID] {
			v.add(path+".id", "no step asks question %q, so no lead ever answers it; add question: %s to a step, or remove the question", q.ID, q.ID)
		}
		for j, o := range q.Options {
			if o.Value == "" || o.Points != 0 || o.Steers() || v.usedAnswers[q.ID+"="+o.Value] {
				continue
			}
			v.add(idx(path+".options", j)+".value", "the answer %q changes neither the lead's score nor what it is sent; give it points: (fit points), stages:, formats: or topics: (what to send more of), test it in a step's when: or next:, or remove it", o.Value)
		}
	}
}

// condition checks a condition that must be able to hold: every question
// it tests exists and offers the answers named, and its score band is one
// some lead can be in. It reports whether the condition can hold.
func (v *validator) condition(path string, c Condition) bool {
	ok := true
	for _, qid := range sortedKeys(c.Answer) {
		qp := path + ".answer." + qid
		q, known := v.questionKey(qp, qid)
		if !known {
			ok = false
			continue
		}
		values := optionValues(q)
		if len(c.Answer[qid]) == 0 {
			v.add(qp, "list the answers that meet this, e.g. %s: [%s]", qid, orDefault(strings.Join(values[:min(1, len(values))], ""), "yes"))
			ok = false
		}
		for k, val := range c.Answer[qid] {
			if !slices.Contains(values, val) {
				msg := fmt.Sprintf("%q is not an answer of question %s, so this can never hold; use one of %s", val, qid, strings.Join(values, ", "))
				if s := closest(val, values); s != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", s)
				}
				v.add(idx(qp, k), "%s", msg)
				ok = false
				continue
			}
			if v.usedAnswers == nil {
				v.usedAnswers = map[string]bool{}
			}
			v.usedAnswers[qid+"="+val] = true
		}
	}
	return v.scoreBand(path+".score", c.Score) && ok
}

// questionKey checks a key that names a question by its id.
func (v *validator) questionKey(path, qid string) (Question, bool) {
	qi, ok := v.questions[qid]
	if !ok {
		msg := fmt.Sprintf("no question has id %q; use an id from questions", qid)
		if s := closest(qid, sortedKeys(v.questions)); s != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", s)
		}
		v.addKey(path, "%s", msg)
		return Question{}, false
	}
	return v.p.Questions[qi], true
}

func optionValues(q Question) []string {
	values := make([]string, 0, len(q.Options))
	for _, o := range q.Options {
		values = append(values, o.Value)
	}
	return values
}

// scoreBand checks that some lead's score can be in the band.
func (v *validator) scoreBand(path string, b ScoreBand) bool {
	lowest, highest := v.p.ScoreRange()
	switch {
	case b.AtLeast != nil && b.Below != nil && *b.AtLeast >= *b.Below:
		v.add(path+".below", "no score is at least %d and below %d, so this can never hold; make below more than atLeast, e.g. below: %d", *b.AtLeast, *b.Below, *b.AtLeast+10)
	case b.AtLeast != nil && *b.AtLeast > highest:
		v.add(path+".atLeast", "no lead scores %d: the most this program gives is %d (the best fit, every asset downloaded and clicked, every question answered), so this can never hold; write atLeast: %d or less, e.g. a threshold's score", *b.AtLeast, highest, highest)
	case b.Below != nil && *b.Below <= lowest:
		v.add(path+".below", "no lead scores below %d: the least this program gives a lead it mails is %d (the worst fit, nothing done), so this can never hold; write below: %d or more", *b.Below, lowest, lowest+1)
	default:
		return true
	}
	return false
}

// stepFlow checks a track's step ids, conditions, jumps and exits, and
// that every step can be reached.
func (v *validator) stepFlow(path string, t Track) {
	ids := map[string]int{}
	for j, s := range t.Steps {
		sp := idx(path+".steps", j)
		if s.ID != "" {
			v.id(sp+".id", "step", s.ID, "", ids, j)
		}
		if s.Question != "" {
			if v.asked == nil {
				v.asked = map[string]bool{}
			}
			v.asked[s.Question] = true
		}
		if !s.When.IsZero() {
			v.condition(sp+".when", s.When)
		}
	}
	reach := make([]bool, len(t.Steps))
	if len(reach) > 0 {
		reach[0] = true
	}
	for j, s := range t.Steps {
		sp := idx(path+".steps", j)
		always := false
		for k, b := range s.Next {
			bp := idx(sp+".next", k)
			if always {
				v.add(bp, "the branch above has no when:, so the lead always takes it and never gets here; remove this branch or give the one above a when:")
				continue
			}
			if b.When.IsZero() {
				always = true
			} else {
				v.condition(bp+".when", b.When)
			}
			to, ok := v.stepRef(bp+".goto", t, b.Goto, ids)
			switch {
			case !ok:
			case to <= j:
				where := "itself"
				if to < j {
					where = fmt.Sprintf("%q, an earlier step", b.Goto)
				}
				v.add(bp+".goto", "%s jumps back to %s, so its leads would go round in a loop; jump only to a later step, and use exits: to end the track early", stepName(s, j), where)
			default:
				if reach[j] {
					reach[to] = true
				}
			}
		}
		if reach[j] && !always && j+1 < len(reach) {
			reach[j+1] = true
		}
	}
	for j, ok := range reach {
		if !ok {
			v.add(idx(path+".steps", j), "no lead ever gets step %d: the step before it always jumps past it and no branch leads here; remove the step, or give the jump above it a when:", j+1)
		}
	}
	for k, e := range t.Exits {
		ep := idx(path+".exits", k)
		if e.When.IsZero() {
			v.add(ep+".when", "an exit without a condition ends the track before its first email; add answer: or score:, e.g. when: { score: { atLeast: 80 } }, or remove the exit")
			continue
		}
		v.condition(ep+".when", e.When)
	}
}

// stepRef checks a jump's target: the id of a step of the same track.
func (v *validator) stepRef(path string, t Track, id string, ids map[string]int) (int, bool) {
	if id == "" {
		v.add(path, "add goto: with the id of the step to jump to, a later step of this track")
		return 0, false
	}
	if i, ok := ids[id]; ok {
		return i, true
	}
	named := sortedKeys(ids)
	msg := fmt.Sprintf("no step of track %s has id %q", orDefault(t.ID, "this track"), id)
	switch s := closest(id, named); {
	case s != "":
		msg += fmt.Sprintf("; did you mean %q?", s)
	case len(named) > 0:
		msg += "; use one of " + strings.Join(named, ", ") + ", or give the step to jump to an id"
	default:
		msg += "; give the step to jump to an id, e.g. id: " + orDefault(id, "decision")
	}
	v.add(path, "%s", msg)
	return 0, false
}

// stepName names a step for messages: step "roadmap", or step 2.
func stepName(s Step, i int) string {
	if s.ID != "" {
		return fmt.Sprintf("step %q", s.ID)
	}
	return fmt.Sprintf("step %d", i+1)
}
