// Package program holds the nurture program: the one file where marketing and
// sales write down together who sends, what content exists, which forms
// capture leads, how tracks nurture them, and what makes a lead sales-ready.
package program

import "time"

// Program is the whole nurture program file.
type Program struct {
	Version    int         `yaml:"version"`
	Sender     Sender      `yaml:"sender"`
	Schedule   Schedule    `yaml:"schedule"`
	Retention  Retention   `yaml:"retention"`
	Assets     []Asset     `yaml:"assets"`
	Forms      []Form      `yaml:"forms"`
	Questions  []Question  `yaml:"questions"`
	Tracks     []Track     `yaml:"tracks"`
	Scoring    Scoring     `yaml:"scoring"`
	Thresholds []Threshold `yaml:"thresholds"`
	Routing    Routing     `yaml:"routing"`
	// Evergreen, Reengage and Returns are lifelong nurture: what comes
	// after the tracks, when a silent lead is asked whether to go on, and
	// what a lead sales returns rejoins. Each is optional.
	Evergreen Evergreen         `yaml:"evergreen"`
	Reengage  Reengage          `yaml:"reengage"`
	Returns   map[string]string `yaml:"returns"` // return reason code -> one of ReturnActions
	// Suppression says when mail stops by itself; optional, with defaults.
	Suppression Suppression `yaml:"suppression"`
	// Voice is what leads may tell us about the mail itself: its topics
	// as they choose them, and how often to ask what would help.
	Voice Voice `yaml:"voice"`
	// Reports says who gets the weekly digest of the program's results.
	Reports Reports `yaml:"reports"`
	// DoubleOptIn says whose address must be confirmed before nurture
	// mail goes out (optin.go).
	DoubleOptIn DoubleOptIn `yaml:"doubleOptIn"`

	// lookups is built once by Parse so the hot paths (every form post,
	// every scheduler tick) find ids without scanning; a Program built by
	// hand has none and is scanned instead.
	lookups *lookups
}

// Reports is where the program's results go: every Monday a digest with
// the headline numbers of the week before, their change against the week
// before that, and a link to the results page. Empty sends none.
type Reports struct {
	To []string `yaml:"to"`
}

// MaxReportRecipients bounds reports.to: a digest is for the team that
// runs the program, not a mailing list.
const MaxReportRecipients = 10

// Sender is who the nurture mail comes from; the postal address goes in every
// footer because CAN-SPAM and most bulk-sender rules ask for it.
type Sender struct {
	From          string `yaml:"from"`          // "Acme Insights <insights@acme.example>"
	ReplyTo       string `yaml:"replyTo"`       // optional
	Company       string `yaml:"company"`       // shown in footers and pages
	PostalAddress string `yaml:"postalAddress"` // one line
}

// Schedule says when nurture mail may go out.
type Schedule struct {
	TimeZone string   `yaml:"timeZone"` // IANA name, default for leads with no known zone
	Days     []string `yaml:"days"`     // mon..sun
	Start    string   `yaml:"start"`    // "09:00" local time
	End      string   `yaml:"end"`      // "17:00" local time
	// FrequencyCap is the least time between two nurture emails to one
	// lead, across tracks, evergreen and re-engagement; zero for no cap.
	FrequencyCap Duration `yaml:"frequencyCap"`
	// NoSendDates are days no nurture mail goes out, in the lead's zone:
	// "2026-12-24" for one day, "12-25" for that day every year.
	NoSendDates []string `yaml:"noSendDates"`
}

// Suppression says when mail to a lead stops by itself. A hard bounce, a
// spam complaint or an unsubscribe stops it at once; soft bounces (a full
// mailbox, a server that keeps refusing, a bounce SES cannot classify) only
// after SoftBounces of them in a row, with no delivery between.
type Suppression struct {
	SoftBounces int `yaml:"softBounces"`
}

// Soft bounces in a row that stop mail: the default, and the most a
// program may set (at one email a week, ten are over two months of mail
// that reached nobody).
const (
	DefaultSoftBounces = 3
	MaxSoftBounces     = 10
)

// SoftBounceLimit is how many soft bounces in a row stop mail to a lead.
func (p *Program) SoftBounceLimit() int {
	if n := p.Suppression.SoftBounces; n > 0 {
		return n
	}
	return DefaultSoftBounces
}

// Retention says how long activity history is kept.
type Retention struct {
	ActivityDays int `yaml:"activityDays"`
}

