package crm_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/crm"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/token"
)

func TestMain(m *testing.M) { testenv.Main(m) }

const secret = "whsec_test_0123456789abcdefghijklmnop"

// received is one request the CRM's test receiver got.
type received struct {
	id, typ string
	event   crm.Event
	status  int   // what the receiver answered
	checked error // the signature check
}

// receiver is a CRM's webhook: it checks every request's signature (the
// snippets of docs/crm.md do the same, docs_test.go), and answers the
// statuses it is given in turn, then 200, or never answers while hang is
// set.
type receiver struct {
	t        *testing.T
	srv      *httptest.Server
	now      func() time.Time
	mu       sync.Mutex
	statuses []int
	header   http.Header // sent with the scripted statuses (Retry-After)
	got      []received
	hang     chan struct{}
}

func newReceiver(t *testing.T, hang bool, statuses ...int) *receiver {
	r := &receiver{t: t, statuses: statuses, header: http.Header{}}
	if hang {
		r.hang = make(chan struct{})
	}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		if r.hang != nil {
			close(r.hang)
		}
		r.srv.Close()
	})
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	got := received{id: req.Header.Get("Nurture-Event-Id"), typ: req.Header.Get("Nurture-Event-Type"), status: http.StatusOK}
	got.checked = crm.Verify(req.Header.Get("Nurture-Signature"), body, secret, r.now(), crm.DefaultTolerance)
	if err := json.Unmarshal(body, &got.event); err != nil {
		r.t.Errorf("the body is no event: %v\n%s", err, body)
	}
	validate(r.t, body)
	if r.hang != nil {
		r.mu.Lock()
		r.got = append(r.got, got)
		r.mu.Unlock()
		select {
		case <-r.hang:
		case <-req.Context().Done():
		}
		return
	}
	r.mu.Lock()
	if len(r.statuses) > 0 {
		got.status, r.statuses = r.statuses[0], r.statuses[1:]
		for k, v := range r.header {
			w.Header()[k] = v
		}
	}
	r.got = append(r.got, got)
	r.mu.Unlock()
	w.WriteHeader(got.status)
}

// delivered are the events the receiver took (answered 2xx), in order.
func (r *receiver) delivered() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []received
	for _, g := range r.got {
		if g.status < 300 {
			out = append(out, g)
		}
	}
	return out
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// schema is the payload's JSON Schema, events/crm/schema.v1.json.
var schema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	return jsonschema.NewCompiler().Compile(filepath.Join("..", "..", "events", "crm", "schema.v1.json"))
})

