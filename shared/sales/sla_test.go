package sales_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/token"
)

// withSLA gives the world's program a reminder after 4 business hours and
// an escalation after one business day, counted in the send window.
func (w *world) withSLA() nurture.Window {
	w.t.Helper()
	w.prog.Routing.SLA = program.SLA{
		RemindAfter:   program.BusinessDuration{Time: 4 * time.Hour},
		EscalateAfter: program.BusinessDuration{Days: 1},
		EscalateTo:    "managers@" + w.domain,
	}
	win, err := nurture.NewWindow(w.prog.Schedule)
	if err != nil {
		w.t.Fatal(err)
	}
	w.alerter.Window = win
	return win
}

// tick wakes the lead as the scheduler's tick does when the due index
// brings it: what is due at now is queued, in one write.
func (w *world) tick(id string, now time.Time) {
	w.t.Helper()
	w.clock.Set(now)
	_, err := w.store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
		if !l.Wake(now) {
			return lead.ErrNoChange
		}
		return nil
	})
	if err != nil && !errors.Is(err, lead.ErrNoChange) {
		w.t.Fatal(err)
	}
}

// alerted is a story lead whose MQL alert went out to its owner.
func (w *world) alerted(local string) (id, alertID string) {
	w.t.Helper()
	id = w.storyLead(local)
	alertID = w.lead(id).PendingAlerts[0].ID
	w.flush(id)
	return id, alertID
}

func (w *world) flush(id string) {
	w.t.Helper()
	if err := w.alerter.Flush(context.Background(), id); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) desk() *sales.Desk {
	return &sales.Desk{Program: w.prog, Store: w.store, Window: w.alerter.Window}
}

var textLinkRe = regexp.MustCompile(`(Open the dossier|Accept|Return to nurture): https://api\.acme\.example/s/([A-Za-z0-9_-]+)`)

// checkFreshLinks checks that an email's links are signed at now for their
// lifetime and come in via (the token's Ref after the alert's id).
func (w *world) checkFreshLinks(text, leadID, alertID, via string) {
	w.t.Helper()
	links := textLinkRe.FindAllStringSubmatch(text, -1)
	if len(links) != 3 {
		w.t.Fatalf("links in the text part: %q", links)
	}
	purposes := map[string]string{"Open the dossier": token.PurposeDossier, "Accept": token.PurposeAccept, "Return to nurture": token.PurposeReturn}
	for _, l := range links {
		ttl := sales.LinkLifetime(purposes[l[1]])
		c, err := w.signer.Verify(l[2], purposes[l[1]], w.clock.Now().Add(ttl-time.Minute))
		if err != nil || c.LeadID != leadID || c.Ref != sales.Ref(alertID, via) {
			w.t.Errorf("%s link: claims %+v, %v; want lead %s, ref %s, valid %v from now", l[1], c, err, leadID, sales.Ref(alertID, via), ttl)
		}
	}
}

