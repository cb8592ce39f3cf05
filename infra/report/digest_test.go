package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The weekly digest of the scripted history: on Monday morning the report
// function mails reports.to the week's headline numbers against the week
// before and a link that opens the results; a second run that week sends
// nothing.
func TestDigest_mondayMorning_headlineAndLink_once(t *testing.T) {
	h := newHistory(t)
	h.play()
	to := h.Program.Reports.To[0]
	subject := "Program results, week of 30 Nov 2026"
	digests := func() int {
		n := 0
		for _, m := range h.MailTo(to) {
			if m.Subject == subject {
				n++
			}
		}
		return n
	}
	sunday := time.Date(2026, 12, 6, 23, 0, 0, 0, time.UTC)
	h.Clock.Set(sunday)
	if err := h.App.RunReport(context.Background(), h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	if n := digests(); n != 0 {
		t.Fatalf("the week's digest went out on Sunday: %d", n)
	}
	h.Clock.Set(time.Date(2026, 12, 7, 7, 0, 0, 0, time.UTC))
	for range 2 {
		if err := h.App.RunReport(context.Background(), h.Clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if n := digests(); n != 1 {
		t.Fatalf("%d digests to %s, want one", n, to)
	}
	var text string
	for _, m := range h.MailTo(to) {
		if m.Subject == subject {
			text = m.Text
		}
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`Leads captured\s+6\s+\+6`),
		regexp.MustCompile(`Sales-ready leads\s+2\s+\+2`),
		regexp.MustCompile(`Decided within the SLA\s+100\.0%\s+\+100\.0 points`),
	} {
		if !want.MatchString(text) {
			t.Errorf("the digest does not say %s:\n%s", want, text)
		}
	}
	link := regexp.MustCompile(`https://\S+/results/\S+`).FindString(text)
	if link == "" {
		t.Fatalf("no results link in:\n%s", text)
	}
	if resp := h.Open(http.MethodGet, link+"?from=2026-11-30&to=2026-12-06", nil); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, "Program results") {
		t.Fatalf("the digest's link: %d", resp.StatusCode)
	}
}
