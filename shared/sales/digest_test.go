package sales_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/token"
)

func (w *world) digest() *sales.Digest {
	return &sales.Digest{Program: w.prog, Store: w.store, Mailer: w.mailer, Signer: w.signer, BaseURL: "https://api.acme.example", Window: w.alerter.Window}
}

func (w *world) sendDigests(at time.Time) int {
	w.t.Helper()
	w.clock.Set(at)
	n, err := w.digest().Send(context.Background(), at)
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

var digestLinkRe = regexp.MustCompile(`Dossier: https://api\.acme\.example/s/([A-Za-z0-9_-]+)`)

func TestDigest_onceABusinessDay_listsEachOwnersOpenLeads_oldestFirst_withFreshLinks(t *testing.T) {
	w := newWorld(t)
	w.withSLA()
	ada, adaAlert := w.alerted("ada") // finance: its owner is finance-sales
	grace, _ := w.pendingLead("grace", nil)
	w.flush(grace) // routed to the default owner
	owner := "finance-sales@" + w.domain
	loc, _ := time.LoadLocation(w.prog.Schedule.TimeZone)
	day := w.clock.Now().In(loc) // a Thursday
	nextMorning := time.Date(day.Year(), day.Month(), day.Day()+1, 9, 5, 0, 0, loc)
	if nextMorning.Weekday() != time.Friday {
		t.Fatalf("the story ends on %v, not a Thursday", day.Weekday())
	}

	if n := w.sendDigests(time.Date(day.Year(), day.Month(), day.Day()+1, 7, 0, 0, 0, loc)); n != 0 {
		t.Fatalf("%d digests before business hours", n)
	}
	if n := w.sendDigests(nextMorning); n != 2 {
		t.Fatalf("%d digests at the day's start, want one to each owner with an open alert", n)
	}
	if n := w.sendDigests(nextMorning.Add(24 * time.Hour)); n != 0 {
		t.Fatalf("%d digests on a Saturday", n)
	}
	if n := w.sendDigests(nextMorning.Add(5 * time.Minute)); n != 0 {
		t.Fatalf("%d digests on the next tick of the same day", n)
	}
	got := w.mailTo(owner)
	if len(got) != 2 { // the alert, the digest
		t.Fatalf("%d mails to %s", len(got), owner)
	}
	d := got[1]
	if !strings.HasPrefix(d.Subject, "1 sales-ready lead waits for your decision (") || !strings.Contains(d.Text, "Analytical Engines") ||
		!strings.Contains(d.Text, "MQL, score ") || !strings.Contains(d.Text, "reminder due ") {
		t.Errorf("digest %q:\n%s", d.Subject, d.Text)
	}
	links := digestLinkRe.FindAllStringSubmatch(d.Text, -1)
	if len(links) != 1 {
		t.Fatalf("dossier links %q", links)
	}
	c, err := w.signer.Verify(links[0][1], token.PurposeDossier, nextMorning.Add(sales.LinkTTL-time.Minute))
	if err != nil || c.LeadID != ada || c.Ref != sales.Ref(adaAlert, sales.ViaDigest) {
		t.Errorf("dossier link claims %+v, %v", c, err)
	}
	inbox := regexp.MustCompile(`Your sales inbox: https://api\.acme\.example/i/([A-Za-z0-9_-]+)`).FindStringSubmatch(d.Text)
	if inbox == nil {
		t.Fatalf("no inbox link:\n%s", d.Text)
	}
	if c, err := w.signer.Verify(inbox[1], token.PurposeInbox, nextMorning.Add(sales.InboxTTL-time.Minute)); err != nil || c.Ref != owner {
		t.Errorf("inbox link claims %+v, %v", c, err)
	}
	if m := w.mailer.messages(); m[len(m)-1].Tags["kind"] != sales.KindDigest {
		t.Errorf("tags %v", m[len(m)-1].Tags)
	}

	// Decided: Monday's digest has nothing to say to its owner, and still
	// lists the other owner's lead.
	if _, err := w.desk().Decide(context.Background(), ada, sales.Decision{Accept: true, Ref: sales.Ref(adaAlert, sales.ViaDigest), At: nextMorning.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n := w.sendDigests(nextMorning.Add(72 * time.Hour)); n != 1 || len(w.mailTo(owner)) != 2 || len(w.mailTo("sales@"+w.domain)) != 3 {
		t.Fatalf("Monday: %d digests; %d mails to %s, %d to the default owner", n, len(w.mailTo(owner)), owner, len(w.mailTo("sales@"+w.domain)))
	}
}

func TestDigest_listsTheLongestWaitingFirst(t *testing.T) {
	w := newWorld(t)
	w.withSLA()
	start := w.clock.Now()
	var ids []string
	for i, local := range []string{"first", "second", "third"} {
		w.clock.Set(start.Add(time.Duration(i) * time.Hour))
		id, _ := w.pendingLead(local, nil)
		w.flush(id)
		ids = append(ids, id)
	}
	if n := w.sendDigests(start.Add(24 * time.Hour)); n != 1 {
		t.Fatalf("%d digests", n)
	}
	got := w.mailTo("sales@" + w.domain)
	d := got[len(got)-1]
	if !strings.HasPrefix(d.Subject, "3 sales-ready leads wait for your decision (oldest 24 hours)") {
		t.Errorf("subject %q", d.Subject)
	}
	links := digestLinkRe.FindAllStringSubmatch(d.Text, -1)
	if len(links) != 3 {
		t.Fatalf("links %q", links)
	}
	for i, l := range links {
		if c, err := w.signer.Verify(l[1], token.PurposeDossier, w.clock.Now()); err != nil || c.LeadID != ids[i] {
			t.Errorf("row %d is lead %s (%v), want %s", i, c.LeadID, err, ids[i])
		}
	}
}

func TestDigest_refusedBySES_isSentByALaterTick_thatDay(t *testing.T) {
	w := newWorld(t)
	w.withSLA()
	id, _ := w.pendingLead("grace", nil)
	w.flush(id)
	at := w.clock.Now().Add(24 * time.Hour)
	w.mailer.fail = fmt.Errorf("slow down: %w", mail.ErrThrottled)
	if _, err := w.digest().Send(context.Background(), at); err == nil {
		t.Fatal("a throttled digest reported no error")
	}
	w.mailer.fail = nil
	if n := w.sendDigests(at.Add(5 * time.Minute)); n != 1 {
		t.Fatalf("%d digests on the next tick after a refusal, want 1", n)
	}
}
