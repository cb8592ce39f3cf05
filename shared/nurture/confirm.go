package nurture

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/leadnurture/nurture/shared/display"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// Double opt-in in the scheduler: an unconfirmed lead (lead.OptIn) gets
// its confirmation email at once, the one reminder when it is due, and is
// deleted when its wait ends. The emails are claimed like nurture steps:
// one conditional write lists the email on the lead before SES is asked,
// so no tick, retry or later form post ever sends one twice.

// confirmLinkGrace keeps a confirmation link verifying long after its
// wait ended, so a late click gets the page saying it expired (and to fill
// in the form again) rather than the page for a broken link.
const confirmLinkGrace = 365 * 24 * time.Hour

// ReminderPrefix starts the reminder's subject.
const ReminderPrefix = "Reminder: "

// confirmNext decides what the unconfirmed lead gets at now: its next
// confirmation email (outSent), a reminder moved into the send window
// (outRescheduled), its expiry (outExpired, nothing written: the caller
// deletes it) or nothing (outSkipped).
func (s *Scheduler) confirmNext(l *lead.Lead, now time.Time, claimID string) (outcome, mailing) {
	o, p := l.OptIn, s.Program
	switch {
	case o.Expired(now):
		return outExpired, mailing{}
	case !l.Mailable() || o.DueAt.IsZero() || o.DueAt.After(now):
		return outSkipped, mailing{}
	}
	if o.Mails > 0 {
		// The person waits for the first email; the reminder comes in the
		// send window, as nurture mail does, or not at all once too late.
		if open := s.Window.Following(now, 0, time.Time{}, l.Zone(p)); open.After(now) {
			o.DueAt = time.Time{}
			if open.Before(o.ExpiresAt) {
				o.DueAt = open
			}
			return outRescheduled, mailing{}
		}
	}
	reminder := o.ClaimMail(claimID, p.DoubleOptIn.RemindAfter.Duration)
	m := mailing{
		claim:   lead.SentStep{Track: program.ConfirmTrack, Step: o.Mails - 1, Claim: claimID, At: now},
		confirm: o.Mails, subject: p.DoubleOptIn.Subject, intro: p.DoubleOptIn.Intro,
	}
	if reminder {
		m.subject = ReminderPrefix + m.subject
	}
	return outSent, m
}

// composeConfirm renders a confirmation email. Its link names the wait
// (lead.OptIn.Since), so a link of an expired wait never confirms a later
// one.
func (s *Scheduler) composeConfirm(l *lead.Lead, m mailing, now time.Time) (mail.Message, error) {
	o, p := l.OptIn, s.Program
	tok := s.Signer.Sign(token.Claims{
		Purpose: token.PurposeConfirm, LeadID: l.ID, Track: program.ConfirmTrack, Step: m.claim.Step,
		Ref: strconv.FormatInt(o.Since.UnixNano(), 10), Expires: o.ExpiresAt.Add(confirmLinkGrace),
	})
	form, _ := p.Form(o.FormID)
	e := mail.ConfirmEmail{
		To:        l.Email,
		FirstName: display.FirstName(l.Name),
		Sender:    p.Sender,
		Subject:   m.subject,
		Intro:     p.DoubleOptIn.Intro,
		Consent:   form.Consent.Text,
		Button:    p.ConfirmButton(),
		URL:       link.Confirm.URL(s.BaseURL, tok),
		Expires:   o.ExpiresAt.In(zoneOf(l.Zone(p))),
		Reminder:  m.confirm > 1,
		Remind:    m.confirm == 1 && !o.DueAt.IsZero(),
	}
	msg, err := mail.RenderConfirm(e)
	if err != nil {
		return msg, fmt.Errorf("render confirmation email %d: %w", m.confirm, err)
	}
	msg.ConfigurationSet = s.ConfigurationSet
	msg.Tags = map[string]string{
		mail.TagLead:  mail.Tag(l.ID),
		mail.TagTrack: program.ConfirmTrack,
		mail.TagStep:  strconv.Itoa(m.claim.Step),
		mail.TagKind:  mail.KindConfirm,
	}
	return msg, nil
}

func zoneOf(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// unclaimConfirm changes the wait of a confirmation email SES refused
// (change reports whether the claim was still held).
func (s *Scheduler) unclaimConfirm(ctx context.Context, leadID string, change func(o *lead.OptIn) bool) error {
	_, err := s.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, _ bool) error {
		if l.OptIn == nil || !change(l.OptIn) {
			return lead.ErrNoChange
		}
		return nil
	})
	if err != nil && !errors.Is(err, lead.ErrNoChange) {
		return fmt.Errorf("give back confirmation email: %w", err)
	}
	return nil
}

// expire deletes a lead whose wait ended unconfirmed, unless it changed
// since it was read (a new form post starts afresh; the next tick looks
// again).
func (s *Scheduler) expire(ctx context.Context, l *lead.Lead) (outcome, error) {
	deleted, err := s.Store.DeleteUnconfirmed(ctx, l.ID, l.Version)
	switch {
	case err != nil:
		return outSkipped, fmt.Errorf("delete expired lead: %w", err)
	case !deleted:
		return outSkipped, nil
	}
	s.Log.Info("unconfirmed lead expired", "leadId", l.ID)
	return outExpired, nil
}
