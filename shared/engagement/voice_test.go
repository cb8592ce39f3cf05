package engagement_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// linkIn returns the URL the latest email to addr gives for label in its
// text part ("Not really: https://…"), failing the test without one.
func (w *world) linkIn(addr, label string) string {
	w.T.Helper()
	mail := w.MailTo(addr)
	if len(mail) == 0 {
		w.T.Fatalf("no mail to %s", addr)
	}
	text := mail[len(mail)-1].Text
	m := regexp.MustCompile(`(?m)` + regexp.QuoteMeta(label) + `: (` + regexp.QuoteMeta(testworld.BaseURL) + `/\S+)$`).FindStringSubmatch(text)
	if m == nil {
		w.T.Fatalf("the latest email to %s has no %q link:\n%s", addr, label, text)
	}
	return m[1]
}

// confirm opens a link and presses its page's button, as a reader does;
// the GET must change nothing.
func (w *world) confirm(id, rawURL string, form url.Values) string {
	w.T.Helper()
	before, acts := w.Lead(id).Version, len(w.Activities(id))
	if page := w.Open(http.MethodGet, rawURL, nil); page.StatusCode != http.StatusOK {
		w.T.Fatalf("GET %s: %d\n%s", rawURL, page.StatusCode, page.Body)
	}
	if w.Lead(id).Version != before || len(w.Activities(id)) != acts {
		w.T.Fatalf("opening %s changed the lead: a scanner's GET would have answered for the reader", rawURL)
	}
	resp := w.Open(http.MethodPost, rawURL, form)
	if resp.StatusCode != http.StatusOK {
		w.T.Fatalf("POST %s: %d\n%s", rawURL, resp.StatusCode, resp.Body)
	}
	return resp.Body
}

// untilAsked nurtures a cloud-cost reader until an email asks what would
// help, and returns the lead then.
func (w *world) untilAsked(local string) *lead.Lead {
	w.T.Helper()
	l := w.Nurtured(local, map[string]string{"name": "Ada Lovelace"})
	for range 8 {
		if mail := w.MailTo(l.Email); strings.Contains(mail[len(mail)-1].Text, w.Program.AskText()) {
			if l.Nurture.Track != "cloud-cost-track" {
				w.T.Fatalf("asked in %s, want the cloud-cost track", l.Nurture.Track)
			}
			return l
		}
		l = w.Next(l.ID)
	}
	w.T.Fatal("no email asked what would help")
	return nil
}

// inEvergreen captures a reliability reader who had the reliability track
// and is in the evergreen cadence, its first evergreen email due now.
func (w *world) inEvergreen(local string) string {
	w.T.Helper()
	out, err := w.Capturer().Capture(context.Background(), lead.Submission{
		FormID: "downtime-report", Fields: map[string]string{"email": w.Email(local), "company": "Example Ltd"}, Consent: true, ReceivedAt: w.Clock.Now(),
	})
	if err != nil {
		w.T.Fatal(err)
	}
	w.Confirm(out.LeadID)
	if _, err := w.Store.UpdateLead(context.Background(), out.LeadID, func(l *lead.Lead, _ bool) error {
		l.Nurture.MoveOn(program.EvergreenTrack, w.Clock.Now())
		return nil
	}); err != nil {
		w.T.Fatal(err)
	}
	return out.LeadID
}

