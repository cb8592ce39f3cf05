package engagement_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/sesevent"
)

// email is one nurture email as the lead's record lists it when sent.
type email struct {
	track, asset string
	step         int
	at           time.Time
}

// follow runs the scheduler from email to email until the clock passes
// until or a re-engagement email went out, and returns every email sent.
// After each, read (when it is true for the email) clicks its asset an
// hour later, as a reader does.
func (w *world) follow(id string, until time.Time, read func(e email) bool) []email {
	w.T.Helper()
	var got []email
	for w.Clock.Now().Before(until) {
		before := w.Lead(id).Nurture.Emails
		l := w.Next(id)
		if l.Nurture.Emails == before {
			if !l.Nurture.Due() {
				break // nothing more will come
			}
			continue
		}
		st := l.Nurture.Sent[len(l.Nurture.Sent)-1]
		e := email{track: st.Track, asset: st.AssetID, step: st.Step, at: st.At}
		got = append(got, e)
		if e.track == program.ReengageTrack {
			break
		}
		if read(e) {
			w.handle(w.humanClick(l, len(l.Nurture.Sent)-1, time.Hour))
		}
	}
	return got
}

// The seeds' reader who clicks every nurture email: a cloud-cost download,
// then a reliability report a day later while the first track runs. She
// gets the whole cloud-cost track, then the reliability track (her second
// interest was queued, not dropped), then an evergreen email a month, for
// a year; never two emails within the frequency cap, never outside her
// send window or on a no-send date, never an asset twice, and never the
// briefing that is the report she downloaded in another format.
func TestLifelong_readerWithTwoTopics_getsBothTracksThenEvergreenForAYear(t *testing.T) {
	w := newWorld(t)
	start := w.Clock.Now()
	l := w.Nurtured("reader", map[string]string{"name": "Grace Hopper", "company": "Compilers Inc"})
	w.Clock.Advance(24 * time.Hour)
	if _, err := w.Capturer().Capture(context.Background(), lead.Submission{
		FormID: "downtime-report", Fields: map[string]string{"email": l.Email, "company": "Compilers Inc"}, Consent: true, ReceivedAt: w.Clock.Now(),
	}); err != nil {
		t.Fatal(err)
	}
	if n := w.Lead(l.ID).Nurture; n.Track != "cloud-cost-track" {
		t.Fatalf("a second download moved the lead off its running track: %+v", n)
	}
	first := l.Nurture.Sent[0]
	emails := append([]email{{track: first.Track, asset: first.AssetID, step: first.Step, at: first.At}},
		w.follow(l.ID, start.Add(365*24*time.Hour), func(email) bool { return true })...)

	var order []string
	for _, e := range emails {
		if len(order) == 0 || order[len(order)-1] != e.track {
			order = append(order, e.track)
		}
	}
	if want := []string{"cloud-cost-track", "reliability-track", program.EvergreenTrack}; !slices.Equal(order, want) {
		t.Fatalf("tracks in order %v, want %v\n%v", order, want, emails)
	}
	count := map[string]int{}
	for _, e := range emails {
		count[e.track]++
	}
	if count["cloud-cost-track"] < 5 || count["reliability-track"] < 4 || count[program.EvergreenTrack] < 4 {
		t.Errorf("emails per track %v: a reader gets (nearly) every step, then evergreen", count)
	}

	berlin, _ := time.LoadLocation("Europe/Berlin")
	capWait := w.Program.Schedule.FrequencyCap.Duration
	seen := map[string]bool{"cloud-bill-explained": true, "downtime-cost-report": true}
	for i, e := range emails {
		local := e.at.In(berlin)
		if wd := local.Weekday(); wd == time.Saturday || wd == time.Sunday || local.Hour() < 9 || local.Hour() >= 17 {
			t.Errorf("email %d went out at %s, outside the send window", i, local.Format(time.RFC1123))
		}
		if md := local.Format("01-02"); slices.Contains(w.Program.Schedule.NoSendDates, md) {
			t.Errorf("email %d went out on the no-send date %s", i, local.Format(time.DateOnly))
		}
		if i > 0 && e.at.Sub(emails[i-1].at) < capWait {
			t.Errorf("emails %d and %d went out %s apart, within the %s cap", i-1, i, e.at.Sub(emails[i-1].at), capWait)
		}
		if i > 0 && e.track == program.EvergreenTrack && emails[i-1].track == program.EvergreenTrack && e.at.Sub(emails[i-1].at) < w.Program.Evergreen.Every.Duration {
			t.Errorf("evergreen emails %d and %d went out %s apart, more often than every %s", i-1, i, e.at.Sub(emails[i-1].at), w.Program.Evergreen.Every)
		}
		if seen[e.asset] || e.asset == "downtime-cost-briefing" {
			t.Errorf("email %d offered %s, which the reader had already (in some format)", i, e.asset)
		}
		seen[e.asset] = true
		if e.track == program.ReengageTrack {
			t.Errorf("email %d asked a reader who clicks everything whether to go on", i)
		}
	}
	// The move to the second track waits for the cap, not the track's
	// first, shorter wait.
	for i := 1; i < len(emails); i++ {
		if emails[i].track == "reliability-track" && emails[i-1].track == "cloud-cost-track" {
			if gap := emails[i].at.Sub(emails[i-1].at); gap > capWait+3*24*time.Hour {
				t.Errorf("the second track started %s after the first ended; the cap is %s", gap, capWait)
			}
		}
	}
	// She read the whole library that fits her within the year; nurture
	// waits for new content rather than ending, or asking whether to go on.
	if n := w.Lead(l.ID).Nurture; n.Track != program.EvergreenTrack || !n.Due() {
		t.Errorf("after a year: %+v, want evergreen waiting for new content", n)
	}
	for _, a := range w.Program.Assets {
		if len(a.Industries) == 0 && !seen[a.ID] && a.ID != "downtime-cost-briefing" {
			t.Errorf("%s, for everyone, was never sent", a.ID)
		}
	}
}