// Asset formats and buying stages the validator accepts.
var (
	Formats = []string{"whitepaper", "ebook", "video", "webinar", "briefing", "case-study", "checklist", "report", "guide"}
	Stages  = []string{"awareness", "consideration", "decision"}
)

// Asset is one piece of helpful content in the library.
type Asset struct {
	ID         string   `yaml:"id"`
	Title      string   `yaml:"title"`
	URL        string   `yaml:"url"`
	Format     string   `yaml:"format"` // one of Formats
	Summary    string   `yaml:"summary"`
	Topics     []string `yaml:"topics"`
	Stage      string   `yaml:"stage"`      // one of Stages
	Industries []string `yaml:"industries"` // empty: fits every industry
	// Published is the day the asset came out, "2026-01-15": evergreen
	// mail sends the newest first, and never an asset before this day.
	Published string `yaml:"published"`
	// SameAs names an asset with the same content in another format (the
	// video of a whitepaper): a lead who had one never gets the other.
	SameAs string `yaml:"sameAs"`
}

// Form is a content-download form on the website.
type Form struct {
	ID          string   `yaml:"id"`
	Title       string   `yaml:"title"`
	Asset       string   `yaml:"asset"`       // the asset the form delivers
	Fields      []string `yaml:"fields"`      // fields shown, from FormFields
	Required    []string `yaml:"required"`    // subset of Fields; email is always required
	ThankYouURL string   `yaml:"thankYouUrl"` // optional; default is the asset's URL
	Consent     Consent  `yaml:"consent"`
	// DoubleOptIn, when set, overrides the program's doubleOptIn.required
	// for this form (a country's rule still wins).
	DoubleOptIn *bool `yaml:"doubleOptIn"`
}

// FormFields are the lead fields a form may collect.
var FormFields = []string{"email", "name", "company", "role", "industry", "companySize", "country"}

// Consent is the consent wording a form shows; its version is stored with
// every lead so the evidence names exactly what the person agreed to.
type Consent struct {
	Required bool   `yaml:"required"`
	Version  string `yaml:"version"`
	Text     string `yaml:"text"`
	RecordIP bool   `yaml:"recordIp"`
}

// Question is a question a nurture email asks, answered with one click. A
// question with a Field fills that profile field (progressive profiling);
// any other question is the program's own, its answer kept by question id.
// Either way each option may carry fit points and steer what is sent next.
type Question struct {
	ID      string   `yaml:"id"`
	Text    string   `yaml:"text"`
	Field   string   `yaml:"field"` // optional: the lead profile field the answer fills
	Options []Option `yaml:"options"`
}

// Option returns the question's option with the value.
func (q Question) Option(value string) (Option, bool) {
	for _, o := range q.Options {
		if o.Value == value {
			return o, true
		}
	}
	return Option{}, false
}

// ProfileFields are the lead profile fields a question's answers fill and
// scoring fit points are keyed by.
var ProfileFields = []string{"industry", "companySize", "role", "timeline", "country"}

// Option is one answer to a question.
type Option struct {
	Value string `yaml:"value"`
	Label string `yaml:"label"`
	// TimeZone, on a country question's options, is the IANA zone of a
	// lead who answers it and whose browser did not say: their send window
	// is in that zone.
	TimeZone string `yaml:"timeZone,omitempty"`
	// Points are the fit points of this answer, on a question without a
	// field (a field's fit points are under scoring.fit).
	Points int `yaml:"points,omitempty"`
	// Stages, Formats and Topics are what a lead giving this answer is
	// sent more of: each next pick prefers assets at these buying stages,
	// in these formats, about these topics.
	Stages  []string `yaml:"stages,omitempty"`
	Formats []string `yaml:"formats,omitempty"`
	Topics  []string `yaml:"topics,omitempty"`
}

// Steers reports whether the answer changes what the lead is sent.
func (o Option) Steers() bool { return len(o.Stages)+len(o.Formats)+len(o.Topics) > 0 }

// Track nurtures the leads of one topic through ordered steps.
type Track struct {
	ID    string `yaml:"id"`
	Topic string `yaml:"topic"`
	Steps []Step `yaml:"steps"`
	// Then is where a lead goes after the last step: another track's id or
	// EvergreenTrack. Empty follows the lead's interests: the track of its
	// next strongest topic it has not had, then evergreen.
	Then string `yaml:"then"`
	// Exits end the track early for a lead that meets any of them, checked
	// whenever its next email is due: it moves on as after the last step.
	Exits []Exit `yaml:"exits"`
}

