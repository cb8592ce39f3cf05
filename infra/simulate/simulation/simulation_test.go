package simulation

import (
	"bytes"
	"context"
	"encoding/csv"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The shipped personas' twelve months through the shipped program, run
// once for the package's tests: the run is the expensive part.
var shipped struct {
	once sync.Once
	res  *Result
	prog *program.Program
	err  error
}

func shippedRun(t *testing.T) (*Result, *program.Program) {
	t.Helper()
	shipped.once.Do(func() {
		prog, err := program.Default()
		if err != nil {
			shipped.err = err
			return
		}
		personas, err := program.LoadPersonas("../../../shared/program/personas.yaml", prog)
		if err != nil {
			shipped.err = err
			return
		}
		shipped.prog = prog
		shipped.res, shipped.err = Run(context.Background(), Setup{
			Program: prog, Personas: personas, DynamoDB: testenv.Dynamo(t), Streams: testenv.Streams(t), SES: testenv.SES(t), Table: testenv.UniqueName("simulation"),
		})
	})
	if shipped.err != nil {
		t.Fatal(shipped.err)
	}
	return shipped.res, shipped.prog
}

func journey(t *testing.T, r *Result, id string) Journey {
	t.Helper()
	j, ok := r.Journey(id)
	if !ok {
		t.Fatalf("no persona %s in the result", id)
	}
	if len(j.Emails) == 0 {
		t.Fatalf("persona %s got no email at all: %s", id, j.Nurture)
	}
	return j
}

// mql is the program's first threshold, the one that hands a lead to sales.
func mql(prog *program.Program) string { return prog.Thresholds[0].Name }

// firstTrackEnd is when the persona's first track sent its last email.
func firstTrackEnd(j Journey) time.Time {
	first := j.Emails[0].Track
	var end time.Time
	for _, e := range j.Emails {
		if e.Track == first {
			end = e.At
		}
	}
	return end
}

func TestShippedProgram_goodFitReaderWhoClicksMost_reachesMQLWithinTheFirstTrack(t *testing.T) {
	r, prog := shippedRun(t)
	j := journey(t, r, "good-fit-reader")
	c, ok := j.Crossed(mql(prog))
	if !ok {
		t.Fatalf("good-fit-reader never reached %s; months: %+v", mql(prog), j.Months)
	}
	if end := firstTrackEnd(j); c.At.After(end) {
		t.Errorf("good-fit-reader reached %s on %s, after the first track's last email (%s)", mql(prog), c.At, end)
	}
	if c.Alerted.IsZero() {
		t.Errorf("sales never got the %s alert", mql(prog))
	}
}

func TestShippedProgram_poorFitWhoReadsEverything_reachesMQLLaterOrNever(t *testing.T) {
	r, prog := shippedRun(t)
	good, _ := journey(t, r, "good-fit-reader").Crossed(mql(prog))
	j := journey(t, r, "wrong-fit")
	for _, e := range j.Emails {
		if !strings.Contains(strings.Join(e.Did, ","), "clicked") {
			t.Fatalf("wrong-fit should read and click everything; email %s: %v", e.Label(), e.Did)
		}
	}
	if c, ok := j.Crossed(mql(prog)); ok && !c.At.After(good.At) {
		t.Errorf("wrong-fit reached %s on %s, no later than the good fit (%s)", mql(prog), c.At, good.At)
	}
}

func TestShippedProgram_linkScanner_neverReachesAThreshold_andScoresNoClick(t *testing.T) {
	r, _ := shippedRun(t)
	j := journey(t, r, "link-scanner")
	if len(j.Crossings) > 0 {
		t.Errorf("a link scanner crossed %+v", j.Crossings)
	}
	for _, e := range j.Emails {
		if e.Asset == "" && e.Points == 0 {
			continue // the re-engagement email: no tracked link for a scanner to click
		}
		if e.Points != 0 || !strings.Contains(strings.Join(e.Counted, ","), "machine click") {
			t.Errorf("email %s: the scanner's clicks earned %+.0f (%v); want machine clicks, unscored", e.Label(), e.Points, e.Counted)
		}
	}
}

func TestShippedProgram_buyingNow_reachesMQL(t *testing.T) {
	r, prog := shippedRun(t)
	if _, ok := journey(t, r, "buying-now").Crossed(mql(prog)); !ok {
		t.Errorf("a good fit who says it buys this quarter never reached %s", mql(prog))
	}
}

// buying-now says it acts this quarter when its track asks: the track's
// branch jumps it to the decision-stage step, and the report says why.
func TestShippedProgram_buyingNow_answersNow_jumpsToDecisionContent_andTheReportSaysWhy(t *testing.T) {
	r, prog := shippedRun(t)
	j := journey(t, r, "buying-now")
	var jumped *Email
	for i, e := range j.Emails {
		if strings.Contains(strings.Join(e.Did, ","), "answered timeline=now") && i+1 < len(j.Emails) {
			jumped = j.Emails[i+1]
			if jumped.Track != e.Track || jumped.Step <= e.Step+1 {
				t.Fatalf("after answering timeline=now at %s the next email is %s, not a jump ahead in the track", e.Label(), jumped.Label())
			}
			break
		}
	}
	if jumped == nil {
		t.Fatalf("buying-now never answered timeline=now: %v", j.Emails)
	}
	if a, _ := prog.Asset(jumped.Asset); a.Stage != "decision" {
		t.Errorf("the jump sent %s (%s), want decision-stage content", jumped.Asset, a.Stage)
	}
	if !strings.HasPrefix(jumped.Note, "jumped from step ") || !strings.Contains(jumped.Note, "timeline now") {
		t.Errorf("the jumped-to email's note is %q, want it to say the jump and its reason", jumped.Note)
	}
	var out bytes.Buffer
	if err := r.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), jumped.Note) {
		t.Error("the report does not show why buying-now jumped")
	}
}

