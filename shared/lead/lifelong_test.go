package lead

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/program"
)

// A lifelong lead keeps its latest emails whole and only the assets of
// older ones, so its item stays small; no asset is forgotten.
func TestNurture_claimBeyondTheLatestSix_keepsTheirAssetsOnly(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	var n Nurture
	n.Enrol("cloud-cost-track", t0)
	for i := range 20 {
		n.Claim(SentStep{Track: n.Track, Step: i, AssetID: fmt.Sprintf("asset-%d", i), Claim: fmt.Sprintf("c%d", i), At: t0.Add(time.Duration(i) * 24 * time.Hour)})
	}
	if len(n.Sent) != maxSent || n.Sent[0].Step != 20-maxSent || n.Emails != 20 || n.NextStep != 20 {
		t.Fatalf("kept %d steps from %d, %d emails, next step %d", len(n.Sent), n.Sent[0].Step, n.Emails, n.NextStep)
	}
	if n.Sent[maxSent-1].Claim != "c19" || n.Sent[0].Claim != "" {
		t.Fatalf("kept %d steps from %d, %d emails, next step %d", len(n.Sent), n.Sent[0].Step, n.Emails, n.NextStep)
	}
	for i := range 20 {
		if !n.WasSent(fmt.Sprintf("asset-%d", i)) {
			t.Errorf("asset-%d forgotten", i)
		}
	}
	if n.WasSent("asset-20") || len(n.Had) != 2*(20-maxSent) {
		t.Errorf("had %d bytes; asset-20 sent: %v", len(n.Had), n.WasSent("asset-20"))
	}
	if last, _ := n.LastSentAt(); !last.Equal(t0.Add(19 * 24 * time.Hour)) {
		t.Errorf("last sent at %v", last)
	}

	// A month later only the new email is kept whole.
	n.Claim(SentStep{Track: n.Track, Step: 20, AssetID: "asset-20", At: t0.Add(50 * 24 * time.Hour)})
	if len(n.Sent) != 1 || !n.WasSent("asset-19") || !n.WasSent("asset-20") {
		t.Errorf("a month after the last email: %d kept", len(n.Sent))
	}
}

func TestNurture_unclaim_putsTheLeadBackOnlyWhereTheClaimLeftIt(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	step := SentStep{Track: "cloud-cost-track", Step: 2, AssetID: "a", Claim: "c1", At: t0}
	ask := SentStep{Track: program.ReengageTrack, Claim: "c2", At: t0}
	for _, tc := range []struct {
		name             string
		setup            func(n *Nurture)
		claim            string
		removed, putBack bool
		wantNext         int
	}{
		{"a step: back to it", func(n *Nurture) { n.Claim(step) }, "c1", true, true, 2},
		{"a step, lead accepted since", func(n *Nurture) { n.Claim(step); n.Stop(StopAccepted) }, "c1", true, false, 3},
		{"a step SES reported on", func(n *Nurture) { s := step; s.MessageID = "m"; n.Claim(s) }, "c1", false, false, 3},
		{"the re-engagement email: no longer asked", func(n *Nurture) { n.Ask(ask, t0.Add(time.Hour)) }, "c2", true, true, 2},
		{"unknown claim", func(n *Nurture) { n.Claim(step) }, "zz", false, false, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := Nurture{Track: "cloud-cost-track", NextStep: 2, Status: NurtureActive, DueAt: t0}
			tc.setup(&n)
			removed, putBack := n.Unclaim(tc.claim)
			if removed != tc.removed || putBack != tc.putBack || n.NextStep != tc.wantNext {
				t.Errorf("Unclaim = %v, %v, next step %d; want %v, %v, %d", removed, putBack, n.NextStep, tc.removed, tc.putBack, tc.wantNext)
			}
			if removed && (len(n.Sent) != 0 || !n.AskedAt.IsZero()) {
				t.Errorf("after unclaim: %+v", n)
			}
		})
	}
}

