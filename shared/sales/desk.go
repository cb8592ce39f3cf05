package sales

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
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
// it) or returned to nurture (the lead rejoins its track where it left it,
// with the reason kept).
type Desk struct {
	Program *program.Program
	Store   DeskStore
	// Window places the next step of a returned lead inside the send window.
	Window nurture.Window
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
// ReturnReasons. A lead sales had accepted rejoins its track: the next step
// is due its wait after now, inside the send window, or the track stays
// finished when no step is left. A lead still in nurture keeps its schedule,
// and a suppressed lead stays without mail. Returning a returned lead with
// the same reason changes nothing; another reason replaces the first.
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
		if prev != nil && prev.Status == lead.SalesReturned {
			return true // back in nurture already: only the reason changes
		}
		s.resume(l, at)
		return true
	})
}

// resume puts a lead back on its track after sales returned it.
func (s *Desk) resume(l *lead.Lead, at time.Time) {
	n := &l.Nurture
	switch {
	case !l.Mailable():
		// Unsubscribed, bounced, complained or erased: never mail again.
		if n.Status == lead.NurtureActive || n.StopReason == lead.StopAccepted {
			n.Stop(l.Suppression.Reason)
		}
		return
	case n.Status == lead.NurtureActive && !n.DueAt.IsZero():
		return // never stopped: its next step is scheduled already
	case n.Status == lead.NurtureStopped && n.StopReason != lead.StopAccepted:
		return // stopped for its own reason (a failed address, a removed track)
	case n.Status == lead.NurtureFinished || n.Track == "":
		return
	}
	track, ok := s.Program.Track(n.Track)
	if !ok {
		n.Stop(lead.StopTrackRemoved)
		return
	}
	if n.NextStep >= len(track.Steps) {
		n.Finish()
		return
	}
	n.Schedule(s.Window.Next(at.Add(track.Steps[n.NextStep].Wait.Duration), l.Zone(s.Program)))
}

// decide applies one decision and records it as a "sales" activity keyed by
// the decision, so a double click or a retry writes one activity, and a
// repeat after a crash between the two writes still writes it.
func (s *Desk) decide(ctx context.Context, leadID string, change func(l *lead.Lead) bool) error {
	l, err := s.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, isNew bool) error {
		if isNew {
			return ErrUnknownLead
		}
		if !change(l) {
			return lead.ErrNoChange
		}
		return nil
	})
	if err != nil && !errors.Is(err, lead.ErrNoChange) {
		return err
	}
	if l == nil || l.Sales == nil {
		return nil
	}
	d := *l.Sales
	detail := d.Status
	if d.Status == lead.SalesReturned {
		detail += ": " + d.Reason
	}
	act := lead.Activity{
		Key:    "sales-" + d.Status + "-" + strconv.FormatInt(d.At.UnixNano(), 10),
		Kind:   KindDecision,
		At:     d.At,
		Detail: detail,
	}
	if _, err := s.Store.AddActivity(ctx, leadID, act); err != nil {
		return fmt.Errorf("record sales decision: %w", err)
	}
	return nil
}