// Two readers in the evergreen cadence get the same whitepaper first. One
// says nothing about it, the other "not really": the first gets the
// library's other whitepaper within four emails, the second gets other
// formats and stages first. (Both say "yes" to the emails after, which
// keeps them engaged.) Every email carries both answers and the preference link;
// each rating is an activity naming the asset, its format and its stage.
func TestVoice_notUsefulOnAWhitepaper_whitepapersComeLater(t *testing.T) {
	// Each reader in a world of its own: a tick mails every lead due.
	journey := func(firstAnswer string) ([]string, *world, string) {
		w := newWorld(t)
		id := w.inEvergreen("reader")
		var got []string
		for i := range 5 {
			l := w.Next(id)
			st := l.Nurture.Sent[len(l.Nurture.Sent)-1]
			if st.Track != program.EvergreenTrack || l.Nurture.Emails != i+1 {
				t.Fatalf("email %d is %s (%d emails), want evergreen", i+1, st.Track, l.Nurture.Emails)
			}
			asset, _ := w.Program.Asset(st.AssetID)
			got = append(got, asset.ID+" ("+asset.Format+")")
			w.linkIn(l.Email, "Choose topics and how often")
			answer := "Yes"
			if i == 0 {
				answer = firstAnswer
			}
			// A reader answers a few days later.
			w.Clock.Advance(72 * time.Hour)
			if answer == "" {
				continue
			}
			page := w.confirm(id, w.linkIn(l.Email, "- "+answer), url.Values{})
			if answer == "Not really" && !strings.Contains(page, "fewer whitepapers") {
				t.Errorf("the thanks page should say what changes:\n%s", page)
			}
		}
		return got, w, id
	}
	likes, _, _ := journey("")
	dislikes, w, id := journey("Not really")
	if likes[0] != "cost-of-nines-whitepaper (whitepaper)" || dislikes[0] != likes[0] {
		t.Fatalf("first evergreen emails: %v / %v, want the newest whitepaper for both", likes[0], dislikes[0])
	}
	if !strings.Contains(strings.Join(likes[1:], " "), "(whitepaper)") {
		t.Errorf("the reader who said nothing gets the other whitepaper within four emails: %v", likes)
	}
	if strings.Contains(strings.Join(dislikes[1:], " "), "(whitepaper)") {
		t.Errorf("the reader who found a whitepaper not useful got another one next: %v", dislikes)
	}

	ratings := w.ActivitiesOf(id, lead.KindRating)
	if len(ratings) != 5 {
		t.Fatalf("%d ratings recorded, want one per email", len(ratings))
	}
	if r := ratings[0]; r.Detail != lead.RatedNotUseful || r.AssetID != "cost-of-nines-whitepaper" || r.Format != "whitepaper" || r.Stage != "consideration" || r.Track != program.EvergreenTrack {
		t.Errorf("the first rating is %+v, want not useful, naming the whitepaper, its format and stage", r)
	}
}

// One rating an email: the first stands, whatever is clicked later.
func TestVoice_ratingTwice_theFirstStands(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("twice", nil)
	no, yes := w.linkIn(l.Email, "- Not really"), w.linkIn(l.Email, "- Yes")
	w.confirm(l.ID, no, url.Values{})
	before := w.Lead(l.ID)
	if page := w.confirm(l.ID, yes, url.Values{}); !strings.Contains(page, "You told us already") || !strings.Contains(page, "not really useful") {
		t.Errorf("the other answer later says which one stands:\n%s", page)
	}
	w.Open(http.MethodPost, no, url.Values{})
	if after := w.Lead(l.ID); after.Version != before.Version {
		t.Errorf("a second rating of the email changed the lead (version %d to %d)", before.Version, after.Version)
	}
	if r := w.ActivitiesOf(l.ID, lead.KindRating); len(r) != 1 || r[0].Detail != lead.RatedNotUseful {
		t.Errorf("ratings %+v, want the first one only", r)
	}
}

// "What would help you most next?" comes in a cloud-cost email (the first
// from the third on without a profiling question). The reader
// picks reliability and writes a few words: the next email is the
// reliability track's first, and the words are kept once, cleaned.
func TestVoice_whatWouldHelp_topicsTrackNext_wordsKeptOnce(t *testing.T) {
	w := newWorld(t)
	l := w.untilAsked("wish")
	label := w.Program.TopicLabel("reliability")
	help := w.linkIn(l.Email, "- "+label)
	words := "We move to <b>multi-region</b>\r\nnext quarter & need\u202e a failover plan."
	page := w.confirm(l.ID, help, url.Values{"words": {words}})
	kept := "We move to <b>multi-region</b> next quarter & need a failover plan."
	if !strings.Contains(page, "We move to &lt;b&gt;multi-region&lt;/b&gt; next quarter &amp; need a failover plan.") || strings.Contains(page, "<b>") {
		t.Errorf("the thanks page should show the words back, escaped:\n%s", page)
	}
	w.Open(http.MethodPost, help, url.Values{"words": {"Something else entirely"}})
	wishes := w.ActivitiesOf(l.ID, lead.KindWish)
	if len(wishes) != 1 || wishes[0].Detail != "reliability" || wishes[0].Words != kept {
		t.Fatalf("wishes %+v, want one: reliability with the words cleaned", wishes)
	}

	l = w.Next(l.ID)
	if st := l.Nurture.Sent[len(l.Nurture.Sent)-1]; st.Track != "reliability-track" || st.Step != 0 {
		t.Errorf("the email after the wish is %s step %d, want the reliability track's first", st.Track, st.Step)
	}
}

