package nurture

import (
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// Lifelong nurture: what a due lead gets next. A track's steps in order;
// when the track ends, the track the lead moves on to (lead.NextPlace),
// then the evergreen cadence; a silent lead is asked once whether to go
// on, and goes dormant without an answer. All of it is decided inside the
// one write that claims the email, so a send still costs that one write.

// mailing is one claimed email: the claim and what the email says.
type mailing struct {
	claim   lead.SentStep
	choice  Choice // the asset and the question; empty for re-engagement
	subject string
	intro   string
	// keep marks the re-engagement email: a "keep them coming" link takes
	// the asset's place.
	keep bool
	// help asks "What would help you most next?" (Lead.AskWhatHelps).
	help bool
	// confirm numbers a confirmation email: 1 the first, 2 the reminder.
	confirm int
}

// next decides what the due lead gets at now and changes it to match: an
// email claimed (outSent, with the mailing; the claim is the write that
// changes the lead), a later due time (outRescheduled), dormancy
// (outDormant) or the end of nurture (outFinished).
func (s *Scheduler) next(l *lead.Lead, now time.Time, claimID string) (outcome, mailing) {
	p, n, zone := s.Program, &l.Nurture, l.Zone(s.Program)
	last, _ := n.LastSentAt()
	// Outside the lead's send window, on a no-send date there, or within
	// the frequency cap of its latest email: wait until it may be mailed.
	if open := s.Window.Following(now, 0, last, zone); open.After(now) {
		n.Schedule(open)
		return outRescheduled, mailing{}
	}

	if !n.AskedAt.IsZero() {
		if !l.EngagedAt.After(n.AskedAt) {
			n.Sleep()
			return outDormant, mailing{}
		}
		n.Answered()
	}
	out, m := s.content(l, now, claimID)
	if out != outSent {
		return out, m
	}
	// Content is due, and the lead has not engaged for long: ask whether
	// to go on instead, before its next email. A lead we have nothing new
	// for is never asked: it had nothing to engage with.
	if p.ReengageOn() && now.Sub(l.LastEngaged()) >= p.Reengage.After.Duration {
		claim := lead.SentStep{Track: program.ReengageTrack, Claim: claimID, At: now}
		n.Ask(claim, s.Window.Following(now, p.Reengage.Wait.Duration, now, zone))
		return outSent, mailing{claim: claim, subject: p.Reengage.Subject, intro: p.Reengage.Intro, keep: true}
	}
	l.Nurture.Claim(m.claim)
	m.help = l.AskWhatHelps(p.Voice.AskEvery, m.choice.Question != nil)
	s.scheduleNext(l, now)
	return outSent, m
}

// content finds the lead's next email of content at now, not yet claimed
// (outSent): the next step of its track for it (stepOf), moving on to the
// next place when the track is through, exited or left the program, or
// the evergreen email. Otherwise the lead waits (outRescheduled: nothing new
// in the library for it yet) or finishes (outFinished).
func (s *Scheduler) content(l *lead.Lead, now time.Time, claimID string) (outcome, mailing) {
	p, n := s.Program, &l.Nurture
	// A topic the lead said would help most next starts its track now.
	l.TakeWish(p)
	// Each turn moves on to a place the lead has not been through, so the
	// places run out; evergreen ends the search.
	for range len(p.Tracks) + 2 {
		if n.Track == program.EvergreenTrack {
			if !p.EvergreenOn() {
				n.Finish() // the program dropped evergreen
				return outFinished, mailing{}
			}
			choice, ok := PickEvergreen(p, l, now)
			if !ok {
				// Nothing new for this lead yet: look again a cadence later.
				last, _ := n.LastSentAt()
				n.Schedule(s.Window.Following(now, p.Evergreen.Every.Duration, last, l.Zone(p)))
				return outRescheduled, mailing{}
			}
			return outSent, mailing{
				claim:  lead.SentStep{Track: n.Track, Step: n.NextStep, AssetID: choice.Asset.ID, Claim: claimID, At: now},
				choice: choice, subject: choice.Asset.Title, intro: p.Evergreen.Intro,
			}
		}
		// A track of a topic the lead muted is through for it.
		if track, ok := p.Track(n.Track); ok && !l.Muted(track.Topic) {
			if m, ok := s.stepOf(l, track, now, claimID); ok {
				return outSent, m
			}
		}
		// The track is through, left early (an exit), left the program or
		// was muted: on to the next place.
		next, ok := l.NextPlace(p)
		if !ok {
			n.Finish()
			return outFinished, mailing{}
		}
		n.MoveOn(next, n.DueAt)
	}
	n.Finish() // unreachable: every turn ends a place for good
	return outFinished, mailing{}
}
