package nurture_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// Branching, exits and the program's own questions, through the product as
// the functions build it (testworld): capture, the scheduler on SES local,
// answers through engagement with scoring, all on DynamoDB Local.

type branchWorld struct {
	*testworld.World
	t *testing.T
}

func newBranchWorld(t *testing.T) *branchWorld {
	return &branchWorld{testworld.New(t, testworld.Options{Name: "branch"}), t}
}

// capture fills in a form of the program as a visitor does, and confirms
// the address.
func (w *branchWorld) capture(local, formID string, fields map[string]string) string {
	w.t.Helper()
	vals := map[string]string{"email": w.Email(local)}
	for k, v := range fields {
		vals[k] = v
	}
	out, err := w.Capturer().Capture(context.Background(), lead.Submission{FormID: formID, Fields: vals, Consent: true, ReceivedAt: w.Clock.Now()})
	if err != nil {
		w.t.Fatal(err)
	}
	w.Confirm(out.LeadID)
	return out.LeadID
}

// answer is the lead's one click on an answer of the email it got last.
func (w *branchWorld) answer(id, question, value string) {
	w.t.Helper()
	sent := w.Lead(id).Nurture.Sent
	last := sent[len(sent)-1]
	if err := w.Engagement.Answer(context.Background(), id, last.Track, last.Step, question, value, w.Clock.Now()); err != nil {
		w.t.Fatal(err)
	}
}

// last is the lead's latest email, and the stage of its asset.
func (w *branchWorld) last(id string) (lead.SentStep, string) {
	w.t.Helper()
	sent := w.Lead(id).Nurture.Sent
	if len(sent) == 0 {
		w.t.Fatalf("lead %s got no email", id)
	}
	st := sent[len(sent)-1]
	a, _ := w.Scheduler.Program.Asset(st.AssetID)
	return st, a.Stage
}

// setScore gives the lead a score that does not fade: fit points only.
func (w *branchWorld) setScore(id string, score int) {
	w.t.Helper()
	if _, err := w.Store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
		l.Score = lead.Score{Fit: score}
		return nil
	}); err != nil {
		w.t.Fatal(err)
	}
}

// useProgram has the scheduler run the shipped program file with edits made
// (each old text occurs once), checked as make validate checks it.
func (w *branchWorld) useProgram(edits ...[2]string) *program.Program {
	w.t.Helper()
	data, err := os.ReadFile("../program/program.yaml")
	if err != nil {
		w.t.Fatal(err)
	}
	s := string(data)
	for _, e := range edits {
		if n := strings.Count(s, e[0]); n != 1 {
			w.t.Fatalf("%q occurs %d times in program.yaml", e[0], n)
		}
		s = strings.Replace(s, e[0], e[1], 1)
	}
	p, err := program.Parse("program.yaml", []byte(s))
	if err != nil {
		w.t.Fatal(err)
	}
	w.Scheduler.Program = p
	return p
}

