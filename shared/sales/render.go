package sales

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/display"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/program"
)

// AlertLinks are the signed links an alert carries, as absolute URLs: the
// dossier page, and the same page offering Accept or Return; and, if set,
// the sales inbox of InboxOf, the alert's owner.
type AlertLinks struct {
	Dossier, Accept, Return string
	Inbox, InboxOf          string
}

//go:embed alert.html.tmpl
var alertHTML string

var alertTemplate = template.Must(template.New("alert").Parse(alertHTML))

// maxAlertEvents bounds the timeline an alert shows, and maxAlertWords
// the lead's own words; the dossier page has the whole story.
const (
	maxAlertEvents = 25
	maxAlertWords  = 5
)

// RenderAlert builds the email that hands a lead to sales: the subject
// ("MQL: Ada Lovelace, Analytical Engines — score 54"), an HTML part
// (everything from the lead escaped, inline styles, one column up to 600px)
// and a plain-text part with the same content and every URL spelled out.
// The three links are our own and carry ses:no-track, so SES click tracking
// never rewrites them. to is the routed sales address (see Route).
func RenderAlert(d Dossier, a AlertLinks, sender program.Sender, to string) (mail.Message, error) {
	return renderAlert(d, a, sender, to, "", "")
}

// renderAlert renders the alert, or a follow-up of it: its subject starts
// with prefix ("Reminder") and note says why it comes.
func renderAlert(d Dossier, a AlertLinks, sender program.Sender, to, prefix, note string) (mail.Message, error) {
	if err := checkAlert(d, a, sender, to); err != nil {
		return mail.Message{}, fmt.Errorf("render alert: %w", err)
	}
	v := NewAlertView(d, a)
	v.Footer = alertFooter(sender, v.Level)
	if prefix != "" {
		v.Subject = prefix + ": " + v.Subject
		v.Notice, v.Preheader = note, note
	}

	var html bytes.Buffer
	if err := alertTemplate.Execute(&html, v); err != nil {
		return mail.Message{}, fmt.Errorf("render alert: %w", err)
	}
	tags := map[string]string{mail.TagKind: mail.KindAlert, mail.TagLead: mail.Tag(d.LeadID)}
	if d.Threshold != "" {
		tags[mail.TagThreshold] = mail.Tag(d.Threshold)
	}
	return mail.Message{
		From:    sender.From,
		To:      to,
		ReplyTo: sender.ReplyTo,
		Subject: v.Subject,
		HTML:    html.String(),
		Text:    v.text(),
		Tags:    tags,
	}, nil
}