// Every email goes out on a send day, inside the send window, in the
// lead's own zone, whichever zone that is.
func TestShippedProgram_everyEmail_insideTheSendWindowInTheLeadsZone(t *testing.T) {
	r, prog := shippedRun(t)
	s := prog.Schedule
	zones := map[string]bool{}
	for _, j := range r.Journeys {
		zones[j.Zone.String()] = true
		for _, e := range j.Emails {
			local := e.At.In(j.Zone)
			day := strings.ToLower(local.Weekday().String()[:3])
			hm := local.Format("15:04")
			if !strings.Contains(strings.Join(s.Days, ","), day) || hm < s.Start || hm >= s.End {
				t.Errorf("%s: email %s went out %s, outside %v %s–%s", j.Persona.ID, e.Label(), local.Format("Mon 2 Jan 15:04 MST"), s.Days, s.Start, s.End)
			}
		}
	}
	if len(zones) < 3 {
		t.Errorf("the shipped personas should live in several zones; got %v", zones)
	}
}

// Across tracks (and evergreen and re-engagement, where the program has
// them) a lead never gets two nurture emails closer than the program's
// frequency cap, and none on a no-send date in its own zone.
func TestShippedProgram_noTwoEmailsWithinTheCap_noneOnANoSendDate(t *testing.T) {
	r, prog := shippedRun(t)
	limit := prog.Schedule.FrequencyCap.Duration
	for _, j := range r.Journeys {
		for i, e := range j.Emails {
			if i > 0 {
				if gap := e.At.Sub(j.Emails[i-1].At); gap < limit {
					t.Errorf("%s: %s came %s after %s; the cap is %s", j.Persona.ID, e.Label(), gap, j.Emails[i-1].Label(), limit)
				}
			}
			y, m, d := e.At.In(j.Zone).Date()
			for _, nd := range prog.Schedule.NoSendDates {
				ny, nm, nd2, err := program.ParseNoSendDate(nd)
				if err == nil && nm == m && nd2 == d && (ny == 0 || ny == y) {
					t.Errorf("%s: %s went out on %s, a no-send date", j.Persona.ID, e.Label(), e.At.In(j.Zone).Format(time.DateOnly))
				}
			}
		}
	}
}

