package sestrack_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html"
	"image/gif"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/local/sestrack"
	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/mail/ses"
	"github.com/leadnurture/nurture/shared/sesevent"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// readerAgent is a reader's browser; Go's own user agent is a scanner's.
const readerAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"

// published is one event the Tracker handed to Publish.
type published struct {
	Version    string          `json:"version"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Region     string          `json:"region"`
	Time       string          `json:"time"`
	Detail     sesevent.Record `json:"detail"`
}

// world is the local stack in small (testworld), with the scheduler
// sending through the Tracker and the engagement handler taking the
// Tracker's events.
type world struct {
	*testworld.World
	tracker *sestrack.Tracker
	api     *httptest.Server

	mu     sync.Mutex
	events []published
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{World: testworld.New(t, testworld.Options{Name: "sestrack"})}
	w.tracker = &sestrack.Tracker{
		Mailer:           w.SES,
		ConfigurationSet: "nurture-test",
		Clock:            w.Clock,
		Log:              w.Log,
		Publish: func(ctx context.Context, raw json.RawMessage) error {
			var ev published
			if err := json.Unmarshal(raw, &ev); err != nil {
				t.Errorf("published event is not JSON: %v\n%s", err, raw)
			}
			w.mu.Lock()
			w.events = append(w.events, ev)
			w.mu.Unlock()
			_, err := w.Engagement.HandleEvent(ctx, raw)
			return err
		},
	}
	w.api = httptest.NewServer(w.tracker.Handler())
	t.Cleanup(w.api.Close)
	w.tracker.BaseURL = w.api.URL
	w.Scheduler.Mailer = w.tracker
	return w
}

// mailTo is the one nurture email SES local holds for l (its
// confirmation email aside).
func (w *world) mailTo(l *lead.Lead) localstack.SentEmail {
	w.T.Helper()
	found := w.NurtureMailTo(l.Email)
	if len(found) != 1 {
		w.T.Fatalf("%d emails to %s in SES local, want 1", len(found), l.Email)
	}
	return found[0]
}

// published are the events published about nurture mail (those of the
// lead's confirmation email aside).
func (w *world) published() []published {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []published
	for _, ev := range w.events {
		if !slices.Contains(ev.Detail.Mail.Tags[mail.TagKind], mail.KindConfirm) {
			out = append(out, ev)
		}
	}
	return out
}

var hrefRE = regexp.MustCompile(`href="([^"]*)"`)