func checkAlert(d Dossier, a AlertLinks, sender program.Sender, to string) error {
	var errs []error
	need := func(what, v string) {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Errorf("no %s", what))
		} else if strings.ContainsAny(v, "\r\n") {
			errs = append(errs, fmt.Errorf("%s contains a line break", what))
		}
	}
	need("recipient", to)
	need("sender address", sender.From)
	need("lead id", d.LeadID)
	if a.Inbox != "" {
		if err := checkURL("inbox URL", a.Inbox); err != nil {
			errs = append(errs, err)
		}
	}
	for _, l := range []struct{ what, url string }{{"dossier URL", a.Dossier}, {"accept URL", a.Accept}, {"return URL", a.Return}} {
		if err := checkURL(l.what, l.url); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkURL accepts only absolute http(s) URLs in printable ASCII without
// spaces, quotes or angle brackets: they are written out in the text part
// and in Slack's <url|label> links as they are.
func checkURL(what, s string) error {
	if s == "" {
		return fmt.Errorf("no %s", what)
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("%s is not an absolute http(s) URL", what)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("\"'<>|\\`", c) >= 0 {
			return fmt.Errorf("%s has characters that need escaping", what)
		}
	}
	return nil
}

// AlertView is what an alert shows, worked out once for the email, its text
// part and the webhook post. Everything from the lead is folded to one line
// here; escaping is left to each output (html/template, Slack).
type AlertView struct {
	Subject   string
	Preheader string
	Level     string // "MQL", from the threshold's name
	Score     string // "54"
	Name      string // the lead's name, or its email when it gave none
	Headline  string // "CTO at Analytical Engines"
	Email     string
	Profile   []Field
	Summary   string // what the person did, machines left out
	Reasons   []ReasonLine
	Answers   []Field
	// Words are the lead's own words, newest first: Label says when and
	// about what, Value is the text.
	Words   []Field
	Events  []EventLine // newest maxAlertEvents, oldest first
	Earlier int         // events left out
	Older   bool        // older activity was not read (Dossier.Older)
	Topics  string
	Talking []string
	Status  []string
	Links   AlertLinks
	Footer  string // the email's only
	Notice  string // a follow-up's: why it comes (a reminder, an escalation)
}

// Field is a label and its value: a line of the profile or an answer.
type Field struct{ Label, Value string }

// ReasonLine is one reason for the score: "+15" and why.
type ReasonLine struct{ Points, Why string }

// EventLine is one event of the timeline, in words.
type EventLine struct {
	Date    string
	What    string
	Points  string
	Machine bool
	Note    string // for a machine's event: whose it was, and why we think so
}

// NewAlertView works out what the alert of d with links a shows.
func NewAlertView(d Dossier, a AlertLinks) AlertView {
	v := AlertView{
		Level:  "Sales-ready lead",
		Score:  formatScore(d.Score),
		Email:  display.Text(d.Email),
		Links:  a,
		Topics: display.Text(strings.Join(d.Topics, ", ")),
	}
	if t := display.Text(d.Threshold); t != "" {
		v.Level = strings.ToUpper(t)
	}
	// A "name" that is a link or an address does not head the alert; the
	// profile still shows what was typed.
	if name, ok := display.Name(d.Name); ok {
		v.Name = name
	} else {
		v.Name = v.Email
	}
	if v.Name == "" {
		v.Name = "Lead " + display.Text(d.LeadID)
	}
	company, role := display.Text(d.Company), display.Text(d.Role)
	who := v.Name
	if company != "" {
		who += ", " + company
	}
	v.Subject = v.Level + ": " + who + " — score " + v.Score
	switch {
	case role != "" && company != "":
		v.Headline = role + " at " + company
	case role != "":
		v.Headline = role
	default:
		v.Headline = company
	}
	v.Profile = []Field{
		{"Name", display.Text(d.Name)},
		{"Role", role},
		{"Company", company},
		{"Industry", display.Text(d.Industry)},
		{"Company size", display.Text(d.CompanySize)},
		{"Country", display.Text(d.Country)},
		{"Email", v.Email},
	}
	if t := display.Text(d.Timeline); t != "" {
		v.Profile = append(v.Profile, Field{"Buying timeline", t})
	}
	for i := range v.Profile {
		if v.Profile[i].Value == "" {
			v.Profile[i].Value = "—"
		}
	}
	for _, r := range d.Reasons {
		v.Reasons = append(v.Reasons, ReasonLine{Points: formatPoints(r.Points), Why: display.Text(r.Why)})
	}
	for _, ans := range d.Answers {
		v.Answers = append(v.Answers, Field{display.Text(ans.Question), display.Text(ans.Answer)})
	}
	for _, w := range d.Words {
		if len(v.Words) == maxAlertWords {
			break
		}
		label := formatDay(w.At)
		if about := display.Text(w.About); about != "" {
			label += ", choosing " + about
		}
		if text := display.Text(w.Text); text != "" {
			v.Words = append(v.Words, Field{Label: label, Value: text})
		}
	}
	var events []EventLine
	for _, e := range d.Events {
		if line, ok := describeEvent(e); ok {
			events = append(events, line)
		}
	}
	if len(events) > maxAlertEvents {
		v.Earlier = len(events) - maxAlertEvents
		events = events[v.Earlier:]
	}
	v.Older = d.Older
	v.Events = events
	v.Summary = summarise(d.Events)
	for _, t := range d.TalkingPoints {
		if t = display.Text(t); t != "" {
			v.Talking = append(v.Talking, t)
		}
	}
	if s := display.Text(d.Nurture); s != "" {
		v.Status = append(v.Status, "Nurture: "+s)
	}
	if s := d.Sales; s != nil {
		who := "Sales"
		if by := display.Text(s.By); by != "" {
			who = by
		}
		line := who + " " + display.Text(s.Status) + " the lead on " + formatDay(s.At)
		if s.Status == lead.SalesReturned {
			line = who + " returned the lead to nurture on " + formatDay(s.At)
			if r := display.Text(s.Reason); r != "" {
				line += " (" + r + ")"
			}
		}
		v.Status = append(v.Status, line)
	}
	v.Preheader = "Score " + v.Score
	if v.Headline != "" {
		v.Preheader = v.Headline + " · " + v.Preheader
	}
	if v.Summary != "" {
		v.Preheader += " · " + v.Summary
	}
	return v
}

// olderNote says that a timeline stops at the newest TimelineLimit
// activities.
const olderNote = "older activity is not shown, here or on the dossier page; the score counts it"

// describeEvent says what one timeline event was, in words for sales.
// Events of a machine (a scanner following links, a privacy proxy fetching
// images) are shown as such, never as the person's interest. Deliveries and
// delays say nothing about the person and are left out.
func describeEvent(e Event) (EventLine, bool) {
	title := display.Text(e.Title)
	quoted := ""
	if title != "" {
		quoted = " “" + title + "”"
	}
	detail := display.Text(e.Detail)
	l := EventLine{Date: formatTime(e.At), Machine: e.Machine}
	if e.Points != 0 && !e.Machine {
		l.Points = formatPoints(e.Points)
	}
	switch e.Kind {
	case lead.KindDelivered, lead.KindDelayed:
		return l, false
	case lead.KindDownload:
		l.What = "Downloaded" + quoted
		if detail != "" {
			l.What += " (" + detail + ")"
		}
	case lead.KindEmail:
		l.What = "Was sent the nurture email" + quoted
		if detail != "" {
			l.What += " (" + detail + ")"
		}
	case lead.KindOpen:
		if e.Machine {
			l.What = "The nurture email" + quoted + " was opened automatically"
		} else {
			l.What = "Opened the nurture email" + quoted
		}
	case lead.KindClick:
		switch {
		case e.Machine && title != "":
			l.What = "A link to" + quoted + " was followed automatically"
		case e.Machine:
			l.What = "A link in a nurture email was followed automatically"
		case title != "":
			l.What = "Clicked" + quoted + " in a nurture email"
		default:
			l.What = "Clicked a link in a nurture email"
		}
	case lead.KindAnswer:
		l.What = "Answered"
		if title != "" {
			l.What += " “" + title + "”"
		}
		if detail != "" {
			l.What += ": " + detail
		}
	case lead.KindBounce:
		l.What = "A nurture email bounced"
	case lead.KindComplaint:
		l.What = "Marked a nurture email as spam"
	case lead.KindUnsubscribe:
		l.What = "Unsubscribed from nurture email"
	case lead.KindKeep:
		l.What = "Asked to keep getting nurture email"
	case lead.KindConfirm:
		l.What = "Confirmed the email address"
	case lead.KindRating:
		l.What = "Found" + quoted + " " + detail
		if title == "" {
			l.What = "Found a nurture email " + detail
		}
	case lead.KindWish:
		l.What = "Told us what would help next"
		if title != "" {
			l.What += ": " + title
		}
	case lead.KindPreferences:
		l.What = "Chose what they get: " + detail
	case lead.KindRejected:
		l.What = "A nurture email was rejected before sending"
	case lead.KindRenderingFailed:
		l.What = "A nurture email failed to render"
	default:
		l.What = strings.ToUpper(e.Kind[:min(1, len(e.Kind))]) + e.Kind[min(1, len(e.Kind)):] + quoted
		if detail != "" {
			l.What += ": " + detail
		}
	}
	if e.Kind == lead.KindBounce && detail != "" {
		l.What += " (" + detail + ")"
	}
	if e.Machine {
		l.Note = "(machine, not the person)"
		if detail != "" {
			l.Note = "(machine, not the person: " + detail + ")"
		}
	}
	return l, true
}

// summarise counts what the person did; machines' opens and clicks are
// left out of the counts and only mentioned as left out.
func summarise(events []Event) string {
	var downloads, sent, opens, clicks, answers, machine int
	for _, e := range events {
		switch {
		case e.Machine && (e.Kind == lead.KindOpen || e.Kind == lead.KindClick):
			machine++
		case e.Kind == lead.KindDownload:
			downloads++
		case e.Kind == lead.KindEmail:
			sent++
		case e.Kind == lead.KindOpen:
			opens++
		case e.Kind == lead.KindClick:
			clicks++
		case e.Kind == lead.KindAnswer:
			answers++
		}
	}
	var parts []string
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, one)
		case n > 1:
			parts = append(parts, strconv.Itoa(n)+" "+many)
		}
	}
	add(downloads, "1 download", "downloads")
	add(sent, "1 nurture email received", "nurture emails received")
	add(opens, "1 open", "opens")
	add(clicks, "1 click", "clicks")
	add(answers, "1 answer", "answers")
	s := strings.Join(parts, " · ")
	if machine > 0 {
		if s != "" {
			s += " · "
		}
		if machine == 1 {
			s += "1 automated open/click not counted (scanner or privacy proxy)"
		} else {
			s += strconv.Itoa(machine) + " automated opens/clicks not counted (scanners, privacy proxies)"
		}
	}
	return s
}

