package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sesevent"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// logBuffer collects log lines from concurrent writers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// world is the product's parts on a table of its own (testworld), every
// part logging JSON into logs, plus the HTTP handlers of capture and links.
type world struct {
	*testworld.World
	capture *httpapi.Capture
	links   *httpapi.Links
	logs    *logBuffer
}

func newWorld(t *testing.T) *world {
	t.Helper()
	logs := &logBuffer{}
	prog, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	tw := testworld.New(t, testworld.Options{Name: "privacy", Logs: logs, StoreOptions: store.Options{ActivityRetention: prog.ActivityRetention()}})
	return &world{World: tw, logs: logs, capture: tw.App.Capture, links: tw.App.LinkRoutes.Links}
}

// post sends the finops-guide form as a browser would; it must answer 303.
func (w *world) post(email, name string) {
	w.T.Helper()
	form := w.Program.Forms[0]
	v := url.Values{"email": {email}, "name": {name}, "company": {name + " Widgets"}, "consent": {"yes"},
		"website": {""}, "page": {"https://www.acme.example/resources/cloud-bill?utm_source=newsletter"}}
	req := httpapi.Request{
		RouteKey:        "POST /forms/{formId}",
		RawPath:         "/forms/" + form.ID,
		PathParameters:  map[string]string{"formId": form.ID},
		Headers:         map[string]string{"content-type": "application/x-www-form-urlencoded", "accept": "text/html"},
		Body:            base64.StdEncoding.EncodeToString([]byte(v.Encode())),
		IsBase64Encoded: true,
	}
	req.RequestContext.HTTP.Method = http.MethodPost
	req.RequestContext.HTTP.SourceIP = "203.0.113.7"
	req.RequestContext.RequestID = "privacy-test"
	req.RequestContext.TimeEpoch = w.Clock.Now().UnixMilli()
	resp, err := w.capture.Handle(w.T.Context(), req)
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		w.T.Fatalf("form post: %d %v %s", resp.StatusCode, err, resp.Body)
	}
}

func (w *world) lead(id string) (*lead.Lead, bool) {
	w.T.Helper()
	l, found, err := w.Store.GetLead(w.T.Context(), id)
	if err != nil {
		w.T.Fatal(err)
	}
	return l, found
}

// click is SES's Click event for a person's click on the sent asset.
func (w *world) click(l *lead.Lead) {
	w.T.Helper()
	sent := l.Nurture.Sent[0]
	asset, _ := w.Program.Asset(sent.AssetID)
	r := sesevent.Record{
		EventType: sesevent.EventClick,
		Mail: sesevent.Mail{Timestamp: sent.At, MessageID: sent.MessageID, Destination: []string{l.Email},
			Tags: map[string][]string{"lead": {l.ID}, "track": {sent.Track}, "step": {fmt.Sprint(sent.Step)}, "asset": {sent.AssetID}}},
		Click: &sesevent.Click{Timestamp: sent.At.Add(10 * time.Minute), Link: asset.URL, IPAddress: "198.51.100.23",
			UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
			LinkTags:  map[string][]string{"link": {"asset"}, "asset": {asset.ID}}},
	}
	raw, err := json.Marshal(map[string]any{"version": "0", "source": "aws.ses", "detail-type": "Email Clicked", "detail": r})
	if err != nil {
		w.T.Fatal(err)
	}
	if _, err := w.Engagement.HandleEvent(w.T.Context(), raw); err != nil {
		w.T.Fatalf("click: %v", err)
	}
}

// unsubscribe posts the mail's one-click unsubscribe (RFC 8058).
func (w *world) unsubscribe(l *lead.Lead) {
	w.T.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "links", "unsubscribe-one-click.json"))
	if err != nil {
		w.T.Fatal(err)
	}
	var req httpapi.Request
	if err := json.Unmarshal(b, &req); err != nil {
		w.T.Fatal(err)
	}
	sent := l.Nurture.Sent[0]
	tok := w.Signer.Sign(token.Claims{Purpose: token.PurposeUnsubscribe, LeadID: l.ID, Track: sent.Track, Step: sent.Step, Expires: w.Clock.Now().Add(30 * 24 * time.Hour)})
	old := req.PathParameters["token"]
	req.PathParameters["token"] = tok
	req.RawPath = strings.Replace(req.RawPath, old, tok, 1)
	req.RequestContext.HTTP.Path = strings.Replace(req.RequestContext.HTTP.Path, old, tok, 1)
	resp, err := w.links.Handle(w.T.Context(), req)
	if err != nil || resp.StatusCode >= 300 {
		w.T.Fatalf("unsubscribe: %d %v %s", resp.StatusCode, err, resp.Body)
	}
	if got, _ := w.lead(l.ID); got.Mailable() {
		w.T.Fatal("unsubscribe did not suppress the lead")
	}
}

// journey captures a person who confirms the address, sends step 1,
// records a click and an unsubscribe; it returns the lead.
func (w *world) journey(email, name string) *lead.Lead {
	w.T.Helper()
	w.post(email, name)
	id := testenv.LeadID(email)
	w.Confirm(id)
	l := w.Next(id)
	w.Clock.Set(l.Nurture.Sent[0].At.Add(15 * time.Minute))
	w.click(l)
	w.unsubscribe(l)
	l, _ = w.lead(id)
	return l
}