// The seed's question is the cost track's first: whatever a lead answers
// steers what it is sent next. A buyer's consideration step brings
// decision-stage content; a trend researcher's decision step brings
// consideration-stage content; a lead that does not answer gets each
// step's own stage.
func TestNurture_researchOrPurchase_askedFirst_andTheAnswerSetsTheStage(t *testing.T) {
	w := newBranchWorld(t)
	q, _ := w.Program.Question("research-or-purchase")
	ids := map[string]string{}
	for _, who := range []string{"buyer", "trends", "silent"} {
		ids[who] = w.capture(who, "finops-guide", nil)
	}
	w.Next(ids["silent"])
	for who, id := range ids {
		if st, _ := w.last(id); st.Track != "cloud-cost-track" || st.Step != 0 {
			t.Fatalf("%s: first email %+v", who, st)
		}
		mail := w.NurtureMailTo(w.Email(who))
		if len(mail) != 1 || !strings.Contains(mail[0].Text, q.Text) {
			t.Fatalf("%s: the first email does not ask %q", who, q.Text)
		}
	}
	w.answer(ids["buyer"], q.ID, "purchase")
	w.answer(ids["trends"], q.ID, "trends")

	track, _ := w.Program.Track("cloud-cost-track")
	stages := map[string][]string{}
	for step := 1; step < 5; step++ {
		w.Next(ids["silent"])
		for who, id := range ids {
			st, stage := w.last(id)
			if st.Step != step {
				t.Fatalf("%s: email %d is step %d", who, step+1, st.Step+1)
			}
			stages[who] = append(stages[who], stage)
		}
	}
	// Steps 2-5 are awareness, consideration, consideration, decision.
	if want := []string{track.Steps[1].Stage, track.Steps[2].Stage, track.Steps[3].Stage, track.Steps[4].Stage}; !slices.Equal(stages["silent"], want) {
		t.Errorf("without an answer the steps send %v, want their own stages %v", stages["silent"], want)
	}
	if stages["buyer"][1] != "decision" {
		t.Errorf("a buyer's consideration step sent %s content, want decision (%v)", stages["buyer"][1], stages["buyer"])
	}
	if stages["trends"][3] != "consideration" {
		t.Errorf("a trend researcher's decision step sent %s content, want consideration (%v)", stages["trends"][3], stages["trends"])
	}
	// The answer counts for fit, with its reason.
	if l := w.Lead(ids["buyer"]); l.Score.Fit <= w.Lead(ids["silent"]).Score.Fit {
		t.Errorf("a buyer's fit %d is no better than a silent lead's", l.Score.Fit)
	}
}

// The shipped reliability track asks when the lead plans to act; a lead
// acting this quarter jumps from there to the decision-stage roadmap, the
// others go on to the next step.
func TestNurture_timelineNow_jumpsToTheDecisionStep(t *testing.T) {
	w := newBranchWorld(t)
	now := w.capture("now", "downtime-report", map[string]string{"company": "Acme"})
	later := w.capture("later", "downtime-report", map[string]string{"company": "Acme"})
	w.Next(now)
	w.Next(now)
	for _, id := range []string{now, later} {
		if st, _ := w.last(id); st.Track != "reliability-track" || st.Step != 1 {
			t.Fatalf("second email %+v, want reliability-track step 2 (the timeline question)", st)
		}
	}
	w.answer(now, "timeline", "now")
	w.answer(later, "timeline", "this-year")
	before := w.Store.Usage().Write()
	w.Next(now)
	// A jump is decided in the write that claims the email: each send
	// still costs the lead's write (1 unit) and the due index moving (2).
	if got := w.Store.Usage().Write() - before; got != 2*3 {
		t.Errorf("the tick sending both leads their third email cost %v write units, want 6", got)
	}
	track, _ := w.Program.Track("reliability-track")
	roadmap, _ := track.StepIndex("roadmap")
	if st, stage := w.last(now); st.Step != roadmap || stage != "decision" {
		t.Errorf("acting now, the third email is step %d (%s), want the roadmap step %d (decision)", st.Step+1, stage, roadmap+1)
	}
	if st, _ := w.last(later); st.Step != 2 {
		t.Errorf("acting later this year, the third email is step %d, want 3", st.Step+1)
	}
	// After the roadmap, the track is through.
	if l := w.Lead(now); l.Nurture.NextStep != len(track.Steps) {
		t.Errorf("after the jump the lead is at step %d of %d", l.Nurture.NextStep+1, len(track.Steps))
	}
}

// A branch on a score band jumps only the leads whose score is in the
// band, when their next email is due.
func TestNurture_scoreBandBranch_jumpsOnlyTheLeadsInTheBand(t *testing.T) {
	w := newBranchWorld(t)
	w.useProgram([2]string{
		"        question: company-size\n      - wait: 7d\n        stage: awareness\n        formats: [checklist, report]",
		"        question: company-size\n        next:\n          - when: { score: { atLeast: 30, below: 60 } }\n            goto: roadmap\n      - wait: 7d\n        stage: awareness\n        formats: [checklist, report]",
	})
	ids := map[int]string{}
	for _, score := range []int{10, 45, 70} {
		ids[score] = w.capture(fmt.Sprintf("score-%d", score), "downtime-report", map[string]string{"company": "Acme"})
	}
	w.Next(ids[10])
	for score, id := range ids {
		w.setScore(id, score)
	}
	w.Next(ids[10])
	want := map[int]int{10: 1, 45: 4, 70: 1}
	for score, id := range ids {
		if st, _ := w.last(id); st.Step != want[score] {
			t.Errorf("score %d: the second email is step %d, want %d", score, st.Step+1, want[score]+1)
		}
	}
}

