package program

import (
	"strconv"
	"strings"
	"testing"
)

// The four branching mistakes made at once in the shipped
// program: a jump to a missing step, exits and branches that can never
// hold (a score no lead reaches, an answer the question does not offer),
// an answer that does nothing, and a step that jumps to itself. Every one
// is reported in the one run, where it is, with what to write instead.
func TestParse_branchingMistakes_allReportedAtOnce_whereTheyAre_withAFix(t *testing.T) {
	data := defaultFile
	for _, e := range []edit{
		{"            goto: roadmap", "            goto: roadmp"},
		{"score: { below: 20 } }", "score: { atLeast: 5000 } }"},
		{"when: { answer: { timeline: [now] } }", "when: { answer: { timeline: [soon] } }"},
		{`{ value: trends, label: "Researching trends", points: -10, stages: [awareness, consideration] }`, `{ value: trends, label: "Researching trends" }`},
		{"        asset: finops-office-hours\n", "        asset: finops-office-hours\n        next:\n          - when: { score: { below: 80 } }\n            goto: talk-to-an-engineer\n"},
	} {
		data, _ = applyEdit(t, data, e)
	}
	_, err := Parse("program.yaml", data)
	_, highest := mustDefault(t).ScoreRange()
	for _, want := range []struct{ pointAt, path, msg string }{
		{"roadmp", "tracks[1].steps[1].next[0].goto", `no step of track reliability-track has id "roadmp"; did you mean "roadmap"?`},
		{"5000 } }", "tracks[1].exits[0].when.score.atLeast", "no lead scores 5000: the most this program gives is " + strconv.Itoa(highest) + " (the best fit, every asset downloaded and clicked, every question answered), so this can never hold; write atLeast: " + strconv.Itoa(highest) + " or less"},
		{"soon]", "tracks[1].steps[1].next[0].when.answer.timeline[0]", `"soon" is not an answer of question timeline, so this can never hold; use one of now, next-quarter, this-year, researching`},
		{`trends, label: "Researching trends" }`, "questions[5].options[0].value", `the answer "trends" changes neither the lead's score nor what it is sent; give it points: (fit points), stages:, formats: or topics:`},
		{"talk-to-an-engineer\n        subject", "tracks[0].steps[6].next[0].goto", `step "talk-to-an-engineer" jumps back to itself, so its leads would go round in a loop; jump only to a later step`},
	} {
		if n := strings.Count(string(data), want.pointAt); n != 1 {
			t.Fatalf("pointAt %q occurs %d times in the edited file", want.pointAt, n)
		}
		wantProblemAt(t, err, "program.yaml", data, strings.Index(string(data), want.pointAt), want.path, want.msg)
	}
	if n := len(problemsOf(t, err)); n != 5 {
		t.Errorf("%d problems, want the 5 mistakes:\n%v", n, err)
	}
}

