// Package engagement applies what recipients do with nurture mail to their
// lead: SES's events (deliveries, opens, clicks, bounces, complaints) and the
// product's own links (one-click unsubscribe, one-click answers). Every
// event is applied at most once, however often it is delivered.
package engagement

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// Store is what engagement needs of the lead store.
type Store interface {
	UpdateLead(ctx context.Context, id string, fn func(l *lead.Lead, isNew bool) error) (*lead.Lead, error)
	AddActivity(ctx context.Context, leadID string, a lead.Activity) (bool, error)
	ApplyEvent(ctx context.Context, id string, act *lead.Activity, fn func(l *lead.Lead, isNew bool) error) (*lead.Lead, error)
	MarkMachine(ctx context.Context, leadID, key string, at time.Time, reason string) error
}

// Errors the link handlers map to their one plain 4xx page.
var (
	ErrUnknownLead     = errors.New("unknown lead")
	ErrUnknownQuestion = errors.New("unknown question")
	ErrUnknownAsset    = errors.New("unknown asset")
	ErrUnknownTopic    = errors.New("unknown topic")
)

// Service applies engagement to leads.
type Service struct {
	Program *program.Program
	Store   Store
	Log     *slog.Logger
	// BotWindow: a click this soon after delivery is a scanner's.
	BotWindow time.Duration
	// Scorer is optional: without it nothing is scored. A crossing it
	// records stays on the lead for the alerts function (lead.Outbox).
	Scorer lead.Scorer
	// LeadIDs names the lead of an event that carries only an address (no
	// tags, e.g. identity feedback); required for those.
	LeadIDs lead.IDKey
}

// DefaultBotWindow is how soon after delivery a click counts as a
// security scanner's: they follow every link within seconds.
const DefaultBotWindow = 30 * time.Second

// unsubscribeKey is every unsubscribe's event key: a lead leaves once,
// whether by our link, its confirm page or SES's managed unsubscribe.
const unsubscribeKey = "unsubscribe"

// Unsubscribe stops all mail to the lead. Repeating it changes nothing.
func (s *Service) Unsubscribe(ctx context.Context, leadID string, at time.Time) error {
	_, err := s.applyOnce(ctx, leadID, unsubscribeKey, &lead.Activity{Kind: lead.KindUnsubscribe, At: at}, func(l *lead.Lead) error {
		l.Suppress(lead.SuppressedUnsubscribed, at)
		return nil
	})
	return err
}

// Answer records a one-click answer to a question asked in one email (track
// and step): the same link confirmed twice changes nothing, an answer from a
// later email replaces it.
func (s *Service) Answer(ctx context.Context, leadID, track string, step int, questionID, value string, at time.Time) error {
	q, ok := s.Program.Question(questionID)
	if !ok {
		return fmt.Errorf("%w %q", ErrUnknownQuestion, questionID)
	}
	act := lead.Activity{Kind: lead.KindAnswer, At: at, Track: track, Step: step, Detail: q.ID + "=" + value}
	key := fmt.Sprintf("answer-%s-%d-%s-%s", track, step, q.ID, value)
	_, err := s.applyOnce(ctx, leadID, key, &act, func(l *lead.Lead) error {
		if err := l.Answer(q, value); err != nil {
			return err
		}
		s.engaged(l, at, "")
		return nil
	})
	return err
}

// Keep records "keep them coming", the one answer to the re-engagement
// email sent at askedAt: the lead engaged, so its nurture goes on, and a
// lead gone dormant since wakes. The same link confirmed twice changes
// nothing.
func (s *Service) Keep(ctx context.Context, leadID string, askedAt, at time.Time) error {
	act := lead.Activity{Kind: lead.KindKeep, At: at, Track: program.ReengageTrack}
	key := "keep-" + strconv.FormatInt(askedAt.Unix(), 10)
	_, err := s.applyOnce(ctx, leadID, key, &act, func(l *lead.Lead) error {
		s.engaged(l, at, "")
		return nil
	})
	return err
}

// engaged records the person's own engagement at (a reader's click on
// assetID, an answer, "keep them coming"): its topics count towards the
// lead's interests, a silent spell ends, and a dormant lead wakes.
func (s *Service) engaged(l *lead.Lead, at time.Time, assetID string) {
	var topics []string
	if a, ok := s.Program.Asset(assetID); ok {
		topics = a.Topics
	}
	l.Engage(at, topics...)
	l.WakeDormant(s.Program, at)
}

// applyOnce changes the lead and records the activity, once per key: the
// lead, the activity and the event's record are one write (Store.ApplyEvent),
// so a retry, a double-click or a redelivery after any number of newer
// events changes nothing. act is written after change ran, so change may
// fill it in.
// It reports whether this call applied the change (false for a repeat).
func (s *Service) applyOnce(ctx context.Context, leadID, key string, act *lead.Activity, change func(l *lead.Lead) error) (bool, error) {
	act.Key = key
	_, err := s.Store.ApplyEvent(ctx, leadID, act, func(l *lead.Lead, isNew bool) error {
		if isNew {
			return ErrUnknownLead
		}
		if l.HasApplied(key) {
			return lead.ErrNoChange
		}
		if err := change(l); err != nil {
			return err
		}
		if s.Scorer != nil {
			// The score changes in the same write as the event is marked
			// applied: a retry can never score it twice, and the write that
			// crosses a threshold is the only one that sees the crossing.
			s.Scorer.Apply(l, act)
			if act.Kind == lead.KindClick && len(l.RecentClicks) > 0 && l.RecentClicks[len(l.RecentClicks)-1].Key == key {
				// Kept, so a burst found later can take it back.
				l.RecentClicks[len(l.RecentClicks)-1].Points = act.Earned
			}
		}
		// The note keeps what the activity says (its time, its points), so a
		// retry writes the very activity the crash may have lost.
		l.Note(*act)
		l.MarkApplied(key)
		return nil
	})
	repeat := errors.Is(err, lead.ErrNoChange)
	if err != nil && !repeat {
		return false, err
	}
	return !repeat, nil
}

// Confirm records the person confirming the address (double opt-in) with
// the evidence c: the wait that began at c.Asked ends, nurture starts, and
// a score its posts carried over a threshold alerts now. The same link
// confirmed twice changes nothing and returns nil; a link too late, or of
// a wait a later one replaced, returns lead.ErrOptInExpired, and one whose
// lead is gone (deleted unconfirmed) ErrUnknownLead.
func (s *Service) Confirm(ctx context.Context, leadID string, c lead.Confirmation) error {
	act := lead.Activity{Kind: lead.KindConfirm, At: c.At, Track: program.ConfirmTrack}
	key := "confirm-" + strconv.FormatInt(c.Asked.UnixNano(), 10)
	_, err := s.applyOnce(ctx, leadID, key, &act, func(l *lead.Lead) error {
		if err := l.Confirm(s.Program, c); err != nil {
			return err
		}
		act.FormID = l.Consent.Confirmed.FormID
		return nil
	})
	if errors.Is(err, lead.ErrNoChange) {
		return nil
	}
	return err
}