func alertFooter(sender program.Sender, level string) string {
	from := "the nurture program"
	if c := display.Text(sender.Company); c != "" {
		from = "the " + c + " nurture program"
	}
	return "Sent to you by " + from + " because this lead reached " + level +
		". Accept takes the lead out of nurture mail while you work it; Return sends it back to nurture. Each opens the dossier page offering that one decision, for two weeks; the dossier link only shows the lead."
}

// text is the plain-text part: the same content, URLs written out.
func (v AlertView) text() string {
	var b strings.Builder
	line := func(s ...string) {
		b.WriteString(strings.Join(s, ""))
		b.WriteString("\n")
	}
	heading := func(s string) {
		line()
		line(strings.ToUpper(s))
	}
	line(v.Subject)
	line()
	if v.Notice != "" {
		line(v.Notice)
		line()
	}
	line(v.Name)
	if v.Headline != "" {
		line(v.Headline)
	}
	line("Score ", v.Score, " (", v.Level, ")")
	line()
	line("Open the dossier: ", v.Links.Dossier)
	line("Accept: ", v.Links.Accept)
	line("Return to nurture: ", v.Links.Return)
	if v.Links.Inbox != "" {
		line("Sales inbox of ", v.Links.InboxOf, ": ", v.Links.Inbox)
	}

	heading("Who")
	for _, f := range v.Profile {
		line(f.Label, ": ", f.Value)
	}
	if len(v.Reasons) > 0 {
		heading("Why the score")
		for _, r := range v.Reasons {
			line(r.Points, "  ", r.Why)
		}
	}
	if len(v.Answers) > 0 {
		heading("Answers")
		for _, a := range v.Answers {
			line("- ", a.Label, " ", a.Value)
		}
	}
	if len(v.Words) > 0 {
		heading("In their own words")
		for _, w := range v.Words {
			line("“", w.Value, "” (", w.Label, ")")
		}
	}
	if len(v.Events) > 0 {
		heading("What happened (UTC)")
		if v.Summary != "" {
			line(v.Summary)
		}
		if v.Earlier > 0 {
			line("(", strconv.Itoa(v.Earlier), " earlier events on the dossier page)")
		}
		if v.Older {
			line("(", olderNote, ")")
		}
		for _, e := range v.Events {
			s := "- " + e.Date + "  " + e.What
			if e.Points != "" {
				s += "  " + e.Points
			}
			if e.Note != "" {
				s += "  " + e.Note
			}
			line(s)
		}
	}
	if v.Topics != "" {
		heading("Topics")
		line(v.Topics)
	}
	if len(v.Talking) > 0 {
		heading("Talking points")
		for _, t := range v.Talking {
			line("- ", t)
		}
	}
	if len(v.Status) > 0 {
		heading("Status")
		for _, s := range v.Status {
			line(s)
		}
	}
	line()
	line("-- ")
	line(v.Footer)
	return b.String()
}

// formatScore shows a score as a whole number: what sales compares.
func formatScore(f float64) string {
	r := math.Round(f)
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.FormatFloat(r, 'f', 0, 64)
}

// formatPoints shows points with their sign and at most one decimal.
func formatPoints(f float64) string {
	r := math.Round(f*10) / 10
	s := strconv.FormatFloat(math.Abs(r), 'f', -1, 64)
	if r < 0 {
		return "-" + s
	}
	return "+" + s
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006 15:04")
}

func formatDay(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2 Jan 2006")
}
