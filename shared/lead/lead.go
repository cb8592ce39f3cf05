// Package lead is the domain of one person's relationship with the company:
// who they are, what they asked for, where they are in nurture, and what
// stops mail to them. It knows nothing of Lambda, HTTP or DynamoDB.
package lead

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"time"
)

// Lead is one person, however many forms they fill in.
type Lead struct {
	ID          string
	Email       string
	Name        string
	Company     string
	Role        string
	Industry    string
	CompanySize string
	Country     string
	Timeline    string
	TimeZone    string // IANA name when known; the program's zone otherwise

	CreatedAt time.Time
	UpdatedAt time.Time

	// Consent is the evidence of the latest consent given on a form.
	Consent *Consent
	// FirstTouch is where the lead first came from; later forms never overwrite it.
	FirstTouch *Attribution

	Downloaded []string // asset ids the lead asked for, in order
	Topics     []string // topics of interest, in order of first interest

	Nurture Nurture

	// Suppression, once set, stops all mail to the lead.
	Suppression *Suppression

	// Answers holds one-click answers by question id.
	Answers map[string]string `json:",omitempty"`
	// RecentClicks are the latest clicks, kept to recognise scanners that
	// click every link of a message at once.
	RecentClicks []ClickMark `json:",omitempty"`
	// TransientBounces counts soft bounces; they do not stop mail.
	TransientBounces int `json:",omitempty"`

	// Score is the lead's interest and fit, as of Score.At.
	Score Score
	// PendingAlerts are threshold crossings whose alert is not sent yet: the
	// write that crosses records them, so a crash cannot lose one.
	PendingAlerts []PendingAlert `json:",omitempty"`
	// Alerts are the alerts sent, oldest first.
	Alerts []SentAlert `json:",omitempty"`
	// Sales is what sales decided about the lead, if anything.
	Sales *SalesDecision `json:",omitempty"`
	// Ledger keeps the score changes of the latest events, so an event
	// retried after a crash between the lead's write and its activity's
	// still records what it changed.
	Ledger []LedgerNote `json:",omitempty"`

	// Applied holds the keys of the latest events already applied to this
	// lead, so a retried event changes nothing (bounded, newest last).
	Applied []string

	// Version increases with every write; the store uses it for optimistic locking.
	Version int64
}

// Consent is what the person agreed to, when and where.
type Consent struct {
	Version    string
	At         time.Time
	FormID     string
	SourcePage string
	IP         string `json:",omitempty"`
}

// Attribution is where a visit came from.
type Attribution struct {
	SourcePage  string
	Referrer    string
	UTMSource   string
	UTMMedium   string
	UTMCampaign string
	UTMTerm     string
	UTMContent  string
}

// Nurture status values.
const (
	NurtureActive   = "active"   // a next step is due at DueAt
	NurtureFinished = "finished" // every step of the track was sent
	NurtureStopped  = "stopped"  // suppressed, accepted by sales, or otherwise ended
)

// Nurture is the lead's place in its track.
type Nurture struct {
	Track    string
	NextStep int       // index of the next step to send
	DueAt    time.Time // when the next step is due; zero when nothing is due
	Status   string
	// StopReason says why nurture ended early (unsubscribed, bounced, accepted ...).
	StopReason string
	// Sent lists the steps sent so far, oldest first.
	Sent []SentStep `json:",omitempty"`
	// Claim is set while a scheduler sends the next step; it keeps other
	// ticks off the lead until it is recorded or reconciled.
	Claim *Claim `json:",omitempty"`
}

// SentStep is one nurture email that SES accepted.
type SentStep struct {
	Track     string
	Step      int
	AssetID   string
	MessageID string
	At        time.Time
	// DeliveredAt is when the recipient's server accepted it, once known.
	DeliveredAt time.Time `json:",omitempty"`
	Opened      bool      `json:",omitempty"`
}

