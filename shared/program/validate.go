package program

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	// Lambda images carry no zoneinfo; embedding it keeps the schedule's
	// time zone loadable there, and the validator checks the same way the
	// scheduler will load it.
	_ "time/tzdata"
)

// maxIDLen keeps ids short enough for SES tags, URLs and DynamoDB keys.
const maxIDLen = 64

// idPattern is stricter than SES tags ([A-Za-z0-9_-]) on purpose: one
// spelling per id, so "Cloud_Cost" and "cloud-cost" cannot both exist.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

var weekdayNames = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// validator checks a decoded program and collects every problem.
type validator struct {
	p        *Program
	d        *decoder
	problems []Problem

	assets    map[string]int // id -> first index
	forms     map[string]int
	questions map[string]int
	tracks    map[string]int
	topics    []string            // topics of all assets, first-seen order
	options   map[string][]string // profile field -> answer values its questions offer
	// topicsUnsure is set when some asset's topics did not decode, so topics
	// may be incomplete and "no asset has this topic" would be a guess.
	topicsUnsure bool
	// asked and usedAnswers are the questions steps ask and the answers
	// ("question=value") conditions test.
	asked, usedAnswers map[string]bool
}

func validate(p *Program, d *decoder) []Problem {
	v := &validator{
		p: p, d: d,
		assets: map[string]int{}, forms: map[string]int{}, questions: map[string]int{}, tracks: map[string]int{},
		options: map[string][]string{},
	}
	v.version()
	v.sender()
	v.schedule()
	v.suppression()
	v.retention()
	// Questions and assets first: forms, tracks, scoring and routing refer to them.
	v.questionList()
	v.assetList()
	v.optionSteering()
	v.formList()
	v.sameAs()
	v.trackList()
	v.answersUsed()
	v.lifelong()
	v.voice()
	v.doubleOptIn()
	v.scoring()
	v.thresholds()
	v.routing()
	v.sla()
	v.reports()
	return v.problems
}

// add reports a problem with the value at path.
func (v *validator) add(path, format string, args ...any) { v.report(path, false, format, args...) }

// addKey reports a problem with the key at path (a misspelt map key).
func (v *validator) addKey(path, format string, args ...any) { v.report(path, true, format, args...) }

func (v *validator) report(path string, key bool, format string, args ...any) {
	// A decoding problem on this path or around it already says what is wrong.
	for p := path; ; p = parentPath(p) {
		if v.d.covered[p] {
			return
		}
		if p == "" {
			break
		}
	}
	at := v.d.at(path, key)
	v.problems = append(v.problems, Problem{
		File: v.d.file, Line: at.line, Column: at.column, Path: path,
		Message: fmt.Sprintf(format, args...),
	})
}

func (v *validator) line(path string) int { return v.d.at(path, false).line }

