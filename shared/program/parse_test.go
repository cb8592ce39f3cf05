package program

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// edit is one change to a program file: old must occur exactly once.
type edit struct{ old, new string }

// applyEdit returns data with the edit made, and the byte offset of the new
// text so a test can compute where a problem should point.
func applyEdit(t *testing.T, data []byte, e edit) ([]byte, int) {
	t.Helper()
	s := string(data)
	if n := strings.Count(s, e.old); n != 1 {
		t.Fatalf("%q occurs %d times in the file; make the test's old text unique", e.old, n)
	}
	off := strings.Index(s, e.old)
	return []byte(s[:off] + e.new + s[off+len(e.old):]), off
}

// lineCol converts a byte offset into the 1-based line and column yaml.v3
// reports (columns count characters).
func lineCol(data []byte, off int) (int, int) {
	before := string(data[:off])
	line := strings.Count(before, "\n") + 1
	col := len([]rune(before[strings.LastIndexByte(before, '\n')+1:])) + 1
	return line, col
}

func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("want a *ValidationError, got %T: %v", err, err)
	}
	if len(verr.Problems) == 0 {
		t.Fatal("a ValidationError without problems")
	}
	return verr.Problems
}

func findProblem(ps []Problem, path string) (Problem, bool) {
	for _, p := range ps {
		if p.Path == path {
			return p, true
		}
	}
	return Problem{}, false
}

