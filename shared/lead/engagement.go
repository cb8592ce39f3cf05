package lead

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/leadnurture/nurture/shared/program"
)

// Engagement activity kinds.
const (
	KindDelivered       = "delivered"
	KindOpen            = "open"
	KindClick           = "click"
	KindBounce          = "bounce"
	KindComplaint       = "complaint"
	KindRejected        = "rejected"
	KindDelayed         = "delayed"
	KindRenderingFailed = "rendering-failed"
	KindUnsubscribe     = "unsubscribe"
	KindAnswer          = "answer"
	// KindKeep is "keep them coming", the answer to the re-engagement email.
	KindKeep = "keep"
	// KindConfirm is the person confirming the address (double opt-in).
	KindConfirm = "confirm"
)

// ErrUnknownAnswer is returned for an answer the question does not offer.
var ErrUnknownAnswer = errors.New("not an answer to this question")

// Suppress stops all mail to the lead at once. The first reason stands: a
// complaint after an unsubscribe does not rewrite history.
func (l *Lead) Suppress(reason string, at time.Time) bool {
	if l.Suppression != nil {
		return false
	}
	l.Suppression = &Suppression{Reason: reason, At: at}
	if l.Nurture.Status == NurtureActive {
		l.Nurture.Stop(reason)
	}
	return true
}

// SoftBounce records a soft bounce (SES gave up on a full mailbox, a server
// that kept refusing, or a bounce it could not classify) at `at`, and
// stops all mail once limit have come in a row: with no delivery after
// them. Events arrive in any order, so a bounce older than the latest
// delivery is not part of the run. It reports whether mail stopped.
func (l *Lead) SoftBounce(at time.Time, limit int) bool {
	if !at.After(l.DeliveredAt) {
		return false
	}
	i, _ := slices.BinarySearchFunc(l.SoftBounces, at, time.Time.Compare)
	l.SoftBounces = slices.Insert(l.SoftBounces, i, at)
	if n := len(l.SoftBounces); n > limit {
		l.SoftBounces = slices.Delete(l.SoftBounces, 0, n-limit)
	}
	if len(l.SoftBounces) < limit {
		return false
	}
	return l.Suppress(SuppressedSoftBounced, at)
}

// Delivered records a delivery SES reported at `at`: the soft bounces
// before it are no longer in a row.
func (l *Lead) Delivered(at time.Time) {
	if !at.After(l.DeliveredAt) {
		return
	}
	l.DeliveredAt = at
	l.SoftBounces = slices.DeleteFunc(l.SoftBounces, func(b time.Time) bool { return !b.After(at) })
	if len(l.SoftBounces) == 0 {
		l.SoftBounces = nil
	}
}

// Zone is the time zone the lead's send window and dates are in: the one
// their browser reported, else their country answer's, else the program's.
func (l *Lead) Zone(p *program.Program) string {
	if l.TimeZone != "" {
		return l.TimeZone
	}
	return p.Zone(l.Country)
}

// Answer records a one-click answer: the profile field the question fills,
// if it fills one, and the answer itself by question id, so later steps
// pick assets that fit and the program's conditions see it.
func (l *Lead) Answer(q program.Question, value string) error {
	if _, known := q.Option(value); !known {
		return fmt.Errorf("%w %q", ErrUnknownAnswer, q.ID)
	}
	if f := l.profileField(q.Field); f != nil {
		*f = value
	}
	if l.Answers == nil {
		l.Answers = map[string]string{}
	}
	l.Answers[q.ID] = value
	return nil
}

// AnswerTo is the lead's answer to a question: for a question that fills a
// profile field, the field (a form may have filled it); otherwise what the
// lead answered. "" while unknown.
func (l *Lead) AnswerTo(q program.Question) string {
	if q.Field != "" {
		if f := l.profileField(q.Field); f != nil {
			return *f
		}
		return ""
	}
	return l.Answers[q.ID]
}

// profileField is the lead's field a question fills (program.ProfileFields).
func (l *Lead) profileField(field string) *string {
	switch field {
	case "industry":
		return &l.Industry
	case "companySize":
		return &l.CompanySize
	case "role":
		return &l.Role
	case "timeline":
		return &l.Timeline
	case "country":
		return &l.Country
	}
	return nil
}

// SentStepOf returns the sent step an SES event is about: the one with its
// MessageId, or else the step of the track named in the message's tags
// (the MessageId is only known once an event has brought it).
func (l *Lead) SentStepOf(messageID, track string, step int) (*SentStep, bool) {
	for i := range l.Nurture.Sent {
		if st := &l.Nurture.Sent[i]; messageID != "" && st.MessageID == messageID {
			return st, true
		}
	}
	for i := len(l.Nurture.Sent) - 1; i >= 0; i-- {
		if st := &l.Nurture.Sent[i]; track != "" && st.Track == track && st.Step == step && st.MessageID == "" {
			return st, true
		}
	}
	return nil, false
}

// SentJustBefore returns the step claimed shortly before SES sent a message
// at sentAt and not yet joined to a MessageId: for events without tags. A
// step is claimed at its tick's start, and a tick sends for up to 15
// minutes.
func (l *Lead) SentJustBefore(sentAt time.Time) (*SentStep, bool) {
	for i := len(l.Nurture.Sent) - 1; i >= 0; i-- {
		st := &l.Nurture.Sent[i]
		if st.MessageID == "" && !st.At.After(sentAt.Add(time.Minute)) && st.At.After(sentAt.Add(-16*time.Minute)) {
			return st, true
		}
	}
	return nil, false
}

// Burst detection keeps the latest clicks: a scanner clicks every link of
// one message within a second or two, and its events arrive within hours
// of each other however out of order. Older clicks only make every write
// of the lead dearer.
const (
	maxRecentClicks = 12
	recentClickAge  = 24 * time.Hour
)

// RememberClick keeps a click for burst detection.
func (l *Lead) RememberClick(c ClickMark) {
	kept := l.RecentClicks[:0]
	for _, old := range l.RecentClicks {
		if old.At.After(c.At.Add(-recentClickAge)) {
			kept = append(kept, old)
		}
	}
	l.RecentClicks = append(kept, c)
	if len(l.RecentClicks) > maxRecentClicks {
		l.RecentClicks = append([]ClickMark(nil), l.RecentClicks[len(l.RecentClicks)-maxRecentClicks:]...)
	}
}
