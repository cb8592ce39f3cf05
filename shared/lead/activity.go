package lead

import (
	"context"
	"errors"
	"time"

	"github.com/leadnurture/nurture/shared/program"
)

// Activity kinds.
const (
	KindDownload = "download"
	// KindEmail is a nurture email sent. No activity is stored for it (the
	// steps in Nurture.Sent record it); timelines show those under this kind.
	KindEmail = "email"
	// KindSent is a nurture email SES accepted, stored from its Send event
	// (keyed by the message), so the program's results count what was
	// mailed from activities alone. Timelines leave it out: the step
	// shows as KindEmail.
	KindSent = "sent"
)

// Activity is one thing that happened with a lead, kept for its timeline.
type Activity struct {
	// Key identifies the activity within the lead; writing the same key twice
	// is how a retried event is recognised.
	Key     string
	Kind    string
	At      time.Time
	FormID  string `json:",omitempty"`
	AssetID string `json:",omitempty"`
	Track   string `json:",omitempty"`
	Step    int    `json:",omitempty"`
	// MessageID names the nurture email an engagement event is about.
	MessageID string `json:",omitempty"`
	Link      string `json:",omitempty"`
	// Machine marks opens and clicks made by scanners or privacy proxies:
	// shown in the timeline, never scored.
	Machine       bool   `json:",omitempty"`
	MachineReason string `json:",omitempty"`
	// Detail is a short human-readable note (bounce type, answer ...).
	Detail string `json:",omitempty"`
	// Format and Stage are the asset's as they were when it was rated
	// (KindRating), so ratings stay countable by them whatever the
	// program says later.
	Format string `json:",omitempty"`
	Stage  string `json:",omitempty"`
	// Words are what the person wrote (KindWish), cleaned (CleanWords).
	Words string `json:",omitempty"`
	// Points is what this activity changed the score by (fit changes
	// included), and ScoreAfter the score right after: together the
	// activities are the score's ledger.
	Points     float64 `json:",omitempty"`
	ScoreAfter float64 `json:",omitempty"`
	// Earned is the activity's own points, before decay, fit excluded.
	Earned int `json:",omitempty"`
	// Adjust takes back points of earlier events this one shows were a
	// machine's (the first clicks of a scanner's burst).
	Adjust int `json:",omitempty"`
	// Why explains Points in words ("decision-stage download", "fit: industry finance").
	Why []string `json:",omitempty"`
	// By is who made a sales decision (lead.SalesDecision.By).
	By string `json:",omitempty"`
	// New marks a download that created the lead: its first capture.
	New bool `json:",omitempty"`
	// Threshold names the threshold a sales alert (not a follow-up) is
	// for: the lead became sales-ready at it.
	Threshold string `json:",omitempty"`
	// AlertAt is when the alert a sales decision answers went out, and
	// Overdue says its SLA had run out (a reminder was due) by then.
	AlertAt time.Time `json:",omitzero"`
	Overdue bool      `json:",omitempty"`

	// Repeat marks a download of an asset the lead already had: shown,
	// never scored, so posting a form again and again pumps nothing.
	Repeat bool `json:",omitempty"`
	// Changes are what a later form post said about the person that
	// differs from what was known (see FieldChange).
	Changes []FieldChange `json:",omitempty"`
}

// FieldChange is one profile field a later form post said something new
// about. Nothing confirms that a later post comes from the person (anyone
// can post any address), so it never replaces what is known: it fills a
// blank name or company (Applied) and is otherwise only recorded here,
// for the timeline. Fit and routing fields come from the lead's first
// form and from its answers to questions in emails (signed links), never
// from a later post; the alert that went out keeps its route.
type FieldChange struct {
	Field   string
	Was     string `json:",omitempty"`
	Said    string
	Applied bool `json:",omitempty"`
}

// Scorer changes a lead's score for an activity and records the change in
// the activity; it returns the thresholds crossed (scoring.Model).
type Scorer interface {
	Apply(l *Lead, a *Activity) []program.Threshold
}

// ErrConflict is returned by a store when a lead kept changing under an
// update; the caller may try again.
var ErrConflict = errors.New("lead changed concurrently too often")

// ErrNoChange, returned by an update function, tells the store to write nothing.
var ErrNoChange = errors.New("no change")

// Store keeps leads and their activities. UpdateLead loads the lead (a new
// Lead with only ID set when there is none), lets fn change it, and saves it
// only if nobody else wrote in between, retrying fn otherwise.
//
// ApplyEvent is UpdateLead for an event: the lead as fn changed it and the
// activity act as fn left it are written together with the event's record,
// keyed by act.Key, once: an event already recorded returns ErrNoChange and
// writes nothing, however many newer events came in between.
type Store interface {
	AddActivity(ctx context.Context, leadID string, a Activity) (added bool, err error)
	UpdateLead(ctx context.Context, id string, fn func(l *Lead, isNew bool) error) (*Lead, error)
	ApplyEvent(ctx context.Context, id string, act *Activity, fn func(l *Lead, isNew bool) error) (*Lead, error)
}