func TestSLA_noDecision_remindsTheOwner_thenEscalates_eachOnce_withFreshLinks(t *testing.T) {
	w := newWorld(t)
	win := w.withSLA()
	id, alertID := w.alerted("ada")
	owner, manager := "finance-sales@"+w.domain, "managers@"+w.domain
	sentAt := w.clock.Now()
	if n := len(w.mailTo(owner)); n != 1 {
		t.Fatalf("%d alerts to the owner", n)
	}

	l := w.lead(id)
	remindAt := win.AddBusiness(sentAt, w.prog.Routing.SLA.RemindAfter, "")
	escalateAt := win.AddBusiness(sentAt, w.prog.Routing.SLA.EscalateAfter, "")
	if s := l.SLA; s == nil || s.Alert != alertID || s.Owner != owner || !s.Since.Equal(sentAt) || !s.RemindAt.Equal(remindAt) ||
		!s.EscalateAt.Equal(escalateAt) || s.EscalateTo != manager {
		t.Fatalf("SLA = %+v; want reminder %v, escalation %v", l.SLA, remindAt, escalateAt)
	}
	if at, ok := l.WakeAt(); !ok || at.After(remindAt) {
		t.Fatalf("the due index holds the lead until %v, after the reminder %v", at, remindAt)
	}

	// A minute before: nothing. At the time: one reminder, to the owner.
	w.tick(id, remindAt.Add(-time.Minute))
	w.flush(id)
	if n := len(w.mailTo(owner)); n != 1 {
		t.Fatalf("reminded early: %d mails to the owner", n)
	}
	w.tick(id, remindAt)
	w.flush(id)
	w.flush(id) // a retried batch: nothing more
	got := w.mailTo(owner)
	if len(got) != 2 {
		t.Fatalf("%d mails to the owner after the reminder, want the alert and one reminder", len(got))
	}
	reminder := got[1]
	if !strings.HasPrefix(reminder.Subject, "Reminder: MQL: ") || !strings.Contains(reminder.Text, "This lead has waited for your decision since ") ||
		!strings.Contains(reminder.Text, "Accept it, or return it to nurture with a reason; the links below are new.") {
		t.Errorf("reminder: %q\n%s", reminder.Subject, reminder.Text)
	}
	w.checkFreshLinks(reminder.Text, id, alertID, sales.ViaReminder)
	if n := len(w.mailTo(manager)); n != 0 {
		t.Fatalf("the manager heard before the escalation was due")
	}

	// The escalation, once, to the manager.
	w.tick(id, escalateAt)
	w.flush(id)
	if esc := w.mailTo(manager); len(esc) == 1 {
		w.checkFreshLinks(esc[0].Text, id, alertID, sales.ViaEscalation)
	}
	w.tick(id, escalateAt.Add(time.Hour))
	w.flush(id)
	esc := w.mailTo(manager)
	if len(esc) != 1 || !strings.HasPrefix(esc[0].Subject, "Escalation: MQL: ") ||
		!strings.Contains(esc[0].Text, "Nobody has decided about this lead since its alert went to "+owner) ||
		!strings.Contains(esc[0].Text, "(reminded ") || !strings.Contains(esc[0].Text, "Sales inbox of "+owner+": https://api.acme.example/i/") {
		t.Fatalf("escalations: %+v", esc)
	}
	if n := len(w.mailTo(owner)); n != 2 {
		t.Fatalf("%d mails to the owner, want 2", n)
	}
	for _, m := range w.mailer.messages() {
		if m.Tags["kind"] != "alert" || m.Tags["lead"] != id {
			t.Errorf("tags %v", m.Tags)
		}
	}

	l = w.lead(id)
	if len(l.Alerts) != 1 || len(l.PendingAlerts) != 0 || l.SLA == nil || l.SLA.Reminded.IsZero() || l.SLA.Escalated.IsZero() {
		t.Fatalf("after both: alerts %+v pending %+v SLA %+v", l.Alerts, l.PendingAlerts, l.SLA)
	}
	if at := l.SLA; !at.RemindAt.IsZero() || !at.EscalateAt.IsZero() {
		t.Fatalf("follow-ups left due: %+v", at)
	}
	var details []string
	for _, a := range w.activities(id, sales.KindAlert) {
		details = append(details, a.Detail)
	}
	if want := "mql to " + owner + "|mql reminder to " + owner + "|mql escalation to " + manager; strings.Join(details, "|") != want {
		t.Errorf("alert activities %q, want %q", details, want)
	}
}

