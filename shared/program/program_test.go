package program

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestDefault_isValid(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatalf("the default program must be valid:\n%v", err)
	}
	if len(p.Assets) < 10 || len(p.Forms) < 3 || len(p.Tracks) < 2 {
		t.Errorf("default program is thin: %d assets, %d forms, %d tracks", len(p.Assets), len(p.Forms), len(p.Tracks))
	}
	again, _ := Default()
	if again != p {
		t.Error("Default should parse once and share the result")
	}
}

// The default program promises more than validity: the content library
// covers every stage and the tracks move leads forward.
func TestDefault_tracksMoveForwardThroughEveryStage(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	stages := map[string]bool{}
	formats := map[string]bool{}
	for _, a := range p.Assets {
		stages[a.Stage] = true
		formats[a.Format] = true
		if strings.Contains(strings.ToLower(a.Title+a.Summary), "brochure") {
			t.Errorf("asset %s looks like a sales brochure; nurture sends educational content only", a.ID)
		}
	}
	if len(stages) != len(Stages) || len(formats) < 5 {
		t.Errorf("library covers stages %v and %d formats", stages, len(formats))
	}
	for _, tr := range p.Tracks {
		last := -1
		for i, s := range tr.Steps {
			stage := s.Stage
			if a, ok := p.Asset(s.Asset); ok {
				stage = a.Stage // a step naming its asset is at the asset's stage
			}
			st := slices.Index(Stages, stage)
			if st < last {
				t.Errorf("track %s step %d goes back to %s", tr.ID, i, stage)
			}
			last = st
			if s.Intro == "" {
				t.Errorf("track %s step %d has no intro", tr.ID, i)
			}
		}
		if tr.Steps[0].Wait.Duration <= 0 {
			t.Errorf("track %s: the first step should wait a little after the download, not mail at once", tr.ID)
		}
		if last != len(Stages)-1 {
			t.Errorf("track %s never reaches the decision stage", tr.ID)
		}
	}
	if got := p.Scoring.FreeMail.Domains; !slices.Contains(got, "gmail.com") {
		t.Errorf("free mail domains %v", got)
	}
}

func TestProgram_lookups_findByIDAndTopic(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range p.Assets {
		if got, ok := p.Asset(a.ID); !ok || got.ID != a.ID {
			t.Errorf("Asset(%q) = %v, %v", a.ID, got.ID, ok)
		}
	}
	for _, f := range p.Forms {
		if got, ok := p.Form(f.ID); !ok || got.Asset != f.Asset {
			t.Errorf("Form(%q) = %v, %v", f.ID, got.ID, ok)
		}
	}
	for _, q := range p.Questions {
		if got, ok := p.Question(q.ID); !ok || got.Field != q.Field {
			t.Errorf("Question(%q) = %v, %v", q.ID, got.ID, ok)
		}
	}
	for _, tr := range p.Tracks {
		if got, ok := p.Track(tr.ID); !ok || got.Topic != tr.Topic {
			t.Errorf("Track(%q) = %v, %v", tr.ID, got.ID, ok)
		}
		if got, ok := p.TrackForTopic(tr.Topic); !ok || got.ID != tr.ID {
			t.Errorf("TrackForTopic(%q) = %v, %v", tr.Topic, got.ID, ok)
		}
	}
	for name, ok := range map[string]bool{
		"asset":    func() bool { _, ok := p.Asset("nope"); return ok }(),
		"form":     func() bool { _, ok := p.Form("nope"); return ok }(),
		"question": func() bool { _, ok := p.Question(""); return ok }(),
		"track":    func() bool { _, ok := p.Track("nope"); return ok }(),
		"topic":    func() bool { _, ok := p.TrackForTopic("nope"); return ok }(),
	} {
		if ok {
			t.Errorf("%s lookup of an unknown id reported found", name)
		}
	}
}

func TestProgram_lookups_workOnAHandBuiltProgram(t *testing.T) {
	p := &Program{
		Assets: []Asset{{ID: "a"}, {ID: "b"}},
		Tracks: []Track{{ID: "t", Topic: "cloud-cost"}},
	}
	if a, ok := p.Asset("b"); !ok || a.ID != "b" {
		t.Errorf("Asset(b) = %v, %v", a, ok)
	}
	if tr, ok := p.TrackForTopic("cloud-cost"); !ok || tr.ID != "t" {
		t.Errorf("TrackForTopic = %v, %v", tr, ok)
	}
}

