package sales

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/metrics"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/program"
)

// KindDecision is the activity kind of a sales decision; its Detail is
// "accepted" or "returned: <reason code>".
const KindDecision = "sales"

// Errors the sales page maps to its answers.
var (
	// ErrUnknownLead: the decision names no lead (erased, or never was).
	ErrUnknownLead = errors.New("unknown lead")
	// ErrUnknownReason: a return with a reason code not in ReturnReasons.
	ErrUnknownReason = errors.New("unknown return reason")
)

// ReturnReason is why sales sent a lead back to nurture: a short code kept
// on the lead and a label shown on the page. The program maps each code to
// what the lead does next (program.Returns).
type ReturnReason = program.ReturnReason

// ReturnReasons are the reasons sales may give, in the order shown.
var ReturnReasons = program.ReturnReasons

// ReturnReasonFor finds a return reason by its code.
func ReturnReasonFor(code string) (ReturnReason, bool) {
	for _, r := range ReturnReasons {
		if r.Code == code {
			return r, true
		}
	}
	return ReturnReason{}, false
}

// DeskStore is what the sales desk needs of the lead store: the lead and
// its activities for the dossier, and the writes of a decision.
type DeskStore interface {
	Store
	GetLead(ctx context.Context, id string) (*lead.Lead, bool, error)
}

// Desk is where sales meets a lead an alert handed them: the dossier reads
// the lead through it, and it records what sales decided, accepted (nurture
// stops at once, so the lead gets no more marketing mail while sales works
// it) or returned to nurture (the lead rejoins nurture as the program says
// for the reason, which is kept).
type Desk struct {
	Program *program.Program
	Store   DeskStore
	// Window places the next step of a returned lead inside the send window.
	Window nurture.Window
	// Metrics counts the decisions (nil: none).
	Metrics *metrics.Recorder
}

// Accept hands the lead to sales: nurture stops at once, whatever step was
// due or being sent. Accepting an accepted lead changes nothing.
func (s *Desk) Accept(ctx context.Context, leadID string, at time.Time) error {
	return s.decide(ctx, leadID, func(l *lead.Lead) bool {
		if l.Sales != nil && l.Sales.Status == lead.SalesAccepted {
			return false
		}
		l.Sales = &lead.SalesDecision{Status: lead.SalesAccepted, At: at}
		// Stopped, not finished: a capture re-enrols finished leads, and an
		// accepted lead must get no marketing mail from a new track either.
		l.Nurture.Stop(lead.StopAccepted)
		return true
	})
}

// Return sends the lead back to nurture with a reason code of
// ReturnReasons. What the lead does next is the program's answer for the
// reason (program.Returns; resume when it says nothing):
//
//   - resume: a lead sales had accepted rejoins its track where it left
//     it, the next step due its wait after now, inside the send window; at
//     the end of its track it moves on (the next track of its interests,
//     then evergreen). A lead still in nurture keeps its schedule.
//   - restart: its track again from the first step (only what the lead
//     has not had is sent).
//   - evergreen: straight to the evergreen cadence.
//   - stop: no more nurture mail.
//
// A suppressed lead stays without mail, and one stopped for its own reason
// (a failed address) stays stopped. Returning a returned lead with the
// same reason changes nothing; another reason replaces the first and does
// what the program says for it.
func (s *Desk) Return(ctx context.Context, leadID, reason string, at time.Time) error {
	if _, ok := ReturnReasonFor(reason); !ok {
		return fmt.Errorf("%w %q", ErrUnknownReason, reason)
	}
	return s.decide(ctx, leadID, func(l *lead.Lead) bool {
		prev := l.Sales
		if prev != nil && prev.Status == lead.SalesReturned && prev.Reason == reason {
			return false
		}
		l.Sales = &lead.SalesDecision{Status: lead.SalesReturned, Reason: reason, At: at}
		s.rejoin(l, reason, at)
		return true
	})
}

