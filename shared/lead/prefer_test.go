package lead

import (
	"errors"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/program"
)

func shippedProgram(t *testing.T) *program.Program {
	t.Helper()
	p, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// An answer to a question of the program's own is kept by question id; an
// answer to a field's question fills the field too, and a form's value of
// the field counts as the answer.
func TestLead_answerToAQuestionOfOurOwn_keptByIDNotInTheProfile(t *testing.T) {
	p := shippedProgram(t)
	ours, _ := p.Question("research-or-purchase")
	timeline, _ := p.Question("timeline")
	industry, _ := p.Question("industry")
	l := &Lead{Industry: "retail"}
	if err := l.Answer(ours, "purchase"); err != nil {
		t.Fatal(err)
	}
	if err := l.Answer(timeline, "now"); err != nil {
		t.Fatal(err)
	}
	if l.Answers["research-or-purchase"] != "purchase" || l.AnswerTo(ours) != "purchase" {
		t.Errorf("answers %v", l.Answers)
	}
	if l.Timeline != "now" || l.AnswerTo(timeline) != "now" {
		t.Errorf("timeline %q", l.Timeline)
	}
	if got := l.AnswerTo(industry); got != "retail" {
		t.Errorf("a form's industry reads as the answer %q, want retail", got)
	}
	if err := l.Answer(ours, "maybe"); !errors.Is(err, ErrUnknownAnswer) || l.Answers["research-or-purchase"] != "purchase" {
		t.Errorf("an answer the question does not offer: %v, answers %v", err, l.Answers)
	}
}

// Every answer's stages, formats and topics add up to what the lead wants;
// what it turns away from counts against.
func TestLead_preferences_addUpEveryAnswer(t *testing.T) {
	p := shippedProgram(t)
	l := &Lead{Timeline: "now", Answers: map[string]string{"research-or-purchase": "purchase"}}
	pr := l.Preferences(p)
	if pr.Stages["decision"] != 2 || pr.Formats["case-study"] != 1 || pr.Formats["checklist"] != 1 {
		t.Errorf("a buyer acting now prefers %+v", pr)
	}
	pr.Avoid([]string{"decision"}, []string{"case-study"}, nil)
	if s, f, _ := pr.Of("decision", "case-study", nil); s != 1 || f != 0 {
		t.Errorf("after avoiding once: stage %d, format %d", s, f)
	}
	if s, f, topic := (&Lead{}).Preferences(p).Of("decision", "guide", []string{"cloud-cost"}); s|f|topic != 0 {
		t.Error("a lead that said nothing prefers something")
	}
}

// A topic the lead said it wants gets its track before one it only showed
// interest in.
func TestLead_nextTrack_aWantedTopicFirst(t *testing.T) {
	p := shippedProgram(t)
	// A program whose industry answer finance says: more reliability.
	industry := p.Questions[0]
	industry.Options = append([]program.Option(nil), industry.Options...)
	industry.Options[0].Topics = []string{"reliability"}
	q := *p
	q.Questions = append([]program.Question{industry}, p.Questions[1:]...)
	l := &Lead{}
	l.Engage(time.Time{}, "cloud-cost")
	l.Engage(time.Time{}, "cloud-cost")
	if next, _ := l.NextTrack(&q); next.ID != "cloud-cost-track" {
		t.Fatalf("without a wish: %s", next.ID)
	}
	if err := l.Answer(industry, "finance"); err != nil {
		t.Fatal(err)
	}
	if next, _ := l.NextTrack(&q); next.ID != "reliability-track" {
		t.Errorf("a lead that said it wants reliability moves on to %s", next.ID)
	}
}

// After is the step just sent while the lead is right after it, and not
// once it passed over or jumped past the next one.
func TestNurture_after_isTheStepJustSentUntilTheLeadMovesPastTheNext(t *testing.T) {
	var n Nurture
	n.Enrol("reliability-track", time.Time{})
	if _, ok := n.After(); ok {
		t.Error("a lead sent nothing yet is after a step")
	}
	n.Claim(SentStep{Track: "reliability-track", Step: 1, At: time.Unix(1, 0)})
	if from, ok := n.After(); !ok || from != 1 {
		t.Errorf("after step 2: %d %v", from, ok)
	}
	n.Claim(SentStep{Track: program.ReengageTrack, At: time.Unix(2, 0)})
	if from, ok := n.After(); !ok || from != 1 {
		t.Errorf("a re-engagement email in between: %d %v", from, ok)
	}
	n.JumpTo(4)
	if _, ok := n.After(); ok {
		t.Error("still after step 2 once jumped to step 5")
	}
}