// A lead who never engages after the download gets one "still useful?"
// email once the program's re-engagement period has passed, with a
// one-click "keep them coming" link and no asset. Without an answer mail
// stops and the lead is dormant, as the dossier says. Months later a click
// on an old email wakes it, and nurture goes on.
func TestLifelong_silentLead_askedOnce_thenDormant_aClickWakesIt(t *testing.T) {
	w := newWorld(t)
	start := w.Clock.Now()
	l := w.Nurtured("silent", nil)
	emails := w.follow(l.ID, start.Add(365*24*time.Hour), func(email) bool { return false })
	if len(emails) == 0 {
		t.Fatal("no emails after the first")
	}
	asked := emails[len(emails)-1]
	if asked.track != program.ReengageTrack {
		t.Fatalf("the last email was %+v, want the re-engagement email", asked)
	}
	for _, e := range emails[:len(emails)-1] {
		if e.track == program.ReengageTrack {
			t.Fatalf("asked twice: %v", emails)
		}
	}
	if silent := asked.at.Sub(start); silent < w.Program.Reengage.After.Duration {
		t.Errorf("asked %s after the download, before the %s the program allows", silent, w.Program.Reengage.After)
	}
	mails := w.MailTo(l.Email)
	m := mails[len(mails)-1]
	if m.Subject != w.Program.Reengage.Subject || !strings.Contains(m.HTML, "/k/") || !strings.Contains(m.Text, w.Program.Reengage.Button) ||
		!strings.Contains(m.HTML, "/u/") || strings.Contains(m.HTML, "acme.example/library/") {
		t.Errorf("the re-engagement email: subject %q, text:\n%s", m.Subject, m.Text)
	}

	// No answer within the wait: dormant, and nothing is due any more.
	l = w.Lead(l.ID)
	if !l.Nurture.Due() || l.Nurture.DueAt.Sub(asked.at) < w.Program.Reengage.Wait.Duration {
		t.Fatalf("after asking: %+v, want the answer awaited %s", l.Nurture, w.Program.Reengage.Wait)
	}
	w.Clock.Set(l.Nurture.DueAt)
	rep, err := w.Scheduler.Tick(context.Background(), w.Clock.Now())
	if err != nil || rep.Dormant != 1 || rep.Sent != 0 {
		t.Fatalf("tick at the end of the wait: %+v, %v; want the lead dormant", rep, err)
	}
	l = w.Lead(l.ID)
	if l.Nurture.Status != lead.NurtureDormant || l.Nurture.Due() {
		t.Fatalf("unanswered: %+v, want dormant", l.Nurture)
	}
	if at, ok := l.WakeAt(); ok {
		t.Fatalf("a dormant lead stays in the due index, due %s", at)
	}
	acts := w.Activities(l.ID)
	if d := sales.Build(w.Program, l, acts, w.Clock.Now()); !strings.HasPrefix(d.Nurture, "dormant") {
		t.Errorf("the dossier says %q, want it dormant", d.Nurture)
	}
	w.Clock.Advance(60 * 24 * time.Hour)
	if rep, _ := w.Scheduler.Tick(context.Background(), w.Clock.Now()); rep.Sent != 0 || len(w.MailTo(l.Email)) != len(mails) {
		t.Fatalf("a dormant lead was mailed: %+v", rep)
	}

	// A reader's click on an old email, months later, wakes it: the last
	// one with an asset, which the lead no longer lists (it keeps its
	// latest weeks), as SES tags it.
	e := emails[len(emails)-2]
	old := lead.SentStep{Track: e.track, Step: e.step, AssetID: e.asset, At: e.at, MessageID: mails[len(mails)-2].MessageID}
	asset, _ := w.Program.Asset(old.AssetID)
	w.handle(clickEvent(t, l, old, asset, w.Clock.Now()))
	l = w.Lead(l.ID)
	if l.Nurture.Status != lead.NurtureActive || !l.Nurture.Due() || !l.EngagedAt.Equal(w.Clock.Now()) {
		t.Fatalf("after the click: %+v, want nurture going on", l.Nurture)
	}
	l = w.Next(l.ID)
	if got := w.MailTo(l.Email); len(got) != len(mails)+1 {
		t.Fatalf("woken, the lead got %d more emails, want 1", len(got)-len(mails))
	}
	if st := l.Nurture.Sent[len(l.Nurture.Sent)-1]; st.Track == program.ReengageTrack || st.AssetID == "" {
		t.Errorf("the email after waking is %+v, want content", st)
	}
}

// clickEvent is a reader's click at at on the asset of a sent email, as
// SES publishes it through EventBridge.
func clickEvent(t *testing.T, l *lead.Lead, sent lead.SentStep, asset program.Asset, at time.Time) []byte {
	t.Helper()
	r := sesevent.Record{
		EventType: sesevent.EventClick,
		Mail: sesevent.Mail{Timestamp: sent.At, MessageID: sent.MessageID, Destination: []string{l.Email},
			Tags: map[string][]string{"lead": {l.ID}, "track": {sent.Track}, "step": {fmt.Sprint(sent.Step)}, "asset": {sent.AssetID}}},
		Click: &sesevent.Click{Timestamp: at, Link: asset.URL, UserAgent: chrome, IPAddress: "198.51.100.23",
			LinkTags: map[string][]string{"link": {"asset"}, "asset": {asset.ID}}},
	}
	b, err := json.Marshal(map[string]any{"version": "0", "source": "aws.ses", "detail-type": "Email Clicked", "detail": r})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