// The shipped cost track's last step is for leads scoring at least 50:
// they get the invitation; the others pass over it and move on.
func TestNurture_stepForHighScores_onlyThoseLeadsGetIt(t *testing.T) {
	w := newBranchWorld(t)
	track, _ := w.Program.Track("cloud-cost-track")
	last := len(track.Steps) - 1
	high := w.capture("high", "finops-guide", nil)
	low := w.capture("low", "finops-guide", nil)
	w.Next(high)
	for id, score := range map[string]int{high: 60, low: 10} {
		if _, err := w.Store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
			l.Score = lead.Score{Fit: score}
			l.Nurture.JumpTo(last)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	w.Next(high)
	if st, _ := w.last(high); st.Step != last || st.AssetID != track.Steps[last].Asset {
		t.Errorf("scoring 60, the lead got %+v, want step %d's %s", st, last+1, track.Steps[last].Asset)
	}
	if st, _ := w.last(low); st.Track != program.EvergreenTrack || st.AssetID == track.Steps[last].Asset {
		t.Errorf("scoring 10, the lead got %+v, want the track passed over to evergreen", st)
	}
}

// A track's exit ends it early when the lead's next email is due: the lead
// moves on as after the last step, to the track of its next interest, or
// to evergreen.
func TestNurture_exit_endsTheTrackEarly_leadMovesOnByTheLifelongRules(t *testing.T) {
	w := newBranchWorld(t)
	alone := w.capture("alone", "downtime-report", map[string]string{"company": "Acme"})
	curious := w.capture("curious", "downtime-report", map[string]string{"company": "Acme"})
	w.Next(alone)
	w.capture("curious", "finops-guide", nil) // a second interest, waiting its turn
	w.Next(alone)
	for _, id := range []string{alone, curious} {
		w.setScore(id, 5)
		w.answer(id, "timeline", "researching") // the exit: only researching, score below 20
	}
	w.Next(alone)
	for id, want := range map[string]string{alone: program.EvergreenTrack, curious: "cloud-cost-track"} {
		l := w.Lead(id)
		st, _ := w.last(id)
		if st.Track != want || l.Nurture.Track != want || !slices.Contains(l.Nurture.Done, "reliability-track") || l.Nurture.Status != lead.NurtureActive {
			t.Errorf("after the exit the lead got %+v and is at %+v; want %s, reliability-track done", st, l.Nurture, want)
		}
	}
}

// A program change that removes the step a lead is at moves the lead on
// to the next sensible place: here the track's end, so its next track.
func TestNurture_programRemovesTheLeadsCurrentStep_leadMovesOn(t *testing.T) {
	w := newBranchWorld(t)
	id := w.capture("jumped", "downtime-report", map[string]string{"company": "Acme"})
	w.capture("jumped", "finops-guide", nil)
	w.Next(id)
	w.Next(id)
	w.answer(id, "timeline", "now")
	// The roadmap step, and the jump to it, leave the program.
	w.useProgram(
		[2]string{"        # Acting this quarter: straight to the plan.\n        next:\n          - when: { answer: { timeline: [now] } }\n            goto: roadmap\n", ""},
		[2]string{"      - id: roadmap\n        wait: 10d\n        stage: decision\n        formats: [guide, case-study]\n        intro: \"A realistic plan for the next 90 days, from first SLOs to a tested failover.\"\n        question: role # for a lead that jumped here past step 4\n", ""},
	)
	if _, err := w.Store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
		l.Nurture.JumpTo(4) // where the jump had taken it
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w.Next(id)
	l := w.Lead(id)
	if st, _ := w.last(id); st.Track != "cloud-cost-track" || st.Step != 0 || l.Nurture.Status != lead.NurtureActive {
		t.Errorf("after its step left the program the lead got %+v (%+v), want the cost track's first step", st, l.Nurture)
	}
}