// Branching mistakes that need the small program to provoke, one at a time.
func TestParse_branchingMistakeInMinimal_saysWhatToWriteInstead(t *testing.T) {
	const (
		steps    = "      - { wait: 1d, stage: awareness }\n      - { wait: 7d, stage: consideration, question: size }\n      - { wait: 7d, stage: decision }\n"
		question = "  - id: size\n"
	)
	withSteps := func(s string) edit { return edit{steps, s} }
	tests := []struct {
		name  string
		edits []edit
		path  string
		msg   string
	}{
		{
			name:  "a jump back to an earlier step",
			edits: []edit{withSteps("      - { id: first, wait: 1d, stage: awareness }\n      - { wait: 7d, stage: consideration, question: size,\n          next: [{ when: { answer: { size: [small] } }, goto: first }] }\n      - { wait: 7d, stage: decision }\n")},
			path:  "tracks[0].steps[1].next[0].goto",
			msg:   `step 2 jumps back to "first", an earlier step, so its leads would go round in a loop; jump only to a later step, and use exits: to end the track early`,
		},
		{
			name:  "a jump to a step of a track without step ids",
			edits: []edit{withSteps("      - { wait: 1d, stage: awareness, next: [{ goto: decide }] }\n      - { wait: 7d, stage: consideration }\n      - { wait: 7d, stage: decision }\n")},
			path:  "tracks[0].steps[0].next[0].goto",
			msg:   `no step of track cost has id "decide"; give the step to jump to an id, e.g. id: decide`,
		},
		{
			name:  "a step no lead reaches",
			edits: []edit{withSteps("      - { wait: 1d, stage: awareness, next: [{ goto: decide }] }\n      - { wait: 7d, stage: consideration, question: size }\n      - { id: decide, wait: 7d, stage: decision }\n")},
			path:  "tracks[0].steps[1]",
			msg:   "no lead ever gets step 2: the step before it always jumps past it",
		},
		{
			name:  "a branch after one that always jumps",
			edits: []edit{withSteps("      - { wait: 1d, stage: awareness, next: [{ goto: decide }, { when: { score: { atLeast: 10 } }, goto: decide }] }\n      - { wait: 7d, stage: consideration, question: size }\n      - { id: decide, wait: 7d, stage: decision }\n")},
			path:  "tracks[0].steps[0].next[1]",
			msg:   "the branch above has no when:, so the lead always takes it and never gets here",
		},
		{
			name:  "an exit without a condition",
			edits: []edit{{"    topic: cloud-cost\n    steps:", "    topic: cloud-cost\n    exits: [{ when: {} }]\n    steps:"}},
			path:  "tracks[0].exits[0].when",
			msg:   "an exit without a condition ends the track before its first email",
		},
		{
			name:  "an empty score band",
			edits: []edit{{"    topic: cloud-cost\n    steps:", "    topic: cloud-cost\n    exits: [{ when: { score: { atLeast: 40, below: 30 } } }]\n    steps:"}},
			path:  "tracks[0].exits[0].when.score.below",
			msg:   "no score is at least 40 and below 30, so this can never hold; make below more than atLeast, e.g. below: 50",
		},
		{
			name:  "a band below the lowest score",
			edits: []edit{withSteps("      - { wait: 1d, stage: awareness }\n      - { wait: 7d, stage: consideration, question: size, when: { score: { below: 0 } } }\n      - { wait: 7d, stage: decision }\n")},
			path:  "tracks[0].steps[1].when.score.below",
			msg:   "no lead scores below 0: the least this program gives a lead it mails is 0 (the worst fit, nothing done), so this can never hold; write below: 1 or more",
		},
		{
			name:  "a condition on a question that does not exist",
			edits: []edit{{"    topic: cloud-cost\n    steps:", "    topic: cloud-cost\n    exits: [{ when: { answer: { sise: [small] } } }]\n    steps:"}},
			path:  "tracks[0].exits[0].when.answer.sise",
			msg:   `no question has id "sise"; use an id from questions (did you mean "size"?)`,
		},
		{
			name:  "fit points on a field question's answer",
			edits: []edit{{"      - { value: small, label: Small }", "      - { value: small, label: Small, points: 5 }"}},
			path:  "questions[0].options[0].points",
			msg:   "the fit points of a companySize answer are set under scoring.fit.companySize; write small: 5 there and remove points here",
		},
		{
			name:  "an answer preferring a stage that does not exist",
			edits: []edit{{"      - { value: small, label: Small }", "      - { value: small, label: Small, stages: [decisions] }"}},
			path:  "questions[0].options[0].stages[0]",
			msg:   `"decisions" is not a buying stage; use one of awareness, consideration, decision`,
		},
		{
			name:  "an answer preferring a topic no asset has",
			edits: []edit{{"      - { value: small, label: Small }", "      - { value: small, label: Small, topics: [cloud-costs] }"}},
			path:  "questions[0].options[0].topics[0]",
			msg:   `no asset has topic "cloud-costs"; use one of cloud-cost (did you mean "cloud-cost"?)`,
		},
		{
			name:  "a question of the program's own no step asks",
			edits: []edit{{question, "  - id: buying\n    text: Buying?\n    options: [{ value: yes, label: Yes, points: 10 }]\n" + question}},
			path:  "questions[0].id",
			msg:   `no step asks question "buying", so no lead ever answers it; add question: buying to a step`,
		},
		{
			name:  "a field that is not a profile field",
			edits: []edit{{"    field: companySize", "    field: budget"}},
			path:  "questions[0].field",
			msg:   `"budget" is not a profile field; use one of industry, companySize, role, timeline, country, or leave field out for a question of the program's own`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantMinimalProblem(t, tt.edits, tt.path, tt.msg) })
	}
}

