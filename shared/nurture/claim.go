package nurture

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// The claim protocol: a step is listed as sent, and the next one scheduled,
// in one conditional write before SES is asked; these give it back or end it
// when SES says no.

// errClaimed: the lead already holds this attempt's claim.
var errClaimed = errors.New("claimed by this attempt")

// scheduleNext sets when the lead's next email is due after one claimed
// at after: its wait (lead.NextWait), no sooner than the frequency cap,
// inside the send window. A lead with nowhere left to go finishes.
func (s *Scheduler) scheduleNext(l *lead.Lead, after time.Time) {
	n := &l.Nurture
	if n.Track != program.EvergreenTrack {
		track, ok := s.Program.Track(n.Track)
		if _, more := l.NextPlace(s.Program); (!ok || n.NextStep >= len(track.Steps)) && !more {
			n.Finish()
			return
		}
	}
	n.Schedule(s.Window.Following(after, l.NextWait(s.Program), after, l.Zone(s.Program)))
}

// unclaim undoes a claim SES refused: the email is no longer listed as
// sent, and, unless something else moved the lead on since (suppressed,
// accepted by sales), change says what becomes of it. It changes nothing
// if the claim is gone (undone already).
func (s *Scheduler) unclaim(ctx context.Context, leadID string, claim lead.SentStep, change func(n *lead.Nurture)) error {
	_, err := s.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, _ bool) error {
		removed, putBack := l.Nurture.Unclaim(claim.Claim)
		if !removed {
			return lead.ErrNoChange
		}
		if putBack {
			change(&l.Nurture)
		}
		return nil
	})
	if errors.Is(err, lead.ErrNoChange) {
		return nil
	}
	return err
}

// release gives a claim back without sending: the step is due again as
// it was, for the next tick.
func (s *Scheduler) release(ctx context.Context, leadID string, claim lead.SentStep, wasDue time.Time) error {
	if err := s.unclaim(ctx, leadID, claim, func(n *lead.Nurture) { n.Schedule(wasDue) }); err != nil {
		return fmt.Errorf("release claim: %w", err)
	}
	return nil
}

// fail records a step SES rejected for good and stops nurture for the lead:
// the same address would be rejected again at every step.
func (s *Scheduler) fail(ctx context.Context, leadID string, claim lead.SentStep, reason string, now time.Time) error {
	err := s.unclaim(ctx, leadID, claim, func(n *lead.Nurture) {
		n.Stop(lead.StopStepFailed(claim.Step, now, reason))
	})
	if err != nil {
		return fmt.Errorf("record failed step: %w", err)
	}
	return nil
}

// holdsClaim reports whether the lead lists the claim: a nurture email's,
// or a confirmation email's.
func holdsClaim(l *lead.Lead, claimID string) bool {
	if l.OptIn != nil && l.OptIn.Claim == claimID && l.OptIn.Mails > 0 {
		return true
	}
	return slices.ContainsFunc(l.Nurture.Sent, func(st lead.SentStep) bool { return st.Claim == claimID })
}

// newClaimID names one claim attempt: 32 random bits tell apart the claims
// of one lead's step.
func newClaimID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// heldClaim reads the lead again, a few times over transient failures, and
// returns it if it lists the claim: the claim's write went through though
// its answer was lost.
func (s *Scheduler) heldClaim(ctx context.Context, id, claimID string) (*lead.Lead, bool) {
	wait := 50 * time.Millisecond
	for attempt := 0; attempt < 3; attempt++ {
		l, found, err := s.Store.GetLead(ctx, id)
		if err == nil {
			return l, found && holdsClaim(l, claimID)
		}
		if sleep(ctx, wait) != nil {
			return nil, false
		}
		wait *= 2
	}
	return nil, false
}