// rejoin puts a lead sales returned where the program says for reason.
func (s *Desk) rejoin(l *lead.Lead, reason string, at time.Time) {
	n := &l.Nurture
	switch {
	case !l.Mailable():
		// Unsubscribed, bounced, complained or erased: never mail again.
		if n.Status == lead.NurtureActive || n.StopReason == lead.StopAccepted {
			n.Stop(l.Suppression.Reason)
		}
		return
	case n.Status == lead.NurtureStopped && n.StopReason != lead.StopAccepted:
		return // stopped for its own reason (a failed address, an earlier stop)
	}
	p, zone := s.Program, l.Zone(s.Program)
	last, _ := n.LastSentAt()
	switch p.ReturnAction(reason) {
	case program.ReturnStop:
		n.Stop(lead.StopReturned(reason))
	case program.ReturnEvergreen:
		if p.EvergreenOn() {
			n.MoveOn(program.EvergreenTrack, s.Window.Following(at, p.Evergreen.Every.Duration, last, zone))
			return
		}
		s.resume(l, at)
	case program.ReturnRestart:
		track, ok := p.Track(n.Track)
		if !ok || len(track.Steps) == 0 {
			s.resume(l, at) // in evergreen, or its track left the program
			return
		}
		n.Enrol(track.ID, s.Window.Following(at, track.Steps[0].Wait.Duration, last, zone))
	default:
		s.resume(l, at)
	}
}

// resume puts a returned lead back where it left off: a lead still in
// nurture keeps its schedule; one sales held gets its next email its wait
// after at, or moves on if its track is through.
func (s *Desk) resume(l *lead.Lead, at time.Time) {
	n := &l.Nurture
	if n.Status == lead.NurtureActive && !n.DueAt.IsZero() {
		return // never stopped: its next email is scheduled already
	}
	if n.Track == "" {
		return // never in nurture
	}
	n.Answered() // sales heard from the lead: a dormant one is not asked again
	p := s.Program
	if n.Track != program.EvergreenTrack {
		if track, ok := p.Track(n.Track); !ok || n.NextStep >= len(track.Steps) {
			next, ok := l.NextPlace(p)
			if !ok {
				n.Finish()
				return
			}
			n.MoveOn(next, at) // due below, after the new place's first wait
		}
	}
	last, _ := n.LastSentAt()
	n.Schedule(s.Window.Following(at, l.NextWait(p), last, l.Zone(p)))
}

// decide applies one decision (change sets l.Sales and reports whether it
// changed anything), which stops the SLA's clock.
func (s *Desk) decide(ctx context.Context, leadID string, change func(l *lead.Lead) bool) error {
	var open lead.SLA
	return s.record(ctx, leadID, &open, func(l *lead.Lead) error {
		open = waitingOn(l)
		if !change(l) {
			return lead.ErrNoChange
		}
		l.Decided(*l.Sales)
		return nil
	})
}

// waitingOn is the SLA clock a decision on l stops, if one runs: the
// decision's activity keeps when its alert went out (for the results).
func waitingOn(l *lead.Lead) lead.SLA {
	if l.SLA == nil {
		return lead.SLA{}
	}
	return *l.SLA
}

// apply writes one decision (change returns lead.ErrNoChange for none) and
// records it as a "sales" activity keyed by the decision, so a double click
// or a retry writes one activity, and a repeat after a crash between the
// two writes still writes it.
func (s *Desk) apply(ctx context.Context, leadID string, change func(l *lead.Lead) error) error {
	return s.record(ctx, leadID, nil, change)
}

// record is apply for a decision that stopped the SLA clock open (when
// known): the activity says when its alert went out and whether the
// decision came after a reminder was due, so the program's results tell
// decisions within the SLA from late ones.
func (s *Desk) record(ctx context.Context, leadID string, open *lead.SLA, change func(l *lead.Lead) error) error {
	l, err := s.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, isNew bool) error {
		if isNew {
			return ErrUnknownLead
		}
		return change(l)
	})
	if err != nil && !errors.Is(err, lead.ErrNoChange) {
		return err
	}
	if l == nil || l.Sales == nil {
		return nil
	}
	d := *l.Sales
	if err == nil {
		// The write that changed the decision; a repeat changes nothing
		// and counts nothing.
		s.Metrics.Decided(d.At, leadID, d.Status == lead.SalesAccepted, d.Reason)
	}
	detail := d.Status
	if d.Status == lead.SalesReturned {
		detail += ": " + d.Reason
	}
	act := lead.Activity{
		Key:    "sales-" + d.Status + "-" + strconv.FormatInt(d.At.UnixNano(), 10),
		Kind:   KindDecision,
		At:     d.At,
		Detail: detail,
		By:     d.By,
	}
	if open != nil && !open.Since.IsZero() {
		act.AlertAt = open.Since
		act.Overdue = Overdue(*open) || (!open.RemindAt.IsZero() && d.At.After(open.RemindAt))
	}
	if _, err := s.Store.AddActivity(ctx, leadID, act); err != nil {
		return fmt.Errorf("record sales decision: %w", err)
	}
	return nil
}