func (w *world) run(cmd, email string, into any) string {
	w.T.Helper()
	var out bytes.Buffer
	if err := run(w.T.Context(), w.Store, testenv.LeadIDs, cmd, email, w.Clock.Now(), &out); err != nil {
		w.T.Fatalf("privacy %s: %v", cmd, err)
	}
	if err := json.Unmarshal(out.Bytes(), into); err != nil {
		w.T.Fatalf("privacy %s printed %q: %v", cmd, out.String(), err)
	}
	return out.String()
}

func kinds(acts []lead.Activity) map[string]int {
	m := map[string]int{}
	for _, a := range acts {
		m[a.Kind]++
	}
	return m
}

func TestPrivacy_exportThenErase_forgetsThePersonAndNeverStoresThemAgain(t *testing.T) {
	w := newWorld(t)
	email := "Zebulon.Quintrell@" + w.Domain
	l := w.journey(email, "Zebulon Quintrell")

	var ex ExportReport
	w.run("export", email, &ex)
	if !ex.Found || ex.Lead == nil || ex.Lead.Email != strings.ToLower(email) || ex.Lead.Name != "Zebulon Quintrell" || ex.Suppressed {
		t.Errorf("export = found %v, lead %+v, suppressed %v; want the lead, not erased", ex.Found, ex.Lead, ex.Suppressed)
	}
	if c := ex.Lead.Consent; c == nil || c.Confirmed == nil || c.Confirmed.Text != w.Program.Forms[0].Consent.Text || c.Confirmed.At.IsZero() {
		t.Errorf("export consent = %+v; want the confirmation of the address (double opt-in) in its evidence", c)
	}
	k := kinds(ex.Activities)
	if k[lead.KindDownload] != 1 || k[lead.KindConfirm] != 1 || len(ex.Activities) < 3 {
		t.Errorf("export activities by kind = %v; want the download, the confirmation, the send, the click, the unsubscribe", k)
	}
	if sent := ex.Lead.Nurture.Sent; len(sent) != 1 || sent[0].AssetID != l.Nurture.Sent[0].AssetID {
		t.Errorf("export nurture = %+v; want step 1 listed as sent", ex.Lead.Nurture)
	}

	var er EraseReport
	printed := w.run("erase", email, &er)
	if !er.Found || er.Profile != 1 || er.Activities != len(ex.Activities) || er.Events != ex.Events || ex.Events == 0 || er.Deleted != 1+len(ex.Activities)+ex.Events || !er.Suppressed {
		t.Errorf("erase = %+v; want every item counted and the address suppressed", er)
	}
	for _, s := range []string{"zebulon", "quintrell"} {
		if strings.Contains(strings.ToLower(printed), s) {
			t.Errorf("erase printed personal data %q: %s", s, printed)
		}
	}
	after, err := w.Store.Export(t.Context(), l.ID)
	if err != nil || after.Lead != nil || len(after.Activities) != 0 {
		t.Errorf("after erase the store holds %+v (%v); want nothing", after, err)
	}

	// The person fills in a form again: they get the asset, we store nothing.
	w.Clock.Set(w.Clock.Now().Add(24 * time.Hour))
	w.post(email, "Zebulon Quintrell")
	if _, found := w.lead(l.ID); found {
		t.Error("a form post after erasure stored the lead again")
	}
	if ex, err := w.Store.Export(t.Context(), l.ID); err != nil || len(ex.Activities) != 0 {
		t.Errorf("a form post after erasure stored activities: %+v %v", ex.Activities, err)
	}

	var again EraseReport
	w.run("erase", email, &again)
	if again.Found || again.Deleted != 0 || !again.Suppressed {
		t.Errorf("second erase = %+v; want nothing deleted, still suppressed", again)
	}
}

// TestLogs_neverCarryTheAddressOrName runs one person through the product
// with every part logging JSON, and looks for them in the logs.
func TestLogs_neverCarryTheAddressOrName(t *testing.T) {
	w := newWorld(t)
	email := "Xanthippe.Vorobyeva@" + w.Domain
	l := w.journey(email, "Xanthippe Vorobyeva")
	if len(l.Nurture.Sent) != 1 || l.Suppression == nil {
		t.Fatalf("journey incomplete: %+v", l)
	}
	logs := w.logs.String()
	if strings.Count(logs, "\n") < 4 || !strings.Contains(logs, l.ID) {
		t.Fatalf("too few log lines to mean anything:\n%s", logs)
	}
	for _, s := range []string{email, "xanthippe.vorobyeva", "Xanthippe", "Vorobyeva"} {
		if strings.Contains(strings.ToLower(logs), strings.ToLower(s)) {
			t.Errorf("the logs carry %q:\n%s", s, logs)
		}
	}
	// Nor anything a guess of the address could be checked against: the
	// lead id on every line is keyed, not a plain hash of the address.
	for _, h := range unkeyedHashes(strings.ToLower(email)) {
		if strings.Contains(logs, h) {
			t.Errorf("the logs carry an unkeyed hash of the address (%s):\n%s", h, logs)
		}
	}
}

// unkeyedHashes are the plain hashes of an address anyone could compute
// for a guess: SHA-256 in hex and in the lead id's base32 shape, with and
// without the "lead:" prefix unkeyed lead ids were made with.
func unkeyedHashes(email string) []string {
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	var out []string
	for _, in := range []string{email, "lead:" + email} {
		sum := sha256.Sum256([]byte(in))
		out = append(out, hex.EncodeToString(sum[:])[:16], strings.ToLower(enc.EncodeToString(sum[:15]))[:16])
	}
	return out
}
