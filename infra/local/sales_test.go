package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/leadnurture/nurture/infra/localstack"
)

// mailTo finds in the mail viewer an email to addr whose subject starts
// with prefix.
func (s *stack) mailTo(t *testing.T, addr, prefix string) (localstack.SentEmail, bool) {
	t.Helper()
	mail, err := localstack.SentMail(context.Background(), s.ses)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range mail {
		if strings.EqualFold(m.To[0], addr) && strings.HasPrefix(m.Subject, prefix) {
			return m, true
		}
	}
	return localstack.SentEmail{}, false
}

// confirm has the person behind addr confirm it, as the README walk does
// in a browser: "Send the next email" sends the confirmation email, and the
// link in it is opened (GET) and its button pressed (POST).
func (s *stack) confirm(t *testing.T, addr string) {
	t.Helper()
	resp := s.post(t, "/_local/next", "")
	resp.Body.Close()
	m, ok := s.mailTo(t, addr, "Please confirm")
	_, rest, found := strings.Cut(m.Text, s.api+"/c/")
	if !ok || !found {
		t.Fatalf("no confirmation email to %s\n%s", addr, s.output)
	}
	tok, _, _ := strings.Cut(rest, "\n")
	link := s.api + "/c/" + strings.TrimSpace(tok)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, err := http.NewRequest(method, link, nil)
		if err != nil {
			t.Fatal(err)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s of the confirmation link: %d\n%s", method, res.StatusCode, s.output)
		}
	}
}

func (s *stack) hasMail(t *testing.T, addr, prefix string) bool {
	t.Helper()
	_, ok := s.mailTo(t, addr, prefix)
	return ok
}

// waitMail waits for the mail viewer to hold an email to addr whose
// subject starts with prefix, as a rep waits for it, and returns it.
func (s *stack) waitMail(t *testing.T, addr, prefix string) localstack.SentEmail {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m, ok := s.mailTo(t, addr, prefix); ok {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q mail to %s in the viewer\n%s", prefix, addr, s.output)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestLocalStack_salesFollowThrough_onAPhone is the demo of the SLA: a
// lead's alert nobody decides; "Send the next email" moves the clock on
// through its reminder and its escalation, which arrive in the mail
// viewer; the demo page's "Open the sales inbox" shows the lead, on a
// phone-sized screen without JavaScript; its dossier accepts it, and the
// inbox is empty.
func TestLocalStack_salesFollowThrough_onAPhone(t *testing.T) {
	s := startStack(t, tuesdayMorning)
	defer s.stop(t)
	owner := "financial-services-sales@acme.example"
	s.crossWithTwoForms(t)
	s.waitMail(t, owner, "MQL: ")
	// Press "Send the next email" until the clock has passed the alert's
	// escalation: each press sends one nurture email, waking what falls
	// due on the way (step 1 may still be due now).
	for press := 0; press < 5 && !s.hasMail(t, "sales-managers@acme.example", "Escalation: MQL: "); press++ {
		resp := s.post(t, "/_local/next", "")
		resp.Body.Close()
		time.Sleep(time.Second) // the stream is polled four times a second
	}
	s.waitMail(t, owner, "Reminder: MQL: ")
	s.waitMail(t, "sales-managers@acme.example", "Escalation: MQL: ")

	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), noScript, chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile, chromedp.EmulatePortrait)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	inboxLink := `a.inbox[data-owner="` + owner + `"]`
	if err := chromedp.Do(ctx, chromedp.Navigate(s.api+"/"), chromedp.WaitVisible(inboxLink)); err != nil {
		t.Fatalf("the demo page has no inbox link for %s: %v", owner, err)
	}
	href, err := chromedp.Run(ctx, chromedp.AttributeValue(inboxLink, "href"))
	if err != nil || !strings.Contains(href.Value, "/i/") {
		t.Fatalf("inbox link %+v, %v", href, err)
	}
	inbox := href.Value
	if err := chromedp.Do(ctx, chromedp.Navigate(inbox), chromedp.WaitVisible("#open li")); err != nil {
		t.Fatalf("open the inbox: %v\n%s", err, s.output)
	}
	row, _ := chromedp.Run(ctx, chromedp.Text("#open li"))
	if !strings.Contains(row, "Ada Lovelace") || !strings.Contains(row, "escalated to sales-managers@acme.example") {
		t.Fatalf("the inbox row says %q", row)
	}
	// Readable on a phone: nothing wider than the screen.
	for _, sel := range []string{"main", "#open li"} {
		if box, err := chromedp.Run(ctx, chromedp.Dimensions(sel)); err != nil || box.Width > 375 {
			t.Errorf("%s is %v px wide on a 375 px screen (%v)", sel, box, err)
		}
	}
	if shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join(t.ArtifactDir(), "inbox-phone.png"), shot, 0o644)
	}

	// The lead's Accept from the inbox: its dossier, with the accept to confirm.
	err = chromedp.Do(ctx,
		chromedp.Click("#open li .act a.accept"),
		chromedp.WaitVisible("#waiting"),
		chromedp.Click("#accept-form button[type=submit]"),
		chromedp.WaitVisible("#notice"),
	)
	if err != nil {
		t.Fatalf("accept from the inbox: %v\n%s", err, s.output)
	}
	if by, _ := chromedp.Run(ctx, chromedp.Text("#decided")); !strings.HasPrefix(by, "Decided by "+owner+" on ") {
		t.Errorf("the notice says %q", by)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(inbox), chromedp.WaitVisible("#count")); err != nil {
		t.Fatal(err)
	}
	if count, _ := chromedp.Run(ctx, chromedp.Text("#count")); count != "No lead waits for your decision." {
		t.Fatalf("after the accept the inbox says %q", count)
	}
	id := s.leadID(t, "ada@engines.example")
	l, _, err := s.store(t).GetLead(context.Background(), id)
	if err != nil || l.Sales == nil || l.Sales.By != owner || l.SLA != nil {
		t.Fatalf("after accept: %+v, %v", l, err)
	}
}
