// Package lead is the domain of one person's relationship with the company:
// who they are, what they asked for, where they are in nurture, and what
// stops mail to them. It knows nothing of Lambda, HTTP or DynamoDB.
package lead

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"
)

// Lead is one person, however many forms they fill in.
type Lead struct {
	ID          string `json:",omitempty"`
	Email       string `json:",omitempty"`
	Name        string `json:",omitempty"`
	Company     string `json:",omitempty"`
	Role        string `json:",omitempty"`
	Industry    string `json:",omitempty"`
	CompanySize string `json:",omitempty"`
	Country     string `json:",omitempty"`
	Timeline    string `json:",omitempty"`
	TimeZone    string `json:",omitempty"` // IANA name the browser reported; see Zone

	CreatedAt time.Time `json:",omitzero"`
	UpdatedAt time.Time `json:",omitzero"`

	// Consent is the evidence of the latest consent given on a form.
	Consent *Consent `json:",omitempty"`
	// OptIn is set while the lead waits to confirm its address (optin.go).
	OptIn *OptIn `json:",omitempty"`
	// FirstTouch is where the lead first came from; later forms never overwrite it.
	FirstTouch *Attribution `json:",omitempty"`

	Downloaded []string `json:",omitempty"` // asset ids the lead asked for, in order
	Topics     []string `json:",omitempty"` // topics of interest, in order of first interest
	// Interest counts downloads and reader's clicks by topic: the lead
	// moves on to the track of its strongest interest next (NextTrack).
	Interest map[string]int `json:",omitempty"`
	// EngagedAt is the lead's latest own engagement (Engage): a lead silent
	// for long is asked whether to go on.
	EngagedAt time.Time `json:",omitzero"`

	Nurture Nurture
	// Voice is what the lead told us about the mail itself: what was not
	// useful, the topics it wants, how often.
	Voice Voice `json:",omitzero"`

	// Suppression, once set, stops all mail to the lead.
	Suppression *Suppression `json:",omitempty"`

	// Answers holds one-click answers by question id.
	Answers map[string]string `json:",omitempty"`
	// RecentClicks are the latest clicks, kept to recognise scanners that
	// click every link of a message at once.
	RecentClicks []ClickMark `json:",omitempty"`
	// DeliveredAt is the latest delivery SES reported, and SoftBounces the
	// times of the soft bounces since (oldest first): enough of them in a
	// row stop mail (SoftBounce).
	DeliveredAt time.Time   `json:",omitzero"`
	SoftBounces []time.Time `json:",omitempty"`

	// Score is the lead's interest and fit, as of Score.At.
	Score Score
	// PendingAlerts are threshold crossings whose alert is not sent yet: the
	// write that crosses records them, so a crash cannot lose one.
	PendingAlerts []PendingAlert `json:",omitempty"`
	// Alerts are the alerts sent, oldest first.
	Alerts []SentAlert `json:",omitempty"`
	// Sales is what sales decided about the lead, if anything.
	Sales *SalesDecision `json:",omitempty"`
	// SLA is the clock on an alert sales has not decided yet (sla.go).
	SLA *SLA `json:",omitempty"`
	// PendingEvents are lifecycle events for the CRM not delivered yet,
	// oldest first: the write that changes the lead records them
	// (RecordLifecycle), the events function delivers them.
	PendingEvents []LifecycleEvent `json:",omitempty"`
	// Ledger keeps the score changes of the latest events, so an event
	// retried after a crash between the lead's write and its activity's
	// still records what it changed.
	Ledger []LedgerNote `json:",omitempty"`

	// Applied holds the keys of the latest events already applied to this
	// lead, so a retried event changes nothing (bounded, newest last).
	Applied []string `json:",omitempty"`

	// Version increases with every write; the store uses it for optimistic locking.
	Version int64 `json:",omitempty"`
}

