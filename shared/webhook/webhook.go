// Package webhook holds what the product's webhook posters share (the
// sales alerts' chat webhook, the CRM's lifecycle events): which answers
// are worth another try, how long the server asked to wait, and errors
// that never name the URL, which is a secret.
package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Retryable reports whether an answer with this status may succeed on
// another try: a timeout, too many requests, a server error.
func Retryable(status int) bool {
	return status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500
}

// RetryAfter reads a Retry-After header, delay-seconds or an HTTP date
// (against now), at most a day; zero when it says nothing usable.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, 24*3600)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, 24*time.Hour)
		}
	}
	return 0
}

// Redact returns a transport error without the URL a *url.Error names.
func Redact(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%s: %w", strings.ToLower(uerr.Op), uerr.Err)
	}
	return err
}
