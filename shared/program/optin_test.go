package program

import "testing"

func TestParse_doubleOptInMistake_pointsAtWhatToChange(t *testing.T) {
	checkMistakes(t, []mistake{
		{
			name:    "reminder after the expiry",
			edit:    edit{"  remindAfter: 2d\n", "  remindAfter: 9d\n"},
			pointAt: "9d\n", path: "doubleOptIn.remindAfter",
			msg: "the reminder at 9d would come after the address expires (expireAfter: 7d)",
		},
		{
			name:    "an unconfirmed address kept too long",
			edit:    edit{"  expireAfter: 7d\n", "  expireAfter: 60d\n"},
			pointAt: "60d\n", path: "doubleOptIn.expireAfter",
			msg: "an unconfirmed address may be kept 30d at most",
		},
		{
			name:    "a country the forms do not offer",
			edit:    edit{"countries: { DE: true, AT: true, CH: true }", "countries: { DE: true, AU: true, CH: true }"},
			pointAt: "AU: true", path: "doubleOptIn.countries.AU",
			msg: `"AU" is not a country the forms offer; use one of DE, AT, CH, FR, NL, GB, US, other (did you mean "AT"?)`,
		},
		{
			name:    "no subject",
			edit:    edit{`  subject: "Please confirm your email address"` + "\n", ""},
			pointAt: "doubleOptIn:\n  required", path: "doubleOptIn.subject",
			msg: "add the subject of the confirmation email",
		},
		{
			name:    "not a yes or no",
			edit:    edit{"doubleOptIn:\n  required: true", "doubleOptIn:\n  required: sometimes"},
			pointAt: "sometimes", path: "doubleOptIn.required",
			msg: "true or false",
		},
		{
			name:    "a form with double opt-in and no consent to confirm",
			edit:    edit{"    consent:\n      required: true\n      version: \"2026-01\"\n      text: \"Yes, send me this guide", "    doubleOptIn: true\n    consent:\n      required: false\n      version: \"2026-01\"\n      text: \"Yes, send me this guide"},
			pointAt: "required: false", path: "forms[0].consent",
			msg: "a form with double opt-in needs the consent the person confirms",
		},
	})
}

func TestNeedsConfirmation_countryThenFormThenProgram(t *testing.T) {
	on, off := true, false
	p := &Program{DoubleOptIn: DoubleOptIn{Required: true, Countries: map[string]bool{"DE": true, "US": false}}}
	for _, c := range []struct {
		form    *bool
		country string
		want    bool
	}{
		{nil, "", true}, {nil, "FR", true}, {nil, "US", false}, {nil, "DE", true},
		{&off, "", false}, {&off, "FR", false}, {&off, "DE", true},
		{&on, "US", false}, {&on, "", true},
	} {
		if got := p.NeedsConfirmation(Form{DoubleOptIn: c.form}, c.country); got != c.want {
			t.Errorf("form %v, country %q: %v, want %v", c.form != nil && *c.form, c.country, got, c.want)
		}
	}
	if (&Program{}).NeedsConfirmation(Form{}, "DE") {
		t.Error("a program without doubleOptIn asks for confirmation")
	}
}
