package program

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// SLA is the follow-through sales promises on every alert: an alert nobody
// decided (accepted or returned to nurture) reminds its owner, the address
// it went to, after RemindAfter, and escalates to EscalateTo (or the
// rule's escalateTo) after EscalateAfter. Both count business time from
// the alert: the schedule's days and hours, in the owner's time zone. A
// zero RemindAfter or EscalateAfter turns that step off.
type SLA struct {
	RemindAfter   BusinessDuration `yaml:"remindAfter"`
	EscalateAfter BusinessDuration `yaml:"escalateAfter"`
	EscalateTo    string           `yaml:"escalateTo"`
}

// BusinessDuration is time counted only inside the send window (the
// schedule's days and hours): "4h" is four business hours, "1d" one
// business day, as long as the window is open in a day (09:00-17:00 makes
// it 8 hours), so "1d" after Tuesday 16:00 is Wednesday 16:00.
type BusinessDuration struct {
	Days int
	Time time.Duration // hours and minutes beyond the days
}

// IsZero reports an unset (or zero) duration: the step it times is off.
func (b BusinessDuration) IsZero() bool { return b.Days == 0 && b.Time == 0 }

// In is the duration as business time when a business day is day long.
func (b BusinessDuration) In(day time.Duration) time.Duration {
	return time.Duration(b.Days)*day + b.Time
}

// ParseBusinessDuration reads business time as the program file writes it:
// whole days (d), hours (h) and minutes (m), combined as in "1d4h".
func ParseBusinessDuration(s string) (BusinessDuration, error) {
	var b BusinessDuration
	if s == "0" {
		return b, nil
	}
	if s == "" {
		return b, businessError(s)
	}
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 || i == len(rest) || i > 6 {
			return BusinessDuration{}, businessError(s)
		}
		n, _ := strconv.Atoi(rest[:i])
		switch rest[i] {
		case 'd':
			b.Days += n
		case 'h':
			b.Time += time.Duration(n) * time.Hour
		case 'm':
			b.Time += time.Duration(n) * time.Minute
		default:
			return BusinessDuration{}, businessError(s)
		}
		rest = rest[i+1:]
	}
	return b, nil
}

func businessError(s string) error {
	return fmt.Errorf("%q is not business time; write whole days, hours or minutes, e.g. 4h (four business hours), 1d (one business day) or 1d4h", s)
}

// String writes the duration as ParseBusinessDuration reads it.
func (b BusinessDuration) String() string {
	if b.IsZero() {
		return "0"
	}
	var s strings.Builder
	if b.Days > 0 {
		fmt.Fprintf(&s, "%dd", b.Days)
	}
	if h := b.Time / time.Hour; h > 0 {
		fmt.Fprintf(&s, "%dh", h)
	}
	if m := (b.Time % time.Hour) / time.Minute; m > 0 {
		fmt.Fprintf(&s, "%dm", m)
	}
	return s.String()
}

// UnmarshalYAML reads business time written with ParseBusinessDuration's units.
func (b *BusinessDuration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected business time such as 4h or 1d, found %s", kindName(n))
	}
	v, err := ParseBusinessDuration(strings.TrimSpace(n.Value))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// MarshalYAML writes the duration in the file's own notation.
func (b BusinessDuration) MarshalYAML() (any, error) { return b.String(), nil }

// Mailbox is the bare address of s ("Sales <Sales@Acme.example>" is
// "sales@acme.example"), the one spelling an owner is known by; s itself
// when it is no address.
func Mailbox(s string) string {
	if a, err := mail.ParseAddress(s); err == nil {
		return strings.ToLower(a.Address)
	}
	return strings.ToLower(strings.TrimSpace(s))
}

// Owner is one address alerts go to: who is reminded of an undecided
// alert and gets the daily digest of open ones, where they work, and where
// their undecided alerts escalate.
type Owner struct {
	Address    string // Mailbox of the route
	TimeZone   string // IANA name: their business hours count the SLA
	EscalateTo string // Mailbox of the escalation route; empty for none
}

// Owners lists the routing's addresses, the default first, then the rules'
// in order, each once: with the first time zone and escalation route any
// of its entries gives (the validator refuses two different ones).
func (p *Program) Owners() []Owner {
	var out []Owner
	escalates := !p.Routing.SLA.EscalateAfter.IsZero()
	at := map[string]int{}
	add := func(to, zone, escalate string) {
		if strings.TrimSpace(to) == "" {
			return
		}
		box := Mailbox(to)
		i, seen := at[box]
		if !seen {
			i, at[box] = len(out), len(out)
			out = append(out, Owner{Address: box})
		}
		o := &out[i]
		if o.TimeZone == "" {
			o.TimeZone = zone
		}
		if o.EscalateTo == "" && escalate != "" && escalates {
			o.EscalateTo = Mailbox(escalate)
		}
	}
	add(p.Routing.Default, p.Routing.TimeZone, "")
	for _, r := range p.Routing.Rules {
		add(r.To, r.TimeZone, r.EscalateTo)
	}
	for i := range out {
		out[i].TimeZone = orDefault(out[i].TimeZone, p.Schedule.TimeZone)
		if out[i].EscalateTo == "" && escalates && p.Routing.SLA.EscalateTo != "" {
			out[i].EscalateTo = Mailbox(p.Routing.SLA.EscalateTo)
		}
	}
	return out
}

