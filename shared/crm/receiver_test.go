package crm

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/clock"
)

func TestDeliver_saysWhatTheReceiverAnswered(t *testing.T) {
	for name, tc := range map[string]struct {
		status     int
		retryAfter string
		delivered  bool
		wait       time.Duration
	}{
		"200":                        {200, "", true, 0},
		"204":                        {204, "", true, 0},
		"400: tried again later":     {400, "", false, 0},
		"503":                        {503, "", false, 0},
		"503 with Retry-After":       {503, "120", false, 2 * time.Minute},
		"429 with an HTTP date":      {429, at.Add(10 * time.Minute).Format(http.TimeFormat), false, 10 * time.Minute},
		"400 ignores Retry-After":    {400, "120", false, 0},
		"302 is no delivery":         {302, "", false, 0},
		"429 with a bad Retry-After": {429, "soon", false, 0},
	} {
		t.Run(name, func(t *testing.T) {
			var got http.Header
			var body string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Clone()
				b, _ := io.ReadAll(r.Body)
				body = string(b)
				if tc.retryAfter != "" {
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			r := &Receiver{URL: srv.URL, Secrets: []string{newSecret}, Clock: clock.NewFixed(at), Client: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
			o := r.Deliver(context.Background(), "evt_1", "lead.captured", []byte(`{"id":"evt_1"}`))
			if o.Delivered() != tc.delivered || o.Status != tc.status || o.RetryAfter != tc.wait {
				t.Errorf("outcome %+v", o)
			}
			if got.Get(EventIDHeader) != "evt_1" || got.Get(EventTypeHeader) != "lead.captured" || got.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", got)
			}
			if err := Verify(got.Get(SignatureHeader), []byte(body), newSecret, at, DefaultTolerance); err != nil {
				t.Errorf("signature: %v", err)
			}
		})
	}
}

func TestDeliver_aReceiverThatNeverAnswers_failsAfterTheTimeout_withoutNamingTheURL(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(hang)
	r := &Receiver{URL: srv.URL + "/secret-token", Secrets: []string{newSecret}, Timeout: 50 * time.Millisecond}
	o := r.Deliver(context.Background(), "evt_1", "lead.captured", []byte(`{}`))
	if o.Delivered() || o.Status != 0 || strings.Contains(o.Err.Error(), "secret-token") || strings.Contains(o.Err.Error(), "127.0.0.1") {
		t.Errorf("outcome %+v", o)
	}
}
