package program

import (
	"os"
	"strings"
	"testing"
	"time"
)

func shippedPersonas(t *testing.T) (*Program, []byte) {
	t.Helper()
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("personas.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return p, data
}

func TestPersonas_shippedFile_isValidAgainstTheShippedProgram(t *testing.T) {
	p, data := shippedPersonas(t)
	ps, err := ParsePersonas("personas.yaml", data, p)
	if err != nil {
		t.Fatalf("personas.yaml is invalid:\n%v", err)
	}
	if ps.RunMonths() != 12 || ps.StartDay().Weekday() != time.Monday {
		t.Errorf("the shipped simulation runs %d months from a %s; want 12 from a Monday", ps.RunMonths(), ps.StartDay().Weekday())
	}
	// The personas issue 15 asks for.
	want := map[string]func(Persona) bool{
		"reads-everything": func(pe Persona) bool {
			return pe.Behaviour.Opens == Every && pe.Behaviour.Clicks == Every && pe.Behaviour.Answers == Every
		},
		"clicks-monthly": func(pe Persona) bool { return pe.Behaviour.Clicks == Monthly },
		"buying-now":     func(pe Persona) bool { return pe.Profile.Timeline == "now" && pe.Behaviour.Answers == Every },
		"wrong-fit":      func(pe Persona) bool { return pe.Behaviour.Clicks == Every && pe.Profile.CompanySize == "1-50" },
		"link-scanner": func(pe Persona) bool {
			return pe.Behaviour.Scanner && pe.Behaviour.Opens == Never && pe.Behaviour.Clicks == Never
		},
	}
	for _, pe := range ps.Personas {
		if ok, listed := want[pe.ID]; listed {
			if !ok(pe) {
				t.Errorf("persona %s does not behave as its name says: %+v", pe.ID, pe.Behaviour)
			}
			delete(want, pe.ID)
		}
	}
	for id := range want {
		t.Errorf("persona %s is missing", id)
	}
}

// Each case makes one mistake in the shipped persona file and expects a
// problem on its path, at `at` within the new text, saying msg.
func TestPersonas_mistake_pointsAtLineColumnAndPath(t *testing.T) {
	p, shipped := shippedPersonas(t)
	tests := []struct {
		name string
		edit edit
		at   string
		path string
		msg  string
	}{
		{
			name: "unknown form",
			edit: edit{"    form: downtime-report\n    behaviour: { opens: most", "    form: downtime-reprot\n    behaviour: { opens: most"},
			at:   "downtime-reprot", path: "personas[2].form", msg: `no form has id "downtime-reprot"; use an id from the program's forms (did you mean "downtime-report"?)`,
		},
		{
			name: "misspelt frequency",
			edit: edit{"opens: most, clicks: monthly, answers: monthly", "opens: most, clicks: montly, answers: monthly"},
			at:   "montly", path: "personas[2].behaviour.clicks", msg: `"montly" is not how often; use one of every, most, monthly, never (did you mean "monthly"?)`,
		},
		{
			name: "profile value no question offers",
			edit: edit{"      industry: retail\n      companySize: \"501-5000\"\n      country: US", "      industry: retails\n      companySize: \"501-5000\"\n      country: US"},
			at:   "retails", path: "personas[2].profile.industry", msg: `"retails" is not an answer of the industry question; use one of finance`,
		},
		{
			name: "form field the profile cannot fill",
			edit: edit{"      company: QuietCo\n      companySize: \"51-500\"\n      timeZone: America/Chicago\n    form: finops-guide",
				"      companySize: \"51-500\"\n      timeZone: America/Chicago\n    form: downtime-report"},
			at: "downtime-report", path: "personas[7].form", msg: "form downtime-report requires company; add company to the persona's profile",
		},
		{
			name: "two personas, one address",
			edit: edit{"email: jo.martin@shopfront.example", "email: Dana.Fischer@northwind-saas.example"},
			at:   "Dana", path: "personas[2].email", msg: "is already persona 1's address",
		},
		{
			name: "time zone",
			edit: edit{"timeZone: America/New_York", "timeZone: Eastern"},
			at:   "Eastern", path: "personas[2].profile.timeZone", msg: `"Eastern" is not a time zone`,
		},
		{
			name: "reader as fast as a scanner",
			edit: edit{"readsAfter: 1d", "readsAfter: 10s"},
			at:   "10s", path: "personas[2].behaviour.readsAfter", msg: "looks like a link scanner",
		},
		{
			name: "unknown key",
			edit: edit{"    about: \"SRE", "    abuot: \"SRE"},
			at:   "abuot", path: "personas[2].abuot", msg: `unknown key "abuot"; did you mean "about"?`,
		},
		{
			name: "answer the question does not offer",
			edit: edit{"      answers: { research-or-purchase: trends }\n    form: downtime-report", "      answers: { research-or-purchase: trend }\n    form: downtime-report"},
			at:   "trend }", path: "personas[2].profile.answers.research-or-purchase", msg: `"trend" is not an answer of question research-or-purchase; use one of trends, purchase`,
		},
		{
			name: "answer to a question with a field",
			edit: edit{"      answers: { research-or-purchase: trends }\n    form: downtime-report", "      answers: { timeline: now }\n    form: downtime-report"},
			at:   "timeline: now", path: "personas[2].profile.answers.timeline", msg: "question timeline fills the timeline field; write timeline: under profile instead",
		},
		{
			name: "start that is no day",
			edit: edit{"start: 2027-01-04", "start: 2027-13-04"},
			at:   "2027-13-04", path: "start", msg: "is not a day; write it as YYYY-MM-DD",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, off := applyEdit(t, shipped, tt.edit)
			i := strings.Index(tt.edit.new, tt.at)
			if i < 0 {
				t.Fatalf("at %q is not in the new text", tt.at)
			}
			_, err := ParsePersonas("personas.yaml", data, p)
			wantProblemAt(t, err, "personas.yaml", data, off+i, tt.path, tt.msg)
		})
	}
}

func TestPersonas_manyMistakes_allReportedAtOnce(t *testing.T) {
	p, _ := shippedPersonas(t)
	_, err := ParsePersonas("p.yaml", []byte(`start: soon
personas:
  - id: Dana
    email: nobody
    form: nope
    behaviour: { opens: always }
`), p)
	ps := problemsOf(t, err)
	for _, path := range []string{"start", "personas[0].id", "personas[0].email", "personas[0].form", "personas[0].behaviour.opens"} {
		if _, ok := findProblem(ps, path); !ok {
			t.Errorf("no problem at %s; got:\n%v", path, err)
		}
	}
}

func TestFrequency_Acts(t *testing.T) {
	for _, tt := range []struct {
		f     Frequency
		n     int
		acted bool
		want  bool
	}{
		{Every, 3, true, true},
		{Most, 1, false, true}, {Most, 2, true, true}, {Most, 3, false, false}, {Most, 6, false, false},
		{Monthly, 4, false, true}, {Monthly, 5, true, false},
		{Never, 1, false, false}, {"", 1, false, false},
	} {
		if got := tt.f.Acts(tt.n, tt.acted); got != tt.want {
			t.Errorf("%q.Acts(%d, acted this month %v) = %v, want %v", tt.f, tt.n, tt.acted, got, tt.want)
		}
	}
}
