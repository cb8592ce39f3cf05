package sales

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// ExpiredGrace is how long after it expired a dossier link still offers a
// fresh one: long enough for an alert found in an old mailbox, short
// enough that a leaked link does not stay useful.
const ExpiredGrace = 365 * 24 * time.Hour

// Owner is the address the lead's alerts go to: its waiting alert's owner,
// else where the routing sends it now.
func (s *Desk) Owner(l *lead.Lead) string {
	if l.SLA != nil {
		return l.SLA.Owner
	}
	return program.Mailbox(Route(s.Program, l))
}

// RequestLink asks for a fresh link to the lead's dossier, sent to the
// lead's owner, on an expired link whose token Ref is ref: a pending alert
// of kind lead.FollowLink the alerts function sends. Whoever holds the old
// link learns nothing and gets nothing: the owner's mailbox does. At most
// one is sent per lead and hour, however often it is asked. It returns the
// address the link goes to.
func (s *Desk) RequestLink(ctx context.Context, leadID, ref string, now time.Time) (string, error) {
	alertID, _ := ParseRef(ref)
	hour := now.Truncate(time.Hour)
	key := "fresh-link:" + strconv.FormatInt(hour.Unix(), 10)
	var to string
	_, err := s.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, isNew bool) error {
		if isNew {
			return ErrUnknownLead
		}
		to = s.Owner(l)
		if l.HasApplied(key) {
			return lead.ErrNoChange // one is on its way already
		}
		l.MarkApplied(key)
		threshold := ""
		for _, a := range l.Alerts {
			if a.ID == alertID {
				threshold = a.Threshold
			}
		}
		l.PendingAlerts = append(l.PendingAlerts, lead.PendingAlert{
			ID: alertID + "-link-" + strconv.FormatInt(hour.Unix(), 36), Kind: lead.FollowLink, To: to, Of: alertID,
			Threshold: threshold, At: now,
		})
		return nil
	})
	if err != nil && !errors.Is(err, lead.ErrNoChange) {
		return "", err
	}
	return to, nil
}
