package lead

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/metrics"
	"github.com/leadnurture/nurture/shared/program"
)

// ErrUnknownForm is returned for a form id the program does not define.
var ErrUnknownForm = errors.New("unknown form")

// InvalidError lists what is wrong with a submission, field by field, in
// words the person filling in the form understands.
type InvalidError struct {
	Fields map[string]string
}

func (e *InvalidError) Error() string {
	names := make([]string, 0, len(e.Fields))
	for f := range e.Fields {
		names = append(names, f)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, f := range names {
		parts[i] = f + ": " + e.Fields[f]
	}
	return "invalid submission: " + strings.Join(parts, "; ")
}

// Submission is one form post, already decoded from its transport.
type Submission struct {
	FormID string
	// Fields holds the lead fields posted (email, name, company ...).
	Fields  map[string]string
	Consent bool
	// Honeypot is the value of a field hidden from humans; bots fill it in.
	Honeypot string
	// RenderedAt is when the page with the form was rendered, if the form
	// says, and SubmittedAt when it was sent, if the form's script says;
	// both are the browser's clock.
	RenderedAt  time.Time
	SubmittedAt time.Time
	// SubmissionID is a nonce rendered into the form, if any; it tells a
	// double-clicked post from a second, deliberate one exactly.
	SubmissionID string
	Touch        Attribution
	// TimeZone is the browser's IANA zone, as the form script reports it;
	// anything else is ignored.
	TimeZone   string
	IP         string
	ReceivedAt time.Time
}

// Outcome is what a capture did.
type Outcome struct {
	Form    program.Form
	Asset   program.Asset
	LeadID  string
	NewLead bool
	// Duplicate is true when this exact submission was already captured.
	Duplicate bool
	// Ignored is true for a post judged to come from a bot: it is answered
	// like a success so the bot learns nothing, and nothing is stored.
	Ignored bool
	// Suppressed is true for an address that was erased: answered like a
	// success, and nothing is stored (see Capturer.Suppressions).
	Suppressed bool
	// Enrolled names the track the lead was enrolled in by this capture.
	Enrolled string
	// Confirm is true when the lead waits for its address to be confirmed.
	Confirm bool
}

// Field length limits: generous for real names, small enough that a field
// can never bloat the lead item or a mail header.
var maxFieldLen = map[string]int{
	"name": 100, "company": 150, "role": 100, "industry": 64,
	"companySize": 64, "country": 64, "timeline": 64,
}

// MaxFieldLen is the most characters a form field may hold, so a form can
// say so before it is sent.
func MaxFieldLen(name string) int {
	if name == "email" {
		return maxAddress
	}
	return maxFieldLen[name]
}

// DefaultMinFillTime is the least time a human needs to fill in a form.
const DefaultMinFillTime = 2 * time.Second

// doubleSubmitWindow groups posts of identical content without a
// submission id: a double-click or a browser retry lands in the same window.
const doubleSubmitWindow = 10 * time.Minute

// Capturer turns form submissions into leads.
type Capturer struct {
	Program     *program.Program
	Store       Store
	Clock       clock.Clock
	MinFillTime time.Duration
	// Scorer is optional: without it downloads are not scored. A crossing
	// it records stays on the lead for the alerts function (lead.Outbox):
	// the person's download never waits on SES or a webhook.
	Scorer Scorer
	// IDs makes the lead id of an address (required).
	IDs IDKey
	// Suppressions, when set, names the addresses whose data was erased on
	// the person's request. Their posts are answered like any success (the
	// person gets the asset they asked for) but nothing is stored: the law
	// asked us to forget them, and storing the address again would put
	// them back into nurture and mail them.
	Suppressions Suppressions
	// Metrics counts the captures that stored a download (nil: none).
	Metrics *metrics.Recorder
	// Limits, when set, is asked before a valid post is stored, with the
	// lead's id: its error (a limit.Exceeded) refuses the post, so one
	// address cannot be posted again and again (limit.Limiter is one).
	Limits AddressLimits
	// Known, with Limits, tells a post of a new address from one of a
	// known lead: only the new one costs a confirmation email, so only it
	// counts against the confirmation limits (store.Store is one).
	Known KnownLeads
}

// AddressLimits limits the posts naming one lead, and the confirmation
// emails new addresses cost.
type AddressLimits interface {
	CaptureOf(ctx context.Context, leadID string) error
	Confirmation(ctx context.Context, sourceIP, leadID string) error
}

// KnownLeads reads a lead, if there is one.
type KnownLeads interface {
	GetLead(ctx context.Context, id string) (*Lead, bool, error)
}

// Suppressions tells whether an address was erased, by the lead id the
// address maps to: the erasure marker holds the keyed id, never the
// address or a plain hash of it.
type Suppressions interface {
	IsSuppressed(ctx context.Context, leadID string) (bool, error)
}

// Capture validates a submission and records the lead, the download and the
// enrolment in nurture. It is safe to retry: the same submission captured
// twice leaves one activity and changes the lead once.
func (c *Capturer) Capture(ctx context.Context, s Submission) (Outcome, error) {
	form, ok := c.Program.Form(s.FormID)
	if !ok {
		return Outcome{}, fmt.Errorf("%w %q", ErrUnknownForm, s.FormID)
	}
	asset, _ := c.Program.Asset(form.Asset)
	out := Outcome{Form: form, Asset: asset}
	if s.ReceivedAt.IsZero() {
		s.ReceivedAt = c.Clock.Now()
	}
	if c.looksLikeBot(s) {
		out.Ignored = true
		return out, nil
	}
	email, fields, err := c.validate(form, s)
	if err != nil {
		return out, err
	}
	id := c.IDs.ID(email)
	if c.Suppressions != nil {
		erased, err := c.Suppressions.IsSuppressed(ctx, id)
		if err != nil {
			return out, fmt.Errorf("check suppression: %w", err)
		}
		if erased {
			out.Suppressed = true
			return out, nil
		}
	}
	out.LeadID = id
	if c.Limits != nil {
		if err := c.Limits.CaptureOf(ctx, id); err != nil {
			return out, err
		}
		if err := c.limitConfirmation(ctx, form, fields, s, id); err != nil {
			return out, err
		}
	}
	key := submissionKey(c.IDs, form.ID, email, s)

	// The lead, its activity and the submission's record in one write: a
	// retry, however late, changes nothing and writes nothing.
	act := Activity{Key: "dl-" + key, Kind: KindDownload, At: s.ReceivedAt, FormID: form.ID, AssetID: asset.ID}
	_, err = c.Store.ApplyEvent(ctx, id, &act, func(l *Lead, isNew bool) error {
		if l.HasApplied(key) {
			return ErrNoChange
		}
		if l.ExpiredAt(s.ReceivedAt) {
			// Never confirmed, and on its way out: this post starts afresh.
			*l = Lead{ID: l.ID, Version: l.Version}
			isNew = true
		}
		out.NewLead = isNew
		act.New = isNew
		act.Repeat = l.HasDownloaded(asset.ID)
		act.Changes = nil // fn runs again after a conflict
		// A new address waits for its confirmation when the program asks
		// for one; a lead waiting already keeps waiting, and this post
		// sends no confirmation email of its own (OptIn keeps the count).
		// A lead already in nurture is not asked again.
		ask := isNew && c.Program.NeedsConfirmation(form, firstNonEmpty(fields["country"], l.Country))
		out.Confirm = ask || l.Unconfirmed()
		out.Enrolled = c.applyCapture(l, &act, email, fields, form, asset, s, ask)
		// The track it joined, so enrolments are counted from activities.
		act.Track = out.Enrolled
		if c.Scorer != nil {
			c.Scorer.Apply(l, &act)
		}
		l.Note(act)
		l.MarkApplied(key)
		return nil
	})
	out.Duplicate = errors.Is(err, ErrNoChange)
	if err != nil && !out.Duplicate {
		return out, fmt.Errorf("update lead: %w", err)
	}
	if !out.Duplicate {
		// Only the post whose write went through counts: a retry that
		// finds its submission applied counts nothing.
		c.Metrics.Captured(s.ReceivedAt, id, out.NewLead)
	}
	return out, nil
}

func (c *Capturer) looksLikeBot(s Submission) bool {
	if strings.TrimSpace(s.Honeypot) != "" {
		return true
	}
	min := c.MinFillTime
	if min == 0 {
		min = DefaultMinFillTime
	}
	took, ok := s.FillTime()
	// A negative time is a clock that moved or a forged field, not speed.
	return ok && took >= 0 && took < min
}

// FillTime is how long the person took from seeing the form to sending it,
// when the form says when it was shown. Browser clocks are often minutes
// off, so with the script's own submit time both ends come from the same
// clock and the skew cancels out; without it (an older copy of the
// script, a hand-made post) the server's receive time is the end.
func (s Submission) FillTime() (time.Duration, bool) {
	if s.RenderedAt.IsZero() {
		return 0, false
	}
	end := s.SubmittedAt
	if end.IsZero() {
		end = s.ReceivedAt
	}
	return end.Sub(s.RenderedAt), true
}

// validate checks every field the form shows and returns the normalised
// email and the cleaned fields.
func (c *Capturer) validate(form program.Form, s Submission) (string, map[string]string, error) {
	problems := map[string]string{}
	required := map[string]bool{"email": true}
	for _, f := range form.Required {
		required[f] = true
	}
	email, err := NormaliseEmail(s.Fields["email"])
	if err != nil {
		problems["email"] = err.Error()
	}
	fields := map[string]string{}
	for _, name := range form.Fields {
		if name == "email" {
			continue
		}
		v := strings.TrimSpace(s.Fields[name])
		switch {
		case v == "" && required[name]:
			problems[name] = "this field is required"
			continue
		case v == "":
			continue
		case strings.ContainsAny(v, "\r\n\x00"):
			problems[name] = "must be a single line"
			continue
		case !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0:
			problems[name] = "contains characters that are not allowed"
			continue
		case utf8.RuneCountInString(v) > maxFieldLen[name]:
			problems[name] = fmt.Sprintf("at most %d characters", maxFieldLen[name])
			continue
		}
		if q, ok := c.questionFor(name); ok && !hasOption(q, v) {
			problems[name] = "choose one of the listed options"
			continue
		}
		fields[name] = v
	}
	if form.Consent.Required && !s.Consent {
		problems["consent"] = "please agree so we can send you the content"
	}
	if len(problems) > 0 {
		return "", nil, &InvalidError{Fields: problems}
	}
	return email, fields, nil
}

// questionFor returns the profiling question that fills a field: a form
// field with a question offers the same options, so answers stay comparable.
func (c *Capturer) questionFor(field string) (program.Question, bool) {
	for _, q := range c.Program.Questions {
		if q.Field == field && len(q.Options) > 0 {
			return q, true
		}
	}
	return program.Question{}, false
}

func hasOption(q program.Question, v string) bool {
	return slices.ContainsFunc(q.Options, func(o program.Option) bool { return o.Value == v })
}

// submissionKey identifies a submission for deduplication. With a rendered
// nonce it is exact; without one, identical content within a short window of
// the request's own time counts as the same submission. It is keyed like
// the lead id: the key is stored on the activity and the fields hold the
// address and the name, so a plain hash could confirm a guessed one.
func submissionKey(ids IDKey, formID, email string, s Submission) string {
	h := ids.mac("submission:")
	fmt.Fprintf(h, "%s\x00%s\x00", formID, email)
	if s.SubmissionID != "" {
		fmt.Fprintf(h, "id\x00%s", s.SubmissionID)
	} else {
		names := make([]string, 0, len(s.Fields))
		for k := range s.Fields {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(h, "%s=%s\x00", k, s.Fields[k])
		}
		fmt.Fprintf(h, "w\x00%s", strconv.FormatInt(s.ReceivedAt.Unix()/int64(doubleSubmitWindow/time.Second), 10))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// applyCapture changes the lead for one accepted submission, records in
// act what a later post said that differs from the profile, and returns
// the track it was enrolled in, if any.
func (c *Capturer) applyCapture(l *Lead, act *Activity, email string, fields map[string]string, form program.Form, asset program.Asset, s Submission, ask bool) string {
	now := s.ReceivedAt
	first := l.CreatedAt.IsZero()
	if first {
		l.CreatedAt = now
	}
	l.UpdatedAt = now
	l.Email = email
	for _, f := range profileFields {
		name, v, dst := f.name, fields[f.name], f.field(l)
		switch {
		case v == "" || v == *dst:
			// A form with fewer fields never erases what another said.
		case first:
			*dst = v
		case *dst == "" && !slices.Contains(program.ProfileFields, name):
			// A blank name or company: nothing known is replaced.
			*dst = v
			act.Changes = append(act.Changes, FieldChange{Field: name, Said: v, Applied: true})
		default:
			act.Changes = append(act.Changes, FieldChange{Field: name, Was: *dst, Said: v})
		}
	}
	// The browser knows where the person is now; a valid zone replaces an
	// older one, anything else is dropped.
	if program.ValidTimeZone(s.TimeZone) {
		l.TimeZone = s.TimeZone
	}

	// The evidence of consent to a version of the consent text stays the
	// first given; a post consenting to another version adds its own.
	if (s.Consent || !form.Consent.Required) && (l.Consent == nil || l.Consent.Version != form.Consent.Version) {
		consent := &Consent{Version: form.Consent.Version, At: now, FormID: form.ID, SourcePage: s.Touch.SourcePage}
		if form.Consent.RecordIP {
			consent.IP = s.IP
		}
		l.Consent = consent
	}
	if l.FirstTouch == nil {
		touch := s.Touch
		l.FirstTouch = &touch
	}
	l.Downloaded = appendOnce(l.Downloaded, asset.ID)
	l.Engage(now, asset.Topics...)
	if ask {
		l.askToConfirm(c.Program, form.ID, now)
	}
	if l.Unconfirmed() {
		// Nurture starts when the address is confirmed (Confirm).
		return ""
	}
	return enrol(c.Program, l, asset, now)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// profileFields are the fields a form fills on the lead, in the order
// changes are recorded, each with the lead's field it fills.
var profileFields = []struct {
	name  string
	field func(l *Lead) *string
}{
	{"name", func(l *Lead) *string { return &l.Name }},
	{"company", func(l *Lead) *string { return &l.Company }},
	{"role", func(l *Lead) *string { return &l.Role }},
	{"industry", func(l *Lead) *string { return &l.Industry }},
	{"companySize", func(l *Lead) *string { return &l.CompanySize }},
	{"country", func(l *Lead) *string { return &l.Country }},
	{"timeline", func(l *Lead) *string { return &l.Timeline }},
}

// enrol places the lead after a download and returns the track it joined,
// if any. A lead new to nurture, in the evergreen cadence, dormant or
// finished joins the track of the asset's topic unless it had that track.
// A lead in a track stays there: the download counted towards its
// interests (Engage), so the new topic's track comes next when this one
// ends (Lead.NextTrack). A dormant lead that joins no track wakes where it
// was. Stopped and suppressed leads get no mail.
func enrol(p *program.Program, l *Lead, asset program.Asset, now time.Time) string {
	n := &l.Nurture
	inTrack := n.Status == NurtureActive && n.Track != program.EvergreenTrack
	if !l.Mailable() || n.Status == NurtureStopped || inTrack {
		return ""
	}
	for _, topic := range asset.Topics {
		track, ok := p.TrackForTopic(topic)
		if !ok || len(track.Steps) == 0 || n.HasDone(track.ID) || l.Muted(topic) {
			continue
		}
		// A track left half-way (dormant) is not done: it may come again,
		// and what the lead had of it is not sent twice.
		n.Enrol(track.ID, now.Add(l.Paced(track.Steps[0].Wait.Duration)))
		return track.ID
	}
	l.WakeDormant(p, now)
	return ""
}

// limitConfirmation counts, before anything is stored, the confirmation
// email a post of a new address will cost, per client and per address: a
// script cannot make us mail addresses it made up faster than that, even
// from under the form-post limits. A known lead costs no confirmation and
// counts nothing (a waiting one gets its one reminder at most); one whose
// wait expired starts afresh and counts again.
func (c *Capturer) limitConfirmation(ctx context.Context, form program.Form, fields map[string]string, s Submission, id string) error {
	if c.Known == nil || !c.Program.NeedsConfirmation(form, fields["country"]) {
		return nil
	}
	l, found, err := c.Known.GetLead(ctx, id)
	if err != nil {
		// As the limits themselves do: what cannot be counted is allowed,
		// and the write that follows reports a table that is down.
		return nil
	}
	if found && !l.ExpiredAt(s.ReceivedAt) {
		return nil
	}
	return c.Limits.Confirmation(ctx, s.IP, id)
}
