// Package mail renders the nurture email and sends messages through SES v2.
//
// Rendering is pure: RenderNurture turns what the scheduler decided into a
// Message with an HTML and a plain-text part and the one-click unsubscribe
// headers. SES is the adapter that sends a Message and sorts SES's failures
// into three kinds a caller can act on: ErrThrottled, ErrRejected and
// ErrTransient.
package mail

import (
	"errors"
	"fmt"
	"strings"
)

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

// Failures of Send, to be tested with errors.Is. The wrapped error keeps
// SES's error code and reason.
var (
	// ErrThrottled means SES refused for rate or quota: slow down and retry.
	ErrThrottled = errors.New("mail: throttled")
	// ErrRejected means this message will never be accepted as it is, or the
	// account may not send at all: do not retry it.
	ErrRejected = errors.New("mail: rejected")
	// ErrTransient is a failure SES reported (5xx, credentials) or a
	// connection that never opened: the message did not go; retry.
	ErrTransient = errors.New("mail: transient failure")
	// ErrUncertain means the request may have reached SES but its answer was
	// lost (connection dropped, timeout): the message may have gone out, and
	// sending it again could mail it twice.
	ErrUncertain = errors.New("mail: outcome unknown")
)

// SES limits a message to 15 custom headers.
const maxHeaders = 15

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
