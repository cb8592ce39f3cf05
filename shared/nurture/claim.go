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
)

// The claim protocol: a step is listed as sent, and the next one scheduled,
// in one conditional write before SES is asked; these give it back or end it
// when SES says no.

// errClaimed: the lead already holds this attempt's claim.
var errClaimed = errors.New("claimed by this attempt")

// scheduleNext sets when the next step is due, inside the send window.
func (s *Scheduler) scheduleNext(l *lead.Lead, after time.Time) {
	track, ok := s.Program.Track(l.Nurture.Track)
	if !ok || l.Nurture.NextStep >= len(track.Steps) {
		l.Nurture.Finish()
		return
	}
	l.Nurture.Schedule(s.Window.Next(after.Add(track.Steps[l.Nurture.NextStep].Wait.Duration), l.Zone(s.Program)))
}

// unclaim undoes a claim SES refused: the step is no longer listed as sent,
// and then change says what becomes of the lead. It changes nothing if the
// claim is gone (undone already).
func (s *Scheduler) unclaim(ctx context.Context, leadID string, claim lead.SentStep, change func(n *lead.Nurture)) error {
	_, err := s.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, _ bool) error {
		n := &l.Nurture
		i := slices.IndexFunc(n.Sent, func(st lead.SentStep) bool {
			return st.Claim == claim.Claim && st.MessageID == ""
		})
		if i < 0 {
			return lead.ErrNoChange
		}
		n.Sent = slices.Delete(n.Sent, i, i+1)
		// Put the step back unless something else moved the lead on since
		// (suppressed, accepted by sales). The claim of a track's last step
		// marked it finished.
		if n.Track == claim.Track && n.NextStep == claim.Step+1 &&
			(n.Status == lead.NurtureActive || n.Status == lead.NurtureFinished) {
			n.NextStep = claim.Step
			change(n)
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

// newClaimID names one claim attempt: 32 random bits tell apart the claims
// of one lead's step.
func newClaimID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