func validate(t *testing.T, body []byte) {
	t.Helper()
	s, err := schema()
	if err != nil {
		t.Fatalf("compile the schema: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	if err := s.Validate(doc); err != nil {
		t.Errorf("a payload the schema refuses: %v\n%s", err, body)
	}
}

type world struct {
	*testworld.World
	crm *receiver
}

// newWorld is the product with a CRM receiver, as the events function
// delivers to it (one try of at most 300 ms per flush).
func newWorld(t *testing.T, r *receiver) *world {
	rc := &crm.Receiver{URL: r.srv.URL, Secrets: []string{secret}, Timeout: 300 * time.Millisecond}
	w := &world{testworld.New(t, testworld.Options{Name: "crm", Events: rc}), r}
	rc.Clock = w.Clock // signed at the world's time, checked against it
	r.now = w.Clock.Now
	return w
}

// capture posts the first form through the capture handler, as API
// Gateway hands a browser's post over, and the person confirms the address.
func (w *world) capture(local string) string {
	w.T.Helper()
	form := w.Program.Forms[0]
	v := url.Values{"email": {w.Email(local)}, "name": {"Grace Hopper"}, "company": {"Compilers Ltd"}, "consent": {"yes"},
		"utm_source": {"newsletter"}, "utm_campaign": {"q4-cloud"}}
	res, err := w.App.Capture.Handle(context.Background(), testworld.FormPost(form.ID, v, w.Clock.Now()))
	if err != nil || res.StatusCode != http.StatusSeeOther {
		w.T.Fatalf("form post: %d %v (%s)", res.StatusCode, err, res.Body)
	}
	id := testenv.LeadID(w.Email(local))
	w.Confirm(id)
	return id
}

// cross has the lead, one below the first threshold, post the second form:
// its download crosses.
func (w *world) cross(id string) {
	w.T.Helper()
	w.OneBelowTheThreshold(id)
	l := w.Lead(id)
	form := w.Program.Forms[1]
	res, err := w.App.Capture.Handle(context.Background(), testworld.FormPost(form.ID, url.Values{"email": {l.Email}, "name": {"Grace Hopper"}, "company": {"Compilers Ltd"}, "consent": {"yes"}}, w.Clock.Now()))
	if err != nil || res.StatusCode >= 400 {
		w.T.Fatalf("form post: %d %v (%s)", res.StatusCode, err, res.Body)
	}
	if len(w.Lead(id).PendingAlerts) != 1 {
		w.T.Fatalf("the form post should cross the threshold")
	}
}

// link posts a sample of events/links with a fresh token through the links
// function; form, if given, replaces the sample's body.
func (w *world) link(sample, purpose, id, ref string, form ...url.Values) httpapi.Response {
	w.T.Helper()
	tok := w.Signer.Sign(token.Claims{Purpose: purpose, LeadID: id, Track: "cloud-cost", Step: 1, Ref: ref, Expires: w.Clock.Now().Add(24 * time.Hour)})
	req := testworld.LinkEvent(w.T, sample, tok)
	if len(form) > 0 {
		req.Body, req.IsBase64Encoded = form[0].Encode(), false
	}
	res, err := w.App.LinkRoutes.Handle(context.Background(), req)
	if err != nil {
		w.T.Fatalf("%s: %v", sample, err)
	}
	return res
}

// retryUntilDelivered retries until nothing is pending (at most tries
// times).
func (w *world) retryUntilDelivered(id string, tries int) {
	w.T.Helper()
	w.retry(id, tries)
	if l := w.Lead(id); len(l.PendingEvents) > 0 {
		w.T.Fatalf("still pending after %d tries: %+v", tries, l.PendingEvents)
	}
}

// retry moves the clock to each retry of the lead's next event and ticks,
// as the scheduler does every few minutes, at most tries times.
func (w *world) retry(id string, tries int) {
	w.T.Helper()
	for range tries {
		e, ok := w.Lead(id).NextEvent()
		if !ok {
			return
		}
		w.Clock.Set(e.SendAt())
		if _, err := w.Scheduler.Tick(context.Background(), w.Clock.Now()); err != nil {
			w.T.Fatal(err)
		}
		w.Drain()
	}
}

func types(got []received) []string {
	var out []string
	for _, g := range got {
		out = append(out, g.typ)
	}
	return out
}

func TestReceiverDownForAWhile_eachEventArrivesOnce_inOrder_signed(t *testing.T) {
	r := newReceiver(t, false, 503, 503, 503, 503)
	w := newWorld(t, r)
	id := w.capture("grace")
	w.cross(id)
	if res := w.link("sales-accept.json", token.PurposeAccept, id, w.Lead(id).PendingAlerts[0].ID); res.StatusCode != http.StatusOK {
		t.Fatalf("accept: %d", res.StatusCode)
	}
	w.Drain()
	if got := w.Lead(id); len(got.Alerts) != 1 || len(r.delivered()) != 0 {
		t.Fatalf("the CRM is down: the alert still goes out (%d sent), nothing is delivered (%d)", len(got.Alerts), len(r.delivered()))
	}
	if e, _ := w.Lead(id).NextEvent(); e.Tries != 1 || !e.RetryAt.Equal(w.Clock.Now().Add(crm.RetryDelay(1))) {
		t.Fatalf("after the first failure: %+v", e)
	}
	w.retryUntilDelivered(id, 10)

	// Back up: the unsubscribe goes straight through.
	if res := w.link("unsubscribe-one-click.json", token.PurposeUnsubscribe, id, ""); res.StatusCode >= 300 {
		t.Fatalf("unsubscribe: %d", res.StatusCode)
	}
	w.Drain()

	want := []string{lead.EventCaptured, lead.EventSalesReady, lead.EventAccepted, lead.EventUnsubscribed}
	got := r.delivered()
	if !slices.Equal(types(got), want) {
		t.Fatalf("delivered %v, want %v once each, in order", types(got), want)
	}
	ids := map[string]bool{}
	for _, g := range got {
		if ids[g.id] || g.id != g.event.ID || g.typ != g.event.Type || g.event.Lead.ID != id || g.event.Lead.Email != w.Email("grace") {
			t.Errorf("delivery %+v", g)
		}
		ids[g.id] = true
	}
	// Every try carried the same id and a signature that verifies.
	reqs := r.requests()
	if len(reqs) != 4+len(want) {
		t.Errorf("%d requests: 4 refused, then one per event", len(reqs))
	}
	for _, q := range reqs {
		if q.checked != nil {
			t.Errorf("%s: signature: %v", q.typ, q.checked)
		}
		if q.status == 503 && q.id != got[0].id {
			t.Errorf("a refused try of %s, want the first event %s (the others wait their turn)", q.id, got[0].id)
		}
	}
	if l := w.Lead(id); len(l.PendingEvents) != 0 {
		t.Errorf("pending after delivery: %+v", l.PendingEvents)
	}
}

func TestEachEventType_throughTheHandlersThatMakeIt(t *testing.T) {
	r := newReceiver(t, false)
	w := newWorld(t, r)
	last := func(t *testing.T, typ string) crm.Event {
		t.Helper()
		w.Drain()
		got := r.delivered()
		if len(got) == 0 || got[len(got)-1].typ != typ {
			t.Fatalf("delivered %v, want %s last", types(got), typ)
		}
		return got[len(got)-1].event
	}

	id := w.capture("ada")
	t.Run("captured when the address is confirmed", func(t *testing.T) {
		ev := last(t, lead.EventCaptured)
		form := w.Program.Forms[0]
		if ev.Data.FormID != form.ID || ev.Data.AssetID != form.Asset || ev.Data.AssetTitle == "" {
			t.Errorf("data %+v, want form %s and its asset", ev.Data, form.ID)
		}
		l := ev.Lead
		if l.Name != "Grace Hopper" || l.Company != "Compilers Ltd" || l.Consent == nil || l.Consent.FormID != form.ID ||
			l.FirstTouch == nil || l.FirstTouch.UTMSource != "newsletter" || l.Nurture != lead.NurtureActive || !ev.OccurredAt.Equal(w.Clock.Now()) {
			t.Errorf("lead %+v", l)
		}
	})
	t.Run("sales-ready when a form post crosses", func(t *testing.T) {
		w.cross(id)
		alert := w.Lead(id).PendingAlerts[0]
		ev := last(t, lead.EventSalesReady)
		if ev.Data.AlertID != alert.ID || ev.Data.Threshold != alert.Threshold || ev.Data.Score == nil || *ev.Data.Score != alert.Score {
			t.Errorf("data %+v, want alert %+v", ev.Data, alert)
		}
		tok, ok := strings.CutPrefix(ev.Data.DossierURL, testworld.BaseURL+"/s/")
		if c, err := w.Signer.Verify(tok, token.PurposeDossier, w.Clock.Now()); !ok || err != nil || c.LeadID != id || c.Ref != alert.ID {
			t.Errorf("dossierUrl %q: %+v %v", ev.Data.DossierURL, c, err)
		}
	})
	t.Run("accepted on the sales page", func(t *testing.T) {
		if res := w.link("sales-accept.json", token.PurposeAccept, id, "a"); res.StatusCode != http.StatusOK {
			t.Fatalf("accept: %d", res.StatusCode)
		}
		if ev := last(t, lead.EventAccepted); ev.Lead.Sales == nil || ev.Lead.Sales.Status != lead.SalesAccepted || ev.Lead.Nurture != lead.NurtureStopped {
			t.Errorf("lead %+v", ev.Lead)
		}
	})
	t.Run("returned with a reason", func(t *testing.T) {
		n := len(r.delivered())
		// Changing the decision, from the page that showed it.
		form := url.Values{"action": {"return"}, "reason": {"not-ready"}, "decided": {w.Lead(id).Sales.Stamp()}}
		if res := w.link("sales-return.json", token.PurposeReturn, id, "a", form); res.StatusCode != http.StatusOK {
			t.Fatalf("return: %d", res.StatusCode)
		}
		ev := last(t, lead.EventReturned)
		if ev.Data.Reason != "not-ready" || ev.Data.ReasonLabel == "" || ev.Data.Nurture != w.Program.ReturnAction("not-ready") ||
			ev.Lead.Sales == nil || ev.Lead.Sales.Reason != "not-ready" {
			t.Errorf("data %+v, lead's decision %+v", ev.Data, ev.Lead.Sales)
		}
		if len(r.delivered()) != n+1 {
			t.Errorf("%d events for one return", len(r.delivered())-n)
		}
	})
	t.Run("unsubscribed by the one-click link, twice", func(t *testing.T) {
		for range 2 {
			if res := w.link("unsubscribe-one-click.json", token.PurposeUnsubscribe, id, ""); res.StatusCode >= 300 {
				t.Fatalf("unsubscribe: %d", res.StatusCode)
			}
		}
		if ev := last(t, lead.EventUnsubscribed); ev.Lead.Suppressed == nil || ev.Lead.Suppressed.Reason != lead.SuppressedUnsubscribed {
			t.Errorf("lead %+v", ev.Lead)
		}
		if n := slices.Index(types(r.delivered()), lead.EventUnsubscribed); n != len(r.delivered())-1 {
			t.Errorf("delivered %v: one unsubscribe", types(r.delivered()))
		}
	})
	for _, g := range r.requests() {
		if g.checked != nil {
			t.Errorf("%s: signature: %v", g.typ, g.checked)
		}
	}
}

func TestReturnWithAnUnknownReason_400_noEvent(t *testing.T) {
	r := newReceiver(t, false)
	w := newWorld(t, r)
	id := w.capture("ada")
	w.Drain()
	tok := w.Signer.Sign(token.Claims{Purpose: token.PurposeReturn, LeadID: id, Ref: "a", Expires: w.Clock.Now().Add(time.Hour)})
	req := testworld.LinkEvent(t, "sales-return.json", tok)
	req.Body, req.IsBase64Encoded = "action=return&reason=bored", false
	res, err := w.App.LinkRoutes.Handle(context.Background(), req)
	if err != nil || res.StatusCode != http.StatusBadRequest {
		t.Fatalf("return for no known reason: %d %v", res.StatusCode, err)
	}
	w.Drain()
	if got := types(r.delivered()); !slices.Equal(got, []string{lead.EventCaptured}) {
		t.Errorf("delivered %v", got)
	}
}

func TestHangingReceiver_costsOnlyItsOwnEvent(t *testing.T) {
	r := newReceiver(t, true)
	w := newWorld(t, r)
	id := w.capture("ada")
	w.cross(id)
	w.Drain()
	l := w.Lead(id)
	if len(l.Alerts) != 1 || len(l.PendingAlerts) != 0 {
		t.Errorf("the sales alert went out all the same: sent %+v, pending %+v", l.Alerts, l.PendingAlerts)
	}
	if len(l.PendingEvents) != 2 || l.PendingEvents[0].Tries != 1 || l.PendingEvents[0].RetryAt.IsZero() {
		t.Fatalf("the first event waits its retry, the second behind it: %+v", l.PendingEvents)
	}
	if n := len(r.requests()); n != 1 {
		t.Errorf("%d requests to a receiver that never answers, want 1 per flush", n)
	}
}

func TestRetryAfter_isHonoured(t *testing.T) {
	r := newReceiver(t, false, 429)
	r.header.Set("Retry-After", "1800")
	w := newWorld(t, r)
	id := w.capture("ada")
	w.Drain()
	if e, _ := w.Lead(id).NextEvent(); !e.RetryAt.Equal(w.Clock.Now().Add(30 * time.Minute)) {
		t.Fatalf("429 with Retry-After 1800: next try %v, want in 30 minutes", e.RetryAt)
	}
	w.retryUntilDelivered(id, 2)
	if got := types(r.delivered()); !slices.Equal(got, []string{lead.EventCaptured}) {
		t.Errorf("delivered %v", got)
	}
}

func TestStreamRecordHandledAgain_deliversNothingTwice(t *testing.T) {
	r := newReceiver(t, false)
	w := newWorld(t, r)
	id := w.capture("ada")
	w.Drain()
	for range 3 {
		if err := w.App.Events.Flush(context.Background(), id); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(r.requests()); n != 1 {
		t.Errorf("%d requests for one event flushed four times", n)
	}
}

func TestGivenUpAfterMaxTries_logged(t *testing.T) {
	statuses := make([]int, crm.MaxTries)
	for i := range statuses {
		statuses[i] = http.StatusBadRequest
	}
	r := newReceiver(t, false, statuses...)
	var logs logBuffer
	rc := &crm.Receiver{URL: r.srv.URL, Secrets: []string{secret}, Timeout: time.Second}
	w := &world{testworld.New(t, testworld.Options{Name: "crm", Events: rc, Logs: &logs}), r}
	rc.Clock, r.now = w.Clock, w.Clock.Now
	id := w.capture("ada")
	w.Drain()
	w.retry(id, crm.MaxTries)
	if l := w.Lead(id); len(l.PendingEvents) != 0 || len(r.requests()) != crm.MaxTries {
		t.Fatalf("after %d refusals: pending %+v, %d requests", crm.MaxTries, l.PendingEvents, len(r.requests()))
	}
	if !strings.Contains(logs.String(), `"msg":"event abandoned"`) {
		t.Errorf("no \"event abandoned\" log line (the alarm's metric):\n%s", logs.String())
	}
	if spent := w.Clock.Now().Sub(testenv.Tuesday); spent < 60*time.Hour || spent > 90*time.Hour {
		t.Errorf("given up after %v of tries, want about three days", spent)
	}
}

// Events recorded while a CRM was configured, which no longer is, are
// dropped rather than left to wait on the lead.
func TestNoReceiver_dropsTheEventsWaiting(t *testing.T) {
	r := newReceiver(t, false)
	w := newWorld(t, r)
	id := w.capture("ada")
	w.App.Events.Receiver = nil
	if err := w.App.Events.Flush(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if l := w.Lead(id); len(l.PendingEvents) != 0 || l.Outbox() != nil || len(r.requests()) != 0 {
		t.Errorf("pending %+v, outbox %v, %d requests", l.PendingEvents, l.Outbox(), len(r.requests()))
	}
}

// The examples in events/crm are what the schema describes, one per type.
func TestExamples_matchTheSchema(t *testing.T) {
	seen := map[string]bool{}
	for _, typ := range lead.EventTypes {
		path := filepath.Join("..", "..", "events", "crm", typ+".json")
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		validate(t, b)
		var ev crm.Event
		if err := json.Unmarshal(b, &ev); err != nil || ev.Type != typ || ev.Version != crm.Version {
			t.Errorf("%s: %+v %v", path, ev, err)
		}
		seen[typ] = true
	}
	entries, _ := os.ReadDir(filepath.Join("..", "..", "events", "crm"))
	for _, e := range entries {
		if name := strings.TrimSuffix(e.Name(), ".json"); name != "schema.v1" && !seen[name] {
			t.Errorf("events/crm/%s: no lifecycle event of that type", e.Name())
		}
	}
}

// logBuffer collects the JSON logs of the product's goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// An address nobody confirmed is anyone's guess: the CRM hears of it when
// it is confirmed, and never when it expires unconfirmed, whatever its
// score.
func TestUnconfirmedAddress_noEventUntilConfirmed_noneWhenItExpires(t *testing.T) {
	r := newReceiver(t, false)
	w := newWorld(t, r)
	post := func(local, formID string) string {
		t.Helper()
		v := url.Values{"email": {w.Email(local)}, "company": {"Compilers Ltd"}, "consent": {"yes"}}
		res, err := w.App.Capture.Handle(context.Background(), testworld.FormPost(formID, v, w.Clock.Now()))
		if err != nil || res.StatusCode != http.StatusSeeOther {
			t.Fatalf("form post: %d %v", res.StatusCode, err)
		}
		return testenv.LeadID(w.Email(local))
	}
	never := post("never", w.Program.Forms[0].ID)
	w.OneBelowTheThreshold(never)
	post("never", w.Program.Forms[1].ID) // a score over the threshold
	w.Drain()
	if got := r.delivered(); len(got) != 0 || len(w.Lead(never).PendingEvents) != 0 {
		t.Fatalf("an unconfirmed address reached the CRM: %v", types(got))
	}

	later := post("later", w.Program.Forms[0].ID)
	w.Clock.Advance(time.Hour)
	confirmedAt := w.Clock.Now()
	w.Confirm(later)
	w.Drain()
	got := r.delivered()
	if len(got) != 1 || got[0].typ != lead.EventCaptured || got[0].event.Lead.ID != later || !got[0].event.OccurredAt.Equal(confirmedAt) {
		t.Fatalf("after confirming: delivered %v, want lead.captured at the confirmation", types(got))
	}

	// The unconfirmed one expires: deleted, and the CRM never heard of it.
	for range 8 {
		w.Clock.Advance(24 * time.Hour)
		w.Tick()
		w.Drain()
	}
	if _, found, _ := w.Store.GetLead(context.Background(), never); found {
		t.Error("the unconfirmed lead is still stored after its wait")
	}
	for _, g := range r.delivered() {
		if g.event.Lead.ID == never {
			t.Errorf("the CRM got %s about the address nobody confirmed", g.typ)
		}
	}
}
