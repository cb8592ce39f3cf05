package lead

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/program"
)

func shipped(t *testing.T) *program.Program {
	t.Helper()
	p, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// One rating an email: the first stands. The assets found not useful are
// counted by format and stage among the latest answers.
func TestLead_rate_firstStands_notUsefulCountsFormatsAndStages(t *testing.T) {
	p := shipped(t)
	l := &Lead{}
	if f, s := l.Unhelpful(p); f["whitepaper"] != 0 || s["awareness"] != 0 {
		t.Fatalf("a new lead found nothing unhelpful: %v %v", f, s)
	}
	if got, first := l.Rate("cloud-bill-explained", false); got != RatedNotUseful || !first {
		t.Errorf("the first rating: %q, %v", got, first)
	}
	if got, first := l.Rate("cloud-bill-explained", true); got != RatedNotUseful || first {
		t.Errorf("a second rating of the email: %q, %v; want the first to stand", got, first)
	}
	l.Rate("multi-region-whitepaper", false)
	l.Rate("slo-primer", true)
	f, s := l.Unhelpful(p)
	if f["whitepaper"] != 2 || s["awareness"] != 1 || s["consideration"] != 1 || len(f) != 1 {
		t.Errorf("formats %v, stages %v; want two whitepapers, one awareness, one consideration", f, s)
	}
	if !l.Wish("slo-primer") || l.Wish("slo-primer") {
		t.Error("a wish is one an email, beside its rating")
	}
	for i := range 20 {
		l.Rate(fmt.Sprintf("asset-%d", i), true)
	}
	if len(l.Voice.Said) != 2*maxSaid {
		t.Errorf("kept %d bytes of marks, want the latest %d", len(l.Voice.Said), maxSaid)
	}
	if f, _ := l.Unhelpful(p); f["whitepaper"] != 0 {
		t.Errorf("older opinions should have made way for newer ones: %v", f)
	}
}

// A topic the lead wants is its next track: at once for a lead between
// tracks, from its next email for a lead in one.
func TestLead_want_takesTheTopicsTrackNext(t *testing.T) {
	p := shipped(t)
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)

	inTrack := &Lead{}
	inTrack.Engage(t0, "cloud-cost")
	inTrack.Nurture.Enrol("cloud-cost-track", t0)
	inTrack.Nurture.Claim(SentStep{Track: "cloud-cost-track", Step: 0, AssetID: "finops-maturity-checklist", At: t0})
	inTrack.Nurture.Schedule(t0.Add(7 * 24 * time.Hour))
	if tr, ok := inTrack.Want(p, "reliability", t0.Add(time.Hour)); !ok || tr != "reliability-track" {
		t.Fatalf("Want = %q, %v", tr, ok)
	}
	if inTrack.Nurture.Track != "cloud-cost-track" || inTrack.Voice.Wants != "reliability" || inTrack.Interest["reliability"] != 1 {
		t.Fatalf("a lead in a track waits for its next email: %+v, voice %+v", inTrack.Nurture, inTrack.Voice)
	}
	if !inTrack.TakeWish(p) || inTrack.Nurture.Track != "reliability-track" || inTrack.Nurture.NextStep != 0 ||
		!inTrack.Nurture.DueAt.Equal(t0.Add(7*24*time.Hour)) || inTrack.Voice.Wants != "" {
		t.Errorf("at its next email the wanted track starts, due as before: %+v", inTrack.Nurture)
	}
	if inTrack.Nurture.HasDone("cloud-cost-track") {
		t.Error("the track left for the wish is not done: the lead may come back to it")
	}
	if inTrack.TakeWish(p) {
		t.Error("a wish is taken once")
	}

	evergreen := &Lead{}
	evergreen.Nurture.Enrol("cloud-cost-track", t0)
	evergreen.Nurture.MoveOn(program.EvergreenTrack, t0.Add(20*24*time.Hour))
	evergreen.Voice.Muted = []string{"reliability"}
	if tr, ok := evergreen.Want(p, "reliability", t0); !ok || evergreen.Nurture.Track != tr || !evergreen.Nurture.DueAt.Equal(t0.Add(2*24*time.Hour)) {
		t.Errorf("an evergreen lead joins the track at once, its first wait later: %+v", evergreen.Nurture)
	}
	if evergreen.Muted("reliability") {
		t.Error("a topic the lead asks for is no longer muted")
	}

	if _, ok := evergreen.Want(p, "cloud-cost", t0); ok || evergreen.Nurture.Track != "reliability-track" {
		t.Errorf("a track the lead had is not sent again: %+v", evergreen.Nurture)
	}
	stopped := &Lead{}
	stopped.Nurture.Stop(StopAccepted)
	if _, ok := stopped.Want(p, "reliability", t0); ok || stopped.Nurture.Status != NurtureStopped {
		t.Errorf("a stopped lead gets no mail: %+v", stopped.Nurture)
	}
}

