package engagement

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
)

// The lead's own voice: "Was this useful?", "What would help you most
// next?" and the preference page. None of it scores: it says what to send,
// not whether the lead is ready to buy.

// Errors of the voice's links, each answered with its own page.
var (
	// ErrNothingSaid: "something else" confirmed without a word.
	ErrNothingSaid = errors.New("no topic and no words")
	// ErrNoTopic: the preference page saved with every topic unticked.
	ErrNoTopic = errors.New("no topic chosen")
)

// errSaid: the email was answered already, and that answer stands.
var errSaid = errors.New("answered already")

// Rate records "Was this useful?" for the email that offered assetID (the
// track and step name it too). One rating an email, for good: the first
// stands, and a later one, whichever button, changes nothing (the event's
// record is keyed by the email's asset). It returns the rating that
// stands (lead.RatedUseful or lead.RatedNotUseful; the one asked for when
// the lead no longer remembers which).
//
// "Yes" is the reader's engagement with the asset's topics; "not really"
// makes the asset's format (and, said of two, its stage) weigh less in the
// lead's next picks. The rating is an activity naming the asset, its
// format and its stage.
func (s *Service) Rate(ctx context.Context, leadID, track string, step int, assetID string, useful bool, at time.Time) (string, error) {
	asset, ok := s.Program.Asset(assetID)
	if !ok {
		return "", fmt.Errorf("%w %q", ErrUnknownAsset, assetID)
	}
	rating := lead.RatedNotUseful
	if useful {
		rating = lead.RatedUseful
	}
	act := lead.Activity{Kind: lead.KindRating, At: at, AssetID: asset.ID, Format: asset.Format, Stage: asset.Stage, Track: track, Step: step, Detail: rating}
	stands := rating
	_, err := s.answer(ctx, leadID, "rating-"+asset.ID, &act, func(l *lead.Lead) error {
		var first bool
		if stands, first = l.Rate(asset.ID, useful); !first {
			return errSaid
		}
		if useful {
			s.engaged(l, at, asset.ID)
		} else {
			l.Engage(at)
		}
		return nil
	})
	if errors.Is(err, errSaid) {
		err = nil
	}
	return stands, err
}

// Wish records the answer to "What would help you most next?" asked in the
// email that offered assetID: the topic chosen ("" for something else),
// whose track the lead gets next (lead.Want), and the reader's own words,
// cleaned and cut to lead.MaxWords. One answer an email, kept once and for
// good: a later one (a double-click, another topic) changes nothing, and
// first is false. It returns the answer as kept.
func (s *Service) Wish(ctx context.Context, leadID, track string, step int, assetID, topic, words string, at time.Time) (lead.Activity, bool, error) {
	if _, ok := s.Program.Asset(assetID); !ok {
		return lead.Activity{}, false, fmt.Errorf("%w %q", ErrUnknownAsset, assetID)
	}
	if topic != "" && !s.Program.Choosable(topic) {
		return lead.Activity{}, false, fmt.Errorf("%w %q", ErrUnknownTopic, topic)
	}
	words = lead.CleanWords(words)
	if topic == "" && words == "" {
		return lead.Activity{}, false, ErrNothingSaid
	}
	act := lead.Activity{Kind: lead.KindWish, At: at, AssetID: assetID, Track: track, Step: step, Detail: topic, Words: words}
	first, err := s.answer(ctx, leadID, "wish-"+assetID, &act, func(l *lead.Lead) error {
		if !l.Wish(assetID) {
			return errSaid
		}
		if topic == "" {
			s.engaged(l, at, "")
			return nil
		}
		l.Want(s.Program, topic, at)
		l.WakeDormant(s.Program, at)
		return nil
	})
	if errors.Is(err, errSaid) {
		return lead.Activity{}, false, nil
	}
	return act, first, err
}

// answer applies what a reader answered about one email (the key names
// the email), once and for good: the lead, the activity and the event's
// record are one write (Store.ApplyEvent), and the record, keyed by the
// email, makes any later answer a repeat (false). change sees the lead
// even then, while it remembers the email's answer (lead.Voice), so it can
// say which answer stands (errSaid, returned as is). Answers score
// nothing.
func (s *Service) answer(ctx context.Context, leadID, key string, act *lead.Activity, change func(l *lead.Lead) error) (bool, error) {
	act.Key = key
	_, err := s.Store.ApplyEvent(ctx, leadID, act, func(l *lead.Lead, isNew bool) error {
		if isNew {
			return ErrUnknownLead
		}
		return change(l)
	})
	if errors.Is(err, lead.ErrNoChange) {
		return false, nil
	}
	return err == nil, err
}

// Prefer records the lead's choices on its preference page: the topics
// it wants (at least one; the program's others are muted) and whether
// less often (lead.Prefer). Saving the same choices again changes
// nothing; a change is noted in the lead's timeline, in the same write.
func (s *Service) Prefer(ctx context.Context, leadID string, topics []string, lessOften bool, at time.Time) error {
	if len(topics) == 0 {
		return ErrNoTopic
	}
	var labels []string
	for _, t := range topics {
		if !s.Program.Choosable(t) {
			return fmt.Errorf("%w %q", ErrUnknownTopic, t)
		}
		labels = append(labels, s.Program.TopicLabel(t))
	}
	cadence := "as usual"
	if lessOften {
		cadence = "less often"
	}
	act := lead.Activity{Kind: lead.KindPreferences, At: at, Detail: "topics: " + strings.Join(labels, ", ") + "; emails " + cadence}
	_, err := s.Store.ApplyEvent(ctx, leadID, &act, func(l *lead.Lead, isNew bool) error {
		if isNew {
			return ErrUnknownLead
		}
		if !l.Prefer(s.Program, topics, lessOften) {
			return lead.ErrNoChange
		}
		l.Engage(at)
		// Named by the lead's version it changes: the same choices saved
		// twice change it once, and choosing back and forth is noted each
		// time.
		act.Key = "preferences-" + strconv.FormatInt(l.Version, 10)
		return nil
	})
	if errors.Is(err, lead.ErrNoChange) {
		return nil
	}
	return err
}
