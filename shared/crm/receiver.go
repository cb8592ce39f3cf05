package crm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/webhook"
)

// Receiver is the CRM's webhook: where events are posted, and the secrets
// they are signed with.
type Receiver struct {
	URL     string
	Secrets []string // newest first; every delivery is signed with each
	// Client posts; nil uses one with Timeout.
	Client *http.Client
	// Timeout bounds one delivery (DefaultTimeout): a receiver that never
	// answers costs its own event this long, and nothing else.
	Timeout time.Duration
	// Clock stamps the signatures; nil is the system clock. Receivers
	// check the stamp against their own clock, so it is real time even
	// where the product's clock is moved (make run).
	Clock clock.Clock
}

// DefaultTimeout bounds one delivery. Receivers should answer 2xx at
// once and do their work afterwards, as Stripe and GitHub ask theirs to.
const DefaultTimeout = 5 * time.Second

// NewReceiver checks the settings of a receiver: an http(s) URL (https
// outside this machine) and the signing secrets (ParseSecrets).
func NewReceiver(rawURL, secrets string) (*Receiver, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname()))) {
		return nil, errors.New("EVENTS_URL: want an https:// URL (http:// only to this machine)")
	}
	s, err := ParseSecrets(secrets)
	if err != nil {
		return nil, fmt.Errorf("EVENTS_SECRET: %w", err)
	}
	return &Receiver{URL: rawURL, Secrets: s}, nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

// Outcome is what one delivery came to.
type Outcome struct {
	// Status is the receiver's HTTP status; 0 when it never answered.
	Status int
	// RetryAfter is how long the receiver asked to wait (429, 503).
	RetryAfter time.Duration
	// Err says why it failed; nil when the receiver took the event (2xx).
	// It never names the URL.
	Err error
}

// Delivered reports whether the receiver took the event.
func (o Outcome) Delivered() bool { return o.Err == nil }

// Deliver posts one event's body, signed now, once. Any answer but a
// 2xx is a failure to try again later (the Sender's backoff): a 4xx as
// much as a 5xx, since a receiver that refuses an event is usually fixed
// within hours, and the event must not be lost meanwhile.
func (r *Receiver) Deliver(ctx context.Context, id, typ string, body []byte) Outcome {
	now := r.now()
	ctx, cancel := context.WithTimeout(ctx, r.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(body))
	if err != nil {
		return Outcome{Err: errors.New("invalid events URL")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "lead-nurturing-events/"+strconv.Itoa(Version))
	req.Header.Set(EventIDHeader, id)
	req.Header.Set(EventTypeHeader, typ)
	req.Header.Set(SignatureHeader, Sign(body, now, r.Secrets...))
	client := r.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return Outcome{Err: webhook.Redact(err)}
	}
	defer resp.Body.Close()
	// Enough of the answer to reuse the connection; the rest is the
	// receiver's business.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	o := Outcome{Status: resp.StatusCode}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		o.Err = fmt.Errorf("receiver answered %d", resp.StatusCode)
		if webhook.Retryable(resp.StatusCode) {
			o.RetryAfter = webhook.RetryAfter(resp.Header.Get("Retry-After"), now)
		}
	}
	return o
}

func (r *Receiver) timeout() time.Duration {
	if r.Timeout <= 0 {
		return DefaultTimeout
	}
	return r.Timeout
}

func (r *Receiver) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}
