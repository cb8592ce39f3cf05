package chart

import (
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sales"
)

// tuesday is a fixed "now" for every test.
var tuesday = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func ticks(ms []Mark, f func(Mark) string) string {
	var out []string
	for _, m := range ms {
		out = append(out, f(m))
	}
	return strings.Join(out, " ")
}

func TestNew_weekOfHistory_spansThePlot(t *testing.T) {
	start := tuesday.Add(-7 * 24 * time.Hour)
	c := New([]sales.Point{{At: start, Score: 0}, {At: tuesday, Score: 30}}, nil, time.UTC)

	if c.Width != 640 || c.Height != 240 || c.Left != "48" || c.Right != "624" || c.Top != "14" || c.Base != "206" {
		t.Fatalf("frame = %d×%d, plot %s..%s × %s..%s", c.Width, c.Height, c.Left, c.Right, c.Top, c.Base)
	}
	// The first point on the left edge at 0, the last on the right edge;
	// the axis runs to 40, the next step of 10 above 30 and 5% more.
	if c.Line != "48,206 624,62" {
		t.Errorf("line = %q", c.Line)
	}
	if got := ticks(c.YTicks, func(m Mark) string { return m.Label + "@" + m.Y }); got != "0@206 10@158 20@110 30@62 40@14" {
		t.Errorf("y ticks = %s", got)
	}
	if got := ticks(c.XTicks, func(m Mark) string { return m.Label + "@" + m.X }); got != "17 Nov 2026@48 20 Nov 2026@336 24 Nov 2026@624" {
		t.Errorf("x ticks = %s", got)
	}
	if got := ticks(c.Dots, func(m Mark) string { return m.X + "," + m.Y + "=" + m.Label }); got != "48,206=17 Nov 2026: 0 624,62=24 Nov 2026: 30" {
		t.Errorf("dots = %s", got)
	}
	if len(c.Rows) != 2 || c.Rows[1] != (Row{When: "24 Nov 2026 10:00", Score: "30"}) {
		t.Errorf("rows = %+v", c.Rows)
	}
	if c.Label != "Score over time: 0 on 17 Nov 2026, 30 now" {
		t.Errorf("label = %q", c.Label)
	}
}

func TestNew_lessThanADay_widenedToADayEndingAtTheLastPoint(t *testing.T) {
	c := New([]sales.Point{{At: tuesday, Score: 5}}, nil, time.UTC)
	if c.Line != "624,142" {
		t.Errorf("line = %q: one point, on the right edge at 5 of 15", c.Line)
	}
	// Under three days the ticks tell hours apart.
	if got := ticks(c.XTicks, func(m Mark) string { return m.Label }); got != "23 Nov 10:00 23 Nov 22:00 24 Nov 10:00" {
		t.Errorf("x ticks = %s", got)
	}
	if got := ticks(c.YTicks, func(m Mark) string { return m.Label }); got != "0 5 10 15" {
		t.Errorf("y ticks = %s", got)
	}
	if c.Dots[0].Label != "24 Nov 10:00: 5" {
		t.Errorf("dot = %q", c.Dots[0].Label)
	}
}

func TestNew_thresholdsAboveTheScore_liftTheAxisAndAreDrawn(t *testing.T) {
	c := New([]sales.Point{{At: tuesday, Score: 12}}, []program.Threshold{{Name: "MQL", Score: 50}, {Name: "SQL", Score: 80}}, time.UTC)
	if got := ticks(c.YTicks, func(m Mark) string { return m.Label }); got != "0 20 40 60 80 100" {
		t.Errorf("y ticks = %s", got)
	}
	if got := ticks(c.Thresholds, func(m Mark) string { return m.Label + "@" + m.Y }); got != "MQL 50@110 SQL 80@52.4" {
		t.Errorf("thresholds = %s", got)
	}
	if !strings.HasSuffix(c.Label, "; alert thresholds MQL at 50, SQL at 80") {
		t.Errorf("label = %q", c.Label)
	}
}

func TestNew_negativeScore_axisGoesBelowZero(t *testing.T) {
	c := New([]sales.Point{{At: tuesday.Add(-48 * time.Hour), Score: 0}, {At: tuesday, Score: -7}}, nil, time.UTC)
	if got := ticks(c.YTicks, func(m Mark) string { return m.Label }); got != "-10 -5 0 5 10 15" {
		t.Errorf("y ticks = %s", got)
	}
	if c.Line != "48,129.2 624,183" {
		t.Errorf("line = %q", c.Line)
	}
}

func TestNew_datesInTheProgramsZone(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	late := time.Date(2026, 11, 24, 23, 30, 0, 0, time.UTC)
	c := New([]sales.Point{{At: late.Add(-10 * 24 * time.Hour), Score: 0}, {At: late, Score: 1}}, nil, berlin)
	if c.Rows[1].When != "25 Nov 2026 00:30" || c.XTicks[2].Label != "25 Nov 2026" {
		t.Errorf("row %q, last tick %q: want the next day in CET", c.Rows[1].When, c.XTicks[2].Label)
	}
}

func TestNew_noPoints_emptyChartNoPanic(t *testing.T) {
	c := New(nil, []program.Threshold{{Name: "MQL", Score: 50}}, time.UTC)
	if c.Line != "" || len(c.Dots) != 0 || c.Label == "" {
		t.Fatalf("chart = %+v", c)
	}
}

func TestNiceStep_roundsUpTo1_2_5TimesAPowerOfTen(t *testing.T) {
	for raw, want := range map[float64]float64{
		-3: 1, 0: 1, 1: 1, 1.5: 2, 2.5: 5, 7.5: 10, 12: 20, 20: 20, 21: 50, 1000: 1000, 0.3: 0.5,
	} {
		if got := niceStep(raw); got != want {
			t.Errorf("niceStep(%v) = %v, want %v", raw, got, want)
		}
	}
}

func TestSeries_startsAtZeroOnCreation_whileTheWholeHistoryIsKept(t *testing.T) {
	created := tuesday.Add(-10 * 24 * time.Hour)
	scored := []sales.Point{{At: tuesday.Add(-9 * 24 * time.Hour), Score: 12}, {At: tuesday.Add(-time.Hour), Score: 20}}
	const month = 30 * 24 * time.Hour
	for name, c := range map[string]struct {
		scored    []sales.Point
		created   time.Time
		retention time.Duration
		want      []sales.Point
	}{
		"whole history kept: starts at 0 on creation":   {scored, created, month, append([]sales.Point{{At: created, Score: 0}}, scored...)},
		"keep everything (no retention)":                {scored, created, 0, append([]sales.Point{{At: created, Score: 0}}, scored...)},
		"creation older than retention: no start at 0":  {scored, created, 5 * 24 * time.Hour, scored},
		"creation after the first point: no start at 0": {scored, scored[0].At.Add(time.Minute), month, scored},
		"nothing scored: the score now":                 {nil, time.Time{}, month, []sales.Point{{At: tuesday, Score: 7}}},
		"nothing scored since creation: 0 on creation":  {nil, created, month, []sales.Point{{At: created, Score: 0}}},
	} {
		got := Series(c.scored, c.created, c.retention, 7, tuesday)
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", name, got, c.want)
			continue
		}
		for i := range got {
			if !got[i].At.Equal(c.want[i].At) || got[i].Score != c.want[i].Score {
				t.Errorf("%s: %v, want %v", name, got, c.want)
				break
			}
		}
	}
	if Series(scored, created, month, 7, tuesday); scored[0].Score != 12 || len(scored) != 2 {
		t.Error("Series changed its input")
	}
}