// reads-everything reads, clicks and gets the steps of its track at the
// program's pace: never sooner after the previous email than the step's wait.
func TestShippedProgram_readsEverything_getsEveryStepAtTheProgramsPace(t *testing.T) {
	r, prog := shippedRun(t)
	j := journey(t, r, "reads-everything")
	for i, e := range j.Emails {
		if !strings.Contains(strings.Join(e.Counted, ","), "click") || e.Points <= 0 {
			t.Errorf("email %s: the reader's click was not scored: %v", e.Label(), e.Counted)
		}
		if e.Question != "" && !strings.Contains(strings.Join(e.Counted, ","), "answer") {
			t.Errorf("email %s asked %s: the reader's answer was not recorded: did %v, counted %v", e.Label(), e.Question, e.Did, e.Counted)
		}
		track, ok := prog.Track(e.Track)
		if i == 0 || !ok || e.Track != j.Emails[i-1].Track || e.Step >= len(track.Steps) {
			continue
		}
		if gap, wait := e.At.Sub(j.Emails[i-1].At), track.Steps[e.Step].Wait.Duration; gap < wait {
			t.Errorf("email %s came %s after the previous one; the step waits %s", e.Label(), gap, wait)
		}
	}
}

// Over the year, reads-everything gets its track and then the evergreen
// cadence: never more often than evergreen.every, never an asset (or the
// same content in another format) twice, and mail until the end.
func TestShippedProgram_readsEverything_getsEvergreenAtItsCadence_neverTheSameContentTwice(t *testing.T) {
	r, prog := shippedRun(t)
	if !prog.EvergreenOn() {
		t.Fatal("the shipped program has an evergreen cadence")
	}
	j := journey(t, r, "reads-everything")
	var evergreen []*Email
	had := map[string]string{}
	for _, d := range j.Downloads {
		for _, id := range prog.SameContent(d.Asset) {
			had[id] = "the form"
		}
	}
	for _, e := range j.Emails {
		switch {
		case e.Track == program.EvergreenTrack:
			evergreen = append(evergreen, e)
		case len(evergreen) > 0:
			t.Errorf("%s came after evergreen began", e.Label())
		}
		if first, ok := had[e.Asset]; ok && e.Asset != "" {
			t.Errorf("%s sent %s, which the lead had from %s", e.Label(), e.Asset, first)
		}
		for _, id := range prog.SameContent(e.Asset) {
			had[id] = e.Label()
		}
	}
	if len(evergreen) < 6 {
		t.Fatalf("%d evergreen emails in a year; want one every %s once the track is done", len(evergreen), prog.Evergreen.Every)
	}
	for i := 1; i < len(evergreen); i++ {
		if gap := evergreen[i].At.Sub(evergreen[i-1].At); gap < prog.Evergreen.Every.Duration {
			t.Errorf("%s came %s after %s; the cadence is %s", evergreen[i].Label(), gap, evergreen[i-1].Label(), prog.Evergreen.Every)
		}
	}
	if j.Status != lead.NurtureActive {
		t.Errorf("a reader's nurture should still run after a year: %s", j.Nurture)
	}
}

// A persona who never opens anything is asked once whether to go on, only
// after reengage.after without engagement, and then hears nothing more.
func TestShippedProgram_silentPersona_isAskedOnceThenSunset(t *testing.T) {
	r, prog := shippedRun(t)
	if !prog.ReengageOn() {
		t.Fatal("the shipped program re-engages silent leads")
	}
	j := journey(t, r, "silent")
	last := j.Emails[len(j.Emails)-1]
	asked := 0
	for _, e := range j.Emails {
		if e.Track == program.ReengageTrack {
			asked++
		}
	}
	if last.Track != program.ReengageTrack || asked != 1 {
		t.Fatalf("silent's last email is %s, and it was asked %d times; want one re-engagement email, last", last.Label(), asked)
	}
	if quiet := last.At.Sub(j.Downloads[0].At); quiet < prog.Reengage.After.Duration {
		t.Errorf("asked %s after its download; reengage.after is %s", quiet, prog.Reengage.After)
	}
	if j.Status != lead.NurtureDormant {
		t.Errorf("without an answer the lead should be dormant: %s", j.Nurture)
	}
}

// A reader who only opens is asked whether to go on, says yes through the
// keep link, and keeps getting mail.
func TestShippedProgram_lurker_keepsThemComing_andGetsMailAfter(t *testing.T) {
	r, _ := shippedRun(t)
	j := journey(t, r, "lurker")
	asked := slices.IndexFunc(j.Emails, func(e *Email) bool { return e.Track == program.ReengageTrack })
	if asked < 0 {
		t.Fatalf("lurker was never asked whether to go on; emails: %d, nurture: %s", len(j.Emails), j.Nurture)
	}
	if did := strings.Join(j.Emails[asked].Did, ","); !strings.Contains(did, "answered “") {
		t.Fatalf("lurker did not answer the re-engagement email: %q", did)
	}
	if asked == len(j.Emails)-1 || j.Status != lead.NurtureActive {
		t.Errorf("after keeping them coming, mail should go on: %d emails after it, nurture: %s", len(j.Emails)-1-asked, j.Nurture)
	}
}

