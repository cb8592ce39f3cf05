package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

var tuesday = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func shipped(t *testing.T) *program.Program {
	t.Helper()
	p, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func row(t *testing.T, tb Table, first string) []string {
	t.Helper()
	for _, r := range tb.Rows {
		if r[0] == first {
			return r
		}
	}
	t.Fatalf("table %s has no row %q: %v", tb.ID, first, tb.Rows)
	return nil
}

func TestCompute_emptyPeriod_zerosEverywhere(t *testing.T) {
	p := shipped(t)
	per := LastDays(7, tuesday)
	r := Compute(p, per, nil, nil)
	f, _ := r.Table("funnel")
	for _, rw := range f.Rows {
		if rw[1] != "0" {
			t.Errorf("empty period: %q = %s", rw[0], rw[1])
		}
	}
	seeds, _ := r.Table("seeds")
	if got := row(t, seeds, "Sales-ready leads decided within the SLA"); got[3] != "–" {
		t.Errorf("a share of nothing is –, got %v", got)
	}
	assets, _ := r.Table("assets")
	if len(assets.Rows) != len(p.Assets) {
		t.Errorf("every asset of the program is listed, with zeros: %d rows for %d assets", len(assets.Rows), len(p.Assets))
	}
	if len(r.Weeks) != 1 || r.Weeks[0].Captured != 0 {
		t.Errorf("weeks %+v", r.Weeks)
	}
}

func TestCompute_programChanged_labelsWhatIsGone(t *testing.T) {
	p := shipped(t)
	at := tuesday.Add(time.Hour)
	l := &lead.Lead{ID: "l1", CreatedAt: at}
	s := Build(p, tuesday, tuesday.Add(24*time.Hour), tuesday.Add(24*time.Hour), []Entry{
		{LeadID: "l1", Lead: l, Act: lead.Activity{Kind: lead.KindSent, At: at, Track: "old-track", Step: 4, AssetID: "renamed-asset"}},
		{LeadID: "l1", Lead: l, Act: lead.Activity{Kind: lead.KindClick, At: at, Track: "old-track", Step: 4, AssetID: "renamed-asset"}},
		{LeadID: "l1", Lead: l, Act: lead.Activity{Kind: lead.KindDownload, At: at, FormID: "gone-form", AssetID: "renamed-asset", New: true}},
	})
	r := Compute(p, LastDays(7, tuesday), []Summary{s}, nil)
	byAsset, _ := r.Table("by-asset")
	if got := row(t, byAsset, "renamed-asset (no longer in the program)"); got[1] != "1" || got[5] != "1" || got[9] != "1" {
		t.Errorf("renamed asset row %v, want 1 captured, 1 mailed, 1 human click", got)
	}
	byTrack, _ := r.Table("by-track")
	row(t, byTrack, "old-track (no longer in the program)")
	if got := row(t, byTrack, p.Tracks[0].ID); got[5] != "0" {
		t.Errorf("a track of the program with nothing shows zeros: %v", got)
	}
	byStep, _ := r.Table("by-step")
	row(t, byStep, "old-track step 5 (no longer in the program)")
	byForm, _ := r.Table("by-form")
	row(t, byForm, "gone-form (no longer in the program)")
	f, _ := r.Table("funnel")
	if got := row(t, f, "Clicks by people"); got[1] != "1" {
		t.Errorf("funnel clicks %v", got)
	}
}

func TestBuild_timesAndSeeds(t *testing.T) {
	p := shipped(t)
	first := tuesday
	l := &lead.Lead{ID: "l1", CreatedAt: first}
	alert := first.Add(50 * time.Hour)
	s := Build(p, tuesday, tuesday.AddDate(0, 0, 7), tuesday.AddDate(0, 0, 7), []Entry{
		{LeadID: "l1", Lead: l, Act: lead.Activity{Kind: lead.KindDownload, At: first, New: true}},
		{LeadID: "l2", Act: lead.Activity{Kind: lead.KindDownload, At: first, New: true}},
		{LeadID: "l1", Lead: l, Act: lead.Activity{Kind: kindAlert, At: alert, Threshold: "mql", Detail: "mql to Sales <sales@acme.example>"}, Engaged: []string{"slo-primer"}},
		{LeadID: "l1", Lead: l, Act: lead.Activity{Kind: kindAlert, At: alert.Add(time.Hour), Detail: "mql reminder to sales@acme.example"}},
		{LeadID: "l1", Lead: l, Act: lead.Activity{Kind: kindDecision, At: alert.Add(3 * time.Hour), Detail: "returned: no-budget", AlertAt: alert, Overdue: true}},
	})
	if s.Total(ReadyAt("mql")) != 1 || s.Count(ReadyAt("mql"), DimRoute, "sales@acme.example") != 1 {
		t.Errorf("one alert (the reminder is none): %v", s.Counts)
	}
	r := Compute(p, LastDays(7, tuesday.AddDate(0, 0, 6)), []Summary{s}, nil)
	timing, _ := r.Table("timing")
	if got := row(t, timing, "Time to sales-ready (mql)"); strings.Join(got[1:], " ") != "1 2d 2h 2d 2h" {
		t.Errorf("time to sales-ready %v", got)
	}
	if got := row(t, timing, "Time to a sales decision"); strings.Join(got[1:], " ") != "1 3h 3h" {
		t.Errorf("time to a decision %v", got)
	}
	seeds, _ := r.Table("seeds")
	if got := row(t, seeds, "Sales-ready leads decided late"); strings.Join(got[1:], " ") != "1 1 100.0%" {
		t.Errorf("late %v", got)
	}
	if got := row(t, seeds, "New leads that became sales-ready"); strings.Join(got[1:], " ") != "1 2 50.0%" {
		t.Errorf("captured ready %v", got)
	}
	f, _ := r.Table("funnel")
	if got := row(t, f, "returned: no-budget"); got[1] != "1" {
		t.Errorf("returned by reason %v", got)
	}
	assets, _ := r.Table("assets")
	primer, _ := p.Asset("slo-primer")
	if got := row(t, assets, primer.Title); got[6] != "1" || got[7] != "100.0%" {
		t.Errorf("engaged before crossing %v", got)
	}
}

func TestParsePeriod(t *testing.T) {
	for _, tt := range []struct{ name, from, to, want, err string }{
		{name: "week", want: "2026-11-25 to 2026-12-01"},
		{want: "2026-10-07 to 2026-12-01"},
		{from: "2026-11-01", to: "2026-11-30", want: "2026-11-01 to 2026-11-30"},
		{from: "2026-11-31", err: `from: "2026-11-31" is not a date like 2026-11-01`},
		{from: "2026-12-01", to: "2026-11-01", err: "from 2026-12-01 is after to 2026-11-01"},
		{name: "year", err: `period "year": use week, month or 8w, or from and to dates`},
		{from: "2020-01-01", err: "at most 731 days"},
	} {
		p, err := ParsePeriod(tt.name, tt.from, tt.to, tuesday)
		switch {
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%+v: error %v, want %q", tt, err, tt.err)
		case tt.err == "" && (err != nil || p.String() != tt.want):
			t.Errorf("%+v: %v %v, want %s", tt, p, err, tt.want)
		}
	}
}

func TestWriteCSV_formulaSafe(t *testing.T) {
	var b bytes.Buffer
	tb := Table{ID: "words", Columns: []string{"When", "Words"}, Rows: [][]string{{"2026-12-01", "=HYPERLINK(\"x\")"}, {"2026-12-02", "fine"}}}
	if err := WriteCSV(&b, tb); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil || len(rows) != 3 || rows[1][1] != `'=HYPERLINK("x")` || rows[2][1] != "fine" {
		t.Fatalf("csv %q %v", rows, err)
	}
}