// Consent is what the person agreed to, when and where.
type Consent struct {
	Version    string
	At         time.Time
	FormID     string
	SourcePage string
	IP         string `json:",omitempty"`
	// Confirmed is the double opt-in's evidence, once the person confirmed.
	Confirmed *Confirmation `json:",omitempty"`
}

// Attribution is where a visit came from.
type Attribution struct {
	SourcePage  string `json:",omitempty"`
	Referrer    string `json:",omitempty"`
	UTMSource   string `json:",omitempty"`
	UTMMedium   string `json:",omitempty"`
	UTMCampaign string `json:",omitempty"`
	UTMTerm     string `json:",omitempty"`
	UTMContent  string `json:",omitempty"`
}

// Score is a lead's score: fit points (who they are, no decay) plus
// activity points that halve every half-life, as of At.
type Score struct {
	Activity float64   `json:",omitempty"` // decayed activity points as of At
	Fit      int       `json:",omitempty"`
	At       time.Time `json:",omitzero"`
	// Disarmed lists thresholds that alerted and have not yet fallen far
	// enough below to alert again.
	Disarmed []string `json:",omitempty"`
	// FormCrossedAt is when the lead's own form post last carried its
	// score across a threshold (program.Scoring.FormCrossing).
	FormCrossedAt time.Time `json:",omitzero"`
}

// PendingAlert is a threshold crossing waiting for its alert.
type PendingAlert struct {
	ID        string
	Threshold string
	Score     float64
	At        time.Time
	// NotBefore holds back an alert a click or an open caused until a
	// scanner's burst would have shown itself (and withdrawn the alert).
	NotBefore time.Time `json:",omitzero"`
	// ClaimedUntil keeps a second sender off while one is sending.
	ClaimedUntil time.Time `json:",omitempty"`
	// Mailed is set once the email went out (it is in Alerts then): the
	// alert stays pending only while its webhook post is owed, and a retry
	// posts without mailing again.
	Mailed bool `json:",omitempty"`
	// Tries counts the failed attempts at the channel now owed (the email,
	// then the webhook); RetryAt holds the next one back.
	Tries   int       `json:",omitempty"`
	RetryAt time.Time `json:",omitzero"`
	// Kind is empty for the alert itself, else the follow-up it is
	// (FollowReminder, FollowEscalation, FollowLink): an email to To
	// about the alert Of, never posted to the webhook.
	Kind string `json:",omitempty"`
	To   string `json:",omitempty"`
	Of   string `json:",omitempty"`
}

// SendAt is when the alert may go out: after its settle time, after the
// backoff of a failed attempt, and once a sender's claim on it has lapsed.
func (p PendingAlert) SendAt() time.Time {
	at := p.At
	for _, t := range []time.Time{p.NotBefore, p.RetryAt, p.ClaimedUntil} {
		if t.After(at) {
			at = t
		}
	}
	return at
}

// SentAlert is an alert that went to sales.
type SentAlert struct {
	ID        string
	Threshold string
	Score     float64
	At        time.Time
	To        string
	MessageID string `json:",omitempty"`
}

// Sales decisions.
const (
	SalesAccepted = "accepted"
	SalesReturned = "returned"
)

// SalesDecision is sales' answer to an alert.
type SalesDecision struct {
	Status string
	Reason string `json:",omitempty"` // why it went back to nurture
	At     time.Time
	// By is who decided: the address the link that decided was sent to.
	By string `json:",omitempty"`
}

// LedgerNote is what one event changed the score by.
type LedgerNote struct {
	Key string
	// At is the activity's time: a retry writes it at this time again,
	// which is what makes it the same activity (the store sorts by it).
	At         time.Time `json:",omitzero"`
	Points     float64   `json:",omitempty"`
	ScoreAfter float64   `json:",omitempty"`
	Earned     int       `json:",omitempty"`
	Why        []string  `json:",omitempty"`
}

// maxLedgerNotes: a retry follows its crash within minutes.
const maxLedgerNotes = 3

