package nurture

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/metrics"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// Store is what the scheduler needs of the lead store.
type Store interface {
	DueLeads(ctx context.Context, now time.Time, limit int) ([]string, error)
	UpdateLead(ctx context.Context, id string, fn func(l *lead.Lead, isNew bool) error) (*lead.Lead, error)
	GetLead(ctx context.Context, id string) (*lead.Lead, bool, error)
	// DeleteUnconfirmed deletes a lead that expired unconfirmed, and
	// everything stored under it, if it is still at version.
	DeleteUnconfirmed(ctx context.Context, id string, version int64) (bool, error)
}

// Token lifetimes: an unsubscribe link must keep working as long as anyone
// may still open the mail; an answer only matters while nurture runs.
const (
	unsubscribeTTL = 2 * 365 * 24 * time.Hour
	answerTTL      = 90 * 24 * time.Hour
)

// Defaults for the scheduler's knobs.
const (
	DefaultBatch       = 1000
	sendAttempts       = 4
	deadlineMargin     = 15 * time.Second
	firstRetryInterval = 200 * time.Millisecond
)

// Scheduler sends each due lead its next nurture step, at most once and,
// barring a crash in the moment between claiming a step and handing it to
// SES, exactly once.
//
// A step is claimed by the one conditional write that lists it as sent and
// schedules the next one; only then is SES asked to send it. A tick that
// loses the race, a retried tick and a crashed tick's successor all find
// nothing due. If SES refuses the message the claim is undone; if the
// answer is lost on the way back, the step stays sent. One write per email
// is also what keeps a send at 3 write units: the lead (under 1 KB) and the
// due index moving from one due time to the next.
type Scheduler struct {
	Program *program.Program
	Store   Store
	Mailer  mail.Mailer
	Signer  *token.Signer
	Window  Window
	// BaseURL is the public API URL the links in emails point at.
	BaseURL string
	// ConfigurationSet is the SES configuration set that publishes events.
	ConfigurationSet string
	// Rate is the most emails per second (the account's MaxSendRate).
	Rate float64
	// Batch is how many due leads one tick takes on at most.
	Batch int
	// Workers send in parallel to hide SES's latency; zero derives it from Rate.
	Workers int
	Log     *slog.Logger
	// Metrics counts the emails SES accepted (nil: none).
	Metrics *metrics.Recorder

	// beforeSend runs between the claim and the call to SES; tests use it
	// to crash there.
	beforeSend func(leadID string) error
}

// Report says what one tick did.
type Report struct {
	Due      int `json:"due"`
	Sent     int `json:"sent"`
	Skipped  int `json:"skipped"`  // claimed elsewhere, not due, or not mailable
	Finished int `json:"finished"` // leads through every track, with no evergreen cadence to go on with
	Deferred int `json:"deferred"` // SES throttled or failed transiently; still due
	Failed   int `json:"failed"`   // SES rejected the message for good
	// Uncertain counts emails whose SES answer was lost: they may have gone
	// out, so they count as sent and are never sent again.
	Uncertain int `json:"uncertain"`
	// Rescheduled counts leads due outside their send window or within the
	// frequency cap, moved to the next moment they may be mailed, and
	// leads with nothing to send yet (evergreen, after the whole library).
	Rescheduled int `json:"rescheduled"`
	// Dormant counts leads that did not answer the re-engagement email:
	// mail to them stops until they engage again.
	Dormant int `json:"dormant"`
	// Expired counts unconfirmed leads whose wait ended: deleted, never
	// mailed again.
	Expired int `json:"expired"`
	// Partial is true when the tick stopped early to finish before its
	// deadline; the rest stays due for the next tick.
	Partial bool `json:"partial"`
}

// Tick sends every step due at now, pacing sends at Rate, and stops claiming
// new leads in time to finish before ctx's deadline.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) (Report, error) {
	var rep Report
	batch := s.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	ids, err := s.Store.DueLeads(ctx, now, batch)
	if err != nil {
		return rep, err
	}
	rep.Due = len(ids)
	stopBy := time.Time{}
	if dl, ok := ctx.Deadline(); ok {
		stopBy = dl.Add(-deadlineMargin)
	}
	pace := newPacer(s.Rate)
	// A few workers keep SES busy at the allowed rate despite its latency.
	workers := s.Workers
	if workers <= 0 {
		workers = min(int(s.Rate/5)+1, 16)
	}
	jobs := make(chan string)
	var mu sync.Mutex
	var abort error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				out, err := s.sendNext(ctx, id, now, pace)
				mu.Lock()
				rep.add(out)
				// An account that cannot send stops the tick: every
				// further send would fail the same way.
				if errors.Is(err, mail.ErrAccountPaused) && abort == nil {
					abort = err
				} else if err != nil {
					s.Log.Error("nurture step failed", "leadId", id, "error", err.Error())
				}
				mu.Unlock()
			}
		}()
	}