// The preference page's choices: topics left out are muted (no track of
// theirs next), less often doubles every wait and the one due now.
func TestLead_prefer_mutesTopicsAndHalvesTheCadence(t *testing.T) {
	p := shipped(t)
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	l := &Lead{}
	l.Engage(t0, "cloud-cost")
	l.Engage(t0, "reliability")
	l.Nurture.Enrol("cloud-cost-track", t0)
	l.Nurture.Claim(SentStep{Track: "cloud-cost-track", Step: 0, AssetID: "finops-maturity-checklist", At: t0})
	l.Nurture.Schedule(t0.Add(7 * 24 * time.Hour))

	if !l.Prefer(p, []string{"cloud-cost"}, true) {
		t.Fatal("choosing changed nothing")
	}
	if !slices.Equal(l.Voice.Muted, []string{"reliability"}) || !l.Voice.LessOften {
		t.Errorf("voice %+v", l.Voice)
	}
	if !l.Nurture.DueAt.Equal(t0.Add(14 * 24 * time.Hour)) {
		t.Errorf("less often: next email due %v, want twice its wait after the last", l.Nurture.DueAt)
	}
	if got := l.NextWait(p); got != 14*24*time.Hour {
		t.Errorf("less often: step 3 waits %v, want 14 days", got)
	}
	if got, _ := l.NextPlace(p); got != program.EvergreenTrack {
		t.Errorf("reliability muted: after cloud costs the lead goes to %q, want evergreen", got)
	}
	if l.Prefer(p, []string{"cloud-cost"}, true) {
		t.Error("the same choices again changed the lead")
	}
	l.Prefer(p, []string{"cloud-cost", "reliability"}, false)
	if !l.Nurture.DueAt.Equal(t0.Add(7*24*time.Hour)) || len(l.Voice.Muted) != 0 {
		t.Errorf("back to as usual: due %v, muted %v", l.Nurture.DueAt, l.Voice.Muted)
	}

	fresh := &Lead{}
	fresh.Prefer(p, []string{"reliability"}, false)
	if !slices.Equal(fresh.Topics, []string{"reliability"}) || !slices.Equal(fresh.Voice.Muted, []string{"cloud-cost"}) {
		t.Errorf("a chosen topic becomes an interest: topics %v, muted %v", fresh.Topics, fresh.Voice.Muted)
	}
}

// "What would help" is asked every third email, or the first after it
// without another question.
func TestLead_askWhatHelps_everyNthEmailWithoutAnotherQuestion(t *testing.T) {
	l := &Lead{}
	var asked []int
	for i := 1; i <= 12; i++ {
		l.Nurture.Emails = i
		if l.AskWhatHelps(3, i == 3 || i == 4) {
			asked = append(asked, i)
		}
	}
	if !slices.Equal(asked, []int{5, 8, 11}) {
		t.Errorf("asked in emails %v, want 5 (3 and 4 had a question), 8, 11", asked)
	}
	if l.AskWhatHelps(0, false) {
		t.Error("askEvery 0 never asks")
	}
}

func TestCleanWords_oneVisibleLineAtMostMaxWords(t *testing.T) {
	for in, want := range map[string]string{
		"  We need\r\na plan\tfor Q3  ":       "We need a plan for Q3",
		"evil\u202egnp.exe":                   "evilgnp.exe",
		"zero\u200bwidth\u2060joined":         "zerowidthjoined",
		"<script>alert(1)</script>":           "<script>alert(1)</script>",
		"Grüße aus Köln – 東京":                 "Grüße aus Köln – 東京",
		"\x00\x07":                            "",
		"private\ue000use and \U000E0041tags": "privateuse and tags",
	} {
		if got := CleanWords(in); got != want {
			t.Errorf("CleanWords(%q) = %q, want %q", in, got, want)
		}
	}
	long := CleanWords(strings.Repeat("ä", MaxWords+10))
	if n := len([]rune(long)); n != MaxWords {
		t.Errorf("kept %d characters, want %d", n, MaxWords)
	}
	if got := CleanWords(strings.Repeat("a", MaxWords-1) + " bc"); len([]rune(got)) != MaxWords-1 {
		t.Errorf("a cut after a space keeps no trailing space: %q", got[len(got)-3:])
	}
}

// What the lead said about the mail steers like its answers: a format
// found not useful is avoided at once, a stage once two such assets were
// of it; the topic it wants is wanted, a muted one avoided.
func TestLead_preferences_includeWhatTheLeadSaidAboutTheMail(t *testing.T) {
	p := shipped(t)
	l := &Lead{}
	l.Rate("cloud-bill-explained", false) // awareness whitepaper
	pr := l.Preferences(p)
	if stage, format, _ := pr.Of("awareness", "whitepaper", nil); format != -1 || stage != 0 {
		t.Errorf("one whitepaper not useful: stage %d, format %d; want the format avoided only", stage, format)
	}
	l.Rate("finops-maturity-checklist", false) // awareness checklist
	l.Voice.Wants, l.Voice.Muted = "reliability", []string{"cloud-cost"}
	pr = l.Preferences(p)
	if stage, _, _ := pr.Of("awareness", "video", nil); stage != -1 {
		t.Errorf("two awareness assets not useful: stage weight %d, want avoided", stage)
	}
	if _, _, topic := pr.Of("", "", []string{"reliability"}); topic != 1 {
		t.Errorf("the wanted topic weighs %d", topic)
	}
	if _, _, topic := pr.Of("", "", []string{"cloud-cost"}); topic != -1 {
		t.Errorf("the muted topic weighs %d", topic)
	}
}
