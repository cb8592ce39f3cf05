package program

import (
	"testing"
	"time"
)

func TestParseBusinessDuration_daysHoursMinutes(t *testing.T) {
	for in, want := range map[string]BusinessDuration{
		"4h":     {Time: 4 * time.Hour},
		"90m":    {Time: 90 * time.Minute},
		"1d":     {Days: 1},
		"2d4h":   {Days: 2, Time: 4 * time.Hour},
		"1h30m":  {Time: 90 * time.Minute},
		"0":      {},
		"1d1d":   {Days: 2},
		"3d0h0m": {Days: 3},
	} {
		got, err := ParseBusinessDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseBusinessDuration(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "4", "h", "1w", "1.5d", "-4h", "4 h", "4hours", "9999999h", "4s"} {
		if got, err := ParseBusinessDuration(in); err == nil {
			t.Errorf("ParseBusinessDuration(%q) = %+v, want an error", in, got)
		}
	}
}

func TestBusinessDuration_writesWhatItReads(t *testing.T) {
	for _, s := range []string{"4h", "1d", "2d4h30m", "45m", "0"} {
		b, err := ParseBusinessDuration(s)
		if err != nil || b.String() != s {
			t.Errorf("%q reads as %+v and writes as %q (%v)", s, b, b.String(), err)
		}
	}
	if got := (BusinessDuration{Days: 1, Time: 4 * time.Hour}).In(8 * time.Hour); got != 12*time.Hour {
		t.Errorf("1d4h with 8-hour business days = %v, want 12h", got)
	}
}

func TestDefault_everyAlertHasAnSLA_andEveryOwnerAnEscalation(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	s := p.Routing.SLA
	if s.RemindAfter.IsZero() || s.EscalateAfter.IsZero() || s.EscalateTo == "" {
		t.Fatalf("routing.sla = %+v, want a reminder and an escalation", s)
	}
	owners := p.Owners()
	if len(owners) != 1+len(p.Routing.Rules) || owners[0].Address != Mailbox(p.Routing.Default) {
		t.Fatalf("owners = %+v", owners)
	}
	for _, o := range owners {
		if o.TimeZone != p.Schedule.TimeZone || o.EscalateTo != "sales-managers@acme.example" {
			t.Errorf("owner %+v", o)
		}
	}
}

func TestOwners_oneEntryPerAddress_withItsZoneAndEscalation(t *testing.T) {
	p := &Program{
		Schedule: Schedule{TimeZone: "Europe/Berlin"},
		Routing: Routing{
			Default: "Sales <Sales@Acme.example>",
			Rules: []Route{
				{Countries: []string{"US"}, To: "us-sales@acme.example", TimeZone: "America/New_York", EscalateTo: "us-lead@acme.example"},
				{Industries: []string{"saas"}, To: "sales@acme.example"},
				{Industries: []string{"retail"}, To: "US-Sales@acme.example"},
			},
			SLA: SLA{EscalateAfter: BusinessDuration{Days: 1}, EscalateTo: "managers@acme.example"},
		},
	}
	got := p.Owners()
	want := []Owner{
		{Address: "sales@acme.example", TimeZone: "Europe/Berlin", EscalateTo: "managers@acme.example"},
		{Address: "us-sales@acme.example", TimeZone: "America/New_York", EscalateTo: "us-lead@acme.example"},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("Owners() = %+v\nwant %+v", got, want)
	}
	if o := p.Owner("us-sales@ACME.example"); o != want[1] {
		t.Errorf("Owner(us-sales) = %+v", o)
	}
	if o := p.Owner("gone@acme.example"); o.TimeZone != "Europe/Berlin" || o.EscalateTo != "managers@acme.example" {
		t.Errorf("an address the routing no longer lists: %+v", o)
	}
	p.Routing.SLA.EscalateAfter = BusinessDuration{}
	if o := p.Owners()[1]; o.EscalateTo != "" {
		t.Errorf("without escalateAfter nothing escalates: %+v", o)
	}
}

func TestParse_slaMistakeInDefault_pointsAtWhatToChange(t *testing.T) {
	checkMistakes(t, []mistake{
		{
			name:    "business time in weeks",
			edit:    edit{"remindAfter: 4h", "remindAfter: 1w"},
			pointAt: "1w\n    escalateAfter", path: "routing.sla.remindAfter",
			msg: `"1w" is not business time; write whole days, hours or minutes, e.g. 4h (four business hours), 1d (one business day) or 1d4h`,
		},
		{
			name:    "escalation before the reminder",
			edit:    edit{"escalateAfter: 1d", "escalateAfter: 3h"},
			pointAt: "3h", path: "routing.sla.escalateAfter",
			msg: "escalateAfter 3h is not after remindAfter 4h, so the manager would hear of an alert before its owner is reminded",
		},
		{
			name:    "escalation without a route",
			edit:    edit{"    escalateTo: sales-managers@acme.example\n", ""},
			pointAt: "sla:\n", path: "routing.sla.escalateTo",
			msg: "add where undecided alerts escalate after 1d, e.g. escalateTo: sales-managers@acme.example",
		},
		{
			name:    "escalation to the owner",
			edit:    edit{"escalateTo: sales-managers@acme.example", "escalateTo: Sales@acme.example"},
			pointAt: "Sales@acme.example", path: "routing.sla.escalateTo",
			msg: "tells nobody new",
		},
		{
			name:    "escalation route not an address",
			edit:    edit{"escalateTo: sales-managers@acme.example", "escalateTo: the managers"},
			pointAt: "the managers", path: "routing.sla.escalateTo",
			msg: `"the managers" is not an email address`,
		},
		{
			name:    "owner's zone misspelt",
			edit:    edit{"      to: enterprise-sales@acme.example\n", "      to: enterprise-sales@acme.example\n      timeZone: Europe/Berln\n"},
			pointAt: "Europe/Berln", path: "routing.rules[1].timeZone",
			msg: `"Europe/Berln" is not a time zone`,
		},
		{
			name: "one owner in two zones",
			edit: edit{"      to: financial-services-sales@acme.example\n    - companySizes: [\"5000+\"]\n      to: enterprise-sales@acme.example\n",
				"      to: us-sales@acme.example\n      timeZone: America/New_York\n    - companySizes: [\"5000+\"]\n      to: US-Sales@acme.example\n      timeZone: America/Chicago\n"},
			pointAt: "America/Chicago", path: "routing.rules[1].timeZone",
			msg: "US-Sales@acme.example has timeZone America/New_York at routing.rules[0].timeZone already; give every rule sending to it the same timeZone",
		},
		{
			name:    "misspelt key in sla",
			edit:    edit{"remindAfter: 4h", "remindAftr: 4h"},
			pointAt: "remindAftr", path: "routing.sla.remindAftr",
			msg: `unknown key "remindAftr"; did you mean "remindAfter"?`,
		},
	})
}
