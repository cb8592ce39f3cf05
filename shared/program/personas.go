package program

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Personas is the persona file (personas.yaml, next to program.yaml): made-up
// leads whose months `make simulate` plays through the program, so that
// marketing and sales see what a scoring or track change does to real-looking
// people before it ships. It refers to the program's forms and questions, so
// it is read against a program.
type Personas struct {
	// Start is the day the simulation begins (YYYY-MM-DD); each persona
	// fills in its first form that day at 10:00 in its own time zone.
	Start string `yaml:"start"`
	// Months is how long the simulation runs; 12 when left out.
	Months   int       `yaml:"months"`
	Personas []Persona `yaml:"personas"`
}

// DefaultMonths is how long a simulation runs when the file does not say.
const DefaultMonths = 12

// Persona is one made-up lead: who they are, what they download and how they
// treat the mail they get.
type Persona struct {
	ID        string     `yaml:"id"`
	About     string     `yaml:"about"` // one line for the report
	Email     string     `yaml:"email"`
	Profile   Profile    `yaml:"profile"`
	Form      string     `yaml:"form"`  // the form they fill in first
	Later     []Download `yaml:"later"` // further downloads, after the first
	Behaviour Behaviour  `yaml:"behaviour"`
}

// Profile is who the persona is. Forms are filled in from it (the fields the
// form shows), and questions in mail are answered from it (the field the
// question fills), so a persona's answers are always the truth about them.
type Profile struct {
	Name        string `yaml:"name"`
	Company     string `yaml:"company"`
	Role        string `yaml:"role"`
	Industry    string `yaml:"industry"`
	CompanySize string `yaml:"companySize"`
	Country     string `yaml:"country"`
	Timeline    string `yaml:"timeline"`
	// TimeZone is what the persona's browser reports with a form (IANA).
	TimeZone string `yaml:"timeZone"`
	// Answers are the persona's answers to the program's questions without
	// a field, by question id.
	Answers map[string]string `yaml:"answers"`
}

// Answer is the persona's answer to a question: its profile field, or its
// answer to a question without one; "" when it has none.
func (p Profile) Answer(q Question) string {
	if q.Field != "" {
		return p.Value(q.Field)
	}
	return p.Answers[q.ID]
}

// Value is the profile's value of a lead field (FormFields, ProfileFields).
func (p Profile) Value(field string) string {
	switch field {
	case "name":
		return p.Name
	case "company":
		return p.Company
	case "role":
		return p.Role
	case "industry":
		return p.Industry
	case "companySize":
		return p.CompanySize
	case "country":
		return p.Country
	case "timeline":
		return p.Timeline
	}
	return ""
}

// Download is a later form the persona fills in.
type Download struct {
	After Duration `yaml:"after"` // after the first form
	Form  string   `yaml:"form"`
}

// Behaviour is what the persona does with each nurture email. Opens, Clicks
// and Answers take one of Frequencies.
type Behaviour struct {
	Opens  Frequency `yaml:"opens"`
	Clicks Frequency `yaml:"clicks"`
	// Answers: how often they answer what an email they read (opened or
	// clicked) asks: its question, from their profile, or the
	// re-engagement email's "keep them coming".
	Answers Frequency `yaml:"answers"`
	// Scanner: the persona's mail server has a link scanner that follows
	// every link of every email within a second of delivery.
	Scanner bool `yaml:"scanner"`
	// ReadsAfter is how long after delivery the persona reads an email;
	// 3h when left out.
	ReadsAfter Duration `yaml:"readsAfter"`
}

// Frequency is how often a persona does something with the emails it gets.
type Frequency string

// The frequencies; empty means Never.
const (
	Every   Frequency = "every"   // every email
	Most    Frequency = "most"    // two emails in three (not the 3rd, 6th, 9th ...)
	Monthly Frequency = "monthly" // the first email of each calendar month
	Never   Frequency = "never"
)

// Frequencies lists the frequencies, for messages.
var Frequencies = []string{string(Every), string(Most), string(Monthly), string(Never)}

// DefaultReadsAfter is when a persona reads an email unless it says.
const DefaultReadsAfter = 3 * time.Hour

// minReadsAfter: a reader clicking sooner would look like a link scanner.
const minReadsAfter = time.Minute

// Acts reports whether a persona acts on the n-th email it gets (counting
// from 1), given whether it already acted on one this calendar month.
func (f Frequency) Acts(n int, actedThisMonth bool) bool {
	switch f {
	case Every:
		return true
	case Most:
		return n%3 != 0
	case Monthly:
		return !actedThisMonth
	}
	return false
}

// StartDay is the day the simulation begins, as a date in UTC.
func (ps *Personas) StartDay() time.Time {
	t, _ := time.Parse(time.DateOnly, ps.Start)
	return t
}

// RunMonths is how long the simulation runs.
func (ps *Personas) RunMonths() int {
	if ps.Months <= 0 {
		return DefaultMonths
	}
	return ps.Months
}

// Zone is the time zone the persona lives in, as the product will see it:
// their browser's, else their country's, else the program's.
func (pe Persona) Zone(p *Program) string {
	if pe.Profile.TimeZone != "" {
		return pe.Profile.TimeZone
	}
	return p.Zone(pe.Profile.Country)
}

// LoadPersonas reads and validates a persona file against a program.
func LoadPersonas(path string, p *Program) (*Personas, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read persona file: %w", err)
	}
	return ParsePersonas(path, data, p)
}