// Each case makes one mistake in the default program and expects a problem
// on the mistake's path, at the position of `at` within the new text, whose
// message contains msg.
func TestParse_mistakeInDefault_pointsAtLineColumnAndPath(t *testing.T) {
	tests := []struct {
		name string
		edit edit
		at   string // where in edit.new the problem points
		path string
		msg  string
	}{
		{
			name: "unknown stage in a track step",
			edit: edit{"stage: decision\n        formats: [guide, case-study]", "stage: decison\n        formats: [guide, case-study]"},
			at:   "decison", path: "tracks[1].steps[4].stage",
			msg: `"decison" is not a buying stage; use one of awareness, consideration, decision`,
		},
		{
			name: "unknown asset stage",
			edit: edit{"stage: awareness\n    published: 2026-01-13\n\n  - id: slo-primer", "stage: awarenes\n    published: 2026-01-13\n\n  - id: slo-primer"},
			at:   "awarenes", path: "assets[11].stage", msg: "is not a buying stage",
		},
		{
			name: "unknown format",
			edit: edit{"format: report", "format: pdf"},
			at:   "pdf", path: "assets[11].format", msg: `"pdf" is not an asset format; use one of whitepaper`,
		},
		{
			name: "plain http url",
			edit: edit{"url: https://acme.example/library/slo-primer", "url: http://acme.example/library/slo-primer"},
			at:   "http:", path: "assets[12].url", msg: "write https://acme.example/library/slo-primer",
		},
		{
			name: "relative url",
			edit: edit{"url: https://acme.example/library/slo-primer", "url: /library/slo-primer"},
			at:   "/library", path: "assets[12].url", msg: "not a full web address",
		},
		{
			name: "id with spaces and capitals",
			edit: edit{"- id: on-call-health-checklist", "- id: On Call Checklist"},
			at:   "On Call", path: "assets[13].id", msg: "e.g. on-call-checklist",
		},
		{
			name: "duplicate asset id",
			edit: edit{"- id: unit-economics-video", "- id: finops-maturity-checklist"},
			at:   "finops", path: "assets[2].id", msg: `asset id "finops-maturity-checklist" is already used on line`,
		},
		{
			name: "asset without topics",
			edit: edit{"topics: [reliability, cloud-cost]", "topics: []"},
			at:   "[]", path: "assets[20].topics", msg: "add at least one topic",
		},
		{
			name: "topics written as a single word",
			edit: edit{"topics: [reliability, cloud-cost]", "topics: reliability"},
			at:   "reliability", path: "assets[20].topics", msg: "write [reliability]",
		},
		{
			name: "asset industry no question offers",
			edit: edit{"industries: [healthcare]", "industries: [health]"},
			at:   "health]", path: "assets[16].industries[0]", msg: `"health" is not an answer of the industry question; use one of finance, healthcare`,
		},
		{
			name: "misspelt key",
			edit: edit{"    summary: Survey data", "    sumary: Survey data"},
			at:   "sumary", path: "assets[11].sumary", msg: `unknown key "sumary"; did you mean "summary"?`,
		},
		{
			name: "unknown key without a near match",
			edit: edit{"    summary: Survey data", "    owner: Survey data"},
			at:   "owner", path: "assets[11].owner", msg: `unknown key "owner"; use one of id, title, url, format, summary, topics, stage, industries, published, sameAs`,
		},
		{
			name: "form delivers a missing asset",
			edit: edit{"asset: slo-primer", "asset: slo-primmer"},
			at:   "slo-primmer", path: "forms[2].asset", msg: `no asset has id "slo-primmer"; use an id from assets (did you mean "slo-primer"?)`,
		},
		{
			name: "form field that does not exist",
			edit: edit{"fields: [email, name, role]", "fields: [email, name, phone]"},
			at:   "phone", path: "forms[2].fields[2]", msg: `"phone" is not a form field; use one of email, name`,
		},
		{
			name: "form without email",
			edit: edit{"fields: [email, name, role]", "fields: [name, role]"},
			at:   "[name", path: "forms[2].fields", msg: "add email to fields",
		},
		{
			name: "required field the form does not show",
			edit: edit{"fields: [email, name, company, role, industry]\n    required: [email, company]", "fields: [email, name, role, industry]\n    required: [email, company]"},
			at:   "company]", path: "forms[1].required[1]", msg: `"company" is required but not among this form's fields`,
		},
		{
			name: "email not required",
			edit: edit{"fields: [email, name, role]\n    required: [email]", "fields: [email, name, role]\n    required: [name]"},
			at:   "[name]", path: "forms[2].required", msg: "add email to required",
		},
		{
			name: "required consent without version",
			edit: edit{"consent:\n      required: true\n      version: \"2026-01\"\n      text: \"Yes, send me the primer", "consent:\n      required: true\n      text: \"Yes, send me the primer"},
			at:   "consent", path: "forms[2].consent.version", msg: "add a consent version",
		},
		{
			name: "required consent without text",
			edit: edit{"text: \"Yes, send me the primer and a few related articles from Acme Cloud by email. I can unsubscribe with one click at any time.\"", "text: \"\""},
			at:   `""`, path: "forms[2].consent.text", msg: "add the consent wording",
		},
		{
			name: "relative thank-you page",
			edit: edit{`title: "Read the SLO primer"`, "title: \"Read the SLO primer\"\n    thankYouUrl: /thanks"},
			at:   "/thanks", path: "forms[2].thankYouUrl", msg: "not a full web address",
		},
		{
			name: "question fills an unknown field",
			edit: edit{"field: timeline", "field: budget"},
			at:   "budget", path: "questions[3].field", msg: `"budget" is not a profile field; use one of industry, companySize, role, timeline, country`,
		},
		{
			name: "duplicate option value",
			edit: edit{`{ value: this-year, label: "Later this year" }`, `{ value: now, label: "Later this year" }`},
			at:   "now", path: "questions[3].options[2].value", msg: `"now" is already an option of this question`,
		},
		{
			name: "duplicate question id",
			edit: edit{"- id: role\n", "- id: industry\n"},
			at:   "industry", path: "questions[2].id", msg: `question id "industry" is already used on line`,
		},
		{
			name: "step asks an unknown question",
			edit: edit{"question: timeline\n      - wait: 10d", "question: budget\n      - wait: 10d"},
			at:   "budget", path: "tracks[0].steps[4].question", msg: `no question has id "budget"`,
		},
		{
			name: "step sends a fixed asset that does not exist",
			edit: edit{"formats: [webinar]\n", "formats: [webinar]\n        asset: game-day-webinr\n"},
			at:   "game-day-webinr", path: "tracks[1].steps[3].asset", msg: `did you mean "game-day-webinar"?`,
		},
		{
			name: "step prefers an unknown format",
			edit: edit{"formats: [webinar]", "formats: [webinars]"},
			at:   "webinars", path: "tracks[1].steps[3].formats[0]", msg: `"webinars" is not an asset format`,
		},
		{
			name: "negative wait",
			edit: edit{"- wait: 7d\n        stage: awareness\n        formats: [checklist, report]", "- wait: -3d\n        stage: awareness\n        formats: [checklist, report]"},
			at:   "-3d", path: "tracks[1].steps[1].wait", msg: "a wait cannot be negative",
		},
		{
			name: "no wait between two steps",
			edit: edit{"- wait: 7d\n        stage: awareness\n        formats: [checklist, report]", "- wait: 0\n        stage: awareness\n        formats: [checklist, report]"},
			at:   "0", path: "tracks[1].steps[1].wait", msg: "both emails go out together",
		},
		{
			name: "wait without a unit",
			edit: edit{"- wait: 7d\n        stage: awareness\n        formats: [checklist, report]", "- wait: 7\n        stage: awareness\n        formats: [checklist, report]"},
			at:   "7", path: "tracks[1].steps[1].wait", msg: `"7" is not a duration; write a number with a unit, e.g. 2d`,
		},
		{
			name: "track topic no asset has",
			edit: edit{"    topic: reliability\n", "    topic: reliabilty\n"},
			at:   "reliabilty", path: "tracks[1].topic", msg: `no asset has topic "reliabilty"`,
		},
		{
			name: "two tracks for one topic",
			edit: edit{"    topic: reliability\n", "    topic: cloud-cost\n"},
			at:   "cloud-cost", path: "tracks[1].topic", msg: `topic "cloud-cost" already has a track (cloud-cost-track, line`,
		},
		{
			name: "unknown time zone",
			edit: edit{"timeZone: Europe/Berlin\n", "timeZone: Europe/Berln\n"},
			at:   "Europe/Berln", path: "schedule.timeZone", msg: `"Europe/Berln" is not a time zone`,
		},
		{
			name: "country answer with an unknown time zone",
			edit: edit{"timeZone: America/New_York }", "timeZone: America/Nowhere }"},
			at:   "America/Nowhere", path: "questions[4].options[6].timeZone", msg: `"America/Nowhere" is not a time zone`,
		},
		{
			name: "time zone on an answer that is not a country",
			edit: edit{`{ value: researching, label: "Just researching" }`, `{ value: researching, label: "Just researching", timeZone: UTC }`},
			at:   "UTC", path: "questions[3].options[3].timeZone", msg: "only a country question's options set a time zone",
		},
		{
			name: "unknown day",
			edit: edit{"days: [mon, tue, wed, thu, fri]", "days: [mon, tue, wed, thu, fr]"},
			at:   "fr]", path: "schedule.days[4]", msg: `"fr" is not a day`,
		},
		{
			name: "window ends before it starts",
			edit: edit{`end: "17:00"`, `end: "08:00"`},
			at:   `"08:00"`, path: "schedule.end", msg: "end 08:00 must be after start 09:00",
		},
		{
			name: "time of day not HH:MM",
			edit: edit{`start: "09:00"`, `start: 9am`},
			at:   "9am", path: "schedule.start", msg: `"9am" is not a time of day; write "HH:MM"`,
		},
		{
			name: "unsupported version",
			edit: edit{"version: 1\n", "version: 2\n"},
			at:   "2", path: "version", msg: "version 2 is not supported; this release reads version: 1",
		},
		{
			name: "sender not an address",
			edit: edit{`from: "Acme Cloud Insights <insights@acme.example>"`, `from: "insights at acme.example"`},
			at:   `"insights`, path: "sender.from", msg: "is not an email address",
		},
		{
			name: "no postal address",
			edit: edit{`postalAddress: "Acme Cloud, Inc., Friedrichstraße 123, 10117 Berlin, Germany"`, `postalAddress: ""`},
			at:   `""`, path: "sender.postalAddress", msg: "add the postal address",
		},
		{
			name: "activity days not a number",
			edit: edit{"activityDays: 730", "activityDays: two years"},
			at:   "two", path: "retention.activityDays", msg: `"two years" is not a whole number`,
		},
		{
			name: "number in quotes",
			edit: edit{"activityDays: 730", `activityDays: "730"`},
			at:   `"730"`, path: "retention.activityDays", msg: "remove the quotes",
		},
		{
			name: "half-life zero",
			edit: edit{"halfLifeDays: 45", "halfLifeDays: 0"},
			at:   "0", path: "scoring.halfLifeDays", msg: "halfLifeDays must be more than 0",
		},
		{
			name: "download points for an unknown stage",
			edit: edit{"download: { awareness: 10", "download: { awarness: 10"},
			at:   "awarness", path: "scoring.activities.download.awarness", msg: `"awarness" is not a buying stage`,
		},
		{
			name: "fit points for an unknown field",
			edit: edit{"    timeline: { now: 15", "    timelines: { now: 15"},
			at:   "timelines", path: "scoring.fit.timelines", msg: `"timelines" is not a profile field`,
		},
		{
			name: "fit points for a value no question offers",
			edit: edit{"retail: 8, manufacturing: 8 }", "retail: 8, manufacturng: 8 }"},
			at:   "manufacturng", path: "scoring.fit.industry.manufacturng", msg: `"manufacturng" is not an answer of the industry question`,
		},
		{
			name: "free mail domain with an at sign",
			edit: edit{"- gmail.com", `- "@gmail.com"`},
			at:   `"@`, path: "scoring.freeMail.domains[0]", msg: "write just the part after @",
		},
		{
			name: "thresholds out of order",
			edit: edit{"score: 80", "score: 40"},
			at:   "40", path: "thresholds[1].score", msg: "score 40 must be higher than the previous threshold's 50",
		},
		{
			name: "rearm margin as large as the score",
			edit: edit{"score: 80\n    rearmMargin: 10", "score: 80\n    rearmMargin: 80"},
			at:   "80\n", path: "thresholds[1].rearmMargin", msg: "rearmMargin 80 must be smaller than the score 80",
		},
		{
			name: "duplicate threshold name",
			edit: edit{"- name: hot", "- name: mql"},
			at:   "mql", path: "thresholds[1].name", msg: `threshold name "mql" is already used`,
		},
		{
			name: "default route not an address",
			edit: edit{"default: sales@acme.example", "default: sales team"},
			at:   "sales team", path: "routing.default", msg: `"sales team" is not an email address`,
		},
		{
			name: "rule without a condition",
			edit: edit{"- companySizes: [\"5000+\"]\n      to: enterprise-sales@acme.example", "- to: enterprise-sales@acme.example"},
			at:   "to:", path: "routing.rules[1]", msg: "this rule has no condition",
		},
		{
			name: "rule for an unknown industry",
			edit: edit{"- industries: [finance]", "- industries: [fintech]"},
			at:   "fintech", path: "routing.rules[0].industries[0]", msg: `"fintech" is not an answer of the industry question`,
		},
		{
			name: "published date not a date",
			edit: edit{"published: 2025-07-15", "published: 15.07.2025"},
			at:   "15.07", path: "assets[13].published", msg: "write the day the asset came out as YYYY-MM-DD",
		},
		{
			name: "sameAs an asset that does not exist",
			edit: edit{"sameAs: downtime-cost-report", "sameAs: downtime-report"},
			at:   "downtime-report", path: "assets[21].sameAs", msg: `no asset has id "downtime-report"; use an id from assets`,
		},
		{
			name: "sameAs itself",
			edit: edit{"sameAs: downtime-cost-report", "sameAs: downtime-cost-briefing"},
			at:   "downtime-cost-briefing", path: "assets[21].sameAs", msg: "an asset is always the same as itself",
		},
		{
			name: "no-send date that is not a date",
			edit: edit{`"12-31", "01-01"]`, `"12-32", "01-01"]`},
			at:   `"12-32"`, path: "schedule.noSendDates[3]", msg: `"12-32" is not a date; write YYYY-MM-DD for one day (2026-12-24) or MM-DD`,
		},
		{
			name: "no-send date listed twice",
			edit: edit{`"12-31", "01-01"]`, `"12-31", "12-24"]`},
			at:   `"12-24"]`, path: "schedule.noSendDates[4]", msg: `"12-24" is listed twice`,
		},
		{
			name: "no soft bounce at all stops mail",
			edit: edit{"softBounces: 3", "softBounces: 0"},
			at:   "0", path: "suppression.softBounces", msg: "softBounces must be at least 1",
		},
		{
			name: "too many soft bounces before mail stops",
			edit: edit{"softBounces: 3", "softBounces: 12"},
			at:   "12", path: "suppression.softBounces", msg: "softBounces 12 keeps mailing an address that has not taken mail for too long; write 10 or less",
		},
		{
			name: "negative form crossing period",
			edit: edit{"formCrossingPeriod: 30d", "formCrossingPeriod: -30d"},
			at:   "-30d", path: "scoring.formCrossingPeriod", msg: "formCrossingPeriod cannot be negative",
		},
		{
			name: "form crossing period of hours",
			edit: edit{"formCrossingPeriod: 30d", "formCrossingPeriod: 6h"},
			at:   "6h", path: "scoring.formCrossingPeriod", msg: "formCrossingPeriod 6h lets a script posting forms cross a threshold every few hours; use at least 1d",
		},
		{
			name: "form crossing period over a year",
			edit: edit{"formCrossingPeriod: 30d", "formCrossingPeriod: 400d"},
			at:   "400d", path: "scoring.formCrossingPeriod", msg: "formCrossingPeriod 400d is longer than a year",
		},
		{
			name: "negative settle",
			edit: edit{"settle: 2m", "settle: -2m"},
			at:   "-2m", path: "scoring.settle", msg: "settle cannot be negative",
		},
		{
			name: "settle of seconds",
			edit: edit{"settle: 2m", "settle: 3s"},
			at:   "3s", path: "scoring.settle", msg: "settle 3s is shorter than a scanner's burst of clicks can take to arrive; use at least 10s",
		},
		{
			name: "settle over a quarter hour",
			edit: edit{"settle: 2m", "settle: 1h"},
			at:   "1h", path: "scoring.settle", msg: "settle 1h holds a reader's alert past the minutes in which a lead is reached; use at most 15m",
		},
		{
			name: "negative frequency cap",
			edit: edit{"frequencyCap: 5d", "frequencyCap: -5d"},
			at:   "-5d", path: "schedule.frequencyCap", msg: "frequencyCap cannot be negative",
		},
		{
			name: "track then names a missing track",
			edit: edit{"    topic: reliability\n", "    topic: reliability\n    then: cloud-cost-trak\n"},
			at:   "cloud-cost-trak", path: "tracks[1].then", msg: `no track has id "cloud-cost-trak"; use an id from tracks (or evergreen) (did you mean "cloud-cost-track"?)`,
		},
		{
			name: "track then names itself",
			edit: edit{"    topic: reliability\n", "    topic: reliability\n    then: reliability-track\n"},
			at:   "reliability-track\n", path: "tracks[1].then", msg: `track "reliability-track" sends its leads back to itself`,
		},
		{
			name: "track id reserved for evergreen",
			edit: edit{"- id: reliability-track", "- id: evergreen"},
			at:   "evergreen", path: "tracks[1].id", msg: `"evergreen" names the evergreen mail, not a track`,
		},
		{
			name: "evergreen more often than the cap",
			edit: edit{"every: 30d", "every: 3d"},
			at:   "3d", path: "evergreen.every", msg: "evergreen mail every 3d is more often than schedule.frequencyCap allows (one email every 5d)",
		},
		{
			name: "voice topic without a track",
			edit: edit{"- { topic: reliability, label:", "- { topic: reliabilty, label:"},
			at:   "reliabilty", path: "voice.topics[1].topic", msg: `no track has the topic "reliabilty", so a reader who chooses it would get nothing new; use one of cloud-cost, reliability, or add a track for it (did you mean "reliability"?)`,
		},
		{
			name: "voice topic without a label",
			edit: edit{`label: "Fewer and shorter outages"`, `label: ""`},
			at:   `""`, path: "voice.topics[1].label", msg: `add the words readers see for the topic, e.g. label: "Reliability"`,
		},
		{
			name: "voice asking every negative email",
			edit: edit{"askEvery: 3", "askEvery: -3"},
			at:   "-3", path: "voice.askEvery", msg: "askEvery cannot be negative",
		},
		{
			name: "return reason that does not exist",
			edit: edit{"  not-ready: evergreen", "  not-redy: evergreen"},
			at:   "not-redy", path: "returns.not-redy", msg: `"not-redy" is not a return reason; use one of not-ready, no-budget, wrong-person, no-response, other (did you mean "not-ready"?)`,
		},
		{
			name: "return action that does not exist",
			edit: edit{"  wrong-person: stop", "  wrong-person: stopp"},
			at:   "stopp", path: "returns.wrong-person", msg: `"stopp" is not something a returned lead can do; use one of resume, restart, evergreen, stop (did you mean "stop"?)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, off := applyEdit(t, defaultFile, tt.edit)
			i := strings.Index(tt.edit.new, tt.at)
			if i < 0 {
				t.Fatalf("at %q is not in the new text", tt.at)
			}
			// "0" and "80\n" are found by Index at the value itself; the
			// rearm case points at the second line of the edit.
			if tt.at == "80\n" {
				i = strings.LastIndex(tt.edit.new, "80")
			}
			_, err := Parse("program.yaml", data)
			wantProblemAt(t, err, "program.yaml", data, off+i, tt.path, tt.msg)
		})
	}
}

// Mistakes whose problem points away from the edit: at the value that
// must change (pointAt, unique in the edited file) or, for a missing key,
// at the mapping to add it to.
// mistake is one change to the default program and the problem it makes:
// on path, pointing at pointAt in the edited file, saying msg.
type mistake struct {
	name    string
	edit    edit
	pointAt string
	path    string
	msg     string
}

// checkMistakes makes each mistake in the default program and checks the
// problem it reports.
func checkMistakes(t *testing.T, tests []mistake) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, _ := applyEdit(t, defaultFile, tt.edit)
			if n := strings.Count(string(data), tt.pointAt); n != 1 {
				t.Fatalf("pointAt %q occurs %d times in the edited file", tt.pointAt, n)
			}
			_, err := Parse("program.yaml", data)
			wantProblemAt(t, err, "program.yaml", data, strings.Index(string(data), tt.pointAt), tt.path, tt.msg)
		})
	}
}

func TestParse_lifelongMistakeInDefault_pointsAtWhatToChange(t *testing.T) {
	checkMistakes(t, []mistake{
		{
			name:    "cap longer than a step's wait",
			edit:    edit{"frequencyCap: 5d", "frequencyCap: 8d"},
			pointAt: "7d\n        stage: awareness\n        formats: [video", path: "tracks[0].steps[1].wait",
			msg: "this step waits 7d after the previous email, but schedule.frequencyCap allows one email every 8d, so it would always go out 1d late; write wait: 8d or more, or lower frequencyCap",
		},
		{
			name:    "evergreen without an intro",
			edit:    edit{`  intro: "Something new from our library that fits what you have been reading."` + "\n", ""},
			pointAt: "evergreen:\n  every", path: "evergreen.intro", msg: "add one or two sentences above the asset",
		},
		{
			name:    "re-engagement without a wait",
			edit:    edit{"  wait: 14d\n", ""},
			pointAt: "reengage:", path: "reengage.wait", msg: "add how long the lead has to answer before mail stops",
		},
	})
}

// wantProblemAt checks that err reports a problem on path, in file at the
// byte offset off of its data, whose message contains msg.
func wantProblemAt(t *testing.T, err error, file string, data []byte, off int, path, msg string) {
	t.Helper()
	wantLine, wantCol := lineCol(data, off)
	p, ok := findProblem(problemsOf(t, err), path)
	if !ok {
		t.Fatalf("no problem at %s; got:\n%v", path, err)
	}
	if p.Line != wantLine || p.Column != wantCol || p.File != file {
		t.Errorf("problem at %s:%d:%d, want %s:%d:%d\n%v", p.File, p.Line, p.Column, file, wantLine, wantCol, p)
	}
	if !strings.Contains(p.Message, msg) {
		t.Errorf("message %q\nwant it to contain %q", p.Message, msg)
	}
}

// Mistakes that need a program smaller than the default to provoke.
func TestParse_mistakeInMinimal_pointsAtPath(t *testing.T) {
	tests := []struct {
		name  string
		edits []edit
		path  string
		msg   string
	}{
		{
			name:  "step stage no asset of the topic has",
			edits: []edit{{"topics: [cloud-cost]\n    stage: decision", "topics: [other]\n    stage: decision"}},
			path:  "tracks[0].steps[2].stage",
			msg:   `no asset about "cloud-cost" is at stage "decision"`,
		},
		{
			name:  "form whose topic no track nurtures",
			edits: []edit{{"topics: [cloud-cost]\n    stage: awareness", "topics: [cloud-cost, reliability]\n    stage: awareness"}},
			path:  "forms[0].asset",
			msg:   `asset "intro" is about "reliability", but no track nurtures that topic`,
		},
		{
			name:  "track without steps",
			edits: []edit{{"    steps:\n      - { wait: 1d, stage: awareness }\n      - { wait: 7d, stage: consideration, question: size }\n      - { wait: 7d, stage: decision }\n", "    steps: []\n"}},
			path:  "tracks[0].steps",
			msg:   "add at least one step",
		},
		{
			name:  "step without stage or asset",
			edits: []edit{{"{ wait: 7d, stage: decision }", "{ wait: 7d }"}},
			path:  "tracks[0].steps[2].stage",
			msg:   "add a buying stage to pick from",
		},
		{
			name:  "question without options",
			edits: []edit{{"    options:\n      - { value: small, label: Small }\n      - { value: large, label: Large }\n", ""}},
			path:  "questions[0].options",
			msg:   "add the answers to choose from",
		},
		{
			name:  "no thresholds",
			edits: []edit{{"thresholds:\n  - { name: mql, score: 50, rearmMargin: 10 }\n", ""}},
			path:  "thresholds",
			msg:   "add at least one threshold",
		},
		{
			name:  "missing sender address",
			edits: []edit{{"  from: \"Test Insights <insights@test.example>\"\n", ""}},
			path:  "sender.from",
			msg:   "add the address nurture mail comes from",
		},
		{
			name: "tracks that send leads round in a loop",
			edits: []edit{{"tracks:\n  - id: cost\n", "tracks:\n  - id: cost\n    then: cost-again\n"},
				{"scoring:", "  - id: cost-again\n    topic: cloud-cost\n    then: cost\n    steps: [{ wait: 1d, stage: awareness }]\nscoring:"}},
			path: "tracks[0].then",
			msg:  "cost → cost-again → cost goes round in a loop, so these tracks never end; write then: evergreen on one of them",
		},
		{
			name:  "then evergreen without an evergreen cadence",
			edits: []edit{{"tracks:\n  - id: cost\n", "tracks:\n  - id: cost\n    then: evergreen\n"}},
			path:  "tracks[0].then",
			msg:   "then: evergreen needs the evergreen cadence",
		},
		{
			name:  "returned leads sent to evergreen without an evergreen cadence",
			edits: []edit{{"scoring:", "returns: { not-ready: evergreen }\nscoring:"}},
			path:  "returns.not-ready",
			msg:   "there is no evergreen cadence to return leads to",
		},
		{
			name:  "re-engagement settings without after",
			edits: []edit{{"scoring:", "reengage: { wait: 14d, subject: Still there, intro: Shall we go on }\nscoring:"}},
			path:  "reengage.after",
			msg:   "add how long a lead may go without engaging before we ask",
		},
		{
			name:  "missing version",
			edits: []edit{{"version: 1\n", ""}},
			path:  "version",
			msg:   "add version: 1",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { wantMinimalProblem(t, tt.edits, tt.path, tt.msg) })
	}
}

// wantMinimalProblem makes the edits in minimal.yaml and checks that the
// problem on path, placed on a line and column, says msg.
func wantMinimalProblem(t *testing.T, edits []edit, path, msg string) {
	t.Helper()
	data := readTestdata(t, "minimal.yaml")
	for _, e := range edits {
		data, _ = applyEdit(t, data, e)
	}
	_, err := Parse("minimal.yaml", data)
	p, ok := findProblem(problemsOf(t, err), path)
	if !ok {
		t.Fatalf("no problem at %s; got:\n%v", path, err)
	}
	if !strings.Contains(p.Message, msg) {
		t.Errorf("message %q\nwant it to contain %q", p.Message, msg)
	}
	if p.Line == 0 || p.Column == 0 {
		t.Errorf("problem has no line and column: %v", p)
	}
}

func TestParse_missingKey_pointsAtTheMappingToAddItTo(t *testing.T) {
	data, _ := applyEdit(t, readTestdata(t, "minimal.yaml"), edit{"  postalAddress: \"1 Test Street, Testville\"\n", ""})
	_, err := Parse("minimal.yaml", data)
	p, ok := findProblem(problemsOf(t, err), "sender.postalAddress")
	if !ok {
		t.Fatalf("no problem for the missing postal address:\n%v", err)
	}
	want, _ := lineCol(data, strings.Index(string(data), "sender:"))
	if p.Line != want || p.Column != 1 {
		t.Errorf("problem at %d:%d, want the sender: key at %d:1", p.Line, p.Column, want)
	}
}

func TestParse_unknownTopLevelKey_isRejected(t *testing.T) {
	data, _ := applyEdit(t, readTestdata(t, "minimal.yaml"), edit{"tracks:\n", "tracs:\n"})
	_, err := Parse("minimal.yaml", data)
	p, ok := findProblem(problemsOf(t, err), "tracs")
	if !ok || !strings.Contains(p.Message, `did you mean "tracks"?`) {
		t.Fatalf("want an unknown-key problem suggesting tracks, got:\n%v", err)
	}
}

func TestParse_misspeltKey_isNotAlsoReportedAsMissing(t *testing.T) {
	data, _ := applyEdit(t, readTestdata(t, "minimal.yaml"), edit{"    title: Intro\n", "    titel: Intro\n"})
	_, err := Parse("minimal.yaml", data)
	ps := problemsOf(t, err)
	if len(ps) != 1 || ps[0].Path != "assets[0].titel" {
		t.Errorf("want exactly the unknown-key problem, got:\n%v", err)
	}
}

func TestParse_duplicateKey_isRejected(t *testing.T) {
	data, off := applyEdit(t, readTestdata(t, "minimal.yaml"), edit{"    title: Intro\n", "    title: Intro\n    title: Intro again\n"})
	_, err := Parse("minimal.yaml", data)
	p, ok := findProblem(problemsOf(t, err), "assets[0].title")
	wantLine, _ := lineCol(data, off)
	if !ok || !strings.Contains(p.Message, fmt.Sprintf("appears twice here (first on line %d)", wantLine)) || p.Line != wantLine+1 {
		t.Errorf("want a duplicate-key problem on line %d, got:\n%v", wantLine+1, err)
	}
}

func TestParse_manyMistakes_allReportedAtOnceInFileOrder(t *testing.T) {
	data := defaultFile
	for _, e := range []edit{
		{"timeZone: Europe/Berlin\n", "timeZone: Mars/Olympus\n"},
		{"format: report", "format: pdf"},
		{"asset: slo-primer", "asset: slo-primmer"},
		{"stage: decision\n        formats: [guide, case-study]", "stage: decison\n        formats: [guide, case-study]"},
		{"halfLifeDays: 45", "halfLifeDays: -1"},
		{"default: sales@acme.example", "default: nobody"},
	} {
		data, _ = applyEdit(t, data, e)
	}
	_, err := Parse("program.yaml", data)
	ps := problemsOf(t, err)
	want := []string{"schedule.timeZone", "assets[11].format", "forms[2].asset", "tracks[1].steps[4].stage", "scoring.halfLifeDays", "routing.default"}
	var got []string
	for _, p := range ps {
		got = append(got, p.Path)
	}
	if !slices.Equal(got, want) {
		t.Errorf("paths = %v\nwant %v\n%v", got, want, err)
	}
	if lines := strings.Split(err.Error(), "\n"); len(lines) != len(want) {
		t.Errorf("Error() should print one problem per line:\n%v", err)
	}
}

func TestParse_syntaxError_reportsItsLine(t *testing.T) {
	// An unquoted ": " inside a title is the commonest YAML mistake.
	data, off := applyEdit(t, readTestdata(t, "minimal.yaml"), edit{"    title: Intro\n", "    title: Intro: the basics\n"})
	_, err := Parse("minimal.yaml", data)
	ps := problemsOf(t, err)
	wantLine, _ := lineCol(data, off)
	if len(ps) != 1 || ps[0].Line != wantLine || !strings.Contains(ps[0].Message, "not valid YAML") {
		t.Errorf("want one syntax problem on line %d, got:\n%v", wantLine, err)
	}
}

func TestParse_tabIndentation_isASyntaxProblem(t *testing.T) {
	_, err := Parse("p.yaml", []byte("version: 1\nsender:\n\tfrom: a@b.example\n"))
	ps := problemsOf(t, err)
	if ps[0].Line != 3 {
		t.Errorf("want line 3, got:\n%v", err)
	}
}

func TestParse_notAProgram_saysWhatShapeIsExpected(t *testing.T) {
	for name, in := range map[string]string{
		"empty":           "",
		"only a comment":  "# nothing yet\n",
		"a list":          "- version: 1\n",
		"a word":          "hello\n",
		"second document": "version: 1\n---\nversion: 1\n",
	} {
		t.Run(name, func(t *testing.T) {
			p, err := Parse("p.yaml", []byte(in))
			if p != nil {
				t.Fatal("no program should come back with problems")
			}
			ps := problemsOf(t, err)
			if len(ps) != 1 {
				t.Errorf("want one problem, got:\n%v", err)
			}
		})
	}
}

func TestParse_anchorsAndAliases_reuseAValue(t *testing.T) {
	data, _ := applyEdit(t, readTestdata(t, "minimal.yaml"), edit{
		"    consent: { required: true, version: v1, text: \"Send me mail.\" }\n",
		"    consent: &consent { required: true, version: v1, text: \"Send me mail.\" }\n" +
			"  - id: second-form\n    title: Again\n    asset: intro\n    fields: [email]\n    required: [email]\n    consent: *consent\n",
	})
	p, err := Parse("minimal.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := p.Form("second-form"); f.Consent.Version != "v1" {
		t.Errorf("alias not expanded: %+v", f.Consent)
	}
}

func TestParse_aliasBomb_isBounded(t *testing.T) {
	// Three levels of a thousand aliases each would be a billion formats if
	// expanded; the file itself is a few kilobytes.
	const n = 1000
	list := func(item string) string { return "[" + strings.TrimSuffix(strings.Repeat(item+", ", n), ", ") + "]" }
	data := "version: 1\n" +
		"x:\n" +
		"  - &f " + list("guide") + "\n" +
		"  - &s {wait: 1d, stage: awareness, formats: *f}\n" +
		"  - &steps " + list("*s") + "\n" +
		"  - &t {id: t, topic: cloud-cost, steps: *steps}\n" +
		"tracks: " + list("*t") + "\n"
	// No stopwatch here: an expansion that were not stopped would not finish
	// at all (the test binary's timeout), and the message proves it stopped.
	_, err := Parse("bomb.yaml", []byte(data))
	ps := problemsOf(t, err)
	found := false
	for _, p := range ps {
		found = found || strings.Contains(p.Message, "expand too far")
	}
	if !found {
		t.Errorf("want the expansion to be stopped, got %d problems", len(ps))
	}
}

func TestParse_mergeKey_isRejectedWithAnAlternative(t *testing.T) {
	data, _ := applyEdit(t, readTestdata(t, "minimal.yaml"), edit{"  - id: compare\n", "  - <<: {format: guide}\n    id: compare\n"})
	_, err := Parse("minimal.yaml", data)
	ps := problemsOf(t, err)
	if !strings.Contains(ps[0].Message, "merge keys (<<) are not supported") {
		t.Errorf("got:\n%v", err)
	}
}

func TestValidationError_printsOneProblemPerLineLikeACompiler(t *testing.T) {
	err := &ValidationError{Problems: []Problem{
		{File: "program.yaml", Line: 42, Column: 9, Path: "tracks[1].steps[2].stage", Message: `"decison" is not a buying stage; use one of awareness, consideration, decision`},
		{File: "program.yaml", Line: 3, Message: "did not find expected key"},
		{File: "program.yaml", Message: "the file is empty"},
	}}
	want := `program.yaml:42:9: tracks[1].steps[2].stage: "decison" is not a buying stage; use one of awareness, consideration, decision
program.yaml:3: did not find expected key
program.yaml: the file is empty`
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err.Error(), want)
	}
}

func TestSlugAndClosest_suggestUsefulFixes(t *testing.T) {
	for in, want := range map[string]string{
		"On Call Checklist":      "on-call-checklist",
		"  Cloud_Cost 101 ":      "cloud-cost-101",
		"Ünïcode":                "n-code",
		strings.Repeat("a", 100): strings.Repeat("a", maxIDLen),
	} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
	for word, want := range map[string]string{"titel": "title", "decison": "decision", "url": "url", "foo": "", "sumary": "summary"} {
		if got := closest(word, []string{"id", "title", "url", "summary", "decision"}); got != want {
			t.Errorf("closest(%q) = %q, want %q", word, got, want)
		}
	}
}
