package sales

import (
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// Follow-through on an alert: the SLA's clock starts when the alert's
// email goes out (openSLA); its reminder and escalation, and a fresh link
// asked for on an expired one, are pending alerts of their kind that the
// Alerter sends like the alert, each once, to its own recipient and with
// links of its own.

// Vias say which mail a sales link came in: its token's Ref is the alert's
// id, then a dot and the via (none for the alert's own links). The
// decision it posts records who decided by it: the escalation route for an
// escalation's link, the owner for every other.
const (
	ViaReminder   = "r"
	ViaEscalation = "e"
	ViaLink       = "l"
	ViaDigest     = "d"
	ViaInbox      = "i"
)

// Ref is the token Ref of a link about alertID that comes in via.
func Ref(alertID, via string) string {
	if via == "" {
		return alertID
	}
	return alertID + "." + via
}

// ParseRef splits a sales token's Ref into the alert and the via.
func ParseRef(ref string) (alertID, via string) {
	alertID, via, _ = strings.Cut(ref, ".")
	return alertID, via
}

// viaOf is the via of a pending alert's links.
func viaOf(p lead.PendingAlert) string {
	switch p.Kind {
	case lead.FollowReminder:
		return ViaReminder
	case lead.FollowEscalation:
		return ViaEscalation
	case lead.FollowLink:
		return ViaLink
	}
	return ""
}

// about is the alert a pending alert is about: itself, or the one it follows up.
func about(p lead.PendingAlert) string {
	if p.Of != "" {
		return p.Of
	}
	return p.ID
}

// openSLA starts the SLA of an alert whose email went out to its owner:
// the reminder after routing.sla.remindAfter, the escalation after
// escalateAfter, both business time in the owner's zone.
func (a *Alerter) openSLA(l *lead.Lead, sent lead.SentAlert) {
	owner := a.Program.Owner(sent.To)
	rules := a.Program.Routing.SLA
	s := lead.SLA{Alert: sent.ID, Threshold: sent.Threshold, Owner: owner.Address, Since: sent.At}
	if !rules.RemindAfter.IsZero() {
		s.RemindAt = a.Window.AddBusiness(sent.At, rules.RemindAfter, owner.TimeZone)
	}
	if !rules.EscalateAfter.IsZero() && owner.EscalateTo != "" {
		s.EscalateAt = a.Window.AddBusiness(sent.At, rules.EscalateAfter, owner.TimeZone)
		s.EscalateTo = owner.EscalateTo
	}
	l.Open(s)
}

// moot reports a follow-up the lead no longer needs: its alert was decided.
func moot(l *lead.Lead, p lead.PendingAlert) bool {
	return p.FollowUp() && (l.SLA == nil || l.SLA.Alert != p.Of)
}

// followNote is what a follow-up says above the alert's content, and what
// its subject starts with.
func followNote(p *program.Program, l *lead.Lead, f lead.PendingAlert) (prefix, note string) {
	s := l.SLA
	zone := p.Schedule.TimeZone
	if s != nil {
		zone = p.Owner(s.Owner).TimeZone
	}
	when := func(t time.Time) string { return inZone(t, zone).Format("Mon 2 Jan 15:04 MST") }
	switch f.Kind {
	case lead.FollowReminder:
		note = "This lead is still waiting for your decision."
		if s != nil {
			note = "This lead has waited for your decision since " + when(s.Since) + "."
		}
		return "Reminder", note + " Accept it, or return it to nurture with a reason; the links below are new."
	case lead.FollowEscalation:
		note = "Nobody has decided about this lead yet."
		if s != nil {
			note = "Nobody has decided about this lead since its alert went to " + s.Owner + " on " + when(s.Since)
			if !s.Reminded.IsZero() {
				note += " (reminded " + when(s.Reminded) + ")"
			}
			note += "."
		}
		return "Escalation", note + " You get this as the escalation route: accept the lead or return it to nurture for the team, or pass it on."
	case lead.FollowLink:
		return "Fresh link", "Here is the fresh link to this lead's dossier that was asked for: the one opened had expired."
	}
	return "", ""
}

func inZone(t time.Time, zone string) time.Time {
	if loc, err := time.LoadLocation(zone); err == nil && zone != "" {
		return t.In(loc)
	}
	return t.UTC()
}