// Owner finds the owner an address (as Route picks it) stands for; an
// address the routing no longer lists works in the schedule's zone and
// escalates to sla.escalateTo.
func (p *Program) Owner(to string) Owner {
	box := Mailbox(to)
	for _, o := range p.Owners() {
		if o.Address == box {
			return o
		}
	}
	o := Owner{Address: box, TimeZone: p.Schedule.TimeZone}
	if e := p.Routing.SLA.EscalateTo; e != "" && !p.Routing.SLA.EscalateAfter.IsZero() {
		o.EscalateTo = Mailbox(e)
	}
	return o
}

// sla checks the routing's time zones, the SLA and the escalation routes.
func (v *validator) sla() {
	r := v.p.Routing
	if r.TimeZone != "" && !ValidTimeZone(r.TimeZone) {
		v.add("routing.timeZone", "%q is not a time zone; write an IANA name such as Europe/Berlin or America/New_York", r.TimeZone)
	}
	s := r.SLA
	if s.EscalateTo != "" {
		if msg := checkAddress(s.EscalateTo); msg != "" {
			v.add("routing.sla.escalateTo", "%s", msg)
		} else if r.Default != "" && Mailbox(s.EscalateTo) == Mailbox(r.Default) {
			v.add("routing.sla.escalateTo", "escalating to %s, the address that was reminded already, tells nobody new; write the manager's or the team lead's address", s.EscalateTo)
		}
	}
	switch {
	case !s.EscalateAfter.IsZero() && s.EscalateTo == "":
		v.add("routing.sla.escalateTo", "add where undecided alerts escalate after %s, e.g. escalateTo: sales-managers@acme.example, or remove escalateAfter", s.EscalateAfter)
	case s.EscalateAfter.IsZero() && s.EscalateTo != "":
		v.add("routing.sla.escalateAfter", "add how long an alert may wait for a decision before it escalates to %s, e.g. escalateAfter: 1d, or remove escalateTo", s.EscalateTo)
	}
	if day, ok := v.businessDay(); ok && !s.RemindAfter.IsZero() && !s.EscalateAfter.IsZero() && s.EscalateAfter.In(day) <= s.RemindAfter.In(day) {
		v.add("routing.sla.escalateAfter", "escalateAfter %s is not after remindAfter %s, so the manager would hear of an alert before its owner is reminded; write more than %s, e.g. escalateAfter: 1d",
			s.EscalateAfter, s.RemindAfter, s.RemindAfter)
	}
	// An owner works in one zone and escalates to one address: two
	// entries of one address may not give two different ones.
	type given struct{ value, path string }
	zones, escalations := map[string]given{}, map[string]given{}
	once := func(seen map[string]given, path, to, value, what string) {
		if to == "" || value == "" {
			return
		}
		box := Mailbox(to)
		if g, ok := seen[box]; ok && g.value != value {
			v.add(path, "%s has %s %s at %s already; give every rule sending to it the same %s, or leave it out here", to, what, g.value, g.path, what)
			return
		} else if !ok {
			seen[box] = given{value, path}
		}
	}
	once(zones, "routing.timeZone", r.Default, r.TimeZone, "timeZone")
	for i, rule := range r.Rules {
		path := idx("routing.rules", i)
		if rule.TimeZone != "" && !ValidTimeZone(rule.TimeZone) {
			v.add(path+".timeZone", "%q is not a time zone; write an IANA name such as Europe/Berlin or America/New_York", rule.TimeZone)
		} else {
			once(zones, path+".timeZone", rule.To, rule.TimeZone, "timeZone")
		}
		if rule.EscalateTo == "" {
			continue
		}
		switch msg := checkAddress(rule.EscalateTo); {
		case msg != "":
			v.add(path+".escalateTo", "%s", msg)
		case s.EscalateAfter.IsZero():
			v.add(path+".escalateTo", "nothing escalates without routing.sla.escalateAfter; add it (e.g. escalateAfter: 1d), or remove escalateTo")
		case rule.To != "" && Mailbox(rule.EscalateTo) == Mailbox(rule.To):
			v.add(path+".escalateTo", "escalating to %s, the address that was reminded already, tells nobody new; write the manager's or the team lead's address", rule.EscalateTo)
		default:
			once(escalations, path+".escalateTo", rule.To, Mailbox(rule.EscalateTo), "escalateTo")
		}
	}
}

// businessDay is how long the send window is open in a day, if the
// schedule says so readably.
func (v *validator) businessDay() (time.Duration, bool) {
	start, err1 := time.Parse("15:04", v.p.Schedule.Start)
	end, err2 := time.Parse("15:04", v.p.Schedule.End)
	if err1 != nil || err2 != nil || !end.After(start) {
		return 0, false
	}
	return end.Sub(start), true
}
