package program

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DoubleOptIn says whose address must be confirmed before nurture mail
// goes out: the form post only says someone typed the address in. With it
// on, the first email asks the person to confirm (a signed link whose page
// has a Confirm button); until they do, the lead gets no nurture, no
// alerts and no CRM event, and without it the lead expires. In Germany
// (UWG §7 and the case law on proof of consent) marketing email without a
// confirmed opt-in is not defensible.
//
// Required is the default for every form; a form's own doubleOptIn
// overrides it, and a rule for the lead's country (the country field's
// value) overrides both, so a campaign form cannot switch it off where the
// law of the lead's country asks for it.
type DoubleOptIn struct {
	Required  bool            `yaml:"required"`
	Countries map[string]bool `yaml:"countries"`
	// ExpireAfter is how long a confirmation may take; an unconfirmed lead
	// is deleted then and never mailed again.
	ExpireAfter Duration `yaml:"expireAfter"`
	// RemindAfter sends the one reminder this long after the first
	// confirmation email; zero sends none.
	RemindAfter Duration `yaml:"remindAfter"`
	Subject     string   `yaml:"subject"`
	Intro       string   `yaml:"intro"`
	Button      string   `yaml:"button"` // the confirm link's label; a default when empty
}

// ConfirmTrack names the confirmation emails in their tags. No track may
// use it.
const ConfirmTrack = "confirm"

// Defaults and bounds of double opt-in. A week is what most German
// counsel accept as "a reasonable time" to keep an unconfirmed address;
// a month is the most the validator allows.
const (
	DefaultOptInExpiry = 7 * 24 * time.Hour
	MaxOptInExpiry     = 30 * 24 * time.Hour
	DefaultConfirmText = "Yes, confirm my address"
)

// NeedsConfirmation reports whether a lead from the form, in the country
// (its country field's value; empty when unknown), must confirm its
// address before it is mailed: the country's rule, else the form's, else
// the program's.
func (p *Program) NeedsConfirmation(form Form, country string) bool {
	if on, ok := p.DoubleOptIn.Countries[country]; ok && country != "" {
		return on
	}
	if form.DoubleOptIn != nil {
		return *form.DoubleOptIn
	}
	return p.DoubleOptIn.Required
}

// OptInExpiry is how long an unconfirmed lead is kept.
func (p *Program) OptInExpiry() time.Duration {
	if d := p.DoubleOptIn.ExpireAfter.Duration; d > 0 {
		return d
	}
	return DefaultOptInExpiry
}

// ConfirmButton is the label of the confirmation email's button.
func (p *Program) ConfirmButton() string {
	if b := strings.TrimSpace(p.DoubleOptIn.Button); b != "" {
		return b
	}
	return DefaultConfirmText
}

// optInUsed reports whether any form or country can ask for confirmation.
func (p *Program) optInUsed() bool {
	if p.DoubleOptIn.Required {
		return true
	}
	for _, on := range p.DoubleOptIn.Countries {
		if on {
			return true
		}
	}
	return slices.ContainsFunc(p.Forms, func(f Form) bool { return f.DoubleOptIn != nil && *f.DoubleOptIn })
}

func (v *validator) doubleOptIn() {
	d, path := v.p.DoubleOptIn, "doubleOptIn"
	if d.ExpireAfter.Duration < 0 {
		v.add(path+".expireAfter", "expireAfter cannot be negative; write e.g. expireAfter: 7d")
	}
	if d.ExpireAfter.Duration > MaxOptInExpiry {
		v.add(path+".expireAfter", "an unconfirmed address may be kept %s at most; write e.g. expireAfter: 7d", FormatDuration(MaxOptInExpiry))
	}
	expiry := v.p.OptInExpiry()
	switch r := d.RemindAfter.Duration; {
	case r < 0:
		v.add(path+".remindAfter", "remindAfter cannot be negative; write e.g. remindAfter: 2d, or leave it out for no reminder")
	case r > 0 && r >= expiry:
		v.add(path+".remindAfter", "the reminder at %s would come after the address expires (expireAfter: %s); write e.g. remindAfter: 2d, or leave it out for no reminder",
			d.RemindAfter, FormatDuration(expiry))
	}
	var countries []string
	for _, q := range v.p.Questions {
		if q.Field == "country" {
			for _, o := range q.Options {
				countries = append(countries, o.Value)
			}
		}
	}
	for _, c := range sortedKeys(d.Countries) {
		if len(countries) > 0 && !slices.Contains(countries, c) {
			msg := fmt.Sprintf("%q is not a country the forms offer; use one of %s", c, strings.Join(countries, ", "))
			if s := closest(c, countries); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			v.addKey(path+".countries."+c, "%s", msg)
		}
	}
	if !v.p.optInUsed() {
		return
	}
	if strings.TrimSpace(d.Subject) == "" {
		v.add(path+".subject", "add the subject of the confirmation email, e.g. subject: Please confirm your email address")
	}
	v.oneLine(path+".subject", "subject", d.Subject)
	if strings.TrimSpace(d.Intro) == "" {
		v.add(path+".intro", "add one or two sentences asking the person to confirm, e.g. intro: \"Please confirm that you want our articles by email.\"")
	}
	v.oneLine(path+".button", "button label", d.Button)
	for i, f := range v.p.Forms {
		if v.p.NeedsConfirmation(f, "") && (!f.Consent.Required || strings.TrimSpace(f.Consent.Text) == "") {
			v.add(idx("forms", i)+".consent", "a form with double opt-in needs the consent the person confirms: add consent: with required: true, version: and text:")
		}
	}
}