// Exit is a condition that ends a track early.
type Exit struct {
	When Condition `yaml:"when"`
}

// StepIndex returns the index of the track's step with the id.
func (t Track) StepIndex(id string) (int, bool) {
	for i, s := range t.Steps {
		if id != "" && s.ID == id {
			return i, true
		}
	}
	return 0, false
}

// EvergreenTrack is the track id of the evergreen cadence (Evergreen), as
// a lead's nurture state and a track's then: name it. No track may use it.
const EvergreenTrack = "evergreen"

// ReengageTrack names the re-engagement email in a lead's sent steps and
// in the email's tags. No track may use it.
const ReengageTrack = "reengage"

// Evergreen is the cadence a lead gets once its tracks are done: every
// Every, the best-fitting asset of its topics it has not had, newest first.
// A zero Every turns it off: leads then finish after their tracks.
type Evergreen struct {
	Every Duration `yaml:"every"`
	Intro string   `yaml:"intro"` // above the asset, like a step's intro
}

// Reengage asks a lead who has not engaged (downloaded, clicked, answered)
// for After whether to go on: one email with a "keep them coming" link.
// Without an answer within Wait, mail stops and the lead is dormant until
// it downloads or clicks again. A zero After turns it off.
type Reengage struct {
	After   Duration `yaml:"after"`
	Wait    Duration `yaml:"wait"`
	Subject string   `yaml:"subject"`
	Intro   string   `yaml:"intro"`
	Button  string   `yaml:"button"` // the keep link's label; a default when empty
}

// What a lead returned by sales does next, by the return reason (Returns).
const (
	ReturnResume    = "resume"    // back where it left off; the default
	ReturnRestart   = "restart"   // its track again from the first step (only what is new to it)
	ReturnEvergreen = "evergreen" // straight to the evergreen cadence
	ReturnStop      = "stop"      // no more nurture mail
)

// ReturnActions lists what Returns may map a reason to.
var ReturnActions = []string{ReturnResume, ReturnRestart, ReturnEvergreen, ReturnStop}

// ReturnReason is why sales sent a lead back to nurture: a short code kept
// on the lead and in the program's returns, and a label for the sales page.
type ReturnReason struct {
	Code  string
	Label string
}

// ReturnReasons are the reasons sales may give, in the order shown.
var ReturnReasons = []ReturnReason{
	{"not-ready", "Not ready to buy yet"},
	{"no-budget", "No budget"},
	{"wrong-person", "Not the right person"},
	{"no-response", "Did not respond"},
	{"other", "Other"},
}

// Step is one nurture email.
type Step struct {
	// ID names the step, so that another step's Next can jump to it;
	// optional otherwise.
	ID       string   `yaml:"id"`
	Wait     Duration `yaml:"wait"`     // after enrolment (first step) or the previous step
	Stage    string   `yaml:"stage"`    // buying stage of the asset to pick
	Formats  []string `yaml:"formats"`  // preferred formats; empty means any
	Asset    string   `yaml:"asset"`    // optional: a fixed asset instead of picking
	Subject  string   `yaml:"subject"`  // optional; default derived from the asset title
	Intro    string   `yaml:"intro"`    // one or two sentences before the asset
	Question string   `yaml:"question"` // optional question id
	// When, if set, sends the step only to leads that meet it; the others
	// pass over it to the next step.
	When Condition `yaml:"when"`
	// Next, if set, is where a lead goes after this step: the first branch
	// whose condition it meets when its next email is due, else the next
	// step.
	Next []Branch `yaml:"next"`
}

// Branch jumps, after a step, to a later step of the track.
type Branch struct {
	When Condition `yaml:"when"` // empty: always (the last branch, as an "otherwise")
	Goto string    `yaml:"goto"` // the id of a later step of the same track
}

// Condition is a test of a lead: every part set must hold, and an empty
// condition always holds.
type Condition struct {
	// Answer maps a question id to the answers that meet it: the lead's
	// answer (or profile value, for a question with a field) is one of them.
	Answer map[string][]string `yaml:"answer"`
	// Score is a band the lead's score is in.
	Score ScoreBand `yaml:"score"`
}

// IsZero reports whether the condition tests nothing (and so always holds).
func (c Condition) IsZero() bool { return len(c.Answer) == 0 && c.Score.IsZero() }

// ScoreBand is a range of scores: at least AtLeast, below Below; either
// may be left out.
type ScoreBand struct {
	AtLeast *int `yaml:"atLeast"`
	Below   *int `yaml:"below"`
}

