package lead

import (
	"errors"
	"fmt"
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
	l.Nurture.Claim = nil
	if l.Nurture.Status == NurtureActive {
		l.Nurture.Status, l.Nurture.StopReason, l.Nurture.DueAt = NurtureStopped, reason, time.Time{}
	}
	return true
}

// Answer records a one-click answer: the profile field the question fills,
// and the answer itself, so later steps pick assets that fit.
func (l *Lead) Answer(q program.Question, value string) error {
	known := false
	for _, o := range q.Options {
		if o.Value == value {
			known = true
		}
	}
	if !known {
		return fmt.Errorf("%w %q", ErrUnknownAnswer, q.ID)
	}
	switch q.Field {
	case "industry":
		l.Industry = value
	case "companySize":
		l.CompanySize = value
	case "role":
		l.Role = value
	case "timeline":
		l.Timeline = value
	case "country":
		l.Country = value
	}
	if l.Answers == nil {
		l.Answers = map[string]string{}
	}
	l.Answers[q.ID] = value
	return nil
}

// SentMessage returns the sent step with this SES MessageId.
func (l *Lead) SentMessage(messageID string) (*SentStep, bool) {
	for i := range l.Nurture.Sent {
		if l.Nurture.Sent[i].MessageID == messageID {
			return &l.Nurture.Sent[i], true
		}
	}
	return nil, false
}

// maxRecentClicks bounds the clicks kept for burst detection: a scanner
// clicks every link of one message within a second or two.
const maxRecentClicks = 24

// RememberClick keeps a click for burst detection.
func (l *Lead) RememberClick(c ClickMark) {
	l.RecentClicks = append(l.RecentClicks, c)
	if len(l.RecentClicks) > maxRecentClicks {
		l.RecentClicks = append([]ClickMark(nil), l.RecentClicks[len(l.RecentClicks)-maxRecentClicks:]...)
	}
}