func TestProgram_lookups_stayCorrectAfterTheSlicesAreEdited(t *testing.T) {
	p, err := Parse("minimal.yaml", readTestdata(t, "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p.Assets = slices.Insert(slices.Clone(p.Assets), 0, Asset{ID: "new"})
	if a, ok := p.Asset("decide"); !ok || a.ID != "decide" {
		t.Errorf("Asset(decide) after an insert = %q, %v", a.ID, ok)
	}
	if a, ok := p.Asset("new"); !ok || a.ID != "new" {
		t.Errorf("Asset(new) = %q, %v", a.ID, ok)
	}
}

func TestLoad_readsAndValidatesAFile(t *testing.T) {
	p, err := Load(filepath.Join("testdata", "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Tracks) != 1 || p.Tracks[0].Steps[1].Wait.Duration != 7*24*time.Hour {
		t.Errorf("tracks = %+v", p.Tracks)
	}

	bad := filepath.Join(t.TempDir(), "program.yaml")
	if err := os.WriteFile(bad, []byte("version: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(bad)
	var verr *ValidationError
	if !errors.As(err, &verr) || verr.Problems[0].File != bad {
		t.Errorf("Load of a bad file: %v; want problems labelled with its path", err)
	}
}

func TestLoad_missingFile_wrapsNotExist(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "read program file") {
		t.Errorf("err = %v", err)
	}
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestProgram_Zone_isTheCountryAnswersElseTheSchedules(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for country, want := range map[string]string{
		"US":    "America/New_York",
		"GB":    "Europe/London",
		"other": "Europe/Berlin", // an answer without a zone
		"":      "Europe/Berlin",
		"XX":    "Europe/Berlin", // not an answer at all
	} {
		if got := p.Zone(country); got != want {
			t.Errorf("Zone(%q) = %q, want %q", country, got, want)
		}
	}
}

func TestValidTimeZone_acceptsIANANamesOnly(t *testing.T) {
	for name, want := range map[string]bool{
		"America/New_York":                   true,
		"Asia/Kolkata":                       true,
		"UTC":                                true,
		"Etc/GMT+5":                          true,
		"":                                   false,
		"Local":                              false, // the machine's zone: differs between Lambda and a laptop
		"Mars/Olympus":                       false,
		"../../etc/passwd":                   false,
		"/etc/localtime":                     false,
		"Europe/Berlin\x00":                  false,
		"America/" + strings.Repeat("A", 80): false,
	} {
		if got := ValidTimeZone(name); got != want {
			t.Errorf("ValidTimeZone(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSameContent_groupsSameAsBothWaysAndThroughChains(t *testing.T) {
	p := &Program{Assets: []Asset{
		{ID: "report"}, {ID: "briefing", SameAs: "report"}, {ID: "video", SameAs: "briefing"}, {ID: "other"},
	}}
	for _, parsed := range []bool{false, true} {
		if parsed {
			p.lookups = newLookups(p)
		}
		for _, id := range []string{"report", "briefing", "video"} {
			if got := p.SameContent(id); !slices.Equal(got, []string{"report", "briefing", "video"}) {
				t.Errorf("parsed=%v: SameContent(%s) = %v", parsed, id, got)
			}
		}
		if got := p.SameContent("other"); !slices.Equal(got, []string{"other"}) {
			t.Errorf("parsed=%v: SameContent(other) = %v", parsed, got)
		}
	}
}

func TestParseNoSendDate_oneDayOrEveryYear(t *testing.T) {
	for in, want := range map[string][3]int{"2026-12-24": {2026, 12, 24}, "12-25": {0, 12, 25}, "02-29": {0, 2, 29}} {
		y, m, d, err := ParseNoSendDate(in)
		if err != nil || [3]int{y, int(m), d} != want {
			t.Errorf("ParseNoSendDate(%q) = %d-%d-%d, %v; want %v", in, y, m, d, err, want)
		}
	}
	for _, in := range []string{"", "12/25", "2026-02-30", "13-01", "1-1", "2026-12-24T00:00"} {
		if _, _, _, err := ParseNoSendDate(in); err == nil {
			t.Errorf("ParseNoSendDate(%q) accepted", in)
		}
	}
}

func TestDefault_mapsEveryReturnReason_andUnlistedReasonsResume(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ReturnReasons {
		if _, ok := p.Returns[r.Code]; !ok {
			t.Errorf("the shipped program says nothing about returns for %q", r.Code)
		}
	}
	if got := (&Program{}).ReturnAction("not-ready"); got != ReturnResume {
		t.Errorf("an unmapped reason does %q, want %q", got, ReturnResume)
	}
}

func TestSoftBounceLimit_isTheProgramsElseTheDefault(t *testing.T) {
	minimal, err := Parse("minimal.yaml", readTestdata(t, "minimal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if got := minimal.SoftBounceLimit(); got != DefaultSoftBounces {
		t.Errorf("a program without suppression: %d soft bounces in a row, want the default %d", got, DefaultSoftBounces)
	}
	set, err := Parse("program.yaml", []byte(strings.Replace(string(defaultFile), "softBounces: 3", "softBounces: 5", 1)))
	if err != nil {
		t.Fatal(err)
	}
	if got := set.SoftBounceLimit(); got != 5 {
		t.Errorf("softBounces: 5 gives %d", got)
	}
}