// Score is a lead's score: fit points (who they are, no decay) plus
// activity points that halve every half-life, as of At.
type Score struct {
	Activity float64 `json:",omitempty"` // decayed activity points as of At
	Fit      int     `json:",omitempty"`
	At       time.Time
	// Disarmed lists thresholds that alerted and have not yet fallen far
	// enough below to alert again.
	Disarmed []string `json:",omitempty"`
}

// PendingAlert is a threshold crossing waiting for its alert.
type PendingAlert struct {
	ID        string
	Threshold string
	Score     float64
	At        time.Time
	// ClaimedUntil keeps a second sender off while one is sending.
	ClaimedUntil time.Time `json:",omitempty"`
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
}

// LedgerNote is what one event changed the score by.
type LedgerNote struct {
	Key        string
	Points     float64  `json:",omitempty"`
	ScoreAfter float64  `json:",omitempty"`
	Earned     int      `json:",omitempty"`
	Why        []string `json:",omitempty"`
}

// maxLedgerNotes: a retry follows its crash within minutes.
const maxLedgerNotes = 3

// Note remembers the score change an activity recorded.
func (l *Lead) Note(a Activity) {
	l.Ledger = append(l.Ledger, LedgerNote{Key: a.Key, Points: a.Points, ScoreAfter: a.ScoreAfter, Earned: a.Earned, Why: a.Why})
	if len(l.Ledger) > maxLedgerNotes {
		l.Ledger = append([]LedgerNote(nil), l.Ledger[len(l.Ledger)-maxLedgerNotes:]...)
	}
}

// Recall fills in an activity's score change from the ledger notes.
func (l *Lead) Recall(a *Activity) {
	for _, n := range l.Ledger {
		if n.Key == a.Key {
			a.Points, a.ScoreAfter, a.Earned, a.Why = n.Points, n.ScoreAfter, n.Earned, n.Why
		}
	}
}

// ClickMark is one click on a link of a message.
type ClickMark struct {
	MessageID string
	Link      string
	At        time.Time
	Machine   bool
	Key       string // the click activity's key
	Points    int    `json:",omitempty"` // what the click earned when scored
}

// Claim is a scheduler's hold on the lead's next step.
type Claim struct {
	ID      string // unique per attempt; travels in the message's tags
	Step    int
	AssetID string
	At      time.Time
	// Until is when the hold lapses; a lapsed claim whose message may have
	// gone out is reconciled from SES's Send event, not resent blindly.
	Until time.Time
}

// Due reports whether the lead has a next step waiting to be sent.
func (n Nurture) Due() bool { return n.Status == NurtureActive && !n.DueAt.IsZero() }

// Suppression reasons.
const (
	SuppressedUnsubscribed = "unsubscribed"
	SuppressedBounced      = "bounced"
	SuppressedComplained   = "complained"
	SuppressedErased       = "erased"
)

// Suppression records why and when mail to the lead stopped.
type Suppression struct {
	Reason string
	At     time.Time
}

// maxApplied bounds the idempotency keys kept on a lead: retries arrive
// within minutes to hours, never hundreds of events later.
const maxApplied = 64

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
// lead item is paid for on every write.
func appliedKey(key string) string {
	if len(key) <= 16 {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:8])
}

// Mailable reports whether nurture mail may be sent to the lead at all.
func (l *Lead) Mailable() bool { return l.Suppression == nil }

// HasDownloaded reports whether the lead already has the asset.
func (l *Lead) HasDownloaded(assetID string) bool { return contains(l.Downloaded, assetID) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func appendOnce(list []string, s string) []string {
	if s == "" || contains(list, s) {
		return list
	}
	return append(list, s)
}

// IDFor derives the stable lead id from a normalised email address, so one
// person is one lead without a lookup item, and neither keys, links nor logs
// carry the address itself.
func IDFor(normalisedEmail string) string {
	sum := sha256.Sum256([]byte("lead:" + normalisedEmail))
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:15]))
}
