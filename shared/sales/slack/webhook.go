// Package slack posts sales alerts to a Slack incoming webhook, or to
// anything that speaks its format (Mattermost, Rocket.Chat, Teams
// workflows ...).
package slack

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadnurture/nurture/shared/display"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/webhook"
)

// Webhook posts alerts to an incoming webhook: a "text" that stands alone
// and Block Kit "blocks" that show the lead.
type Webhook struct {
	URL    string
	Client *http.Client // nil: a client with a 10s timeout
	// Attempts is how often a post is tried in all (default 4).
	Attempts int
	// Backoff is the wait before the first retry, doubling after each
	// (default 500ms). A Retry-After from the server replaces it.
	Backoff time.Duration
	// MaxWait caps a server's Retry-After (default 30s).
	MaxWait time.Duration
}

var _ sales.Webhook = (*Webhook)(nil)

// Webhook defaults.
const (
	DefaultAttempts = 4
	DefaultBackoff  = 500 * time.Millisecond
	DefaultMaxWait  = 30 * time.Second
)

var defaultClient = &http.Client{Timeout: 10 * time.Second}

// Outbox is the webhook as the alerts function posts with it: a post holds
// a batch of the table's stream, not a person, so two tries of at most 5 s
// each; a failed post is tried again later from the lead's outbox
// (sales.RetryDelay), without mailing again.
func Outbox(url string) *Webhook {
	return &Webhook{URL: url, Client: &http.Client{Timeout: 5 * time.Second}, Attempts: 2}
}

// StatusError is a post the server refused with an HTTP status.
type StatusError struct {
	Status int
	Body   string // the start of the answer, e.g. Slack's "invalid_blocks"
}