// A question of the program's own, asked by a step, whose answers carry
// points and preferences, and the jumps, conditional steps and exits that
// use it: all valid, and read as written.
func TestParse_questionOfOurOwn_withBranchesAndExits_readsAsWritten(t *testing.T) {
	data := readTestdata(t, "minimal.yaml")
	for _, e := range []edit{
		{"  - id: size\n", "  - id: buying\n    text: Buying or browsing?\n    options:\n      - { value: buying, label: Buying, points: 10, stages: [decision], formats: [case-study] }\n      - { value: browsing, label: Browsing, stages: [awareness] }\n  - id: size\n"},
		{"    topic: cloud-cost\n    steps:\n      - { wait: 1d, stage: awareness }\n      - { wait: 7d, stage: consideration, question: size }\n      - { wait: 7d, stage: decision }\n",
			"    topic: cloud-cost\n    exits:\n      - when: { answer: { buying: [browsing] }, score: { below: 10 } }\n    steps:\n      - wait: 1d\n        stage: awareness\n        question: buying\n        next:\n          - when: { answer: { buying: [buying] } }\n            goto: decide\n      - { wait: 7d, stage: consideration, question: size }\n      - { id: decide, wait: 7d, stage: decision, when: { score: { atLeast: 0, below: 60 } } }\n"},
	} {
		data, _ = applyEdit(t, data, e)
	}
	p, err := Parse("minimal.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := p.Question("buying")
	if o, _ := q.Option("buying"); q.Field != "" || o.Points != 10 || o.Stages[0] != "decision" || o.Formats[0] != "case-study" || !o.Steers() {
		t.Errorf("question read as %+v", q)
	}
	track, _ := p.Track("cost")
	if got := track.Steps[0].Next[0].When.String(); got != "buying buying" {
		t.Errorf("branch condition reads %q", got)
	}
	if got := track.Exits[0].When.String(); got != "buying browsing, score below 10" {
		t.Errorf("exit reads %q", got)
	}
	if got := track.Steps[2].When.String(); got != "score at least 0 and below 60" {
		t.Errorf("step condition reads %q (a band from 0 is a band: atLeast 0 is written, not missing)", got)
	}
	buyer := func(c Condition) bool { return len(c.Answer["buying"]) > 0 && c.Answer["buying"][0] == "buying" }
	if to, _, ok := track.Jump(0, buyer); !ok || to != 2 {
		t.Errorf("a buyer after step 1 jumps to %d (%v), want step 3", to+1, ok)
	}
	if _, _, ok := track.Jump(0, func(Condition) bool { return false }); ok {
		t.Error("a lead meeting no branch jumped")
	}
}

// The highest score counts the best answer of every field and question,
// every asset downloaded and clicked once and every question answered;
// the lowest the worst answers and a free mail address.
func TestScoreRange_bestAndWorstOfEveryAnswer(t *testing.T) {
	p := &Program{
		Assets:    []Asset{{ID: "a", Stage: "awareness"}, {ID: "b", Stage: "decision"}},
		Questions: []Question{{ID: "buying", Options: []Option{{Value: "yes", Points: 10}, {Value: "no", Points: -10}}}, {ID: "size", Field: "companySize"}},
		Scoring: Scoring{
			Activities: ActivityPoints{Download: map[string]int{"awareness": 10, "decision": 20}, Click: map[string]int{"awareness": 5, "decision": 15}, Answer: 2},
			Fit:        map[string]FitPoints{"companySize": {"small": -5, "large": 15}},
			FreeMail:   FreeMail{Points: -15},
		},
	}
	lo, hi := p.ScoreRange()
	if lo != -10-5-15 || hi != 10+15+10+20+5+15+2*2 {
		t.Errorf("ScoreRange = %d, %d", lo, hi)
	}
}

func mustDefault(t *testing.T) *Program {
	t.Helper()
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return p
}
