package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/shared/app"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

// The stack's clock starts at fixed instants in the program's time zone, in
// and out of its send window (weekdays 09:00-17:00 Berlin), so every test
// behaves the same whatever the real hour and weekday.
var (
	berlin         = mustZone("Europe/Berlin")
	tuesdayMorning = time.Date(2026, 12, 1, 10, 0, 0, 0, berlin)
	saturdayNight  = time.Date(2026, 12, 5, 3, 0, 0, 0, berlin)
	sundayNight    = time.Date(2026, 12, 6, 2, 0, 0, 0, berlin)
)

func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// inSendWindow tells whether t is within the default program's window.
func inSendWindow(t time.Time) bool {
	b := t.In(berlin)
	return b.Weekday() >= time.Monday && b.Weekday() <= time.Friday && b.Hour() >= 9 && b.Hour() < 17
}

// stack is a running `make run`: the real binary with its own servers.
type stack struct {
	api, dynamo, ses string
	cmd              *exec.Cmd
	output           *strings.Builder
	exited           chan error
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startStack builds and starts the local stack on free ports, as a person
// running `make run` would, and waits until it prints its URLs. Its clock
// starts at start (LOCAL_CLOCK), so no test depends on the hour it runs;
// env adds settings (NAME=value).
func startStack(t *testing.T, start time.Time, env ...string) *stack {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "local")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	apiPort, dynamoPort, sesPort := freePort(t), freePort(t), freePort(t)
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"PORT="+strconv.Itoa(apiPort), "DYNAMODB_PORT="+strconv.Itoa(dynamoPort), "SES_PORT="+strconv.Itoa(sesPort),
		"LOCAL_DATA_DIR="+filepath.Join(dir, "data"), "TICK_INTERVAL=0", "LOCAL_CLOCK="+start.Format(time.RFC3339))
	cmd.Env = append(cmd.Env, env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{
		api: "http://localhost:" + strconv.Itoa(apiPort), dynamo: "http://127.0.0.1:" + strconv.Itoa(dynamoPort),
		ses: "http://127.0.0.1:" + strconv.Itoa(sesPort), cmd: cmd, output: &strings.Builder{}, exited: make(chan error, 1),
	}
	cmd.Stderr = s.output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			s.output.WriteString(sc.Text() + "\n")
			if !signalled && strings.Contains(sc.Text(), "Demo page") {
				close(ready)
				signalled = true
			}
		}
		s.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
		}
	})
	select {
	case <-ready:
	case err := <-s.exited:
		t.Fatalf("the local stack exited before it was ready: %v\n%s", err, s.output)
	// DynamoDB Local alone may take up to 3 minutes on a busy machine.
	case <-time.After(4 * time.Minute):
		t.Fatalf("the local stack did not print its URLs in 4 minutes\n%s", s.output)
	}
	return s
}

// stop sends Ctrl-C and expects a clean exit that also stops the servers.
func (s *stack) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-s.exited:
		if err != nil {
			t.Fatalf("Ctrl-C should stop the stack cleanly, got %v\n%s", err, s.output)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the stack did not stop within 30s of Ctrl-C\n%s", s.output)
	}
	for _, u := range []string{s.api, s.dynamo, s.ses} {
		if resp, err := http.Get(u); err == nil {
			resp.Body.Close()
			t.Errorf("%s still answers after Ctrl-C", u)
		}
	}
}

// store reads the stack's table.
func (s *stack) store(t *testing.T) *store.Store {
	t.Helper()
	db, err := localstack.DynamoClient(context.Background(), s.dynamo)
	if err != nil {
		t.Fatal(err)
	}
	return store.New(db, "nurture-local", store.Options{})
}

// noScript turns JavaScript off in the browser's tab, from the next page on.
var noScript = chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
	_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	return err
})

// now is the stack's clock.
func (s *stack) now(t *testing.T) time.Time {
	t.Helper()
	resp, err := http.Get(s.api + "/_local/clock")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var clock struct{ Now string }
	if err := json.NewDecoder(resp.Body).Decode(&clock); err != nil {
		t.Fatalf("GET /_local/clock: %v", err)
	}
	now, err := time.Parse(time.RFC3339, clock.Now)
	if err != nil {
		t.Fatalf("GET /_local/clock: %v", err)
	}
	return now
}

