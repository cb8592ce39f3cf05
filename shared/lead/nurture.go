package lead

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"time"

	"github.com/leadnurture/nurture/shared/program"
)

// Nurture status values.
const (
	NurtureActive = "active" // a next email is due at DueAt
	// NurtureFinished: every track was sent and the program has no
	// evergreen cadence to go on with.
	NurtureFinished = "finished"
	NurtureStopped  = "stopped" // suppressed, accepted by sales, or otherwise ended
	// NurtureDormant: the lead did not answer the re-engagement email, so
	// mail stopped; a download or a reader's click wakes it (WakeDormant).
	NurtureDormant = "dormant"
)

// Stop reasons besides a suppression's, whose reason (SuppressedUnsubscribed
// ...) is the stop reason of the nurture it stops. The dossier shows them.
// A lead whose track leaves the program is not stopped: it moves on
// (NextPlace).
const StopAccepted = "accepted by sales"

// StopReturned is the stop reason of a lead sales returned with a reason
// the program maps to no more mail.
func StopReturned(reason string) string { return "returned by sales (" + reason + "), no more mail" }

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

// A lead keeps its emails of the last three weeks whole, at most maxSent of
// them: SES's events about them arrive within minutes (deliveries) or
// days (clicks), and a lifelong lead gets dozens of emails while every
// byte of the lead item is paid for on every write. Older emails leave
// only their asset behind (Had); their Delivery activities stay in the
// timeline, and SES events about them still find the lead and the track
// by the message's tags.
const (
	sentKept = 21 * 24 * time.Hour
	maxSent  = 6
)

// Nurture is the lead's place in nurture. Its state changes only through
// its methods (Enrol, Schedule, Claim, MoveOn, Finish, Stop, Ask, Sleep
// ...), so each change has one definition.
type Nurture struct {
	// Track is a program track's id, or program.EvergreenTrack.
	Track    string    `json:",omitempty"`
	NextStep int       `json:",omitempty"` // index of the next step to send; in evergreen, how many it sent
	DueAt    time.Time `json:",omitzero"`  // when the next email is due; zero when nothing is due
	Status   string    `json:",omitempty"`
	// StopReason says why nurture ended early (unsubscribed, bounced, accepted ...).
	StopReason string `json:",omitempty"`
	// AskedAt is when the re-engagement email ("still useful?") went out,
	// while the lead has not answered it.
	AskedAt time.Time `json:",omitzero"`
	// Done lists the tracks the lead went through, oldest first: it never
	// moves on to one of them again.
	Done []string `json:",omitempty"`
	// Sent lists the latest emails, oldest first (at most maxSent). An
	// email is listed in the same write that claims it, before SES is
	// asked to send it.
	Sent []SentStep `json:",omitempty"`
	// Had remembers the assets of emails older than Sent keeps, 2 bytes of
	// a hash each, so no asset is ever sent twice.
	Had []byte `json:",omitempty"`
	// Emails counts the nurture emails claimed so far.
	Emails int `json:",omitempty"`
}