// Note remembers the score change an activity recorded.
func (l *Lead) Note(a Activity) {
	l.Ledger = append(l.Ledger, LedgerNote{Key: a.Key, At: a.At, Points: a.Points, ScoreAfter: a.ScoreAfter, Earned: a.Earned, Why: a.Why})
	if len(l.Ledger) > maxLedgerNotes {
		l.Ledger = append([]LedgerNote(nil), l.Ledger[len(l.Ledger)-maxLedgerNotes:]...)
	}
}

// Recall fills in an activity's time and score change from the ledger
// notes: a retried event writes the activity its first try noted.
func (l *Lead) Recall(a *Activity) {
	for _, n := range l.Ledger {
		if n.Key == a.Key {
			a.Points, a.ScoreAfter, a.Earned, a.Why = n.Points, n.ScoreAfter, n.Earned, n.Why
			if !n.At.IsZero() {
				a.At = n.At
			}
		}
	}
}

// ClickMark is one click on a link of a message, kept small: only
// equality of messages and links among a lead's latest clicks matters for
// burst detection, and 32 bits of a hash tell a dozen apart.
type ClickMark struct {
	Message string // 8 hex characters of a hash of the SES MessageId
	Link    string // 8 hex characters of a hash of the link
	At      time.Time
	Machine bool   `json:",omitempty"`
	Key     string // the click activity's key
	Points  int    `json:",omitempty"` // what the click earned when scored
}

// Mark returns the burst-detection mark of a click on link in the message.
func Mark(messageID, link string, at time.Time, key string) ClickMark {
	return ClickMark{Message: shortHash(messageID)[:8], Link: shortHash(link)[:8], At: at, Key: key}
}

// OtherLinkOf reports whether c is a click in the same message as m, on another link.
func (c ClickMark) OtherLinkOf(m ClickMark) bool { return c.Message == m.Message && c.Link != m.Link }

// Suppression reasons.
const (
	SuppressedUnsubscribed = "unsubscribed"
	SuppressedBounced      = "bounced"
	SuppressedComplained   = "complained"
	SuppressedSoftBounced  = "soft-bounced"
	SuppressedErased       = "erased"
)

// Suppression records why and when mail to the lead stopped.
type Suppression struct {
	Reason string
	At     time.Time
}

// maxApplied bounds the idempotency keys kept on a lead: retries arrive
// within minutes to hours, never dozens of the lead's own events later.
const maxApplied = 32

// HasApplied reports whether the event with this key was already applied.
func (l *Lead) HasApplied(key string) bool {
	k := appliedKey(key)
	for _, a := range l.Applied {
		if a == k {
			return true
		}
	}
	return false
}

// MarkApplied remembers that the event with this key was applied.
func (l *Lead) MarkApplied(key string) {
	l.Applied = append(l.Applied, appliedKey(key))
	if len(l.Applied) > maxApplied {
		l.Applied = append([]string(nil), l.Applied[len(l.Applied)-maxApplied:]...)
	}
}

// appliedKey shortens a key for the lead's memory: 16 hex characters of a
// hash cannot collide among one lead's recent events, and every byte of the
// lead item is paid for on every write. Keys that are 16 hex characters
// already (SES event keys) are kept as they are, so every applied key is 8
// bytes, which is how the store keeps them.
func appliedKey(key string) string {
	if len(key) == 16 && isHex(key) {
		return key
	}
	return shortHash(key)
}

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// shortHash is 64 bits of a hash in hex: unique enough within one lead.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

// Mailable reports whether nurture mail may be sent to the lead at all
// (an unconfirmed lead is not in nurture, and gets only its confirmation
// emails).
func (l *Lead) Mailable() bool { return l.Suppression == nil }

// HasDownloaded reports whether the lead already has the asset.
func (l *Lead) HasDownloaded(assetID string) bool { return slices.Contains(l.Downloaded, assetID) }

func appendOnce(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