// hrefs are the links of an HTML body, unescaped, in document order.
func hrefs(body string) []string {
	var out []string
	for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// clickURLs are the tracked links of the mail: the asset button first, the
// hidden honeypot last.
func (w *world) clickURLs(m localstack.SentEmail) []string {
	var out []string
	for _, h := range hrefs(m.HTML) {
		if strings.HasPrefix(h, w.api.URL+sestrack.ClickPath+"?") {
			out = append(out, h)
		}
	}
	return out
}

// get fetches u as a reader's browser would, without following redirects.
func get(t *testing.T, u string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("User-Agent", readerAgent)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestTracker_nurtureEmail_tracksLinksAndPublishesSendAndDelivery(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("ada", nil)
	m := w.mailTo(l)
	sent := l.Nurture.Sent[0]
	asset, _ := w.Program.Asset(sent.AssetID)

	// SES local holds the HTML as SES would deliver it.
	clicks := w.clickURLs(m)
	if len(clicks) != 2 {
		t.Fatalf("want the asset button and the honeypot tracked, got %q in\n%s", clicks, m.HTML)
	}
	for _, c := range clicks {
		u, _ := url.Parse(c)
		if q := u.Query(); len(q) != 2 || q.Get("r") == "" || q.Get("n") == "" {
			t.Errorf("a tracked link carries only the reference and the index: %s", c)
		}
		if strings.Contains(c, l.ID) || strings.Contains(strings.ToLower(c), strings.ToLower(l.Email)) {
			t.Errorf("a tracked link names the lead: %s", c)
		}
	}
	var unsub, answers, ratings, prefs int
	for _, h := range hrefs(m.HTML) {
		switch {
		case strings.HasPrefix(h, "https://api.acme.example/u/"):
			unsub++
		case strings.HasPrefix(h, "https://api.acme.example/a/"):
			answers++
		case strings.HasPrefix(h, "https://api.acme.example/r/"):
			ratings++
		case strings.HasPrefix(h, "https://api.acme.example/p/"):
			prefs++
		case strings.HasPrefix(h, w.api.URL+sestrack.ClickPath+"?"):
		default:
			t.Errorf("an untracked link that is none of ours: %s", h)
		}
	}
	if unsub != 1 || answers == 0 || ratings != 2 || prefs != 1 {
		t.Errorf("the unsubscribe (%d), answer (%d), rating (%d) and preferences (%d) links must stay as they are", unsub, answers, ratings, prefs)
	}
	if strings.Contains(m.HTML, "ses:tags") || strings.Contains(m.HTML, `href="`+asset.URL) {
		t.Errorf("SES removes ses:tags and no asset link stays untracked:\n%s", m.HTML)
	}
	pixel := strings.Index(m.HTML, `<img src="`+w.api.URL+sestrack.OpenPath+"?r=")
	if pixel < 0 || pixel > strings.LastIndex(m.HTML, "</body>") {
		t.Errorf("no open pixel before </body>:\n%s", m.HTML)
	}
	if !strings.Contains(m.Text, asset.URL+"?") || strings.Contains(m.Text, "/_local/") {
		t.Errorf("the plain-text part is sent as it was rendered:\n%s", m.Text)
	}

	// Send and Delivery went to the engagement handler.
	evs := w.published()
	if len(evs) != 2 || evs[0].DetailType != "Email Sent" || evs[1].DetailType != "Email Delivered" {
		t.Fatalf("published %+v, want Email Sent and Email Delivered", evs)
	}
	for _, ev := range evs {
		r := ev.Detail
		if ev.Version != "0" || ev.Source != "aws.ses" || ev.Region != "local" || ev.Time == "" {
			t.Errorf("envelope %+v", ev)
		}
		if r.Mail.MessageID != m.MessageID || r.Mail.MessageID != sent.MessageID || !r.Mail.Timestamp.Equal(sent.At) ||
			len(r.Mail.Destination) != 1 || r.Mail.Destination[0] != l.Email || r.Mail.Source != w.Program.Sender.From {
			t.Errorf("%s mail = %+v, want message %s sent at %s to %s", r.EventType, r.Mail, sent.MessageID, sent.At, l.Email)
		}
		if r.Tag(mail.TagLead) != l.ID || r.Tag(mail.TagAsset) != sent.AssetID || r.Tag(mail.TagKind) != mail.KindNurture || r.Tag("ses:configuration-set") != "nurture-test" {
			t.Errorf("%s tags = %v", r.EventType, r.Mail.Tags)
		}
	}
	if d := evs[1].Detail.Delivery; d == nil || d.SMTPResponse != "250 2.0.0 OK" || len(d.Recipients) != 1 || d.Recipients[0] != l.Email || !d.Timestamp.Equal(w.Clock.Now()) {
		t.Errorf("delivery = %+v", d)
	}
	got := w.Lead(l.ID)
	var delivered []lead.Activity
	for _, a := range w.ActivitiesOf(l.ID, lead.KindDelivered) {
		if a.MessageID == sent.MessageID {
			delivered = append(delivered, a)
		}
	}
	if !got.Nurture.Sent[0].DeliveredAt.Equal(w.Clock.Now()) || len(delivered) != 1 {
		t.Errorf("the delivery is not on the lead: %+v", got.Nurture.Sent[0])
	}
}

func TestTracker_clicks_recordedAndRedirected_honeypotIsAMachine(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("grace", nil)
	sent := l.Nurture.Sent[0]
	asset, _ := w.Program.Asset(sent.AssetID)
	m := w.mailTo(l)
	clicks := w.clickURLs(m)
	if len(clicks) != 2 {
		t.Fatalf("tracked links %q", clicks)
	}

	// A reader clicks a minute after delivery: past the bot window.
	w.Clock.Advance(time.Minute)
	resp := get(t, clicks[0])
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, asset.URL+"?") || !strings.Contains(m.Text, loc) {
		t.Fatalf("asset click: %d to %q, want 302 to the asset URL in the mail (%s)", resp.StatusCode, loc, asset.URL)
	}
	if u, _ := url.Parse(loc); u.Query().Get("utm_source") != "nurture" || u.Query().Get("utm_content") != "step-1" {
		t.Errorf("the redirect lost the campaign parameters: %s", loc)
	}
	cs := w.ActivitiesOf(l.ID, lead.KindClick)
	if len(cs) != 1 || cs[0].Machine || cs[0].AssetID != sent.AssetID || cs[0].Link != loc || cs[0].MessageID != sent.MessageID || !cs[0].At.Equal(w.Clock.Now()) {
		t.Fatalf("a reader's click on the asset: %+v", cs)
	}
	ev := w.published()[2]
	if c := ev.Detail.Click; ev.DetailType != "Email Clicked" || c == nil || c.UserAgent != readerAgent || c.IPAddress != "127.0.0.1" ||
		c.Link != loc || len(c.LinkTags[mail.TagLink]) != 1 || c.LinkTags[mail.TagLink][0] != mail.LinkAsset || c.LinkTags[mail.TagAsset][0] != sent.AssetID {
		t.Errorf("click event %+v %+v", ev, ev.Detail.Click)
	}

	// The hidden link goes to the same page, but only a scanner finds it.
	w.Clock.Advance(5 * time.Second)
	resp = get(t, clicks[1])
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != loc {
		t.Fatalf("honeypot click: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cs = w.ActivitiesOf(l.ID, lead.KindClick)
	var machine []lead.Activity
	for _, c := range cs {
		if c.Machine {
			machine = append(machine, c)
		}
	}
	if len(cs) != 2 || len(machine) != 1 || !strings.Contains(machine[0].MachineReason, "honeypot") {
		t.Fatalf("the honeypot click should be a machine's: %+v", cs)
	}

	// Links that were never sent.
	ref := mustQuery(t, clicks[0]).Get("r")
	for _, u := range []string{
		w.api.URL + sestrack.ClickPath + "?r=unknown&n=0",
		w.api.URL + sestrack.ClickPath + "?r=" + ref + "&n=2",
		w.api.URL + sestrack.ClickPath + "?r=" + ref + "&n=-1",
		w.api.URL + sestrack.ClickPath + "?r=" + ref,
	} {
		if resp := get(t, u); resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
			t.Errorf("GET %s: %d, want 404", u, resp.StatusCode)
		}
	}
	if n := len(w.ActivitiesOf(l.ID, lead.KindClick)); n != 2 {
		t.Errorf("unknown links recorded clicks: %d", n)
	}
}

func TestTracker_pixel_recordsOpen(t *testing.T) {
	w := newWorld(t)
	l := w.Nurtured("hopper", nil)
	m := w.mailTo(l)
	var pixel string
	if i := strings.Index(m.HTML, `<img src="`); i >= 0 {
		pixel = html.UnescapeString(strings.SplitN(m.HTML[i+len(`<img src="`):], `"`, 2)[0])
	}
	if !strings.HasPrefix(pixel, w.api.URL+sestrack.OpenPath+"?r=") {
		t.Fatalf("no open pixel in\n%s", m.HTML)
	}

	w.Clock.Advance(2 * time.Minute)
	resp := get(t, pixel)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/gif" || !strings.Contains(resp.Header.Get("Cache-Control"), "no-store") {
		t.Fatalf("pixel: %d %v", resp.StatusCode, resp.Header)
	}
	img, err := gif.Decode(bytes.NewReader(body))
	if err != nil || img.Bounds().Dx() != 1 || img.Bounds().Dy() != 1 {
		t.Fatalf("the pixel is not a 1×1 GIF: %v", err)
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Errorf("the pixel is not transparent")
	}
	opens := w.ActivitiesOf(l.ID, lead.KindOpen)
	if len(opens) != 1 || opens[0].Machine || opens[0].MessageID != l.Nurture.Sent[0].MessageID || !opens[0].At.Equal(w.Clock.Now()) {
		t.Fatalf("a reader's open: %+v", opens)
	}
	if !w.Lead(l.ID).Nurture.Sent[0].Opened {
		t.Error("the step is not marked opened")
	}

	// An unknown pixel still answers an image, and records nothing.
	before := len(w.published())
	resp = get(t, w.api.URL+sestrack.OpenPath+"?r=unknown")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/gif" || len(w.published()) != before {
		t.Errorf("unknown pixel: %d, %d events", resp.StatusCode, len(w.published())-before)
	}
}