// ParsePersonas decodes and validates a persona file against a program. Like
// Parse, it reports every problem at once, as a *ValidationError, each with
// its line, column, path and what to write instead.
func ParsePersonas(filename string, data []byte, p *Program) (*Personas, error) {
	var ps Personas
	err := decodeFile(filename, data, &ps, "the persona file", "start:, personas: ...", func(d *decoder) []Problem {
		return validatePersonas(&ps, p, d)
	})
	if err != nil {
		return nil, err
	}
	return &ps, nil
}

// validatePersonas checks a decoded persona file against the program it
// will run through, with the program validator's wording and placing.
func validatePersonas(ps *Personas, p *Program, d *decoder) []Problem {
	l := newLookups(p)
	v := &validator{p: p, d: d, forms: l.forms, questions: l.questions, options: map[string][]string{}}
	for _, q := range p.Questions {
		for _, o := range q.Options {
			if !slices.Contains(v.options[q.Field], o.Value) {
				v.options[q.Field] = append(v.options[q.Field], o.Value)
			}
		}
	}
	switch {
	case ps.Start == "":
		v.add("start", "add the day the simulation starts, e.g. start: 2027-01-04 (a Monday)")
	default:
		if _, err := time.Parse(time.DateOnly, ps.Start); err != nil {
			v.add("start", "%q is not a day; write it as YYYY-MM-DD, e.g. start: 2027-01-04", ps.Start)
		}
	}
	if ps.Months < 0 || ps.Months > 60 {
		v.add("months", "months must be between 1 and 60 (or left out for %d)", DefaultMonths)
	}
	if len(ps.Personas) == 0 {
		v.add("personas", "add at least one persona with id, email, profile, form and behaviour")
	}
	ids := map[string]int{}
	emails := map[string]int{}
	for i, pe := range ps.Personas {
		v.persona(idx("personas", i), pe, i, ids, emails)
	}
	return v.problems
}

func (v *validator) persona(path string, pe Persona, i int, ids, emails map[string]int) {
	v.id(path+".id", "persona", pe.ID, pe.About, ids, i)
	v.oneLine(path+".about", "about line", pe.About)
	switch {
	case pe.Email == "":
		v.add(path+".email", "add the persona's address, e.g. email: dana@northwind.example; each persona is one lead, so give each its own")
	case checkAddress(pe.Email) != "" || strings.Contains(pe.Email, "<"):
		v.add(path+".email", "%q is not an email address; write it as name@example.com", pe.Email)
	default:
		key := strings.ToLower(pe.Email)
		if first, dup := emails[key]; dup {
			v.add(path+".email", "%q is already persona %d's address (line %d); one address is one lead, so give each persona its own", pe.Email, first+1, v.line(idx("personas", first)))
		} else {
			emails[key] = i
		}
	}
	v.profile(path+".profile", pe.Profile)
	if v.ref(path+".form", "form", "the program's forms", pe.Form, v.forms) {
		v.formFilled(path+".form", pe.Form, pe.Profile)
	}
	for j, dl := range pe.Later {
		lp := idx(path+".later", j)
		if dl.After.Duration <= 0 {
			v.add(lp+".after", "add how long after the first form this one is filled in, e.g. after: 8w")
		}
		if v.ref(lp+".form", "form", "the program's forms", dl.Form, v.forms) {
			v.formFilled(lp+".form", dl.Form, pe.Profile)
		}
	}
	b := pe.Behaviour
	for _, f := range []struct {
		key   string
		value Frequency
	}{{"opens", b.Opens}, {"clicks", b.Clicks}, {"answers", b.Answers}} {
		if f.value != "" && !slices.Contains(Frequencies, string(f.value)) {
			msg := fmt.Sprintf("%q is not how often; use one of %s", f.value, strings.Join(Frequencies, ", "))
			if s := closest(string(f.value), Frequencies); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			v.add(path+".behaviour."+f.key, "%s", msg)
		}
	}
	if b.ReadsAfter.Duration != 0 && b.ReadsAfter.Duration < minReadsAfter {
		v.add(path+".behaviour.readsAfter", "a reader who clicks within seconds of delivery looks like a link scanner and scores nothing; use at least 1m (or scanner: true for a scanner)")
	}
}

// profile checks the values questions offer options for, so a persona never
// answers with a value the program does not know.
func (v *validator) profile(path string, pr Profile) {
	for _, field := range ProfileFields {
		if val := pr.Value(field); val != "" && len(v.options[field]) > 0 {
			v.knownValue(path+"."+field, field, val, false)
		}
	}
	for _, qid := range sortedKeys(pr.Answers) {
		ap := path + ".answers." + qid
		q, ok := v.questionKey(ap, qid)
		if !ok {
			continue
		}
		if q.Field != "" {
			v.addKey(ap, "question %s fills the %s field; write %s: under profile instead", qid, q.Field, q.Field)
			continue
		}
		if _, ok := q.Option(pr.Answers[qid]); !ok {
			v.add(ap, "%q is not an answer of question %s; use one of %s", pr.Answers[qid], qid, strings.Join(optionValues(q), ", "))
		}
	}
	if pr.TimeZone != "" && !ValidTimeZone(pr.TimeZone) {
		v.add(path+".timeZone", "%q is not a time zone; use an IANA name such as Europe/Berlin or America/New_York", pr.TimeZone)
	}
}

// formFilled checks that the profile fills in every field the form requires.
func (v *validator) formFilled(path, formID string, pr Profile) {
	f, _ := v.p.Form(formID)
	var missing []string
	for _, field := range f.Required {
		if field != "email" && strings.TrimSpace(pr.Value(field)) == "" {
			missing = append(missing, field)
		}
	}
	if len(missing) > 0 {
		v.add(path, "form %s requires %s; add %s to the persona's profile", formID, strings.Join(missing, ", "), strings.Join(missing, " and "))
	}
}
