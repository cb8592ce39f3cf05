package sales

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// ErrAlreadyDecided: a decision posted twice, or from a page or link older
// than the lead's latest decision. The error is an *AlreadyDecidedError,
// which names that decision.
var ErrAlreadyDecided = errors.New("already decided")

// AlreadyDecidedError says who decided about the lead first, and how.
type AlreadyDecidedError struct{ Decision lead.SalesDecision }

func (e *AlreadyDecidedError) Error() string {
	return fmt.Sprintf("already %s by %s at %s", e.Decision.Status, e.Decision.By, e.Decision.At.Format(time.RFC3339))
}

// Is makes errors.Is(err, ErrAlreadyDecided) true.
func (e *AlreadyDecidedError) Is(target error) bool { return target == ErrAlreadyDecided }

// Decision is what a sales link posts.
type Decision struct {
	Accept bool
	Reason string // a return's reason code (ReturnReasons)
	// Ref is the link's token Ref: the alert, and the mail the link came in
	// (see Ref), which says who decides.
	Ref string
	// Seen is the Stamp of the decision the page showed, empty when it
	// showed none: a page that showed the lead's current decision may
	// change it; any other post comes too late.
	Seen string
	At   time.Time
}

// Decide records what sales decided from a link, once: an alert waiting
// for a decision (its SLA running) takes any, which stops the clock and
// records who decided and when. Once decided, a post that did not see that
// decision (the same form posted twice, a page or link from before it) is
// refused with an *AlreadyDecidedError naming it, and changes nothing; the
// page showing the decision may change it (a lead sales accepted, then
// found not ready). An accept is Accept's change, a return Return's.
func (s *Desk) Decide(ctx context.Context, leadID string, d Decision) (lead.SalesDecision, error) {
	status := lead.SalesAccepted
	if !d.Accept {
		status = lead.SalesReturned
		if _, ok := ReturnReasonFor(d.Reason); !ok {
			return lead.SalesDecision{}, fmt.Errorf("%w %q", ErrUnknownReason, d.Reason)
		}
	} else {
		d.Reason = ""
	}
	var out lead.SalesDecision
	var open lead.SLA
	err := s.record(ctx, leadID, &open, func(l *lead.Lead) error {
		open = waitingOn(l)
		prev := l.Sales
		waiting := l.SLA != nil
		switch {
		case !waiting && prev != nil && d.Seen != prev.Stamp():
			return &AlreadyDecidedError{Decision: *prev}
		case !waiting && prev != nil && prev.Status == status && prev.Reason == d.Reason:
			out = *prev // the page's own decision again: nothing to change
			return lead.ErrNoChange
		}
		out = lead.SalesDecision{Status: status, Reason: d.Reason, At: d.At, By: s.who(l, d.Ref)}
		if d.Accept {
			l.Nurture.Stop(lead.StopAccepted)
		} else {
			s.rejoin(l, d.Reason, d.At)
		}
		l.Decided(out)
		return nil
	})
	if err != nil {
		return lead.SalesDecision{}, err
	}
	return out, nil
}

// who decides by a link with this Ref: the escalation route by an
// escalation's link, else the owner the alert went to.
func (s *Desk) who(l *lead.Lead, ref string) string {
	owner := program.Mailbox(Route(s.Program, l))
	if l.SLA != nil {
		owner = l.SLA.Owner
	}
	if _, via := ParseRef(ref); via == ViaEscalation {
		if l.SLA != nil && l.SLA.EscalateTo != "" {
			return l.SLA.EscalateTo
		}
		if e := s.Program.Owner(owner).EscalateTo; e != "" {
			return e
		}
	}
	return owner
}