loop:
	for _, id := range ids {
		mu.Lock()
		stop := abort != nil
		mu.Unlock()
		if stop || ctx.Err() != nil || (!stopBy.IsZero() && time.Now().After(stopBy)) {
			rep.Partial = true
			break loop
		}
		select {
		case jobs <- id:
		case <-ctx.Done():
			rep.Partial = true
			break loop
		}
	}
	close(jobs)
	wg.Wait()
	s.Log.Info("tick", "due", rep.Due, "sent", rep.Sent, "skipped", rep.Skipped, "finished", rep.Finished,
		"deferred", rep.Deferred, "failed", rep.Failed, "uncertain", rep.Uncertain, "rescheduled", rep.Rescheduled,
		"dormant", rep.Dormant, "expired", rep.Expired, "partial", rep.Partial)
	return rep, abort
}

type outcome int

const (
	outSkipped outcome = iota
	outSent
	outFinished
	outDeferred
	outFailed
	outRescheduled
	outUncertain
	outDormant
	outExpired
)

func (r *Report) add(o outcome) {
	switch o {
	case outSent:
		r.Sent++
	case outFinished:
		r.Finished++
	case outDeferred:
		r.Deferred++
	case outFailed:
		r.Failed++
	case outRescheduled:
		r.Rescheduled++
	case outUncertain:
		r.Uncertain++
	case outDormant:
		r.Dormant++
	case outExpired:
		r.Expired++
	default:
		r.Skipped++
	}
}

// sendNext claims one lead's next email and sends it.
func (s *Scheduler) sendNext(ctx context.Context, id string, now time.Time, pace *pacer) (outcome, error) {
	var (
		m      mailing
		wasDue time.Time
		result = outSkipped
	)
	claimID := newClaimID()
	l, err := s.Store.UpdateLead(ctx, id, func(l *lead.Lead, isNew bool) error {
		if result == outSent && holdsClaim(l, claimID) {
			// This claim's write went through but its answer was lost, and
			// the store's retry was refused: the step is ours to send.
			return errClaimed
		}
		result = outSkipped
		// The due index also brings leads whose sales alert was held back
		// (a settle time, a retry's backoff, a lapsed claim) or never
		// taken: whatever this tick writes, or a write of its own, hands
		// the alerts ready now to the alerts function (lead.Wake). The
		// tick itself never waits on SES or a webhook for an alert.
		woke := !isNew && l.Wake(now)
		if !isNew && l.Unconfirmed() {
			wasDue = l.OptIn.DueAt
			result, m = s.confirmNext(l, now, claimID)
			if result == outSkipped || result == outExpired {
				return lead.ErrNoChange
			}
			return nil
		}
		if isNew || !l.Mailable() || !l.Nurture.Due() || l.Nurture.DueAt.After(now) {
			if woke {
				return nil
			}
			return lead.ErrNoChange
		}
		wasDue = l.Nurture.DueAt
		result, m = s.next(l, now, claimID)
		return nil
	})
	switch {
	case errors.Is(err, errClaimed):
		err = nil
	case errors.Is(err, lead.ErrNoChange) && result == outExpired:
		return s.expire(ctx, l)
	case errors.Is(err, lead.ErrNoChange):
		return outSkipped, nil
	case err != nil && result == outSent:
		// The claim write may have gone through with its answer lost, and
		// the store gave up before it could tell (its read after the
		// refused retry failed too). If the lead holds this attempt's
		// claim, the step is ours to send; if it cannot be told, the step
		// stays listed and unsent, as after a crash, never sent twice.
		got, ok := s.heldClaim(ctx, id, claimID)
		if !ok {
			return outSkipped, fmt.Errorf("claim step: %w", err)
		}
		l = got
	case err != nil:
		return outSkipped, fmt.Errorf("claim step: %w", err)
	}
	if result != outSent {
		return result, nil
	}
	claim := m.claim
	msg, err := s.compose(l, m, now)
	if err != nil {
		// A message that cannot be rendered will never be: fail the step.
		return outFailed, s.fail(ctx, id, claim, err.Error(), now)
	}
	if s.beforeSend != nil {
		if err := s.beforeSend(id); err != nil {
			return outSent, err
		}
	}
	err = s.send(ctx, msg, pace)
	switch {
	case err == nil:
		// Once per claim: a step is claimed by one write and sent once. A
		// confirmation email is no nurture email.
		if m.confirm == 0 {
			s.Metrics.Sent(now, id, claim.Track)
		}
		return outSent, nil
	case errors.Is(err, mail.ErrUncertain):
		// SES may have accepted it: sending again could mail it twice.
		s.Log.Warn("ses answer lost; the step counts as sent", "leadId", id, "step", claim.Step, "error", err.Error())
		return outUncertain, nil
	case errors.Is(err, mail.ErrRejected) && m.confirm > 0:
		return outFailed, s.unclaimConfirm(ctx, id, func(o *lead.OptIn) bool { return o.GiveUp(claim.Claim) })
	case errors.Is(err, mail.ErrRejected):
		return outFailed, s.fail(ctx, id, claim, err.Error(), now)
	case m.confirm > 0:
		return outDeferred, errors.Join(err, s.unclaimConfirm(ctx, id, func(o *lead.OptIn) bool { return o.UnclaimMail(claim.Claim, wasDue) }))
	default:
		// Throttled, a transient failure, or an account that cannot send
		// (which ends the tick): the step is due again.
		return outDeferred, errors.Join(err, s.release(ctx, id, claim, wasDue))
	}
}
