package lead

import (
	"errors"
	"time"

	"github.com/leadnurture/nurture/shared/program"
)

// Double opt-in: a form post says only that someone typed an address in.
// While the program asks for confirmation (program.DoubleOptIn), a new
// lead waits in OptIn: the scheduler sends it the confirmation email, and
// one reminder at most; nothing else is sent, scored across a threshold or
// told to the CRM until the person confirms (Confirm). Unconfirmed, it
// expires and is deleted.

// OptIn is a lead's wait for the person to confirm the address.
type OptIn struct {
	// Since is when the post that asked for confirmation came; the
	// confirmation link names it, so a link of an earlier, expired wait
	// never confirms a later one.
	Since     time.Time
	FormID    string
	ExpiresAt time.Time
	// Mails counts the confirmation emails claimed: the first, then the
	// reminder. DueAt is when the next is due, zero when none is left.
	Mails int       `json:",omitempty"`
	DueAt time.Time `json:",omitzero"`
	// Claim names the tick's attempt that claimed the latest email (as
	// SentStep.Claim does).
	Claim string `json:",omitempty"`
}

// Confirmation is the evidence of a confirmed address, kept with the
// consent it confirms: when, from where, and what the person confirmed.
type Confirmation struct {
	At time.Time
	// Asked is when the post that asked for it came (OptIn.Since).
	Asked  time.Time
	FormID string
	// Text is the consent wording of the form, as the confirmation page
	// showed it: the program's text may change under the same version.
	Text      string
	IP        string `json:",omitempty"`
	UserAgent string `json:",omitempty"`
}

// ErrOptInExpired is returned for a confirmation that comes too late, or
// whose wait was replaced by a later one.
var ErrOptInExpired = errors.New("confirmation expired")

// Unconfirmed reports whether the lead waits for its address to be
// confirmed: no nurture, no alert, no CRM event until it is.
func (l *Lead) Unconfirmed() bool { return l.OptIn != nil }

// Confirmed reports whether the person confirmed the address.
func (l *Lead) Confirmed() bool { return l.Consent != nil && l.Consent.Confirmed != nil }

// Expired reports whether the wait is over at now, unconfirmed.
func (o *OptIn) Expired(now time.Time) bool { return !now.Before(o.ExpiresAt) }

// ExpiredAt reports whether the lead is an unconfirmed one whose wait is
// over at now: whatever is stored of it is on its way out (the scheduler
// deletes it, TTL as a backstop), and every reader treats it as gone.
func (l *Lead) ExpiredAt(now time.Time) bool { return l.OptIn != nil && l.OptIn.Expired(now) }

// askToConfirm starts the wait: the first confirmation email is due at once.
func (l *Lead) askToConfirm(p *program.Program, formID string, now time.Time) {
	l.OptIn = &OptIn{Since: now, FormID: formID, ExpiresAt: now.Add(p.OptInExpiry()), DueAt: now}
}

// ClaimMail lists the next confirmation email as sent by claim at now, and
// makes the reminder due remindAfter after the wait began, if there is
// one and it comes before the wait expires. It reports whether the email
// is the reminder.
func (o *OptIn) ClaimMail(claim string, remindAfter time.Duration) bool {
	o.Mails++
	o.Claim = claim
	o.DueAt = time.Time{}
	if remind := o.Since.Add(remindAfter); o.Mails == 1 && remindAfter > 0 && remind.Before(o.ExpiresAt) {
		o.DueAt = remind
	}
	return o.Mails > 1
}

// UnclaimMail takes back the claim of a confirmation email SES refused for
// now: it is due again at wasDue. It reports whether the claim was held.
func (o *OptIn) UnclaimMail(claim string, wasDue time.Time) bool {
	if o.Claim != claim || o.Mails == 0 {
		return false
	}
	o.Mails--
	o.Claim = ""
	o.DueAt = wasDue
	return true
}

// GiveUp ends the confirmation emails: SES refused one for good, and the
// same address would be refused again. The lead expires unconfirmed.
func (o *OptIn) GiveUp(claim string) bool {
	if o.Claim != claim {
		return false
	}
	o.DueAt = time.Time{}
	return true
}

// ConfirmState is where a confirmation link stands.
type ConfirmState int

// Confirmation link states.
const (
	ConfirmPending ConfirmState = iota
	ConfirmDone
	ConfirmExpired
)

// ConfirmStateOf tells where the confirmation link of the wait that began
// at asked stands at now.
func (l *Lead) ConfirmStateOf(asked, now time.Time) ConfirmState {
	switch {
	case l.OptIn != nil && l.OptIn.Since.Equal(asked) && !l.OptIn.Expired(now):
		return ConfirmPending
	case l.OptIn == nil && l.Confirmed() && l.Consent.Confirmed.Asked.Equal(asked):
		return ConfirmDone
	}
	return ConfirmExpired
}

// Confirm records the person's confirmation c of the wait that began at
// c.Asked: it becomes part of the consent's evidence, and the lead joins
// nurture as its download would have had it. It returns ErrNoChange for
// a link confirmed already and ErrOptInExpired for one too late.
func (l *Lead) Confirm(p *program.Program, c Confirmation) error {
	switch l.ConfirmStateOf(c.Asked, c.At) {
	case ConfirmDone:
		return ErrNoChange
	case ConfirmExpired:
		return ErrOptInExpired
	}
	form, _ := p.Form(l.OptIn.FormID)
	c.FormID, c.Text = form.ID, form.Consent.Text
	if l.Consent == nil {
		l.Consent = &Consent{Version: form.Consent.Version, At: l.OptIn.Since, FormID: form.ID}
	}
	l.Consent.Confirmed = &c
	l.OptIn = nil
	l.UpdatedAt = c.At
	// What the lead asked for decides its track, first download first.
	for _, id := range l.Downloaded {
		if a, ok := p.Asset(id); ok && enrol(p, l, a, c.At) != "" {
			break
		}
	}
	return nil
}