func idx(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

func (v *validator) version() {
	switch v.p.Version {
	case 1:
	case 0:
		v.add("version", "version is missing; add version: 1 at the top of the file")
	default:
		v.add("version", "version %d is not supported; this release reads version: 1", v.p.Version)
	}
}

func (v *validator) sender() {
	s := v.p.Sender
	switch {
	case s.From == "":
		v.add("sender.from", "add the address nurture mail comes from, e.g. from: \"Acme Insights <insights@acme.example>\"")
	default:
		if msg := checkAddress(s.From); msg != "" {
			v.add("sender.from", "%s", msg)
		}
	}
	if s.ReplyTo != "" {
		if msg := checkAddress(s.ReplyTo); msg != "" {
			v.add("sender.replyTo", "%s", msg)
		}
	}
	if strings.TrimSpace(s.Company) == "" {
		v.add("sender.company", "add the company name shown in every footer, e.g. company: Acme Cloud, Inc.")
	}
	switch {
	case strings.TrimSpace(s.PostalAddress) == "":
		v.add("sender.postalAddress", "add the postal address every footer must show (CAN-SPAM), on one line, e.g. postalAddress: 1 Main St, Springfield, USA")
	case strings.ContainsAny(s.PostalAddress, "\r\n"):
		v.add("sender.postalAddress", "write the postal address on one line, parts separated by commas")
	}
}

func (v *validator) schedule() {
	s := v.p.Schedule
	switch {
	case s.TimeZone == "":
		v.add("schedule.timeZone", "add the default time zone for leads whose zone is unknown, e.g. timeZone: Europe/Berlin")
	case s.TimeZone == "Local":
		v.add("schedule.timeZone", "\"Local\" depends on the machine the code runs on; name the zone, e.g. Europe/Berlin or America/New_York")
	default:
		if _, err := time.LoadLocation(s.TimeZone); err != nil {
			v.add("schedule.timeZone", "%q is not a time zone; use an IANA name such as Europe/Berlin, America/New_York or UTC", s.TimeZone)
		}
	}
	if len(s.Days) == 0 {
		v.add("schedule.days", "add the days mail may go out, e.g. days: [mon, tue, wed, thu, fri]")
	}
	seen := map[string]bool{}
	for i, day := range s.Days {
		d := strings.ToLower(day)
		switch {
		case !slices.Contains(weekdayNames, d):
			v.add(idx("schedule.days", i), "%q is not a day; use mon, tue, wed, thu, fri, sat or sun", day)
		case seen[d]:
			v.add(idx("schedule.days", i), "%q is listed twice; list each day once", day)
		}
		seen[d] = true
	}
	start, okStart := v.clock("schedule.start", s.Start)
	end, okEnd := v.clock("schedule.end", s.End)
	if okStart && okEnd && end <= start {
		v.add("schedule.end", "end %s must be after start %s; the window is one stretch of the same day, e.g. start: \"09:00\", end: \"17:00\"", s.End, s.Start)
	}
	if s.FrequencyCap.Duration < 0 {
		v.add("schedule.frequencyCap", "frequencyCap cannot be negative; write e.g. frequencyCap: 5d for at most one email every five days, or remove it")
	}
	dates := map[string]int{}
	for i, d := range s.NoSendDates {
		path := idx("schedule.noSendDates", i)
		y, m, day, err := ParseNoSendDate(d)
		if err != nil {
			v.add(path, "%s", err.Error())
			continue
		}
		key := fmt.Sprintf("%d-%d-%d", y, m, day)
		if first, dup := dates[key]; dup {
			v.add(path, "%q is listed twice (first on line %d); list each date once", d, v.line(idx("schedule.noSendDates", first)))
			continue
		}
		dates[key] = i
	}
}

func (v *validator) clock(path, s string) (time.Duration, bool) {
	if s == "" {
		v.add(path, "add a time of day as \"HH:MM\", e.g. \"09:00\"")
		return 0, false
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		v.add(path, "%q is not a time of day; write \"HH:MM\" in 24-hour time, e.g. \"09:00\" or \"17:30\"", s)
		return 0, false
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, true
}

func (v *validator) suppression() {
	const path = "suppression.softBounces"
	n := v.p.Suppression.SoftBounces
	if _, given := v.d.values[path]; !given {
		return
	}
	switch {
	case n < 1:
		v.add(path, "softBounces must be at least 1; e.g. softBounces: %d stops mail after %d soft bounces in a row, or remove it for that default", DefaultSoftBounces, DefaultSoftBounces)
	case n > MaxSoftBounces:
		v.add(path, "softBounces %d keeps mailing an address that has not taken mail for too long; write %d or less, e.g. softBounces: %d", n, MaxSoftBounces, DefaultSoftBounces)
	}
}

func (v *validator) retention() {
	if v.p.Retention.ActivityDays <= 0 {
		v.add("retention.activityDays", "activityDays must be more than 0; e.g. activityDays: 730 keeps two years of history")
	}
}

// id checks one id (or threshold name) and records it in seen; kind names
// the list for messages and hint is free text (a title) to suggest an id from.
func (v *validator) id(path, kind, id, hint string, seen map[string]int, i int) {
	key := path[strings.LastIndexByte(path, '.')+1:] // "id", or "name" for thresholds
	switch {
	case id == "":
		ex := orDefault(slug(hint), "my-"+kind)
		v.add(path, "add %s %s for this %s, e.g. %s: %s", article(key), key, kind, key, ex)
		return
	case len(id) > maxIDLen || !idPattern.MatchString(id):
		ex := orDefault(slug(id), "my-"+kind)
		v.add(path, "%q is not a valid %s; use lowercase letters, digits and hyphens (at most %d), e.g. %s", id, key, maxIDLen, ex)
	}
	if first, dup := seen[id]; dup {
		list := parentPath(parentPath(path)) // assets[3].id -> assets
		v.add(path, "%s %s %q is already used on line %d; give each %s its own %s", kind, key, id, v.line(idx(list, first)), kind, key)
		return
	}
	seen[id] = i
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}

func (v *validator) oneLine(path, what, s string) {
	if strings.ContainsAny(s, "\r\n") {
		v.add(path, "write the %s on one line; it is used in email headers and subjects", what)
	}
}

func (v *validator) questionList() {
	for i, q := range v.p.Questions {
		path := idx("questions", i)
		v.id(path+".id", "question", q.ID, q.Field, v.questions, i)
		if strings.TrimSpace(q.Text) == "" {
			v.add(path+".text", "add the question as the email asks it, e.g. text: Which industry are you in?")
		}
		if q.Field != "" && !slices.Contains(ProfileFields, q.Field) {
			v.add(path+".field", "%q is not a profile field; use one of %s, or leave field out for a question of the program's own", q.Field, strings.Join(ProfileFields, ", "))
		}
		if len(q.Options) == 0 {
			v.add(path+".options", "add the answers to choose from, each as - value: ... and label: ...")
		}
		seen := map[string]bool{}
		for j, o := range q.Options {
			op := idx(path+".options", j)
			switch {
			case strings.TrimSpace(o.Value) == "":
				v.add(op+".value", "add the value stored on the lead, e.g. value: %s", orDefault(slug(o.Label), "finance"))
			case seen[o.Value]:
				v.add(op+".value", "%q is already an option of this question; give each option its own value", o.Value)
			}
			seen[o.Value] = true
			if strings.TrimSpace(o.Label) == "" {
				v.add(op+".label", "add the label the email shows on the answer's button")
			}
			switch {
			case o.TimeZone == "":
			case q.Field != "country":
				v.add(op+".timeZone", "only a country question's options set a time zone; remove it here")
			case !ValidTimeZone(o.TimeZone):
				v.add(op+".timeZone", "%q is not a time zone; use an IANA name such as Europe/Berlin or America/New_York", o.TimeZone)
			}
			if slices.Contains(ProfileFields, q.Field) && o.Value != "" && !slices.Contains(v.options[q.Field], o.Value) {
				v.options[q.Field] = append(v.options[q.Field], o.Value)
			}
		}
	}
}

// knownValue checks a profile value against the options questions offer for
// its field, so a typo in an industry or size never silently matches nothing.
// Fields no question asks about accept any value.
func (v *validator) knownValue(path, field, value string, key bool) {
	opts := v.options[field]
	report := v.add
	if key {
		report = v.addKey
	}
	switch {
	case strings.TrimSpace(value) == "" && len(opts) > 0:
		report(path, "this %s is empty; use one of %s", field, strings.Join(opts, ", "))
	case strings.TrimSpace(value) == "":
		report(path, "this %s is empty; write a value or remove the line", field)
	case len(opts) > 0 && !slices.Contains(opts, value):
		report(path, "%q is not an answer of the %s question; use one of %s", value, field, strings.Join(opts, ", "))
	}
}

func (v *validator) assetList() {
	if len(v.p.Assets) == 0 {
		v.add("assets", "add the content library: at least one asset with id, title, url, format, topics and stage")
	}
	for i, a := range v.p.Assets {
		path := idx("assets", i)
		v.id(path+".id", "asset", a.ID, a.Title, v.assets, i)
		if strings.TrimSpace(a.Title) == "" {
			v.add(path+".title", "add the title readers see in the email")
		}
		v.oneLine(path+".title", "title", a.Title)
		if msg := checkURL(a.URL, "the asset's address"); msg != "" {
			v.add(path+".url", "%s", msg)
		}
		switch {
		case a.Format == "":
			v.add(path+".format", "add a format; use one of %s", strings.Join(Formats, ", "))
		case !slices.Contains(Formats, a.Format):
			v.add(path+".format", "%q is not an asset format; use one of %s", a.Format, strings.Join(Formats, ", "))
		}
		v.stage(path+".stage", a.Stage)
		if v.d.covered[path+".topics"] || v.d.covered[path] {
			v.topicsUnsure = true
		}
		if len(a.Topics) == 0 {
			v.add(path+".topics", "add at least one topic, e.g. topics: [cloud-cost]; tracks pick assets by topic")
		}
		for j, t := range a.Topics {
			tp := idx(path+".topics", j)
			if !idPattern.MatchString(t) || len(t) > maxIDLen {
				v.add(tp, "%q is not a valid topic; use lowercase letters, digits and hyphens, e.g. %s", t, orDefault(slug(t), "cloud-cost"))
				continue
			}
			if !slices.Contains(v.topics, t) {
				v.topics = append(v.topics, t)
			}
		}
		for j, ind := range a.Industries {
			v.knownValue(idx(path+".industries", j), "industry", ind, false)
		}
		if a.Published != "" && a.PublishedAt().IsZero() {
			v.add(path+".published", "%q is not a date; write the day the asset came out as YYYY-MM-DD, e.g. published: 2026-01-15", a.Published)
		}
	}
}

// sameAs checks that an asset's sameAs names another asset of the library.
func (v *validator) sameAs() {
	for i, a := range v.p.Assets {
		path := idx("assets", i) + ".sameAs"
		switch {
		case a.SameAs == "":
		case a.SameAs == a.ID:
			v.add(path, "an asset is always the same as itself; name the other asset with this content (the video of this whitepaper, say), or remove sameAs")
		default:
			v.ref(path, "asset", "assets", a.SameAs, v.assets)
		}
	}
}

func (v *validator) stage(path, s string) {
	switch {
	case s == "":
		v.add(path, "add a buying stage; use one of %s", strings.Join(Stages, ", "))
	case !slices.Contains(Stages, s):
		v.add(path, "%q is not a buying stage; use one of %s", s, strings.Join(Stages, ", "))
	}
}

// ref checks a reference to an id in one of the lists.
func (v *validator) ref(path, kind, list, id string, ids map[string]int) bool {
	if _, ok := ids[id]; ok {
		return true
	}
	if id == "" {
		v.add(path, "add the id of the %s; it must match an id under %s", kind, list)
		return false
	}
	msg := fmt.Sprintf("no %s has id %q; use an id from %s", kind, id, list)
	if s := closest(id, sortedKeys(ids)); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	v.add(path, "%s", msg)
	return false
}

func (v *validator) formList() {
	for i, f := range v.p.Forms {
		path := idx("forms", i)
		v.id(path+".id", "form", f.ID, f.Title, v.forms, i)
		if strings.TrimSpace(f.Title) == "" {
			v.add(path+".title", "add the title shown above the form")
		}
		v.ref(path+".asset", "asset", "assets", f.Asset, v.assets)
		v.formFields(path, f)
		if f.ThankYouURL != "" {
			if msg := checkURL(f.ThankYouURL, "the thank-you page"); msg != "" {
				v.add(path+".thankYouUrl", "%s", msg)
			}
		}
		if f.Consent.Required {
			if strings.TrimSpace(f.Consent.Version) == "" {
				v.add(path+".consent.version", "add a consent version, e.g. version: \"2026-01\"; it is stored with every lead as the evidence of what they agreed to")
			}
			if strings.TrimSpace(f.Consent.Text) == "" {
				v.add(path+".consent.text", "add the consent wording the form shows next to its checkbox")
			}
		}
	}
}

func (v *validator) formFields(path string, f Form) {
	seen := map[string]bool{}
	for j, name := range f.Fields {
		fp := idx(path+".fields", j)
		switch {
		case !slices.Contains(FormFields, name):
			v.add(fp, "%q is not a form field; use one of %s", name, strings.Join(FormFields, ", "))
		case seen[name]:
			v.add(fp, "%q is listed twice; list each field once", name)
		}
		seen[name] = true
	}
	if !seen["email"] {
		v.add(path+".fields", "add email to fields; every form needs the address to send the content to")
	}
	required := map[string]bool{}
	for j, name := range f.Required {
		if !seen[name] {
			v.add(idx(path+".required", j), "%q is required but not among this form's fields; add it to fields or remove it here", name)
		}
		required[name] = true
	}
	if !required["email"] {
		v.add(path+".required", "add email to required; a lead without an address cannot be nurtured")
	}
}

func (v *validator) trackList() {
	topicTrack := map[string]int{}
	for i, t := range v.p.Tracks {
		path := idx("tracks", i)
		v.id(path+".id", "track", t.ID, t.Topic, v.tracks, i)
		if t.ID == EvergreenTrack || t.ID == ReengageTrack || t.ID == ConfirmTrack {
			v.add(path+".id", "%q names the %s mail, not a track; give this track another id, e.g. %s-track", t.ID, t.ID, orDefault(t.Topic, "my"))
		}
		switch {
		case t.Topic == "":
			v.add(path+".topic", "add the topic this track nurtures; use one of %s", strings.Join(v.topics, ", "))
		case !slices.Contains(v.topics, t.Topic) && v.topicsUnsure:
			// Some asset's topics did not decode; that problem is reported already.
		case !slices.Contains(v.topics, t.Topic):
			v.add(path+".topic", "no asset has topic %q, so this track has nothing to send; use one of %s, or add the topic to some assets", t.Topic, strings.Join(v.topics, ", "))
		default:
			if first, dup := topicTrack[t.Topic]; dup {
				v.add(path+".topic", "topic %q already has a track (%s, line %d); a lead follows one track per topic, so merge the steps into that track",
					t.Topic, v.p.Tracks[first].ID, v.line(idx("tracks", first)))
			} else {
				topicTrack[t.Topic] = i
			}
		}
		if len(t.Steps) == 0 {
			v.add(path+".steps", "add at least one step, e.g. - wait: 2d, stage: awareness")
		}
		for j, s := range t.Steps {
			v.step(idx(path+".steps", j), j, t.Topic, s)
		}
		v.stepFlow(path, t)
	}
	v.then()
	// A form whose asset's topic has no track captures leads nobody nurtures.
	for i, f := range v.p.Forms {
		ai, ok := v.assets[f.Asset]
		if !ok {
			continue
		}
		for _, topic := range v.p.Assets[ai].Topics {
			if _, ok := topicTrack[topic]; !ok && slices.Contains(v.topics, topic) {
				v.add(idx("forms", i)+".asset", "asset %q is about %q, but no track nurtures that topic, so leads from this form get no follow-up; add a track with topic: %s", f.Asset, topic, topic)
			}
		}
	}
}

func (v *validator) step(path string, i int, topic string, s Step) {
	capWait := v.p.Schedule.FrequencyCap.Duration
	switch {
	case s.Wait.Duration < 0:
		v.add(path+".wait", "a wait cannot be negative; write e.g. wait: 7d")
	case s.Wait.Duration == 0 && i > 0:
		v.add(path+".wait", "add a wait after the previous step, e.g. wait: 7d; without one both emails go out together")
	case i > 0 && s.Wait.Duration < capWait:
		// The first step waits after a download, not after an email.
		v.add(path+".wait", "this step waits %s after the previous email, but schedule.frequencyCap allows one email every %s, so it would always go out %s late; write wait: %s or more, or lower frequencyCap",
			s.Wait, v.p.Schedule.FrequencyCap, FormatDuration(capWait-s.Wait.Duration), v.p.Schedule.FrequencyCap)
	}
	v.oneLine(path+".subject", "subject", s.Subject)
	for k, f := range s.Formats {
		if !slices.Contains(Formats, f) {
			v.add(idx(path+".formats", k), "%q is not an asset format; use one of %s", f, strings.Join(Formats, ", "))
		}
	}
	if s.Question != "" {
		v.ref(path+".question", "question", "questions", s.Question, v.questions)
	}
	if s.Asset != "" {
		v.ref(path+".asset", "asset", "assets", s.Asset, v.assets)
		if s.Stage != "" {
			v.stage(path+".stage", s.Stage)
		}
		return
	}
	if s.Stage == "" {
		v.add(path+".stage", "add a buying stage to pick from (%s), or a fixed asset id", strings.Join(Stages, ", "))
		return
	}
	v.stage(path+".stage", s.Stage)
	if !slices.Contains(Stages, s.Stage) || !slices.Contains(v.topics, topic) {
		return
	}
	// The scheduler picks an asset of the track's topic at this stage; if
	// none exists the step could only ever send something off-stage.
	// An asset whose own stage or topics are already reported as wrong gets
	// the benefit of the doubt, so one typo is not reported again here.
	for i, a := range v.p.Assets {
		path := idx("assets", i)
		stageOK := a.Stage == s.Stage || !slices.Contains(Stages, a.Stage)
		topicOK := slices.Contains(a.Topics, topic) || v.d.covered[path+".topics"] || v.d.covered[path]
		if stageOK && topicOK {
			return
		}
	}
	v.add(path+".stage", "no asset about %q is at stage %q, so this step has nothing of its own to send; add such an asset or choose another stage", topic, s.Stage)
}

// then checks where each track sends a lead after its last step: a
// track or the evergreen cadence, and never round in a loop.
func (v *validator) then() {
	next := map[string]string{}
	for i, t := range v.p.Tracks {
		path := idx("tracks", i) + ".then"
		switch {
		case t.Then == "":
		case t.Then == EvergreenTrack:
			if !v.p.EvergreenOn() {
				v.add(path, "then: evergreen needs the evergreen cadence; add evergreen: with every: and intro:, or remove then")
			}
		case t.Then == t.ID:
			v.add(path, "track %q sends its leads back to itself; name another track, write then: evergreen, or remove then to follow the lead's interests", t.ID)
		default:
			if v.ref(path, "track", "tracks (or evergreen)", t.Then, v.tracks) {
				next[t.ID] = t.Then
			}
		}
	}
	// Each loop is reported once, on the first of its tracks in the file.
	reported := map[string]bool{}
	for i, t := range v.p.Tracks {
		chain := []string{t.ID}
		for id := next[t.ID]; id != ""; id = next[id] {
			chain = append(chain, id)
			if id == t.ID {
				break
			}
			if slices.Contains(chain[:len(chain)-1], id) || len(chain) > len(v.p.Tracks)+1 {
				chain = nil // a loop further on, reported from its own first track
				break
			}
		}
		if len(chain) < 3 || chain[len(chain)-1] != t.ID || reported[t.ID] {
			continue
		}
		for _, id := range chain {
			reported[id] = true
		}
		v.add(idx("tracks", i)+".then", "%s goes round in a loop, so these tracks never end; write then: evergreen on one of them, or remove then to follow the lead's interests",
			strings.Join(chain, " → "))
	}
}

// lifelong checks the evergreen cadence, re-engagement and what returned
// leads do.
func (v *validator) lifelong() {
	e, capWait := v.p.Evergreen, v.p.Schedule.FrequencyCap
	switch {
	case e.Every.Duration < 0:
		v.add("evergreen.every", "every cannot be negative; write e.g. every: 30d for one email a month")
	case e.Every.Duration == 0 && e.Intro != "":
		v.add("evergreen.every", "add how often evergreen mail goes out, e.g. every: 30d, or remove evergreen")
	case e.Every.Duration > 0 && e.Every.Duration < capWait.Duration:
		v.add("evergreen.every", "evergreen mail every %s is more often than schedule.frequencyCap allows (one email every %s); write every: %s or more, or lower frequencyCap",
			e.Every, capWait, capWait)
	}
	if e.Every.Duration > 0 && strings.TrimSpace(e.Intro) == "" {
		v.add("evergreen.intro", "add one or two sentences above the asset, e.g. intro: \"Something new from our library that fits what you have been reading.\"")
	}

	r := v.p.Reengage
	set := r.Wait.Duration != 0 || r.Subject != "" || r.Intro != "" || r.Button != ""
	switch {
	case r.After.Duration < 0:
		v.add("reengage.after", "after cannot be negative; write e.g. after: 90d")
	case r.After.Duration == 0 && set:
		v.add("reengage.after", "add how long a lead may go without engaging before we ask, e.g. after: 90d, or remove reengage")
	}
	if r.After.Duration > 0 {
		if r.Wait.Duration <= 0 {
			v.add("reengage.wait", "add how long the lead has to answer before mail stops, e.g. wait: 14d")
		}
		if strings.TrimSpace(r.Subject) == "" {
			v.add("reengage.subject", "add the subject of the \"still useful?\" email, e.g. subject: Should we keep sending you articles?")
		}
		v.oneLine("reengage.subject", "subject", r.Subject)
		if strings.TrimSpace(r.Intro) == "" {
			v.add("reengage.intro", "add one or two sentences asking whether to go on, e.g. intro: \"We have not heard from you in a while. Are these emails still useful?\"")
		}
		v.oneLine("reengage.button", "button label", r.Button)
	}

	codes := make([]string, len(ReturnReasons))
	for i, rr := range ReturnReasons {
		codes[i] = rr.Code
	}
	for _, code := range sortedKeys(v.p.Returns) {
		path := "returns." + code
		if !slices.Contains(codes, code) {
			msg := fmt.Sprintf("%q is not a return reason; use one of %s", code, strings.Join(codes, ", "))
			if s := closest(code, codes); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			v.addKey(path, "%s", msg)
			continue
		}
		switch action := v.p.Returns[code]; {
		case !slices.Contains(ReturnActions, action):
			msg := fmt.Sprintf("%q is not something a returned lead can do; use one of %s", action, strings.Join(ReturnActions, ", "))
			if s := closest(action, ReturnActions); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			v.add(path, "%s", msg)
		case action == ReturnEvergreen && !v.p.EvergreenOn():
			v.add(path, "there is no evergreen cadence to return leads to; add evergreen: with every: and intro:, or use resume or stop")
		}
	}
}

func (v *validator) scoring() {
	s := v.p.Scoring
	if s.HalfLifeDays <= 0 {
		v.add("scoring.halfLifeDays", "halfLifeDays must be more than 0; e.g. halfLifeDays: 30 halves the weight of interest every 30 days")
	}
	for _, m := range []struct {
		path   string
		points map[string]int
	}{{"scoring.activities.download", s.Activities.Download}, {"scoring.activities.click", s.Activities.Click}} {
		for _, stage := range sortedKeys(m.points) {
			if !slices.Contains(Stages, stage) {
				v.addKey(m.path+"."+stage, "%q is not a buying stage; use one of %s", stage, strings.Join(Stages, ", "))
			}
		}
	}
	for _, field := range sortedKeys(s.Fit) {
		fp := "scoring.fit." + field
		if !slices.Contains(ProfileFields, field) {
			v.addKey(fp, "%q is not a profile field; use one of %s", field, strings.Join(ProfileFields, ", "))
			continue
		}
		for _, value := range sortedKeys(s.Fit[field]) {
			v.knownValue(fp+"."+value, field, value, true)
		}
	}
	switch d := s.FormCrossingPeriod.Duration; {
	case d < 0:
		v.add("scoring.formCrossingPeriod", "formCrossingPeriod cannot be negative; write e.g. formCrossingPeriod: 30d, or remove it for the default of 30 days")
	case d > 0 && d < 24*time.Hour:
		v.add("scoring.formCrossingPeriod", "formCrossingPeriod %s lets a script posting forms cross a threshold every few hours; use at least 1d, e.g. formCrossingPeriod: 30d", s.FormCrossingPeriod)
	case d > 365*24*time.Hour:
		v.add("scoring.formCrossingPeriod", "formCrossingPeriod %s is longer than a year; a returning buyer's forms would never alert again; use at most 365d, e.g. formCrossingPeriod: 30d", s.FormCrossingPeriod)
	}
	switch d := s.Settle.Duration; {
	case d < 0:
		v.add("scoring.settle", "settle cannot be negative; write e.g. settle: 2m, or remove it for the default of 2 minutes")
	case d > 0 && d < MinSettle:
		v.add("scoring.settle", "settle %s is shorter than a scanner's burst of clicks can take to arrive; use at least 10s, e.g. settle: 2m", s.Settle)
	case d > MaxSettle:
		v.add("scoring.settle", "settle %s holds a reader's alert past the minutes in which a lead is reached; use at most 15m, e.g. settle: 2m", s.Settle)
	}
	for i, dom := range s.FreeMail.Domains {
		if !isDomain(dom) {
			v.add(idx("scoring.freeMail.domains", i), "%q is not a mail domain; write just the part after @, in lowercase, e.g. gmail.com", dom)
		}
	}
}

func (v *validator) thresholds() {
	if len(v.p.Thresholds) == 0 {
		v.add("thresholds", "add at least one threshold, e.g. - name: mql, score: 50, rearmMargin: 10; without one sales is never alerted")
	}
	seen := map[string]int{}
	for i, t := range v.p.Thresholds {
		path := idx("thresholds", i)
		v.id(path+".name", "threshold", t.Name, "", seen, i)
		if t.Score <= 0 {
			v.add(path+".score", "score must be more than 0; e.g. score: 50")
		} else if i > 0 && t.Score <= v.p.Thresholds[i-1].Score {
			v.add(path+".score", "score %d must be higher than the previous threshold's %d; list thresholds from low to high", t.Score, v.p.Thresholds[i-1].Score)
		}
		switch {
		case t.RearmMargin < 0:
			v.add(path+".rearmMargin", "rearmMargin cannot be negative; e.g. rearmMargin: 10 alerts again only after the score fell 10 below %d", t.Score)
		case t.Score > 0 && t.RearmMargin >= t.Score:
			v.add(path+".rearmMargin", "rearmMargin %d must be smaller than the score %d, or the alert can never re-arm; e.g. rearmMargin: 10", t.RearmMargin, t.Score)
		}
	}
}

func (v *validator) routing() {
	r := v.p.Routing
	if r.Default == "" {
		v.add("routing.default", "add the address that gets alerts no rule matches, e.g. default: sales@acme.example")
	} else if msg := checkAddress(r.Default); msg != "" {
		v.add("routing.default", "%s", msg)
	}
	for i, rule := range r.Rules {
		path := idx("routing.rules", i)
		if rule.To == "" {
			v.add(path+".to", "add the address this rule sends alerts to, e.g. to: emea-sales@acme.example")
		} else if msg := checkAddress(rule.To); msg != "" {
			v.add(path+".to", "%s", msg)
		}
		if len(rule.Industries)+len(rule.CompanySizes)+len(rule.Countries) == 0 {
			v.add(path, "this rule has no condition, so it would take every alert; add industries, companySizes or countries, or use routing.default instead")
		}
		for j, s := range rule.Industries {
			v.knownValue(idx(path+".industries", j), "industry", s, false)
		}
		for j, s := range rule.CompanySizes {
			v.knownValue(idx(path+".companySizes", j), "companySize", s, false)
		}
		for j, s := range rule.Countries {
			v.knownValue(idx(path+".countries", j), "country", s, false)
		}
	}
}

// reports checks the digest's recipients.
func (v *validator) reports() {
	to := v.p.Reports.To
	if len(to) > MaxReportRecipients {
		v.add("reports.to", "%d addresses; the weekly results go to at most %d (use a team address for more)", len(to), MaxReportRecipients)
	}
	seen := map[string]int{}
	for i, a := range to {
		path := fmt.Sprintf("reports.to[%d]", i)
		if msg := checkAddress(a); msg != "" {
			v.add(path, "%s", msg)
			continue
		}
		if j, ok := seen[Mailbox(a)]; ok {
			v.add(path, "%s is listed already at reports.to[%d]; list each address once", a, j)
			continue
		}
		seen[Mailbox(a)] = i
	}
}

// checkAddress returns what is wrong with an email address, or "".
func checkAddress(s string) string {
	a, err := mail.ParseAddress(s)
	if err != nil || !strings.Contains(a.Address, "@") {
		return fmt.Sprintf("%q is not an email address; write it as name@example.com or \"Name <name@example.com>\"", s)
	}
	return ""
}

// checkURL returns what is wrong with a link in mail or a redirect, or "".
// Plain http is only for local testing: mail links must not leak over
// unencrypted connections.
func checkURL(raw, what string) string {
	if raw == "" {
		return fmt.Sprintf("add %s as a full https:// address", what)
	}
	u, err := url.Parse(raw)
	if err != nil || strings.ContainsAny(raw, " \t\r\n") || !u.IsAbs() || u.Host == "" {
		return fmt.Sprintf("%q is not a full web address; write %s with https://, e.g. https://acme.example/library/guide", raw, what)
	}
	switch u.Scheme {
	case "https":
		return ""
	case "http":
		if isLocalhost(u.Hostname()) {
			return ""
		}
		return fmt.Sprintf("%q uses plain http; write https://%s (http is only accepted for localhost)", raw, strings.TrimPrefix(raw, "http://"))
	}
	return fmt.Sprintf("%q is not a web address; write %s with https://", raw, what)
}

func isLocalhost(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isDomain(s string) bool {
	if s == "" || len(s) > 253 || s != strings.ToLower(s) || !strings.Contains(s, ".") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func keys[M ~map[string]V, V any](m M) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func sortedKeys[M ~map[string]V, V any](m M) []string {
	ks := keys(m)
	slices.Sort(ks)
	return ks
}

// ValidTimeZone tells whether name is an IANA time zone that means the same
// everywhere: "Local" and "" depend on the machine, and a name is short
// and made of the characters IANA uses (the database is compiled in, so
// Lambda and a laptop agree).
func ValidTimeZone(name string) bool {
	if name == "" || name == "Local" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/_+-", r)) {
			return false
		}
	}
	_, err := time.LoadLocation(name)
	return err == nil
}