// SentStep is one nurture email: listed when claimed, so no other tick
// sends it again, and removed only if SES refused it.
type SentStep struct {
	// Track is the track the email belongs to, program.EvergreenTrack, or
	// program.ReengageTrack for the re-engagement email.
	Track   string
	Step    int
	AssetID string `json:",omitempty"`
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

// Enrol starts a track (or the evergreen cadence) from its first step, due
// at firstDue. What the lead had before (sent emails, tracks done) is kept.
func (n *Nurture) Enrol(track string, firstDue time.Time) {
	n.Track, n.NextStep, n.AskedAt = track, 0, time.Time{}
	n.Schedule(firstDue)
}

// MoveOn leaves the current track, remembered as done, for track (a
// program track or program.EvergreenTrack), its first email due at due.
func (n *Nurture) MoveOn(track string, due time.Time) {
	n.markDone()
	n.Enrol(track, due)
}

// Schedule makes the next step due at due: after a step is claimed, moved
// into the send window, given back unsent, or when sales returns the lead.
func (n *Nurture) Schedule(due time.Time) {
	n.Status, n.StopReason, n.DueAt = NurtureActive, "", due
}

// Finish ends nurture after the last track when the program has no
// evergreen cadence. A later download of a new topic enrols the lead again.
func (n *Nurture) Finish() {
	n.markDone()
	n.Status, n.StopReason, n.DueAt = NurtureFinished, "", time.Time{}
}

// Stop ends nurture early for reason; nothing is due any more, and no
// capture enrols the lead again.
func (n *Nurture) Stop(reason string) {
	n.Status, n.StopReason, n.DueAt = NurtureStopped, reason, time.Time{}
}

// Claim lists an email as sent: a step of the current track moves the
// track on past it. Emails older than Sent keeps leave only their asset
// behind, and only the newest claim keeps its attempt's name (the tick
// that made it is the only one that asks).
func (n *Nurture) Claim(st SentStep) {
	for i := range n.Sent {
		n.Sent[i].Claim = ""
	}
	n.Sent = append(n.Sent, st)
	n.Emails++
	if st.Track == n.Track && st.Track != program.ReengageTrack {
		n.NextStep = st.Step + 1
	}
	old := max(len(n.Sent)-maxSent, 0)
	for old < len(n.Sent)-1 && n.Sent[old].At.Before(st.At.Add(-sentKept)) {
		old++
	}
	for _, gone := range n.Sent[:old] {
		if gone.AssetID != "" {
			h := hadKey(gone.AssetID)
			n.Had = append(n.Had, h[:]...)
		}
	}
	n.Sent = slices.Delete(n.Sent, 0, old)
}

// Unclaim takes back the claim of an email SES refused (claim names the
// attempt); an email SES has reported on is never taken back. removed
// says whether the claim was still listed. putBack says whether the lead
// is where the claim left it, so the caller may decide what comes of it
// (due again, or stopped): the track back at the step, or no longer
// waiting for an answer to a re-engagement email. It is false when the
// lead moved on since (suppressed, accepted by sales).
func (n *Nurture) Unclaim(claim string) (removed, putBack bool) {
	i := slices.IndexFunc(n.Sent, func(st SentStep) bool { return st.Claim == claim && st.MessageID == "" })
	if i < 0 {
		return false, false
	}
	st := n.Sent[i]
	n.Sent = slices.Delete(n.Sent, i, i+1)
	n.Emails--
	if n.Status != NurtureActive && n.Status != NurtureFinished {
		return true, false
	}
	switch {
	case st.Track == program.ReengageTrack && n.AskedAt.Equal(st.At):
		n.AskedAt = time.Time{}
		return true, true
	case st.Track == n.Track && n.NextStep == st.Step+1:
		// The claim of the last email nurture had left finished it.
		n.NextStep = st.Step
		return true, true
	}
	return true, false
}

// PassOver skips the next step of the track: it has nothing left to offer
// the lead, or is not for it (program.Step.When).
func (n *Nurture) PassOver() { n.NextStep++ }

// JumpTo makes step the next of the track, past those in between: a
// branch of the step the lead was sent (program.Step.Next) leads there.
func (n *Nurture) JumpTo(step int) { n.NextStep = step }

// After is the step of the current track the lead was last sent, and
// whether the lead is right after it: nothing passed over or jumped to
// since, so that step's branches (program.Step.Next) say where it goes.
func (n Nurture) After() (int, bool) {
	for i := len(n.Sent) - 1; i >= 0; i-- {
		if st := n.Sent[i]; st.Track == n.Track {
			return st.Step, st.Step+1 == n.NextStep
		}
	}
	return 0, false
}

// LastSentAt is when the latest nurture email was claimed; false before
// the first.
func (n Nurture) LastSentAt() (time.Time, bool) {
	if len(n.Sent) == 0 {
		return time.Time{}, false
	}
	return n.Sent[len(n.Sent)-1].At, true
}

// WasSent reports whether the lead was ever sent the asset.
func (n Nurture) WasSent(assetID string) bool {
	if slices.ContainsFunc(n.Sent, func(st SentStep) bool { return st.AssetID == assetID }) {
		return true
	}
	h := hadKey(assetID)
	for i := 0; i+len(h) <= len(n.Had); i += len(h) {
		if [2]byte(n.Had[i:i+len(h)]) == h {
			return true
		}
	}
	return false
}

// HasDone reports whether the lead went through the track already.
func (n Nurture) HasDone(track string) bool {
	// Leads finished before tracks were remembered name theirs as Track.
	return slices.Contains(n.Done, track) || (n.Status == NurtureFinished && n.Track == track)
}

// Ask records the re-engagement email claimed at: the track waits where it
// is, and if no engagement comes before due, the lead goes dormant.
func (n *Nurture) Ask(claim SentStep, due time.Time) {
	n.Claim(claim)
	n.AskedAt = claim.At
	n.Schedule(due)
}

// Answered ends the wait for an answer to the re-engagement email: the
// lead engaged since, and the track goes on.
func (n *Nurture) Answered() { n.AskedAt = time.Time{} }

// Sleep makes the lead dormant: the re-engagement email went unanswered.
// Nothing is due until the lead wakes (Lead.WakeDormant); the track is kept.
func (n *Nurture) Sleep() {
	n.Status, n.StopReason, n.DueAt = NurtureDormant, "", time.Time{}
}

func (n *Nurture) markDone() {
	if n.Track != "" && n.Track != program.EvergreenTrack {
		n.Done = appendOnce(n.Done, n.Track)
	}
}

// hadKey is an asset's mark in Had: 16 bits of a hash. Two assets that
// share a mark only mean one of them is never sent to the lead, and a
// lead's had assets take 2 bytes each, which every write pays for.
func hadKey(assetID string) [2]byte {
	h := fnv.New32a()
	h.Write([]byte(assetID))
	return [2]byte(h.Sum(nil))
}

// WakeAt is when the scheduler must next look at the lead, which is the
// rule of the store's due index: when its next step is due, if it may be
// mailed, or when its earliest pending alert or its next lifecycle event
// may go out, or its SLA's next follow-up is due, if that is sooner; for
// an unconfirmed lead, its next confirmation email or its expiry.
// false means nothing is waiting.
func (l *Lead) WakeAt() (time.Time, bool) {
	var at time.Time
	if l.Nurture.Due() && l.Mailable() {
		at = l.Nurture.DueAt
	}
	if o := l.OptIn; o != nil {
		// Its next confirmation email, else the end of its wait, when the
		// scheduler deletes it.
		at = o.ExpiresAt
		if !o.DueAt.IsZero() && o.DueAt.Before(at) && l.Mailable() {
			at = o.DueAt
		}
	}
	for _, p := range l.PendingAlerts {
		if send := p.SendAt(); at.IsZero() || send.Before(at) {
			at = send
		}
	}
	if s := l.slaWakeAt(); !s.IsZero() && (at.IsZero() || s.Before(at)) {
		at = s
	}
	if e, ok := l.NextEvent(); ok {
		if send := e.SendAt(); at.IsZero() || send.Before(at) {
			at = send
		}
	}
	return at, !at.IsZero()
}

// Engage records a person's own engagement at: a download, a reader's
// click, an answer or "keep them coming". Topics are what it was about
// (the asset's): they count towards the lead's interests, which decide
// the track it moves on to next.
func (l *Lead) Engage(at time.Time, topics ...string) {
	if at.After(l.EngagedAt) {
		l.EngagedAt = at
	}
	for _, t := range topics {
		l.Topics = appendOnce(l.Topics, t)
		if l.Interest == nil {
			l.Interest = map[string]int{}
		}
		l.Interest[t]++
	}
}

// LastEngaged is when the lead last engaged, or when it became a lead if
// it never did since.
func (l *Lead) LastEngaged() time.Time {
	if l.EngagedAt.After(l.CreatedAt) {
		return l.EngagedAt
	}
	return l.CreatedAt
}

// NextTrack is the track the lead moves on to when its current one ends:
// the track's then, else the track of a topic it said it wants
// (Preferences), else of its strongest interest (downloads and reader's
// clicks by topic; the first interest wins a tie) it has not had. false
// when no track is left.
func (l *Lead) NextTrack(p *program.Program) (program.Track, bool) {
	n := l.Nurture
	open := func(t program.Track) bool {
		return t.ID != n.Track && !n.HasDone(t.ID) && len(t.Steps) > 0 && !l.Muted(t.Topic)
	}
	if cur, ok := p.Track(n.Track); ok && cur.Then != "" {
		if t, ok := p.Track(cur.Then); ok && open(t) {
			return t, true
		}
		if cur.Then == program.EvergreenTrack {
			return program.Track{}, false
		}
	}
	wants := l.Preferences(p).Topics
	topics := slices.Clone(l.Topics)
	for _, t := range slices.Sorted(maps.Keys(wants)) {
		if wants[t] > 0 {
			topics = appendOnce(topics, t)
		}
	}
	slices.SortStableFunc(topics, func(a, b string) int {
		if w := sign(wants[b]) - sign(wants[a]); w != 0 {
			return w
		}
		return l.Interest[b] - l.Interest[a]
	})
	for _, topic := range topics {
		if t, ok := p.TrackForTopic(topic); ok && open(t) {
			return t, true
		}
	}
	return program.Track{}, false
}

// NextPlace is where the lead goes when its current track ends or leaves
// the program: the next track (NextTrack), else the evergreen cadence.
// false when the program has neither: the lead finishes.
func (l *Lead) NextPlace(p *program.Program) (string, bool) {
	if t, ok := l.NextTrack(p); ok {
		return t.ID, true
	}
	if p.EvergreenOn() {
		return program.EvergreenTrack, true
	}
	return "", false
}

// NextWait is how long the lead's next email waits after the previous
// one: its track's next step's wait, the evergreen cadence, or, at the end
// of a track, the first wait of the place it moves on to; twice that for a
// lead who chose less often.
func (l *Lead) NextWait(p *program.Program) time.Duration {
	n := l.Nurture
	if n.Track == program.EvergreenTrack {
		return l.Paced(p.Evergreen.Every.Duration)
	}
	if t, ok := p.Track(n.Track); ok && n.NextStep < len(t.Steps) {
		return l.Paced(t.Steps[n.NextStep].Wait.Duration)
	}
	if t, ok := l.NextTrack(p); ok {
		return l.Paced(t.Steps[0].Wait.Duration)
	}
	return l.Paced(p.Evergreen.Every.Duration)
}

// WakeDormant brings a dormant lead back into nurture when it engages again: its
// next email is due its usual wait after at. It reports whether the lead
// was dormant.
func (l *Lead) WakeDormant(p *program.Program, at time.Time) bool {
	if l.Nurture.Status != NurtureDormant || !l.Mailable() {
		return false
	}
	l.Nurture.AskedAt = time.Time{}
	l.Nurture.Schedule(at.Add(l.NextWait(p)))
	return true
}