// IsZero reports whether the band sets no bound.
func (b ScoreBand) IsZero() bool { return b.AtLeast == nil && b.Below == nil }

// Holds reports whether a score is in the band.
func (b ScoreBand) Holds(score float64) bool {
	return (b.AtLeast == nil || score >= float64(*b.AtLeast)) && (b.Below == nil || score < float64(*b.Below))
}

// Scoring is the shared definition of how interest and fit add up.
type Scoring struct {
	HalfLifeDays float64              `yaml:"halfLifeDays"`
	Activities   ActivityPoints       `yaml:"activities"`
	Fit          map[string]FitPoints `yaml:"fit"` // profile field -> value -> points
	FreeMail     FreeMail             `yaml:"freeMail"`
	// FormCrossingPeriod: a lead's own form posts carry its score across
	// a threshold at most once in this period (default 30 days). Anyone
	// can post a form for any address, so posts alone must not climb
	// threshold after threshold; a reader's click or answer still can.
	FormCrossingPeriod Duration `yaml:"formCrossingPeriod"`
	// Settle holds back an alert whose crossing a click or an open caused
	// (default 2 minutes): a scanner clicks every link of a message within
	// a second or two, its first click looks like a reader's until the
	// next arrives, and SES's events can come a while apart. If the burst
	// takes the points back meanwhile, the alert is withdrawn unsent.
	Settle Duration `yaml:"settle"`
}

// Settle bounds: below MinSettle a scanner's later clicks, which SES may
// report seconds apart, would still alert; above MaxSettle a reader's
// alert misses the minutes in which a lead is reached at all (and one
// SQS delay, at most 15 minutes, no longer covers it).
const (
	DefaultSettle = 2 * time.Minute
	MinSettle     = 10 * time.Second
	MaxSettle     = 15 * time.Minute
)

// SettleTime is the program's settle time, or the default.
func (s Scoring) SettleTime() time.Duration {
	if s.Settle.Duration > 0 {
		return s.Settle.Duration
	}
	return DefaultSettle
}

// DefaultFormCrossingPeriod is the period when the program sets none.
const DefaultFormCrossingPeriod = 30 * 24 * time.Hour

// FormCrossing is the program's form crossing period, or the default.
func (s Scoring) FormCrossing() time.Duration {
	if s.FormCrossingPeriod.Duration > 0 {
		return s.FormCrossingPeriod.Duration
	}
	return DefaultFormCrossingPeriod
}

// ActivityPoints are the points each kind of activity is worth.
type ActivityPoints struct {
	Download    map[string]int `yaml:"download"` // by buying stage
	Click       map[string]int `yaml:"click"`    // by buying stage of the clicked asset
	Answer      int            `yaml:"answer"`
	Open        int            `yaml:"open"`
	Unsubscribe int            `yaml:"unsubscribe"`
}

// FitPoints maps a profile value to points.
type FitPoints map[string]int

// FreeMail subtracts points for addresses at free mail providers.
type FreeMail struct {
	Points  int      `yaml:"points"`
	Domains []string `yaml:"domains"`
}

// Threshold is a named score level; crossing it upward alerts sales once.
type Threshold struct {
	Name        string `yaml:"name"`
	Score       int    `yaml:"score"`
	RearmMargin int    `yaml:"rearmMargin"` // the score must fall this far below to alert again
}

// Routing picks the sales address for an alert.
type Routing struct {
	Default string `yaml:"default"`
	// TimeZone is where the people behind Default work: their business
	// hours count the SLA and time their daily digest. Empty is the
	// schedule's zone.
	TimeZone string  `yaml:"timeZone"`
	Rules    []Route `yaml:"rules"`
	// SLA is how long an alert may wait for a decision (see SLA).
	SLA SLA `yaml:"sla"`
}

// Route sends alerts for leads matching every given condition to one address.
type Route struct {
	Industries   []string `yaml:"industries"`
	CompanySizes []string `yaml:"companySizes"`
	Countries    []string `yaml:"countries"`
	To           string   `yaml:"to"`
	// TimeZone is where the people behind To work (as Routing.TimeZone).
	TimeZone string `yaml:"timeZone"`
	// EscalateTo is where this rule's undecided alerts escalate to,
	// instead of sla.escalateTo.
	EscalateTo string `yaml:"escalateTo"`
}

// Duration is a time.Duration written as "72h", "3d" or "1w" in the file.
type Duration struct{ time.Duration }