// metrics reads GET /_local/metrics: the business metrics so far.
func (s *stack) metrics(t *testing.T) map[string]int {
	t.Helper()
	resp, err := http.Get(s.api + "/_local/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /_local/metrics: %d %v", resp.StatusCode, err)
	}
	return m
}

func (s *stack) post(t *testing.T, path, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(s.api+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// readerAgent is the user agent of a reader's browser.
const readerAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/143.0.0.0 Safari/537.36"

func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath("/usr/bin/chromium"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
		// Headless Chrome names itself HeadlessChrome, which the engagement
		// handler rightly takes for a link scanner: browse as a reader's
		// desktop Chrome does.
		chromedp.UserAgent(readerAgent),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// TestLocalStack_browserSubmitsDemoForm_leadStored_mailShownInViewer is the
// README's walk: make run, open the demo page, fill in a form, see the lead
// in DynamoDB Local, press "Send the next email" and read the nurture email
// in the SES viewer. It starts on a Saturday at 03:00 in Berlin, outside
// the send window, where a person trying the product at night would.
func TestLocalStack_browserSubmitsDemoForm_leadStored_mailShownInViewer(t *testing.T) {
	s := startStack(t, saturdayNight)
	prog, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	form := prog.Forms[0]
	asset, _ := prog.Asset(form.Asset)

	ctx := browser(t)
	redirects, clickRedirects := make(chan string, 4), make(chan string, 4)
	err = chromedp.Listen(ctx, func(ev any) {
		e, ok := ev.(*network.EventRequestWillBeSent)
		if !ok || e.RedirectResponse == nil {
			return
		}
		to := redirects
		switch {
		case strings.Contains(e.RedirectResponse.URL, "/forms/"):
		case strings.Contains(e.RedirectResponse.URL, "/_local/click"):
			to = clickRedirects
		default:
			return
		}
		select {
		case to <- fmt.Sprintf("%d %s", e.RedirectResponse.Status, e.Request.URL):
		default:
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	sel := "#form-" + form.ID
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.api+"/"),
		chromedp.WaitVisible(sel+" input[name=email]"),
		chromedp.SendKeys(sel+" input[name=email]", "Ada.Lovelace@Example.com"),
		chromedp.SendKeys(sel+" input[name=name]", "Ada Lovelace"),
		chromedp.SendKeys(sel+" input[name=company]", "Analytical Engines"),
		chromedp.SetValue(sel+" select[name=companySize]", "51-500"),
		chromedp.Click(sel+" input[name=consent]"),
		// A person takes a few seconds; faster posts are treated as bots.
		chromedp.Sleep(lead.DefaultMinFillTime+500*time.Millisecond),
		chromedp.Click(sel+" button[type=submit]"),
	)
	if err != nil {
		t.Fatalf("browser: %v\n%s", err, s.output)
	}
	select {
	case got := <-redirects:
		if want := "303 " + asset.URL; got != want {
			t.Errorf("after submitting, the browser was sent to %q, want %q", got, want)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the form post was not answered with a redirect")
	}
	// The asset lives on the public web, which this machine cannot reach:
	// leave the page rather than wait for that navigation to fail.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("browser: %v", err)
	}

	st := s.store(t)
	l, found, err := st.GetLead(context.Background(), s.leadID(t, "ada.lovelace@example.com"))
	if err != nil || !found {
		t.Fatalf("the lead is not in DynamoDB Local: found=%v err=%v\n%s", found, err, s.output)
	}
	if l.Name != "Ada Lovelace" || l.CompanySize != "51-500" || l.Consent == nil || !l.Unconfirmed() || l.Nurture.Status != "" {
		t.Fatalf("stored lead = %+v, want it waiting for its confirmation, not in nurture", l)
	}

	// Double opt-in: "Send the next email" sends the confirmation email at
	// once, Saturday night or not; Ada opens it in the viewer and clicks
	// its link, and confirms on the page it opens.
	// The button posts and comes back to the demo page: wait for it before
	// going on, or the next navigation aborts this one.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.api+"/"), chromedp.Click("#send-next"), chromedp.Sleep(time.Second), chromedp.WaitVisible("#send-next")); err != nil {
		t.Fatalf("press Send the next email: %v", err)
	}
	confirmURL := s.clickConfirmationLink(t, ctx)
	if l, _, _ = st.GetLead(context.Background(), l.ID); !l.Unconfirmed() {
		t.Fatal("opening the confirmation link confirmed the address: a mail scanner's GET would have")
	}
	// The link's page, in the tab, and its button.
	err = chromedp.Do(ctx, chromedp.Navigate(confirmURL), chromedp.WaitVisible("form button"), chromedp.Click("form button"))
	if err != nil {
		t.Fatalf("confirm: %v\n%s", err, s.output)
	}
	var confirmed string
	for try := 0; try < 80 && !strings.Contains(confirmed, "confirmed"); try++ {
		_ = chromedp.Do(ctx, chromedp.Sleep(250*time.Millisecond))
		confirmed, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === 'complete' && document.querySelector('h1') ? document.querySelector('h1').innerText : ''`))
	}
	if !strings.Contains(confirmed, "confirmed") {
		t.Fatalf("after pressing the button the page says %q\n%s", confirmed, s.output)
	}
	l, _, _ = st.GetLead(context.Background(), l.ID)
	if l.Unconfirmed() || !l.Confirmed() || l.Nurture.Status != lead.NurtureActive {
		t.Fatalf("after confirming: opt-in %+v, consent %+v, nurture %+v", l.OptIn, l.Consent, l.Nurture)
	}

	// "Send the next email" on the demo page, as the README says. The page
	// comes back showing the local time the email went out at: a Monday
	// morning, not the Saturday night the walk started on.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.api+"/"), chromedp.Click("#send-next")); err != nil {
		t.Fatalf("press Send the next email: %v", err)
	}
	var clockLine string
	for try := 0; try < 80 && !strings.Contains(clockLine, "Local time is Mon"); try++ {
		_ = chromedp.Do(ctx, chromedp.Sleep(250*time.Millisecond))
		clockLine, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`document.readyState === 'complete' && document.querySelector('header .meta') ? document.querySelector('header .meta').innerText : ''`))
	}
	if !strings.Contains(clockLine, "Local time is Mon") {
		t.Fatalf("after Send the next email the demo page says %q, want Monday's time\n%s", clockLine, s.output)
	}
	l, _, _ = st.GetLead(context.Background(), l.ID)
	if len(l.Nurture.Sent) != 1 {
		t.Fatalf("Send the next email sent %d emails, want 1\n%s", len(l.Nurture.Sent), s.output)
	}
	if sentAt := l.Nurture.Sent[0].At; !inSendWindow(sentAt) {
		t.Errorf("the email went out %s, outside the send window", sentAt.In(berlin).Format("Mon 15:04"))
	}
	first, _ := prog.Asset(l.Nurture.Sent[0].AssetID)

	// The SES viewer shows the mail, and its HTML renders.
	mailID := s.openMail(t, ctx, first.Title)
	listing, err := chromedp.Run(ctx, chromedp.Text("#content"))
	if err != nil {
		t.Fatalf("SES viewer: %v", err)
	}
	rendered, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('`+mailID+`-html-iframe').contentDocument.body.innerText`))
	if err != nil {
		t.Fatalf("SES viewer: %v", err)
	}
	if !strings.Contains(listing, "ada.lovelace@example.com") || !strings.Contains(listing, first.Title) {
		t.Errorf("the viewer should list the mail to Ada about %q:\n%s", first.Title, listing)
	}
	if !strings.Contains(rendered, first.Title) || !strings.Contains(rendered, "Unsubscribe") || !strings.Contains(rendered, prog.Sender.PostalAddress) {
		t.Errorf("the rendered HTML lacks the asset, the unsubscribe link or the postal address:\n%s", rendered)
	}

	// An hour later Ada clicks the asset button in the mail. The link is
	// the tracking redirect, as SES would make it; it records the click and
	// sends her on to the asset.
	resp := s.post(t, "/_local/clock", `{"advance":"1h"}`)
	resp.Body.Close()
	iframes, err := chromedp.Run(ctx, chromedp.Nodes(`[id="`+mailID+`-html-iframe"]`))
	if err != nil || len(iframes) == 0 {
		t.Fatalf("SES viewer: no iframe: %v", err)
	}
	// Two links are tracked: the asset button, and last the hidden honeypot
	// link that only scanners follow (so chromedp.Click, which waits for
	// every match to be visible, would wait forever).
	tracked := `a[href*="/_local/click?"]`
	links, err := chromedp.Run(ctx, chromedp.Nodes(tracked, chromedp.FromNode(iframes[0]), chromedp.NodeReady))
	if err != nil || len(links) != 2 {
		t.Fatalf("the mail should have 2 tracked links, has %d (%v)", len(links), err)
	}
	href, err := chromedp.Run(ctx, chromedp.JavascriptAttribute[string](tracked, "href", chromedp.FromNode(iframes[0])))
	if err != nil || !strings.HasPrefix(href, s.api+"/_local/click?r=") {
		t.Fatalf("the asset button links to %q (%v), want the local click redirect", href, err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseClickNode(links[0])); err != nil {
		t.Fatalf("click the asset button: %v", err)
	}
	select {
	case got := <-clickRedirects:
		if !strings.HasPrefix(got, "302 "+first.URL+"?") {
			t.Errorf("the click was redirected as %q, want 302 to %s with campaign parameters", got, first.URL)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the click on the asset button was not redirected\n%s", s.output)
	}
	// The asset is on the public web, out of reach here.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("browser: %v", err)
	}
	acts, err := st.Activities(context.Background(), l.ID, s.now(t).Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var clicks []lead.Activity
	for _, a := range acts {
		if a.Kind == lead.KindClick {
			clicks = append(clicks, a)
		}
	}
	if len(clicks) != 1 || clicks[0].Machine || clicks[0].AssetID != first.ID || clicks[0].MessageID != l.Nurture.Sent[0].MessageID {
		t.Errorf("want Ada's click on %s recorded as a person's, got %+v\n%s", first.ID, clicks, s.output)
	}

	s.stop(t)
}

// openMail opens the mail viewer and the HTML view of the newest email
// whose card contains text (a tick may send other mail too, such as the
// weekly results), as a person would; it returns the email's message id,
// which names its buttons and its iframe.
func (s *stack) openMail(t *testing.T, ctx context.Context, text string) string {
	t.Helper()
	err := chromedp.Do(ctx, chromedp.Navigate(s.ses+"/"), chromedp.WaitReady(".email .email-html iframe"))
	if err != nil {
		// A navigation still settling aborts this one: once more.
		err = chromedp.Do(ctx, chromedp.Sleep(time.Second), chromedp.Navigate(s.ses+"/"), chromedp.WaitReady(".email .email-html iframe"))
	}
	if err != nil {
		t.Fatalf("SES viewer: %v", err)
	}
	id, err := chromedp.Run(ctx, chromedp.Evaluate[string](`((text) => {
		for (const card of document.querySelectorAll('.email')) {
			const b = card.querySelector('button[onclick*="-html\')"]');
			if (card.innerText.includes(text) && b) return b.getAttribute('onclick').match(/toggle\('(.*)-html'\)/)[1];
		}
		return '';
	})(`+strconv.Quote(text)+`)`))
	if err != nil || id == "" {
		t.Fatalf("the viewer shows no email with %q (%v)\n%s", text, err, s.output)
	}
	// The viewer's cards slide open; a click during the animation can miss,
	// so click "Toggle HTML view" until the HTML shows.
	shown := false
	for try := 0; try < 20 && !shown; try++ {
		if err := chromedp.Do(ctx, chromedp.Click(`button[onclick="toggle('`+id+`-html')"]`)); err != nil {
			t.Fatalf("SES viewer: %v", err)
		}
		shown, _ = chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.getElementById('`+id+`-html')).display !== 'none'`))
		if !shown {
			_ = chromedp.Do(ctx, chromedp.Sleep(500*time.Millisecond))
		}
	}
	if !shown {
		t.Fatal("the HTML view of the mail never opened")
	}
	return id
}

// clickConfirmationLink opens the confirmation email in the SES viewer and
// clicks its link (the page it opens changes nothing); it returns the link.
func (s *stack) clickConfirmationLink(t *testing.T, ctx context.Context) string {
	t.Helper()
	opened := make(chan string, 4)
	lctx, stop := context.WithCancel(ctx)
	defer stop()
	err := chromedp.Listen(lctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok && strings.HasPrefix(e.Request.URL, s.api+"/c/") {
			select {
			case opened <- e.Request.URL:
			default:
			}
		}
	})
	if err != nil {
		t.Fatalf("chromium: %v", err)
	}
	id := s.openMail(t, ctx, "Please confirm your email address")
	iframes, err := chromedp.Run(ctx, chromedp.Nodes(`[id="`+id+`-html-iframe"]`))
	if err != nil || len(iframes) == 0 {
		t.Fatalf("SES viewer: no iframe: %v", err)
	}
	links, err := chromedp.Run(ctx, chromedp.Nodes(`a[href*="/c/"]`, chromedp.FromNode(iframes[0]), chromedp.NodeReady))
	if err != nil || len(links) != 1 {
		t.Fatalf("the confirmation email should have 1 confirmation link, has %d (%v)", len(links), err)
	}
	// The viewer's card may still be sliding open, and a click where the
	// link was a moment ago misses: click again until the link opens (a
	// second opening is harmless: GET changes nothing).
	for try := 0; try < 5; try++ {
		if err := chromedp.Do(ctx, chromedp.MouseClickNode(links[0])); err != nil {
			t.Fatalf("click the confirmation link: %v", err)
		}
		select {
		case u := <-opened:
			return u
		case <-time.After(4 * time.Second):
		}
	}
	t.Fatalf("clicking the confirmation link opened nothing\n%s", s.output)
	return ""
}

func TestLocalStack_localRoutes(t *testing.T) {
	s := startStack(t, tuesdayMorning)
	defer s.stop(t)

	if now := s.now(t); now.Before(tuesdayMorning) || now.After(tuesdayMorning.Add(time.Hour)) {
		t.Fatalf("LOCAL_CLOCK=%s: the stack's clock says %s", tuesdayMorning.Format(time.RFC3339), now)
	}
	resp := s.post(t, "/_local/next", "")
	var next struct {
		Sent    int
		Message string
	}
	_ = json.NewDecoder(resp.Body).Decode(&next)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || next.Sent != 0 || !strings.Contains(next.Message, "no nurture email is scheduled") {
		t.Fatalf("send the next email with no leads: %d %+v", resp.StatusCode, next)
	}
	resp = s.post(t, "/_local/clock", `{"advance":"168h"}`)
	var clock struct{ Now string }
	_ = json.NewDecoder(resp.Body).Decode(&clock)
	resp.Body.Close()
	now, err := time.Parse(time.RFC3339, clock.Now)
	if resp.StatusCode != http.StatusOK || err != nil || now.Sub(tuesdayMorning) < 168*time.Hour {
		t.Fatalf("advancing the clock a week: %d %q", resp.StatusCode, clock.Now)
	}
	resp = s.post(t, "/_local/clock", `{"advance":"yesterday"}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("a bad duration should be a 400, got %d", resp.StatusCode)
	}
	resp = s.post(t, "/forms/no-such-form", `{"email":"a@example.com"}`)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "unknown form") {
		t.Fatalf("unknown form: %d %s", resp.StatusCode, body)
	}
	resp, err = http.Get(s.api + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	prog, _ := program.Default()
	for _, f := range prog.Forms {
		if !strings.Contains(string(body), `action="`+s.api+`/forms/`+f.ID+`"`) {
			t.Errorf("the demo page has no form posting to %s/forms/%s", s.api, f.ID)
		}
	}
	if !strings.Contains(string(body), `<script src="`+s.api+`/forms.js" defer></script>`) {
		t.Error("the demo page does not load the forms' script")
	}
}

// TestLocalStack_dossierPage_inChromium is what a sales rep does with an
// alert: open the dossier link, send the lead back to nurture, open it
// again and accept it, in a browser that runs no JavaScript at all.
func TestLocalStack_dossierPage_inChromium(t *testing.T) {
	s := startStack(t, tuesdayMorning)
	defer s.stop(t)
	prog, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	form := prog.Forms[0]
	resp := s.post(t, "/forms/"+form.ID, `{"email":"Grace.Hopper@Example.com","name":"Grace Hopper","company":"Compilers & Co","consent":true}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("capture answered %d\n%s", resp.StatusCode, s.output)
	}
	s.confirm(t, "grace.hopper@example.com")
	id := s.leadID(t, "grace.hopper@example.com")

	// Sign the alert's dossier link with the stack's own key.
	signer := s.signer(t)
	link := func(purpose string) string {
		return s.api + "/s/" + signer.Sign(token.Claims{Purpose: purpose, LeadID: id, Expires: tuesdayMorning.Add(14 * 24 * time.Hour)})
	}
	page := link(token.PurposeDossier)

	st := s.store(t)
	stored := func() *lead.Lead {
		t.Helper()
		l, found, err := st.GetLead(context.Background(), id)
		if err != nil || !found {
			t.Fatalf("lead: found=%v err=%v", found, err)
		}
		return l
	}

	ctx := browser(t)
	// The CSP forbids scripts; the page must not need any.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), noScript); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible("#score-chart")); err != nil {
		t.Fatalf("open the dossier: %v\n%s", err, s.output)
	}
	name, err := chromedp.Run(ctx, chromedp.Text("h1"))
	if err != nil || name != "Grace Hopper" {
		t.Fatalf("the page's heading is %q (%v)", name, err)
	}
	points, err := chromedp.Run(ctx, chromedp.AttributeValue("svg#score-chart polyline", "points"))
	if err != nil || len(strings.Fields(points.Value)) < 2 {
		t.Fatalf("the chart has no line: %+v %v", points, err)
	}
	if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join(t.ArtifactDir(), "dossier.png"), shot, 0o644)
	}

	// The dossier link only shows; the alert's Return link decides.
	if html, err := chromedp.Run(ctx, chromedp.OuterHTML("main")); err != nil || strings.Contains(html, "<form") {
		t.Fatalf("the dossier link's page should offer no form (%v)", err)
	}
	// Return to nurture, not ready yet.
	err = chromedp.Do(ctx,
		chromedp.Navigate(link(token.PurposeReturn)),
		chromedp.WaitVisible("#return-form"),
		chromedp.SetValue("#reason", "not-ready"),
		chromedp.Click("#return-form button[type=submit]"),
		chromedp.WaitVisible("#notice"),
	)
	if err != nil {
		t.Fatalf("return to nurture: %v", err)
	}
	if notice, _ := chromedp.Run(ctx, chromedp.Text("#notice")); notice != "Returned to nurture" {
		t.Fatalf("after returning the page says %q", notice)
	}
	if l := stored(); l.Sales == nil || l.Sales.Status != lead.SalesReturned || l.Sales.Reason != "not-ready" {
		t.Fatalf("after returning: sales %+v", l.Sales)
	}

	// Back to the dossier, which shows the decision; then the Accept link.
	err = chromedp.Do(ctx,
		chromedp.Click(`a[href^="/s/"]`),
		chromedp.WaitVisible("#current-decision"),
	)
	if err != nil {
		t.Fatalf("back to the dossier: %v", err)
	}
	if decision, _ := chromedp.Run(ctx, chromedp.Text("#current-decision")); !strings.Contains(decision, "Returned to nurture") || !strings.Contains(decision, "Not ready to buy yet") {
		t.Errorf("the dossier shows the decision %q", decision)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(link(token.PurposeAccept)),
		chromedp.WaitVisible("#accept-form"),
		chromedp.Click("#accept-form button[type=submit]"),
		chromedp.WaitVisible("#notice"),
	)
	if err != nil {
		t.Fatalf("accept: %v", err)
	}
	if notice, _ := chromedp.Run(ctx, chromedp.Text("#notice")); notice != "Accepted" {
		t.Fatalf("after accepting the page says %q", notice)
	}
	l := stored()
	if l.Sales == nil || l.Sales.Status != lead.SalesAccepted {
		t.Fatalf("after accepting: sales %+v", l.Sales)
	}
	if l.Nurture.Status != lead.NurtureStopped || l.Nurture.Due() {
		t.Fatalf("accepting should stop nurture: %+v", l.Nurture)
	}
}

// signer signs links with the stack's own key, as its alerts do.
func (s *stack) signer(t *testing.T) *token.Signer { return s.keys(t).Signer }

// leadID is the id the stack gives the lead of an address (its own lead id key).
func (s *stack) leadID(t *testing.T, email string) string {
	t.Helper()
	n, err := lead.NormaliseEmail(email)
	if err != nil {
		t.Fatal(err)
	}
	return s.keys(t).LeadIDs.ID(n)
}

// keys are the stack's own keys, from its data folder.
func (s *stack) keys(t *testing.T) app.Keys {
	t.Helper()
	var dataDir string
	for _, kv := range s.cmd.Env {
		if v, ok := strings.CutPrefix(kv, "LOCAL_DATA_DIR="); ok {
			dataDir = v
		}
	}
	key, err := os.ReadFile(filepath.Join(dataDir, "token-key"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := app.LoadKeys(config.Config{TokenKeys: strings.TrimSpace(string(key))})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestLocalStack_sendNextEmail_fromSundayNight: make test and the README
// walk started at 02:00 on a Sunday in Berlin. Each "send the next email"
// sends the next step at the send window's next opening, on a weekday.
func TestLocalStack_sendNextEmail_fromSundayNight(t *testing.T) {
	s := startStack(t, sundayNight)
	defer s.stop(t)
	prog, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	resp := s.post(t, "/forms/"+prog.Forms[0].ID, `{"email":"katherine.johnson@example.com","name":"Katherine Johnson","companySize":"51-500","consent":true}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("capture answered %d\n%s", resp.StatusCode, s.output)
	}
	// The confirmation goes out at once, Sunday night or not.
	s.confirm(t, "katherine.johnson@example.com")
	last := sundayNight
	for step := 1; step <= 2; step++ {
		resp := s.post(t, "/_local/next", "")
		var rep struct {
			Now     string
			Sent    int
			Message string
		}
		_ = json.NewDecoder(resp.Body).Decode(&rep)
		resp.Body.Close()
		now, err := time.Parse(time.RFC3339, rep.Now)
		if resp.StatusCode != http.StatusOK || err != nil || rep.Sent != 1 {
			t.Fatalf("send the next email (step %d): %d %+v\n%s", step, resp.StatusCode, rep, s.output)
		}
		if !inSendWindow(now) || !now.After(last) {
			t.Errorf("step %d went out %s, want later than %s and inside the send window",
				step, now.In(berlin).Format("Mon 2 Jan 15:04"), last.In(berlin).Format("Mon 2 Jan 15:04"))
		}
		last = now
	}
}

// crossWithTwoForms has Ada, fit 42 (executive, finance, 501-5000), post
// two forms, confirming her address between them: her score goes over 50
// on the second post, not the first. Her alert goes to the finance route.
func (s *stack) crossWithTwoForms(t *testing.T) {
	t.Helper()
	for i, post := range []struct{ form, body string }{
		{"downtime-report", `{"email":"ada@engines.example","name":"Ada Lovelace","company":"Analytical Engines","role":"executive","industry":"finance","consent":true}`},
		{"cost-of-nines", `{"email":"ada@engines.example","company":"Analytical Engines","industry":"finance","companySize":"501-5000","consent":true}`},
	} {
		resp := s.post(t, "/forms/"+post.form, post.body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("capture answered %d\n%s", resp.StatusCode, s.output)
		}
		if i == 0 {
			s.confirm(t, "ada@engines.example")
		}
	}
}

// TestLocalStack_formPostThatCrosses_alertArrivesThroughTheStream: with a
// chat webhook that never answers, a lead's second form post carries the
// score over the threshold; the post is answered as always, and the alert
// reaches sales through the table's stream, as in AWS: the email in the
// mail viewer, the post at the (hanging) webhook.
func TestLocalStack_formPostThatCrosses_alertArrivesThroughTheStream(t *testing.T) {
	var posts atomic.Int32
	hang := make(chan struct{})
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		posts.Add(1)
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer chat.Close()
	defer close(hang)
	s := startStack(t, tuesdayMorning, "WEBHOOK_URL="+chat.URL)
	defer s.stop(t)

	s.crossWithTwoForms(t)

	// Delivery is asynchronous: wait for the alert, as a rep would.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mail, err := localstack.SentMail(context.Background(), s.ses)
		if err != nil {
			t.Fatal(err)
		}
		alerts := 0
		for _, m := range mail {
			if strings.Contains(m.Text, "ada@engines.example") && !strings.EqualFold(m.To[0], "ada@engines.example") {
				alerts++
			}
		}
		if alerts > 1 {
			t.Fatalf("%d alert emails for one crossing", alerts)
		}
		if alerts == 1 && posts.Load() >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alert through the stream: %d emails, %d webhook posts\n%s", alerts, posts.Load(), s.output)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The business metrics, as CloudWatch would count the EMF lines: a
	// new lead, a returning one, and one lead handed to sales (recorded
	// once the alert's email is listed on the lead, which waits here for
	// the hanging webhook's two timeouts).
	want := map[string]int{"LeadsCaptured": 2, "LeadsCaptured/new": 1, "LeadsCaptured/returning": 1, "SalesReady": 1}
	var got map[string]int
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		got = s.metrics(t)
		if fmt.Sprint(got) == fmt.Sprint(want) || time.Now().After(deadline) {
			break
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("GET /_local/metrics: %v, want %v", got, want)
	}

}

// TestLocalStack_clickThatCrosses_alertGoesOutWhenItsSettleTimeEnds_noTick:
// Ada's click on her first email's asset carries her score over the
// threshold. Its alert waits the settle time (a link scanner's burst may
// still take the points back), then goes out through the local settle
// queue when the local clock passes it: no scheduler tick runs after the
// click (TICK_INTERVAL=0, no /_local/tick or /_local/next).
func TestLocalStack_clickThatCrosses_alertGoesOutWhenItsSettleTimeEnds_noTick(t *testing.T) {
	s := startStack(t, tuesdayMorning)
	defer s.stop(t)
	// Fit 27 and the first download: 37, below the threshold (50).
	resp := s.post(t, "/forms/downtime-report", `{"email":"ada@engines.example","name":"Ada Lovelace","company":"Analytical Engines","role":"executive","industry":"finance","consent":true}`)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("capture answered %d\n%s", resp.StatusCode, s.output)
	}
	s.confirm(t, "ada@engines.example")
	// She clicks the asset of her first email (+8), then of her second,
	// which carries her over.
	for range 2 {
		s.clickLatestAsset(t, "ada@engines.example")
	}
	l, found, err := s.store(t).GetLead(context.Background(), s.leadID(t, "ada@engines.example"))
	if err != nil || !found || len(l.PendingAlerts) != 1 || l.PendingAlerts[0].NotBefore.IsZero() {
		t.Fatalf("the click should cross and settle: %+v (%v)\n%s", l, err, s.output)
	}
	alerts := func() int {
		mail, err := localstack.SentMail(context.Background(), s.ses)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range mail {
			if strings.Contains(m.Text, "ada@engines.example") && !strings.EqualFold(m.To[0], "ada@engines.example") {
				n++
			}
		}
		return n
	}
	time.Sleep(2 * time.Second) // the stream and the queue's polls, had the alert been due
	if n := alerts(); n != 0 {
		t.Fatalf("%d alerts before the settle time ended", n)
	}
	// The clock passes the settle time: the queue's next poll wakes her lead.
	resp = s.post(t, "/_local/clock", `{"advance":"2m"}`)
	resp.Body.Close()
	deadline := time.Now().Add(30 * time.Second)
	for alerts() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no alert 30 s after the clock passed the settle time\n%s", s.output)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second)
	if n := alerts(); n != 1 {
		t.Fatalf("%d alerts for one crossing, want 1", n)
	}
}

// clickLatestAsset sends the lead's next email, moves the clock an hour on
// and clicks the email's asset (its first tracked link) as a browser would.
func (s *stack) clickLatestAsset(t *testing.T, addr string) {
	t.Helper()
	resp := s.post(t, "/_local/next", "")
	resp.Body.Close()
	mail, err := localstack.SentMail(context.Background(), s.ses)
	if err != nil {
		t.Fatal(err)
	}
	var latest localstack.SentEmail
	for _, m := range mail {
		if strings.EqualFold(m.To[0], addr) && strings.Contains(m.HTML, "/_local/click?") {
			latest = m
		}
	}
	href := regexp.MustCompile(`href="(` + regexp.QuoteMeta(s.api) + `/_local/click\?[^"]+)"`).FindStringSubmatch(latest.HTML)
	if href == nil {
		t.Fatalf("no tracked link in the email\n%s", s.output)
	}
	resp = s.post(t, "/_local/clock", `{"advance":"1h"}`)
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodGet, html.UnescapeString(href[1]), nil)
	req.Header.Set("User-Agent", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15")
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}
