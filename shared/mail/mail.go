// Package mail is the email the product sends, without the service that
// sends it.
//
// Rendering is pure: RenderNurture turns what the scheduler decided into a
// Message with an HTML and a plain-text part and the one-click unsubscribe
// headers. A Mailer sends a Message (mail/ses is the one on SES) and sorts
// its failures into the kinds a caller can act on: ErrThrottled,
// ErrTransient, ErrUncertain, ErrRejected and ErrAccountPaused.
package mail

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Mailer sends one email and returns the MessageId its events will carry.
// Its failures wrap one of the errors below.
type Mailer interface {
	Send(ctx context.Context, m Message) (string, error)
}

// Message is one email, ready to send.
type Message struct {
	From, To, ReplyTo string
	Subject           string
	HTML, Text        string
	Headers           []Header
	// Tags travel with the message into every SES event, which is how events
	// are joined back to a lead and step. Names and values must be in SES's
	// tag charset: map free text with Tag.
	Tags map[string]string
	// ConfigurationSet overrides the sender's default configuration set.
	ConfigurationSet string
}

// Header is one extra header line of a message.
type Header struct {
	Name, Value string
}

// Failures of Mailer.Send, to be tested with errors.Is; each failure is
// exactly one of them. The wrapped error keeps the service's own code and
// reason for the log.
var (
	// ErrThrottled means the service refused for rate or quota: slow down
	// and retry.
	ErrThrottled = errors.New("mail: throttled")
	// ErrRejected means this message will never be accepted as it is: do
	// not retry it.
	ErrRejected = errors.New("mail: rejected")
	// ErrAccountPaused means the account may not send at all (SES paused
	// or suspended it): no message is at fault and none can go until
	// someone fixes the account, so keep them for later and stop trying.
	ErrAccountPaused = errors.New("mail: account cannot send")
	// ErrTransient is a failure the service reported (5xx, credentials) or
	// a connection that never opened: the message did not go; retry.
	ErrTransient = errors.New("mail: transient failure")
	// ErrUncertain means the request may have reached SES but its answer was
	// lost (connection dropped, timeout): the message may have gone out, and
	// sending it again could mail it twice.
	ErrUncertain = errors.New("mail: outcome unknown")
)

// SES's limits: 15 custom headers and 50 tags a message.
const (
	maxHeaders = 15
	maxTags    = 50
)

// Check reports what makes m unsendable as it is: a line break where it
// could start a header, more headers or tags than SES takes, a header it
// refuses, or a tag outside its charset. A Mailer refuses such a message
// with ErrRejected before it makes any request.
func (m Message) Check() error {
	if err := m.checkHeaders(); err != nil {
		return err
	}
	if len(m.Tags) > maxTags {
		return fmt.Errorf("%d tags: SES allows at most %d", len(m.Tags), maxTags)
	}
	for _, name := range slices.Sorted(maps.Keys(m.Tags)) {
		if value := m.Tags[name]; !validTag(name) || !validTag(value) {
			return fmt.Errorf("tag %q=%q: names and values must be 1-256 of [A-Za-z0-9_-]; map them with mail.Tag", name, value)
		}
	}
	return nil
}

// checkHeaders guards against header injection: a CR or LF in the subject or
// any header value could start a new header or the body, so such a message
// is refused rather than cleaned up.
func (m Message) checkHeaders() error {
	if err := checkHeaderValue("subject", m.Subject); err != nil {
		return err
	}
	for _, f := range []struct{ name, value string }{{"from", m.From}, {"to", m.To}, {"reply-to", m.ReplyTo}} {
		if strings.ContainsAny(f.value, "\r\n") {
			return fmt.Errorf("%s contains a line break", f.name)
		}
	}
	if len(m.Headers) > maxHeaders {
		return fmt.Errorf("%d headers: SES allows at most %d", len(m.Headers), maxHeaders)
	}
	for _, h := range m.Headers {
		if err := checkHeaderName(h.Name); err != nil {
			return err
		}
		if err := checkHeaderValue("header "+h.Name, h.Value); err != nil {
			return err
		}
		if !printableASCII(h.Value) {
			return fmt.Errorf("header %s: SES accepts only printable ASCII in header values", h.Name)
		}
	}
	return nil
}

func checkHeaderValue(what, v string) error {
	if strings.ContainsAny(v, "\r\n") {
		return fmt.Errorf("%s contains a line break", what)
	}
	return nil
}

// checkHeaderName applies SES's rule: 1 to 126 printable ASCII characters
// other than the colon.
func checkHeaderName(name string) error {
	if name == "" || len(name) > 126 {
		return fmt.Errorf("header name %q: want 1 to 126 characters", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return fmt.Errorf("header name %q: only printable ASCII without ':'", name)
		}
	}
	return nil
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 32 || c > 126 {
			return false
		}
	}
	return true
}
