package mail

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/display"
	"github.com/leadnurture/nurture/shared/program"
)

// ConfirmEmail asks a person to confirm their address (double opt-in).
// It carries no advertising and no content: a German court may count a
// confirmation email with an offer in it as the unsolicited mail it is
// meant to prevent. It names what was asked for, the consent wording, the
// one button, and what happens if it was not them.
type ConfirmEmail struct {
	To        string
	FirstName string // as NurtureEmail.FirstName
	Sender    program.Sender
	Subject   string
	Intro     string
	Consent   string // the form's consent wording the person confirms
	Button    string
	URL       string // the signed confirmation link
	Expires   time.Time
	// Reminder marks the one reminder; Remind, on the first email, says
	// that one will come.
	Reminder, Remind bool
}

//go:embed confirm.html.tmpl
var confirmHTML string

var confirmTemplate = template.Must(template.New("confirm").Parse(confirmHTML))

type confirmView struct {
	Subject, Greeting, Consent, Button, URL, Ignore, Address string
	Intro                                                    []string
}

// RenderConfirm builds the confirmation email: HTML (escaped, inline
// styles) and plain text with the link written out. The link carries
// ses:no-track: SES's click tracking must not stand between the person
// and the page, and a scanner's click on it changes nothing anyway.
func RenderConfirm(e ConfirmEmail) (Message, error) {
	var errs []error
	for what, v := range map[string]string{"recipient": e.To, "sender address": e.Sender.From, "subject": e.Subject, "button label": e.Button, "sender postal address": e.Sender.PostalAddress} {
		if strings.TrimSpace(v) == "" {
			errs = append(errs, fmt.Errorf("no %s", what))
		}
	}
	errs = append(errs, checkLink("confirmation URL", e.URL), checkHeaderValue("subject", e.Subject))
	if err := errors.Join(errs...); err != nil {
		return Message{}, fmt.Errorf("render confirmation email: %w", err)
	}
	v := confirmView{
		Subject: e.Subject, Greeting: "Hello,", Intro: paragraphs(e.Intro), Consent: oneLine(e.Consent),
		Button: oneLine(e.Button), URL: e.URL,
		Address: footerAddress(oneLine(e.Sender.Company), oneLine(e.Sender.PostalAddress)),
	}
	if name, ok := display.Name(e.FirstName); ok {
		v.Greeting = "Hi " + name + ","
	}
	v.Ignore = "If you did not ask for this, ignore this email: without your confirmation we delete your address on " +
		e.Expires.Format("2 January 2006") + " and write to you no more."
	if e.Remind {
		v.Ignore = "If you did not ask for this, ignore this email: without your confirmation we send one reminder, delete your address on " +
			e.Expires.Format("2 January 2006") + " and write to you no more."
	}
	if e.Reminder {
		v.Ignore = "This is the only reminder. If you did not ask for this, ignore it: we delete your address on " +
			e.Expires.Format("2 January 2006") + " and write to you no more."
	}
	var html bytes.Buffer
	if err := confirmTemplate.Execute(&html, v); err != nil {
		return Message{}, fmt.Errorf("render confirmation email: %w", err)
	}
	m := Message{
		From: e.Sender.From, To: e.To, ReplyTo: e.Sender.ReplyTo, Subject: e.Subject,
		HTML: html.String(), Text: v.text(),
	}
	if err := m.checkHeaders(); err != nil {
		return Message{}, fmt.Errorf("render confirmation email: %w", err)
	}
	return m, nil
}

func (v confirmView) text() string {
	var b strings.Builder
	b.WriteString(v.Greeting + "\n\n")
	for _, p := range v.Intro {
		b.WriteString(p + "\n\n")
	}
	if v.Consent != "" {
		b.WriteString("You agreed: “" + v.Consent + "”\n\n")
	}
	b.WriteString(v.Button + ": " + v.URL + "\n\n")
	b.WriteString(v.Ignore + "\n\n-- \n" + v.Address + "\n")
	return b.String()
}