func TestTracker_publishFails_mailStillSent(t *testing.T) {
	var logged bytes.Buffer
	tr := &sestrack.Tracker{
		Mailer:  ses.New(testenv.SES(t), "nurture-test"),
		BaseURL: "http://localhost:3000",
		Publish: func(context.Context, json.RawMessage) error { return errors.New("engagement is down") },
		Log:     slog.New(slog.NewTextHandler(&logged, nil)),
	}
	to := "publish@" + testenv.UniqueName("sestrack") + ".example"
	id, err := tr.Send(context.Background(), mail.Message{
		From: "Acme <news@acme.example>", To: to, Subject: "Hello",
		HTML: `<p><a href="https://acme.example/page">Read</a></p>`, Text: "Read https://acme.example/page",
	})
	if err != nil || id == "" {
		t.Fatalf("Send = %q, %v; a failed publish must not fail the send", id, err)
	}
	if !strings.Contains(logged.String(), "publish ses event") || !strings.Contains(logged.String(), "engagement is down") {
		t.Errorf("the failed publish is not logged:\n%s", logged.String())
	}
	var found bool
	for _, m := range testenv.SentMail(t) {
		if len(m.To) == 1 && m.To[0] == to {
			found = m.MessageID == id && strings.Contains(m.HTML, `href="http://localhost:3000/_local/click?r=`) && m.Text == "Read https://acme.example/page"
		}
	}
	if !found {
		t.Error("the tracked mail is not in SES local")
	}
}

// failingMailer is SES refusing every message.
type failingMailer struct{ err error }

func (f failingMailer) Send(context.Context, mail.Message) (string, error) { return "", f.err }

func TestTracker_sendFails_returnsTheErrorAndPublishesNothing(t *testing.T) {
	var calls int
	tr := &sestrack.Tracker{
		Mailer:  failingMailer{err: mail.ErrThrottled},
		BaseURL: "http://localhost:3000",
		Publish: func(context.Context, json.RawMessage) error { calls++; return nil },
	}
	_, err := tr.Send(context.Background(), mail.Message{To: "a@x.example", HTML: `<a href="https://x.example/">x</a>`})
	if !errors.Is(err, mail.ErrThrottled) || calls != 0 {
		t.Fatalf("Send = %v with %d events; want the mailer's error and no events", err, calls)
	}
}

func mustQuery(t *testing.T, raw string) url.Values {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}
