package lead

import (
	"fmt"
	"time"
)

// Nurture status values.
const (
	NurtureActive   = "active"   // a next step is due at DueAt
	NurtureFinished = "finished" // every step of the track was sent
	NurtureStopped  = "stopped"  // suppressed, accepted by sales, or otherwise ended
)

// Stop reasons besides a suppression's, whose reason (SuppressedUnsubscribed
// ...) is the stop reason of the nurture it stops. The dossier shows them.
const (
	StopAccepted     = "accepted by sales"
	StopTrackRemoved = "track removed from the program"
)

// maxFailureText bounds the mail service's words kept in a stop reason:
// every byte of the lead item is paid for on every write.
const maxFailureText = 300

// StopStepFailed is the stop reason of a step the mail service refused for
// good (step is its index; the reason counts from 1, as people do).
func StopStepFailed(step int, at time.Time, why string) string {
	if len(why) > maxFailureText {
		why = why[:maxFailureText]
	}
	return fmt.Sprintf("step %d failed at %s: %s", step+1, at.Format(time.RFC3339), why)
}

// Nurture is the lead's place in its track. Its state changes only through
// Enrol, Schedule, Finish and Stop, so each change has one definition.
type Nurture struct {
	Track    string    `json:",omitempty"`
	NextStep int       `json:",omitempty"` // index of the next step to send
	DueAt    time.Time `json:",omitzero"`  // when the next step is due; zero when nothing is due
	Status   string    `json:",omitempty"`
	// StopReason says why nurture ended early (unsubscribed, bounced, accepted ...).
	StopReason string `json:",omitempty"`
	// Sent lists the steps sent so far, oldest first. A step is listed in
	// the same write that claims it, before SES is asked to send it.
	Sent []SentStep `json:",omitempty"`
}

// SentStep is one nurture email: listed when claimed, so no other tick
// sends it again, and removed only if SES refused it.
type SentStep struct {
	Track   string
	Step    int
	AssetID string
	// Claim names the tick's attempt that listed the step: the tick knows
	// its own claim when the write's answer was lost and a retry refused.
	Claim string `json:",omitempty"`
	// MessageID is SES's id, filled in by the first SES event about the
	// message that changes the lead (its Delivery, usually).
	MessageID string `json:",omitempty"`
	At        time.Time
	// DeliveredAt is when the recipient's server accepted it, once known.
	DeliveredAt time.Time `json:",omitempty"`
	Opened      bool      `json:",omitempty"`
}

// Due reports whether the lead has a next step waiting to be sent.
func (n Nurture) Due() bool { return n.Status == NurtureActive && !n.DueAt.IsZero() }

// Enrol starts a track from its first step, due at firstDue. The steps of
// an earlier track are forgotten with it.
func (n *Nurture) Enrol(track string, firstDue time.Time) {
	*n = Nurture{Track: track, Status: NurtureActive, DueAt: firstDue}
}

// Schedule makes the next step due at due: after a step is claimed, moved
// into the send window, given back unsent, or when sales returns the lead.
func (n *Nurture) Schedule(due time.Time) {
	n.Status, n.StopReason, n.DueAt = NurtureActive, "", due
}

// Finish ends nurture after the track's last step. A later capture may
// enrol the lead in another track.
func (n *Nurture) Finish() {
	n.Status, n.StopReason, n.DueAt = NurtureFinished, "", time.Time{}
}

// Stop ends nurture early for reason; nothing is due any more, and no
// capture enrols the lead again.
func (n *Nurture) Stop(reason string) {
	n.Status, n.StopReason, n.DueAt = NurtureStopped, reason, time.Time{}
}

// WakeAt is when the scheduler must next look at the lead, which is the
// rule of the store's due index: when its next step is due, if it may be
// mailed, or when its earliest pending alert may go out, if that is sooner.
// false means nothing is waiting.
func (l *Lead) WakeAt() (time.Time, bool) {
	var at time.Time
	if l.Nurture.Due() && l.Mailable() {
		at = l.Nurture.DueAt
	}
	for _, p := range l.PendingAlerts {
		if send := p.SendAt(); at.IsZero() || send.Before(at) {
			at = send
		}
	}
	return at, !at.IsZero()
}