// A lead gone dormant is woken by a download: it gets the new topic's track.
func TestShippedProgram_comesBack_dormantThenWokenByADownload(t *testing.T) {
	r, _ := shippedRun(t)
	j := journey(t, r, "comes-back")
	if len(j.Downloads) != 2 {
		t.Fatalf("comes-back should download twice: %+v", j.Downloads)
	}
	back := j.Downloads[1].At
	var before, after []*Email
	for _, e := range j.Emails {
		if e.At.Before(back) {
			before = append(before, e)
		} else {
			after = append(after, e)
		}
	}
	if len(before) == 0 || before[len(before)-1].Track != program.ReengageTrack {
		t.Fatalf("before coming back the last email should be the re-engagement one (sunset): %d emails", len(before))
	}
	if len(after) == 0 || after[0].Track != "reliability-track" {
		t.Fatalf("the download should wake the lead into the reliability track; after it: %d emails", len(after))
	}
}

// A lead who shows a second interest while its first track runs gets both
// tracks, one after the other, and then evergreen.
func TestShippedProgram_twoInterests_getBothTracksThenEvergreen(t *testing.T) {
	r, prog := shippedRun(t)
	j := journey(t, r, "two-interests")
	var order []string
	steps := map[string]int{}
	for _, e := range j.Emails {
		if len(order) == 0 || order[len(order)-1] != e.Track {
			order = append(order, e.Track)
		}
		steps[e.Track]++
	}
	want := []string{"cloud-cost-track", "reliability-track", program.EvergreenTrack}
	if len(order) < len(want) || strings.Join(order[:len(want)], ",") != strings.Join(want, ",") {
		t.Fatalf("two-interests went through %v; want %v", order, want)
	}
	for _, id := range want[:2] {
		if track, _ := prog.Track(id); steps[id] != len(track.Steps) {
			t.Errorf("%s: %d of its %d steps sent", id, steps[id], len(track.Steps))
		}
	}
}

func TestReport_tablePerPersona_andOneLinePerThresholdSayingWhoAndWhen(t *testing.T) {
	r, prog := shippedRun(t)
	var out bytes.Buffer
	if err := r.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, j := range r.Journeys {
		if !strings.Contains(text, "\n== "+j.Persona.ID+": ") {
			t.Errorf("no section for %s", j.Persona.ID)
		}
	}
	for _, want := range []string{"date (Europe/Berlin)", "form finops-guide", "score by month", "peak", "nurture at the end: "} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	summary := r.Summary()
	if len(summary) != len(prog.Thresholds) {
		t.Fatalf("summary: %q; want one line per threshold", summary)
	}
	c, _ := journey(t, r, "good-fit-reader").Crossed(mql(prog))
	j := journey(t, r, "good-fit-reader")
	line := summary[0]
	if !strings.HasPrefix(line, mql(prog)+" ") || !strings.Contains(line, "good-fit-reader day ") ||
		!strings.Contains(line, c.At.In(j.Zone).Format("2 Jan 2006")) || !strings.Contains(line, "never: ") || !strings.Contains(line, "link-scanner") {
		t.Errorf("summary line %q should name who reached %s and when, and who never did", line, mql(prog))
	}
	if !strings.Contains(text, line) {
		t.Error("the summary lines are not in the report")
	}

	out.Reset()
	if err := r.WriteCSV(&out); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	emails := 0
	for _, j := range r.Journeys {
		emails += len(j.Emails)
	}
	if got := countRows(rows, "email"); rows[0][0] != "persona" || got != emails {
		t.Errorf("csv: header %v, %d email rows for %d emails", rows[0], got, emails)
	}
}

func countRows(rows [][]string, what string) int {
	n := 0
	for _, r := range rows {
		if len(r) > 1 && r[1] == what {
			n++
		}
	}
	return n
}