func (e *StatusError) Error() string {
	s := "webhook answered " + strconv.Itoa(e.Status)
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// Post sends the alert of a dossier with its links. It retries network
// errors, 408, 429 and 5xx answers, waiting Backoff (doubling) or what the
// server's Retry-After asks, up to MaxWait; any other 4xx gives up at once,
// since the same payload would be refused again. Errors never contain the
// webhook URL, which is a secret.
func (w *Webhook) Post(ctx context.Context, d sales.Dossier, links sales.AlertLinks) error {
	if w.URL == "" {
		return errors.New("webhook: no URL")
	}
	body, err := marshalNoEscape(slackMessage(d, links))
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	attempts, delay, maxWait := w.Attempts, w.Backoff, w.MaxWait
	if attempts <= 0 {
		attempts = DefaultAttempts
	}
	if delay <= 0 {
		delay = DefaultBackoff
	}
	if maxWait <= 0 {
		maxWait = DefaultMaxWait
	}
	var last error
	for attempt := 1; ; attempt++ {
		retryAfter, retry, err := w.post(ctx, body)
		if err == nil {
			return nil
		}
		last = err
		if !retry {
			return fmt.Errorf("webhook: %w", err)
		}
		if attempt >= attempts {
			return fmt.Errorf("webhook: gave up after %d attempts: %w", attempts, last)
		}
		wait := delay
		if retryAfter > 0 {
			wait = min(retryAfter, maxWait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("webhook: %w (last attempt: %w)", ctx.Err(), last)
		case <-t.C:
		}
		delay *= 2
	}
}

// post makes one attempt and says whether another may succeed, and after
// how long the server asked to wait (zero: not said).
func (w *Webhook) post(ctx context.Context, body []byte) (time.Duration, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, false, errors.New("invalid webhook URL")
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	client := w.Client
	if client == nil {
		client = defaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, false, ctx.Err()
		}
		// A *url.Error names the URL, and with it the webhook's secret.
		return 0, true, webhook.Redact(err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // lets the connection be reused
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, false, nil
	}
	werr := &StatusError{Status: resp.StatusCode, Body: oneLine(string(snippet))}
	if webhook.Retryable(resp.StatusCode) {
		return webhook.RetryAfter(resp.Header.Get("Retry-After"), time.Now()), true, werr
	}
	return 0, false, werr
}

func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // Slack's own escapes (&lt;) stay readable
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// Slack's limits: a section's text 3000 characters, a field 2000, at most
// 10 fields.
const (
	slackTextMax   = 3000
	slackFieldMax  = 2000
	slackMaxEvents = 15
)

type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type slackBlock struct {
	Type     string      `json:"type"`
	Text     *slackText  `json:"text,omitempty"`
	Fields   []slackText `json:"fields,omitempty"`
	Elements []any       `json:"elements,omitempty"`
}

type slackButton struct {
	Type     string    `json:"type"`
	Text     slackText `json:"text"`
	URL      string    `json:"url"`
	ActionID string    `json:"action_id"`
	Style    string    `json:"style,omitempty"`
}

type slackPayload struct {
	Text   string       `json:"text"`
	Blocks []slackBlock `json:"blocks"`
}

func mrkdwn(s string) *slackText { return &slackText{Type: "mrkdwn", Text: s} }

// slackMessage is the webhook payload of an alert. Everything from the lead
// is escaped for Slack (&, <, >), so a name cannot mention @channel or
// smuggle a link in.
func slackMessage(d sales.Dossier, links sales.AlertLinks) slackPayload {
	v := sales.NewAlertView(d, links)
	e := func(s string, max int) string { return display.Slack(truncate(s, max)) }

	headline := "*" + e(v.Level, 100) + "* · score *" + v.Score + "*\n*<" + links.Dossier + "|" + e(v.Name, 200) + ">*"
	if v.Headline != "" {
		headline += " — " + e(v.Headline, 300)
	}
	var fields []slackText
	for _, f := range v.Profile {
		if f.Label == "Name" || f.Label == "Role" || f.Label == "Company" {
			continue // in the headline
		}
		fields = append(fields, slackText{Type: "mrkdwn", Text: "*" + f.Label + "*\n" + e(f.Value, slackFieldMax-50)})
	}
	fields = append(fields, slackText{Type: "mrkdwn", Text: "*Score*\n" + v.Score + " (" + e(v.Level, 100) + ")"})
	if len(fields) > 10 {
		fields = fields[:10]
	}
	blocks := []slackBlock{{Type: "section", Text: mrkdwn(headline), Fields: fields}}

	if len(v.Reasons) > 0 {
		var b strings.Builder
		b.WriteString("*Why the score*")
		for _, r := range v.Reasons {
			b.WriteString("\n• " + r.Points + " " + e(r.Why, 300))
		}
		blocks = append(blocks, slackBlock{Type: "section", Text: mrkdwn(b.String())})
	}
	if len(v.Answers) > 0 {
		var b strings.Builder
		b.WriteString("*Answers*")
		for _, a := range v.Answers {
			b.WriteString("\n• " + e(a.Label, 200) + " *" + e(a.Value, 200) + "*")
		}
		blocks = append(blocks, slackBlock{Type: "section", Text: mrkdwn(b.String())})
	}
	if len(v.Words) > 0 {
		var b strings.Builder
		b.WriteString("*In their own words*")
		for _, w := range v.Words {
			b.WriteString("\n> " + e(w.Value, 600) + "\n_" + e(w.Label, 200) + "_")
		}
		blocks = append(blocks, slackBlock{Type: "section", Text: mrkdwn(truncate(b.String(), slackTextMax))})
	}
	if len(v.Events) > 0 {
		events := v.Events
		earlier := v.Earlier
		if len(events) > slackMaxEvents {
			earlier += len(events) - slackMaxEvents
			events = events[len(events)-slackMaxEvents:]
		}
		head := "*What happened* (UTC)"
		if v.Summary != "" {
			head += "\n" + e(v.Summary, 400)
		}
		if earlier > 0 {
			head += "\n_" + strconv.Itoa(earlier) + " earlier events on the dossier page_"
		}
		if v.Older {
			head += "\n_older activity is not shown; the score counts it_"
		}
		var lines []string
		for _, ev := range events {
			s := "• " + ev.Date + " — " + e(ev.What, 300)
			if ev.Machine {
				s = "• " + ev.Date + " — _" + e(ev.What+" "+ev.Note, 400) + "_"
			} else if ev.Points != "" {
				s += " (" + ev.Points + ")"
			}
			lines = append(lines, s)
		}
		// Keep the newest lines that fit in one section.
		text := head
		for i := len(lines); i > 0; i-- {
			body := strings.Join(lines[len(lines)-i:], "\n")
			if utf8.RuneCountInString(head)+1+utf8.RuneCountInString(body) <= slackTextMax {
				text = head + "\n" + body
				break
			}
		}
		blocks = append(blocks, slackBlock{Type: "section", Text: mrkdwn(text)})
	}
	var notes []string
	if v.Topics != "" {
		notes = append(notes, "Topics: "+e(v.Topics, 300))
	}
	for _, s := range v.Status {
		notes = append(notes, e(s, 300))
	}
	if len(v.Talking) > 0 {
		var b strings.Builder
		b.WriteString("*Talking points*")
		for _, t := range v.Talking {
			b.WriteString("\n• " + e(t, 400))
		}
		blocks = append(blocks, slackBlock{Type: "section", Text: mrkdwn(truncate(b.String(), slackTextMax))})
	}
	if len(notes) > 0 {
		blocks = append(blocks, slackBlock{Type: "context", Elements: []any{mrkdwn(strings.Join(notes, " · "))}})
	}
	blocks = append(blocks, slackBlock{Type: "actions", Elements: []any{
		slackButton{Type: "button", Text: slackText{Type: "plain_text", Text: "Open the dossier"}, URL: links.Dossier, ActionID: "dossier", Style: "primary"},
		slackButton{Type: "button", Text: slackText{Type: "plain_text", Text: "Accept"}, URL: links.Accept, ActionID: "accept"},
		slackButton{Type: "button", Text: slackText{Type: "plain_text", Text: "Return to nurture"}, URL: links.Return, ActionID: "return"},
	}})

	// The text stands alone for notifications and clients without blocks.
	text := e(v.Subject, 500) + " · <" + links.Dossier + "|Open the dossier> · <" + links.Accept + "|Accept> · <" + links.Return + "|Return to nurture>"
	return slackPayload{Text: text, Blocks: blocks}
}

// oneLine folds an answer's line breaks and control characters to spaces,
// so it cannot forge lines in a log.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}

// truncate shortens s to at most max characters, ending in "…" when cut.
func truncate(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	r := []rune(s)
	return string(r[:max-1]) + "…"
}