// The preference page shows the lead's topics and cadence; saving "less
// often" with one topic doubles the wait before the next email and mutes
// the other topic.
func TestVoice_preferences_lessOftenHalvesTheCadence(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("prefs", nil)
	prefs := w.linkIn(l.Email, "Choose topics and how often")
	page := w.Open(http.MethodGet, prefs, nil)
	for _, want := range []string{`name="topic:cloud-cost" value="yes" checked`, `name="topic:reliability" value="yes" checked`, `name="cadence" value="usual" checked`, "Unsubscribe from all emails"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the preference page lacks %q:\n%s", want, page.Body)
		}
	}
	first := l.Nurture.Sent[0].At
	w.confirm(l.ID, prefs, url.Values{"topic:cloud-cost": {"yes"}, "cadence": {"less"}})
	got := w.Lead(l.ID)
	if !got.Voice.LessOften || !got.Muted("reliability") || got.Muted("cloud-cost") {
		t.Fatalf("saved voice %+v", got.Voice)
	}
	track, _ := w.Program.Track("cloud-cost-track")
	if gap := got.Nurture.DueAt.Sub(first); gap < 2*track.Steps[1].Wait.Duration {
		t.Errorf("the next email is due %v after the first, want at least twice the step's %v", gap, track.Steps[1].Wait.Duration)
	}
	if p := w.ActivitiesOf(l.ID, lead.KindPreferences); len(p) != 1 || !strings.Contains(p[0].Detail, "less often") {
		t.Errorf("preference activities %+v", p)
	}
	if page := w.Open(http.MethodGet, prefs, nil); !strings.Contains(page.Body, `name="cadence" value="less" checked`) || strings.Contains(page.Body, `name="topic:reliability" value="yes" checked`) {
		t.Errorf("the page shows what was saved:\n%s", page.Body)
	}
}

// What a reader writes reaches sales as written: in the alert (escaped in
// its HTML, verbatim in its text part) and on the dossier page (escaped),
// under "In their own words".
func TestVoice_wordsReachTheAlertAndTheDossier_escaped(t *testing.T) {
	w := newWorld(t)
	l := w.untilAsked("words")
	words := `Our CFO asks: <script>alert("x")</script> & can we cut 20%?`
	w.confirm(l.ID, w.linkIn(l.Email, "- "+w.Program.TopicLabel("cloud-cost")), url.Values{"words": {"\u202e" + words}})

	w.atThresholdMinusOne(l)
	if err := w.Engagement.Answer(context.Background(), l.ID, l.Nurture.Track, l.Nurture.NextStep-1, "timeline", "now", w.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	w.Drain()
	alerts := w.alertsFor(l)
	if len(alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(alerts))
	}
	a := alerts[0]
	escaped := `Our CFO asks: &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; can we cut 20%?`
	if !strings.Contains(a.HTML, "In their own words") || !strings.Contains(a.HTML, escaped) || strings.Contains(a.HTML, "<script>") {
		t.Errorf("the alert's HTML should quote the words, escaped:\n%s", a.HTML)
	}
	if !strings.Contains(a.Text, "IN THEIR OWN WORDS\n“"+words+"”") || strings.Contains(a.Text, "\u202e") {
		t.Errorf("the alert's text part should quote the words as written:\n%s", a.Text)
	}
	if !strings.Contains(a.Text, "Told us what would help next: "+w.Program.TopicLabel("cloud-cost")) {
		t.Errorf("the alert's timeline should name the wish:\n%s", a.Text)
	}

	dossier := regexp.MustCompile(`Open the dossier: (\S+)`).FindStringSubmatch(a.Text)
	if dossier == nil {
		t.Fatalf("no dossier link in the alert:\n%s", a.Text)
	}
	page := w.Open(http.MethodGet, dossier[1], nil)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Body, "In their own words") || !strings.Contains(page.Body, escaped) || strings.Contains(page.Body, "<script>") {
		t.Errorf("the dossier page should quote the words, escaped (%d):\n%s", page.StatusCode, page.Body)
	}
}
