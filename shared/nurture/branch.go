package nurture

import (
	"slices"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/scoring"
)

// Meets returns the test of the program's conditions (a step's when, a
// branch, a track's exit) on the lead at now: its answers, and its score
// then, as scoring computes it everywhere.
func Meets(p *program.Program, l *lead.Lead, now time.Time) func(program.Condition) bool {
	var score *float64
	return func(c program.Condition) bool {
		for qid, values := range c.Answer {
			q, ok := p.Question(qid)
			if !ok || !slices.Contains(values, l.AnswerTo(q)) {
				return false
			}
		}
		if c.Score.IsZero() {
			return true
		}
		if score == nil {
			v := scoring.New(p).Value(l.Score, now)
			score = &v
		}
		return c.Score.Holds(*score)
	}
}

// stepOf finds the lead's next email in its track at now: after a step
// it was sent, that step's branch may jump ahead; a step not for the lead
// (when) or with nothing left to offer is passed over. ok is false when
// the track is through, or an exit of the track holds: the lead moves on.
func (s *Scheduler) stepOf(l *lead.Lead, track program.Track, now time.Time, claimID string) (mailing, bool) {
	n, meets := &l.Nurture, Meets(s.Program, l, now)
	if _, out := track.Exited(meets); out {
		return mailing{}, false
	}
	for n.NextStep < len(track.Steps) {
		if from, right := n.After(); right {
			if to, _, ok := track.Jump(from, meets); ok && to > n.NextStep {
				n.JumpTo(to)
				continue
			}
		}
		step := track.Steps[n.NextStep]
		if step.When.IsZero() || meets(step.When) {
			if choice, ok := Pick(s.Program, l, track, n.NextStep, now); ok {
				m := mailing{
					claim:  lead.SentStep{Track: track.ID, Step: n.NextStep, AssetID: choice.Asset.ID, Claim: claimID, At: now},
					choice: choice, subject: step.Subject, intro: step.Intro,
				}
				if m.subject == "" {
					m.subject = choice.Asset.Title
				}
				return m, true
			}
		}
		n.PassOver()
	}
	return mailing{}, false
}
