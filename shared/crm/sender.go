package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// Store is what the sender needs of the lead store.
type Store interface {
	GetLead(ctx context.Context, id string) (*lead.Lead, bool, error)
	UpdateLead(ctx context.Context, id string, fn func(l *lead.Lead, isNew bool) error) (*lead.Lead, error)
}

// Sender delivers the lifecycle events pending on a lead: the outbox's
// sender of lead.OutboxEvent work, in the events function.
type Sender struct {
	Program *program.Program
	Store   Store
	// Receiver is the CRM's webhook; nil drops the events pending on a lead
	// (recorded while a CRM was configured, which is no longer).
	Receiver *Receiver
	// Signer and BaseURL, when set, give sales-ready events a signed link
	// to the lead's dossier page.
	Signer  *token.Signer
	BaseURL string
	Clock   clock.Clock
	Log     *slog.Logger
}

// Delivery defaults.
const (
	// MaxTries is how often an event is tried before it is given up
	// ("event abandoned" in the log, which raises an alarm). With
	// RetryDelay that spans about three days, as Stripe retries for: a
	// CRM's outage or a broken receiver is usually fixed within that.
	MaxTries = 20
	// LinkTTL is how long a sales-ready event's dossier link works.
	LinkTTL = 30 * 24 * time.Hour
)

// RetryDelay is how long an event waits after its tries-th failure: a
// minute, doubling, at most six hours. The scheduler's tick wakes it, so
// in AWS a retry comes up to one tick (5 minutes) later.
func RetryDelay(tries int) time.Duration {
	if tries < 1 {
		tries = 1
	}
	if tries > 10 {
		return 6 * time.Hour
	}
	return min(time.Minute<<(tries-1), 6*time.Hour)
}

// Flush delivers the lead's pending events that may go now, oldest first,
// one POST each, and records the outcome in one write: the delivered ones
// leave the lead, a failed one counts a try and waits (RetryDelay, or the
// receiver's Retry-After if longer), and the events after it wait with it,
// so a lead's events arrive in order. Delivery is at least once: a write
// lost after a POST, or a batch retried, delivers again with the same id.
// A receiver that fails is no error of Flush's: the events stay on the
// lead. An error says the lead could not be read or written.
func (s *Sender) Flush(ctx context.Context, leadID string) error {
	if s.Program == nil || s.Store == nil {
		return errors.New("crm sender: Program and Store must be set")
	}
	l, found, err := s.Store.GetLead(ctx, leadID)
	if err != nil {
		return fmt.Errorf("read lead %s: %w", leadID, err)
	}
	if !found || len(l.PendingEvents) == 0 {
		return nil
	}
	now := s.now()
	log := s.log().With("leadId", leadID)
	if s.Receiver == nil {
		done := make([]string, len(l.PendingEvents))
		for i, e := range l.PendingEvents {
			done[i] = e.ID(leadID)
		}
		log.Warn("lifecycle events dropped: no CRM receiver is configured", "events", len(done))
		return s.settle(ctx, leadID, done, nil, Outcome{}, now, log)
	}
	var delivered []string
	var failed *lead.LifecycleEvent
	var out Outcome
	for _, e := range l.PendingEvents {
		if e.SendAt().After(now) || !s.timeLeft(ctx) {
			break // held (settling, backing off), or out of time: the tick or the next batch wakes it
		}
		id := e.ID(leadID)
		body, err := json.Marshal(Build(s.Program, l, e, s.dossierURL(leadID, e, now)))
		if err != nil {
			return fmt.Errorf("event %s of lead %s: %w", id, leadID, err)
		}
		start := time.Now()
		out = s.Receiver.Deliver(ctx, id, e.Type, body)
		took := time.Since(start).Milliseconds()
		if !out.Delivered() {
			log.Warn("event not delivered", "eventId", id, "type", e.Type, "status", out.Status, "ms", took, "error", out.Err.Error())
			failed = &e
			break
		}
		log.Info("event delivered", "eventId", id, "type", e.Type, "status", out.Status, "ms", took)
		delivered = append(delivered, id)
	}
	if len(delivered) == 0 && failed == nil {
		return nil
	}
	return s.settle(ctx, leadID, delivered, failed, out, now, log)
}

// settle records a flush on the lead: delivered events off it, a failed
// one's try counted and its next try held back, or, after MaxTries, the
// event given up.
func (s *Sender) settle(ctx context.Context, leadID string, delivered []string, failed *lead.LifecycleEvent, out Outcome, now time.Time, log *slog.Logger) error {
	// The POSTs are done: their record must not be cut short by the
	// batch's deadline, or they are delivered again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	var abandoned *lead.LifecycleEvent
	var retryIn time.Duration
	_, err := s.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, isNew bool) error {
		abandoned, retryIn = nil, 0 // fn runs again after a conflict
		if isNew {
			return lead.ErrNoChange // erased meanwhile
		}
		n := len(l.PendingEvents)
		l.PendingEvents = slices.DeleteFunc(l.PendingEvents, func(e lead.LifecycleEvent) bool {
			return slices.Contains(delivered, e.ID(leadID))
		})
		changed := len(l.PendingEvents) < n
		if failed != nil {
			id := failed.ID(leadID)
			if i := slices.IndexFunc(l.PendingEvents, func(e lead.LifecycleEvent) bool { return e.ID(leadID) == id }); i >= 0 {
				e := &l.PendingEvents[i]
				e.Tries++
				if e.Tries >= MaxTries {
					gone := *e
					abandoned = &gone
					l.PendingEvents = slices.Delete(l.PendingEvents, i, i+1)
				} else {
					retryIn = max(RetryDelay(e.Tries), out.RetryAfter)
					e.RetryAt = now.Add(retryIn)
				}
				changed = true
			}
		}
		if !changed {
			return lead.ErrNoChange
		}
		return nil
	})
	if errors.Is(err, lead.ErrNoChange) {
		return nil
	}
	if err != nil {
		// Delivered events stay pending and go again (same ids): at least once.
		return fmt.Errorf("record delivery of lead %s's events: %w", leadID, err)
	}
	switch {
	case abandoned != nil:
		log.Error("event abandoned", "eventId", abandoned.ID(leadID), "type", abandoned.Type, "tries", abandoned.Tries)
	case failed != nil:
		log.Info("event tried again later", "eventId", failed.ID(leadID), "type", failed.Type, "tries", failed.Tries+1, "retryIn", retryIn.String())
	}
	return nil
}

// dossierURL is a sales-ready event's signed link to the lead's dossier
// page; "" without a Signer.
func (s *Sender) dossierURL(leadID string, e lead.LifecycleEvent, now time.Time) string {
	if e.Type != lead.EventSalesReady || s.Signer == nil || s.BaseURL == "" {
		return ""
	}
	return link.Sales.URL(s.BaseURL, s.Signer.Sign(token.Claims{Purpose: token.PurposeDossier, LeadID: leadID, Ref: e.Ref, Expires: now.Add(LinkTTL)}))
}

// timeLeft reports whether the invocation has time for one more delivery
// and the write that records it.
func (s *Sender) timeLeft(ctx context.Context) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > s.Receiver.timeout()+5*time.Second
}

func (s *Sender) now() time.Time {
	if s.Clock == nil {
		return time.Now().UTC()
	}
	return s.Clock.Now()
}

func (s *Sender) log() *slog.Logger {
	if s.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Log
}