// When a track ends the lead moves on to the track of its strongest
// interest it has not had (downloads and a reader's clicks by topic; the
// first interest wins a tie), then to evergreen.
func TestLead_nextPlace_strongestInterestThenEvergreen(t *testing.T) {
	p, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	l := &Lead{}
	l.Engage(t0, "cloud-cost")
	l.Nurture.Enrol("cloud-cost-track", t0)
	if got, _ := l.NextPlace(p); got != program.EvergreenTrack {
		t.Errorf("one interest, its track running: next is %q, want evergreen", got)
	}
	l.Engage(t0.Add(time.Hour), "reliability")
	if got, _ := l.NextPlace(p); got != "reliability-track" {
		t.Errorf("a second interest queued: next is %q", got)
	}
	l.Nurture.MoveOn("reliability-track", t0)
	if got, _ := l.NextPlace(p); got != program.EvergreenTrack {
		t.Errorf("both tracks had: next is %q", got)
	}

	// Stronger interest first; a tie goes to the first interest.
	l = &Lead{}
	l.Engage(t0, "cloud-cost")
	l.Engage(t0, "reliability")
	if tr, _ := l.NextTrack(p); tr.ID != "cloud-cost-track" {
		t.Errorf("tie: %q first", tr.ID)
	}
	l.Engage(t0, "reliability")
	if tr, _ := l.NextTrack(p); tr.ID != "reliability-track" {
		t.Errorf("two reliability clicks: %q first", tr.ID)
	}

	noEvergreen := *p
	noEvergreen.Evergreen = program.Evergreen{}
	l.Nurture.MoveOn("cloud-cost-track", t0)
	l.Nurture.MoveOn("reliability-track", t0)
	if got, ok := l.NextPlace(&noEvergreen); ok {
		t.Errorf("without evergreen, after every track: %q, want nothing", got)
	}
}

func TestLead_nextTrack_followsThen_unlessHadOrEvergreen(t *testing.T) {
	shipped, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	p := *shipped
	p.Tracks = slices.Clone(p.Tracks)
	p.Tracks[0].Then = "reliability-track"
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	l := &Lead{}
	l.Engage(t0, "cloud-cost")
	l.Nurture.Enrol("cloud-cost-track", t0)
	if got, _ := l.NextPlace(&p); got != "reliability-track" {
		t.Errorf("then names reliability-track; next is %q", got)
	}
	p.Tracks[0].Then = program.EvergreenTrack
	l.Engage(t0, "reliability")
	if got, _ := l.NextPlace(&p); got != program.EvergreenTrack {
		t.Errorf("then: evergreen over a second interest; next is %q", got)
	}
}

func TestLead_engage_countsTopicsAndKeepsTheLatestTime(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	l := &Lead{CreatedAt: t0}
	if !l.LastEngaged().Equal(t0) {
		t.Errorf("a new lead last engaged when it became one, got %v", l.LastEngaged())
	}
	l.Engage(t0.Add(2*time.Hour), "cloud-cost", "reliability")
	l.Engage(t0.Add(time.Hour), "cloud-cost") // arrived late
	if !l.LastEngaged().Equal(t0.Add(2*time.Hour)) || l.Interest["cloud-cost"] != 2 || l.Interest["reliability"] != 1 ||
		!slices.Equal(l.Topics, []string{"cloud-cost", "reliability"}) {
		t.Errorf("engaged at %v, interest %v, topics %v", l.EngagedAt, l.Interest, l.Topics)
	}
}

func TestLead_wakeDormant_onlyADormantMailableLead_dueItsNextWaitLater(t *testing.T) {
	p, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	dormant := func() *Lead {
		l := &Lead{}
		l.Nurture.Enrol("cloud-cost-track", t0)
		l.Nurture.Claim(SentStep{Track: "cloud-cost-track", Step: 0, AssetID: "finops-maturity-checklist", At: t0})
		l.Nurture.Ask(SentStep{Track: program.ReengageTrack, At: t0.Add(time.Hour)}, t0.Add(24*time.Hour))
		l.Nurture.Sleep()
		return l
	}
	l := dormant()
	later := t0.Add(60 * 24 * time.Hour)
	if !l.WakeDormant(p, later) || !l.Nurture.Due() || !l.Nurture.AskedAt.IsZero() || !l.Nurture.DueAt.Equal(later.Add(7*24*time.Hour)) {
		t.Errorf("woken: %+v; want step 2 due its 7-day wait later", l.Nurture)
	}
	if l.WakeDormant(p, later) {
		t.Error("an active lead woke again")
	}
	l = dormant()
	l.Suppress(SuppressedUnsubscribed, later)
	if l.WakeDormant(p, later) || l.Nurture.Due() {
		t.Errorf("an unsubscribed lead woke: %+v", l.Nurture)
	}
}
