package scoring

import (
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

func model(t *testing.T) (Model, *program.Program) {
	t.Helper()
	p, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	return New(p), p
}

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

func TestValue_activityHalvesEveryHalfLife_fitStays(t *testing.T) {
	m, p := model(t)
	hl := time.Duration(p.Scoring.HalfLifeDays * float64(24*time.Hour))
	s := lead.Score{Activity: 40, Fit: 10, At: t0}
	for _, tt := range []struct {
		after time.Duration
		want  float64
	}{{0, 50}, {hl, 30}, {2 * hl, 20}, {-time.Hour, 50}} {
		if got := m.Value(s, t0.Add(tt.after)); math.Abs(got-tt.want) > 0.001 {
			t.Errorf("after %v: %.3f, want %.3f", tt.after, got, tt.want)
		}
	}
}

func TestActivityPoints(t *testing.T) {
	m, p := model(t)
	decision := ""
	for _, a := range p.Assets {
		if a.Stage == "decision" {
			decision = a.ID
			break
		}
	}
	pts := p.Scoring.Activities
	tests := []struct {
		name string
		a    lead.Activity
		want int
	}{
		{"decision-stage download", lead.Activity{Kind: lead.KindDownload, AssetID: decision}, pts.Download["decision"]},
		{"reader's click", lead.Activity{Kind: lead.KindClick, AssetID: decision}, pts.Click["decision"]},
		{"scanner's click is worth nothing", lead.Activity{Kind: lead.KindClick, AssetID: decision, Machine: true}, 0},
		{"click on no asset", lead.Activity{Kind: lead.KindClick}, 0},
		{"answer", lead.Activity{Kind: lead.KindAnswer, Detail: "industry=finance"}, pts.Answer},
		{"unsubscribe", lead.Activity{Kind: lead.KindUnsubscribe}, pts.Unsubscribe},
		{"delivery", lead.Activity{Kind: lead.KindDelivered}, 0},
	}
	for _, tt := range tests {
		if got, _ := m.ActivityPoints(tt.a); got != tt.want {
			t.Errorf("%s: %d points, want %d", tt.name, got, tt.want)
		}
	}
}

func TestFit_partsAndFreeMail(t *testing.T) {
	m, p := model(t)
	l := &lead.Lead{Email: "ada@gmail.com", Industry: "finance", CompanySize: "501-5000"}
	total, parts := m.Fit(l)
	want := p.Scoring.Fit["industry"]["finance"] + p.Scoring.Fit["companySize"]["501-5000"] + p.Scoring.FreeMail.Points
	if total != want || len(parts) != 3 || parts[2].Why != "free mail address" {
		t.Fatalf("fit %d %+v, want %d", total, parts, want)
	}
}

// A question of the program's own carries its fit points on the answer,
// and the lead's fit says which answer earned them.
func TestFit_answerToAQuestionOfOurOwn_countsItsPoints(t *testing.T) {
	m, p := model(t)
	q, _ := p.Question("research-or-purchase")
	buying, _ := q.Option("purchase")
	l := &lead.Lead{Industry: "finance"}
	before, _ := m.Fit(l)
	if err := l.Answer(q, "purchase"); err != nil {
		t.Fatal(err)
	}
	total, parts := m.Fit(l)
	if total != before+buying.Points || buying.Points == 0 || parts[len(parts)-1] != (FitPart{Why: "research-or-purchase purchase", Points: buying.Points}) {
		t.Errorf("fit %d %+v, want %d with the answer's points", total, parts, before+buying.Points)
	}
}

// answer applies a one-click answer to the lead at a time.
func answer(m Model, l *lead.Lead, at time.Time, key string) []program.Threshold {
	a := lead.Activity{Key: key, Kind: lead.KindAnswer, Detail: "role=executive", At: at}
	return m.Apply(l, &a)
}

// crossing builds a lead just below the first threshold and feeds it points.
func TestApply_crossesOnceAndRearmsOnlyAfterFallingBelowTheMargin(t *testing.T) {
	m, p := model(t)
	mql := p.Thresholds[0]
	l := &lead.Lead{ID: "l1", Score: lead.Score{Activity: float64(mql.Score - 1), At: t0}}
	if crossed := answer(m, l, t0, "a1"); len(crossed) != 1 || crossed[0].Name != mql.Name || len(l.PendingAlerts) != 1 {
		t.Fatalf("the first write over %d must cross: %+v, pending %+v", mql.Score, crossed, l.PendingAlerts)
	}
	if crossed := answer(m, l, t0.Add(time.Hour), "a2"); len(crossed) != 0 || len(l.PendingAlerts) != 1 {
		t.Fatalf("still above: no second crossing, got %+v", crossed)
	}
	// Half a year later the points have decayed far below the margin: the
	// next write re-arms the threshold, and climbing back alerts again.
	later := t0.Add(180 * 24 * time.Hour)
	answer(m, l, later, "a3")
	if strings.Contains(strings.Join(l.Score.Disarmed, ","), mql.Name) {
		t.Fatalf("after falling below %d-%d the threshold should be armed: %+v", mql.Score, mql.RearmMargin, l.Score)
	}
	l.Score.Activity += float64(mql.Score)
	if crossed := answer(m, l, later.Add(time.Minute), "a4"); len(crossed) == 0 {
		t.Fatal("a re-armed threshold alerts again on the next crossing")
	}
}

func TestApply_recordsTheLedgerInTheActivity(t *testing.T) {
	m, p := model(t)
	l := &lead.Lead{ID: "l2", Email: "ada@example.com", CompanySize: "501-5000"}
	a := lead.Activity{Key: "dl", Kind: lead.KindDownload, AssetID: p.Forms[0].Asset, At: t0}
	m.Apply(l, &a)
	asset, _ := p.Asset(a.AssetID)
	wantEarned := p.Scoring.Activities.Download[asset.Stage]
	wantFit := p.Scoring.Fit["companySize"]["501-5000"]
	if a.Earned != wantEarned || a.Points != float64(wantEarned+wantFit) || a.ScoreAfter != float64(wantEarned+wantFit) {
		t.Fatalf("ledger: earned %d points %.1f after %.1f", a.Earned, a.Points, a.ScoreAfter)
	}
	if len(a.Why) != 2 || !strings.Contains(a.Why[0], asset.Title) || !strings.Contains(a.Why[1], "companySize") {
		t.Fatalf("why: %q", a.Why)
	}
	// An event older than the score's last change does not decay backwards.
	b := lead.Activity{Key: "old", Kind: lead.KindAnswer, At: t0.Add(-48 * time.Hour)}
	m.Apply(l, &b)
	if !l.Score.At.Equal(t0) || b.ScoreAfter != a.ScoreAfter+float64(p.Scoring.Activities.Answer) {
		t.Fatalf("out-of-order event: score %+v, after %.1f", l.Score, b.ScoreAfter)
	}
}

// A crossing a click or an open caused waits for the settle time; one an
// answer caused does not. Points taken back before the alert went out
// withdraw it and arm the threshold again; a claimed alert (being sent)
// stays.
func TestApply_clickCrossingWaits_takeBackWithdrawsUnsentAlert(t *testing.T) {
	m, p := model(t)
	mql := p.Thresholds[0]
	l := &lead.Lead{ID: "l3", Score: lead.Score{Activity: float64(mql.Score - 1), At: t0}}
	click := lead.Activity{Key: "c1", Kind: lead.KindClick, AssetID: p.Assets[0].ID, At: t0}
	if crossed := m.Apply(l, &click); len(crossed) != 1 {
		t.Fatalf("the click should cross %s: %+v", mql.Name, l.Score)
	}
	if p0 := l.PendingAlerts[0]; !p0.NotBefore.Equal(t0.Add(SettleAfterEngagement)) || !p0.SendAt().Equal(p0.NotBefore) {
		t.Fatalf("pending %+v: want it held back %v", p0, SettleAfterEngagement)
	}
	burst := lead.Activity{Key: "c2", Kind: lead.KindClick, Machine: true, Adjust: -click.Earned, At: t0.Add(time.Second)}
	m.Apply(l, &burst)
	if len(l.PendingAlerts) != 0 || len(l.Score.Disarmed) != 0 || !strings.Contains(strings.Join(burst.Why, "; "), "withdrawn") {
		t.Fatalf("after the take-back: pending %+v, disarmed %v, why %q", l.PendingAlerts, l.Score.Disarmed, burst.Why)
	}

	answer := lead.Activity{Key: "a1", Kind: lead.KindAnswer, Detail: "role=executive", At: t0.Add(time.Minute)}
	m.Apply(l, &answer)
	if len(l.PendingAlerts) != 1 || !l.PendingAlerts[0].NotBefore.IsZero() {
		t.Fatalf("an answer's crossing alerts at once: %+v", l.PendingAlerts)
	}
	l.PendingAlerts[0].ClaimedUntil = t0.Add(time.Hour) // a sender has it
	again := lead.Activity{Key: "c3", Kind: lead.KindClick, Machine: true, Adjust: -100, At: t0.Add(2 * time.Minute)}
	m.Apply(l, &again)
	if len(l.PendingAlerts) != 1 {
		t.Fatal("an alert being sent cannot be withdrawn")
	}
}

// A score that decays to between threshold−margin and the threshold has not
// fallen far enough to re-arm: climbing back over the threshold does not
// alert again.
func TestApply_decayToWithinTheMargin_climbingBackDoesNotAlertAgain(t *testing.T) {
	m, p := model(t)
	mql := p.Thresholds[0]
	l := &lead.Lead{ID: "l4", Score: lead.Score{Activity: float64(mql.Score - 1), At: t0}}
	if crossed := answer(m, l, t0, "a1"); len(crossed) != 1 {
		t.Fatalf("the first write over %d must cross: %+v", mql.Score, l.Score)
	}
	// Wait until the score has decayed to halfway into the margin.
	hl := time.Duration(p.Scoring.HalfLifeDays * float64(24*time.Hour))
	within := float64(mql.Score) - float64(mql.RearmMargin)/2
	later := t0.Add(time.Duration(float64(hl) * math.Log2(m.Value(l.Score, t0)/within)))
	if v := m.Value(l.Score, later); v <= float64(mql.Score-mql.RearmMargin) || v >= float64(mql.Score) {
		t.Fatalf("the score should have decayed to between %d and %d, is %.2f", mql.Score-mql.RearmMargin, mql.Score, v)
	}
	for i, key := range []string{"a2", "a3", "a4"} {
		if crossed := answer(m, l, later.Add(time.Duration(i)*time.Minute), key); len(crossed) != 0 {
			t.Fatalf("answer %d took the score from within the margin to %.1f: crossed %+v again", i+1, m.Value(l.Score, later), crossed)
		}
	}
	if m.Value(l.Score, later) < float64(mql.Score) || len(l.PendingAlerts) != 1 {
		t.Fatalf("the score is back over %d (%.1f) with one alert: pending %+v", mql.Score, m.Value(l.Score, later), l.PendingAlerts)
	}
}

func TestApply_scoreLandingExactlyOnTheThreshold_alerts(t *testing.T) {
	m, p := model(t)
	mql := p.Thresholds[0]
	l := &lead.Lead{ID: "l5", Score: lead.Score{Activity: float64(mql.Score - p.Scoring.Activities.Answer), At: t0}}
	a := lead.Activity{Key: "a1", Kind: lead.KindAnswer, Detail: "role=executive", At: t0}
	crossed := m.Apply(l, &a)
	if a.ScoreAfter != float64(mql.Score) {
		t.Fatalf("the answer should land the score on %d, it is %.1f", mql.Score, a.ScoreAfter)
	}
	if len(crossed) != 1 || crossed[0].Name != mql.Name || len(l.PendingAlerts) != 1 {
		t.Fatalf("a score of exactly %d reaches %s: crossed %+v, pending %+v", mql.Score, mql.Name, crossed, l.PendingAlerts)
	}
}

// An open can carry the score over a threshold when the program gives
// opens points; Apple Mail opens every message itself, so that alert waits
// for the settle time like a click's.
func TestApply_openCrossing_waitsTheSettleTime(t *testing.T) {
	_, shipped := model(t)
	p := *shipped
	p.Scoring.Activities.Open = 1
	m := New(&p)
	mql := p.Thresholds[0]
	l := &lead.Lead{ID: "l6", Score: lead.Score{Activity: float64(mql.Score - 1), At: t0}}
	open := lead.Activity{Key: "o1", Kind: lead.KindOpen, At: t0}
	if crossed := m.Apply(l, &open); len(crossed) != 1 || len(l.PendingAlerts) != 1 {
		t.Fatalf("the open should cross %s: %+v", mql.Name, l.Score)
	}
	if p0 := l.PendingAlerts[0]; !p0.NotBefore.Equal(t0.Add(SettleAfterEngagement)) || !p0.SendAt().Equal(p0.NotBefore) {
		t.Fatalf("pending %+v: an open's crossing waits %v like a click's", p0, SettleAfterEngagement)
	}
}

// Posting a form for an asset the lead already has is no more interest:
// however often, it scores nothing and crosses nothing.
func TestApply_downloadOfAnAssetTheLeadHas_scoresNothing(t *testing.T) {
	m, p := model(t)
	mql := p.Thresholds[0]
	l := &lead.Lead{ID: "l5", Score: lead.Score{Activity: float64(mql.Score - 1), At: t0}}
	again := lead.Activity{Key: "dl2", Kind: lead.KindDownload, AssetID: p.Forms[0].Asset, At: t0, Repeat: true}
	if crossed := m.Apply(l, &again); len(crossed) != 0 || again.Earned != 0 || again.Points != 0 || l.Score.Activity != float64(mql.Score-1) {
		t.Fatalf("a repeated download scored: earned %d points %.1f crossed %v score %+v", again.Earned, again.Points, crossed, l.Score)
	}
}

// downloads feeds the lead one form post per asset, a second apart, and
// returns the thresholds they crossed.
func downloads(m Model, l *lead.Lead, at time.Time, assets ...program.Asset) []string {
	var crossed []string
	for i, a := range assets {
		act := lead.Activity{Key: "dl-" + a.ID, Kind: lead.KindDownload, AssetID: a.ID, At: at.Add(time.Duration(i) * time.Second)}
		for _, c := range m.Apply(l, &act) {
			crossed = append(crossed, c.Name)
		}
	}
	return crossed
}

// Anyone can post a form for any address: a lead's own posts cross one
// threshold at most once per period. The next threshold stays armed for
// the person's own click or answer, and after the period posts may cross
// again.
func TestApply_formPostsCrossOneThresholdPerPeriod_aClickCrossesTheNext(t *testing.T) {
	m, p := model(t)
	mql, hot := p.Thresholds[0], p.Thresholds[1]
	var decision []program.Asset
	for _, a := range p.Assets {
		if a.Stage == "decision" {
			decision = append(decision, a)
		}
	}
	if len(decision) < 4 {
		t.Fatal("the default program needs four decision-stage assets for this test")
	}
	l := &lead.Lead{ID: "l6"}
	if crossed := downloads(m, l, t0, decision...); strings.Join(crossed, ",") != mql.Name {
		t.Fatalf("form posts crossed %v, want only %s", crossed, mql.Name)
	}
	if v := m.Value(l.Score, t0.Add(time.Minute)); v < float64(hot.Score) {
		t.Fatalf("the posts should reach %s's %d for this test to mean anything; score %.1f", hot.Name, hot.Score, v)
	}
	if len(l.PendingAlerts) != 1 || slices.Contains(l.Score.Disarmed, hot.Name) {
		t.Fatalf("%s must stay armed, unalerted: pending %+v disarmed %v", hot.Name, l.PendingAlerts, l.Score.Disarmed)
	}
	click := lead.Activity{Key: "c1", Kind: lead.KindClick, AssetID: decision[0].ID, At: t0.Add(time.Hour)}
	if crossed := m.Apply(l, &click); len(crossed) != 1 || crossed[0].Name != hot.Name {
		t.Fatalf("the reader's click should cross %s: %v", hot.Name, crossed)
	}

	// One post that leaps over both thresholds crosses the lower only.
	leap := &lead.Lead{ID: "l7", Score: lead.Score{Activity: float64(hot.Score - 1), At: t0}}
	if crossed := downloads(m, leap, t0, decision[0]); strings.Join(crossed, ",") != mql.Name {
		t.Fatalf("one post crossed %v, want only %s", crossed, mql.Name)
	}

	// Once the period has passed, a post may cross again.
	period := p.Scoring.FormCrossing()
	quiet := &lead.Lead{ID: "l8", Score: lead.Score{Activity: float64(mql.Score - 1), At: t0, FormCrossedAt: t0.Add(-period + time.Hour)}}
	if crossed := downloads(m, quiet, t0, decision[0]); len(crossed) != 0 {
		t.Fatalf("a post within the period crossed %v", crossed)
	}
	quiet.Score = lead.Score{Activity: float64(mql.Score - 1), At: t0, FormCrossedAt: t0.Add(-period)}
	if crossed := downloads(m, quiet, t0, decision[1]); len(crossed) != 1 {
		t.Fatalf("a post after the period should cross: %v", crossed)
	}
}
