package lead

import "github.com/leadnurture/nurture/shared/program"

// Preferences are what the lead has told us it wants more or less of:
// buying stages, formats and topics, each with a weight, more than zero
// for more of it, less than zero for less. Every next pick steers by them
// (the asset of a step, the evergreen email, the next track), so whatever
// the lead says (an answer, and any other way it speaks up) adds to one
// set, and steers the same way.
type Preferences struct {
	Stages  map[string]int
	Formats map[string]int
	Topics  map[string]int
}

// Preferences gathers the lead's preferences: the stages, formats and
// topics of every answer it gave (program.Option), profile fields filled
// by a form included, and what it said about the mail (voicePreferences).
func (l *Lead) Preferences(p *program.Program) Preferences {
	var pr Preferences
	for _, q := range p.Questions {
		v := l.AnswerTo(q)
		if v == "" {
			continue
		}
		if o, ok := q.Option(v); ok && o.Steers() {
			pr.Prefer(o.Stages, o.Formats, o.Topics)
		}
	}
	l.voicePreferences(p, &pr)
	return pr
}

// Prefer adds one to the weight of each stage, format and topic given.
func (pr *Preferences) Prefer(stages, formats, topics []string) {
	pr.Stages = addWeight(pr.Stages, stages, 1)
	pr.Formats = addWeight(pr.Formats, formats, 1)
	pr.Topics = addWeight(pr.Topics, topics, 1)
}

// Avoid takes one from the weight of each stage, format and topic given.
func (pr *Preferences) Avoid(stages, formats, topics []string) {
	pr.Stages = addWeight(pr.Stages, stages, -1)
	pr.Formats = addWeight(pr.Formats, formats, -1)
	pr.Topics = addWeight(pr.Topics, topics, -1)
}

// Of is how much the lead wants an asset of this stage and format about
// these topics: each part counts -1, 0 or 1 by the sign of its weight
// (topics by their sum), so one strong wish never outweighs the rest.
func (pr Preferences) Of(stage, format string, topics []string) (stageW, formatW, topicW int) {
	t := 0
	for _, topic := range topics {
		t += pr.Topics[topic]
	}
	return sign(pr.Stages[stage]), sign(pr.Formats[format]), sign(t)
}

func addWeight(m map[string]int, keys []string, w int) map[string]int {
	if len(keys) > 0 && m == nil {
		m = map[string]int{}
	}
	for _, k := range keys {
		m[k] += w
	}
	return m
}

func sign(n int) int {
	switch {
	case n > 0:
		return 1
	case n < 0:
		return -1
	}
	return 0
}