func (w *world) activities(id, kind string) []lead.Activity {
	w.t.Helper()
	acts, err := w.store.Activities(context.Background(), id, w.clock.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	var out []lead.Activity
	for _, a := range acts {
		if a.Kind == kind {
			out = append(out, a)
		}
	}
	return out
}

func TestSLA_accept_stopsReminderAndEscalation_andRecordsWhoAndWhen(t *testing.T) {
	w := newWorld(t)
	win := w.withSLA()
	id, alertID := w.alerted("ada")
	sentAt := w.clock.Now()
	owner := "finance-sales@" + w.domain

	decidedAt := sentAt.Add(time.Hour)
	d, err := w.desk().Decide(context.Background(), id, sales.Decision{Accept: true, Ref: sales.Ref(alertID, ""), At: decidedAt})
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != lead.SalesAccepted || d.By != owner || !d.At.Equal(decidedAt) {
		t.Fatalf("decision %+v", d)
	}
	l := w.lead(id)
	if l.SLA != nil || l.Sales == nil || *l.Sales != d {
		t.Fatalf("after accept: SLA %+v sales %+v", l.SLA, l.Sales)
	}
	if _, ok := l.WakeAt(); ok {
		t.Fatal("an accepted lead stays in the due index")
	}
	for _, at := range []time.Time{win.AddBusiness(sentAt, w.prog.Routing.SLA.RemindAfter, ""), win.AddBusiness(sentAt, w.prog.Routing.SLA.EscalateAfter, "")} {
		w.tick(id, at)
		w.flush(id)
	}
	if n, m := len(w.mailTo(owner)), len(w.mailTo("managers@"+w.domain)); n != 1 || m != 0 {
		t.Fatalf("after the accept: %d mails to the owner, %d to the manager; want the alert only", n, m)
	}
}

func TestSLA_decisionAfterTheReminderWasQueued_itIsNotSent(t *testing.T) {
	w := newWorld(t)
	win := w.withSLA()
	id, alertID := w.alerted("ada")
	remindAt := win.AddBusiness(w.clock.Now(), w.prog.Routing.SLA.RemindAfter, "")
	w.tick(id, remindAt) // queued, not sent yet
	if p := w.lead(id).PendingAlerts; len(p) != 1 || p[0].Kind != lead.FollowReminder {
		t.Fatalf("pending %+v", p)
	}
	if _, err := w.desk().Decide(context.Background(), id, sales.Decision{Reason: "not-ready", Ref: sales.Ref(alertID, sales.ViaReminder), At: remindAt}); err != nil {
		t.Fatal(err)
	}
	w.flush(id)
	if n := len(w.mailTo("finance-sales@" + w.domain)); n != 1 {
		t.Fatalf("%d mails to the owner, want the alert only", n)
	}
	if l := w.lead(id); len(l.PendingAlerts) != 0 || l.Sales.Status != lead.SalesReturned || l.Sales.By != "finance-sales@"+w.domain {
		t.Fatalf("pending %+v, sales %+v", l.PendingAlerts, l.Sales)
	}
}

func TestDecide_twiceOrTooLate_isAlreadyDecided_byWhomAndWhen_neverAppliedTwice(t *testing.T) {
	w := newWorld(t)
	w.withSLA()
	id, alertID := w.alerted("ada")
	at := w.clock.Now().Add(time.Hour)
	desk := w.desk()

	// The manager decides from the escalation's link.
	first, err := desk.Decide(context.Background(), id, sales.Decision{Accept: true, Ref: sales.Ref(alertID, sales.ViaEscalation), At: at})
	if err != nil || first.By != "managers@"+w.domain {
		t.Fatalf("first decision %+v, %v", first, err)
	}
	version := w.lead(id).Version
	for name, d := range map[string]sales.Decision{
		"the same accept again":          {Accept: true, Ref: alertID, At: at.Add(time.Second)},
		"a return from the alert's link": {Reason: "no-budget", Ref: alertID, At: at.Add(time.Minute)},
		"from a page of an older decision": {Reason: "no-budget", Ref: alertID, Seen: lead.SalesDecision{At: at.Add(-time.Hour)}.Stamp(),
			At: at.Add(time.Minute)},
	} {
		_, err := desk.Decide(context.Background(), id, d)
		var already *sales.AlreadyDecidedError
		if !errors.As(err, &already) || !errors.Is(err, sales.ErrAlreadyDecided) || already.Decision != first {
			t.Errorf("%s: %v, want already decided by %s", name, err, first.By)
		}
	}
	// A return with an unknown reason is refused before anything else.
	if _, err := desk.Decide(context.Background(), id, sales.Decision{Reason: "bored", Ref: alertID, At: at}); !errors.Is(err, sales.ErrUnknownReason) {
		t.Errorf("unknown reason: %v", err)
	}
	if l := w.lead(id); l.Version != version || *l.Sales != first {
		t.Fatalf("a refused decision changed the lead: %+v", l.Sales)
	}
	if n := len(w.activities(id, sales.KindDecision)); n != 1 {
		t.Fatalf("%d decision activities, want 1", n)
	}

	// From the page that showed the accept, the owner changes it.
	changed, err := desk.Decide(context.Background(), id, sales.Decision{Reason: "not-ready", Ref: sales.Ref(alertID, sales.ViaInbox), Seen: first.Stamp(), At: at.Add(time.Hour)})
	if err != nil || changed.Status != lead.SalesReturned || changed.By != "finance-sales@"+w.domain {
		t.Fatalf("changed decision %+v, %v", changed, err)
	}
}

func TestDecide_aNewAlertAfterADecision_takesADecisionAgain(t *testing.T) {
	w := newWorld(t)
	w.withSLA()
	id, first := w.alerted("ada")
	desk := w.desk()
	if _, err := desk.Decide(context.Background(), id, sales.Decision{Reason: "not-ready", Ref: first, At: w.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	// The lead crosses the next threshold: a new alert, a new clock.
	w.clock.Advance(time.Hour)
	_, err := w.store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
		l.PendingAlerts = append(l.PendingAlerts, lead.PendingAlert{ID: "hot-1", Threshold: "hot", Score: 81, At: w.clock.Now()})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	w.flush(id)
	if s := w.lead(id).SLA; s == nil || s.Alert != "hot-1" {
		t.Fatalf("SLA %+v", s)
	}
	d, err := desk.Decide(context.Background(), id, sales.Decision{Accept: true, Ref: "hot-1", At: w.clock.Now()})
	if err != nil || d.Status != lead.SalesAccepted {
		t.Fatalf("decision on the new alert: %+v, %v", d, err)
	}
}

func TestRequestLink_sendsAFreshLinkToTheOwner_onceAnHour(t *testing.T) {
	w := newWorld(t)
	w.withSLA()
	id, alertID := w.alerted("ada")
	owner := "finance-sales@" + w.domain
	w.clock.Advance(40 * 24 * time.Hour)
	for range 2 {
		to, err := w.desk().RequestLink(context.Background(), id, sales.Ref(alertID, sales.ViaReminder), w.clock.Now())
		if err != nil || to != owner {
			t.Fatalf("RequestLink = %q, %v", to, err)
		}
		w.flush(id)
	}
	got := w.mailTo(owner)
	if len(got) != 2 || !strings.HasPrefix(got[1].Subject, "Fresh link: MQL: ") || !strings.Contains(got[1].Text, "the one opened had expired") {
		t.Fatalf("mails to the owner: %d, last %q", len(got), got[len(got)-1].Subject)
	}
	w.checkFreshLinks(got[1].Text, id, alertID, sales.ViaLink)
	if _, err := w.desk().RequestLink(context.Background(), "nobody", "", w.clock.Now()); !errors.Is(err, sales.ErrUnknownLead) {
		t.Fatalf("an unknown lead: %v", err)
	}
}
