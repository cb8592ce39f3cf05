package ses_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/mail/mailtest"
	"github.com/leadnurture/nurture/shared/mail/ses"
)

// The adapter is tested against the real aws-ses-v2-local, never a fake client.
func TestMain(m *testing.M) { testenv.Main(m) }

// uniqueRecipient keeps this test's mail apart in the shared SES local store.
func uniqueRecipient() string { return testenv.UniqueName("lead") + "@example.com" }

func sentByID(t *testing.T, id string) localstack.SentEmail {
	t.Helper()
	for _, e := range testenv.SentMail(t) {
		if e.MessageID == id {
			return e
		}
	}
	t.Fatalf("SES local holds no message %q", id)
	return localstack.SentEmail{}
}

func TestMailer_send_deliversTheRenderedEmail(t *testing.T) {
	t.Parallel()
	e := mailtest.NurtureEmail()
	e.To = uniqueRecipient()
	m := mailtest.Render(t, e)

	id, err := ses.New(testenv.SES(t), "").Send(t.Context(), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := sentByID(t, id)

	if got.From != m.From || !slices.Equal(got.To, []string{e.To}) || !slices.Equal(got.ReplyTo, []string{m.ReplyTo}) {
		t.Errorf("from %q to %q reply-to %q; want %q, %q, %q", got.From, got.To, got.ReplyTo, m.From, e.To, m.ReplyTo)
	}
	if got.Subject != "Cutting cloud waste in 30 days" {
		t.Errorf("subject = %q", got.Subject)
	}
	for part, body := range map[string]string{"HTML": got.HTML, "text": got.Text} {
		for _, want := range []string{"The cloud waste checklist", mailtest.UnsubscribeURL, "1 Harbour Street, Bristol BS1 4XX", "How large is your company?"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s part as sent lacks %q", part, want)
			}
		}
	}
	if !strings.Contains(got.HTML, `<a ses:no-track href="`+mailtest.UnsubscribeURL+`"`) {
		t.Error("the unsubscribe link lost ses:no-track on the way")
	}
	headers := map[string]string{}
	for _, h := range got.Headers {
		headers[h.Name] = h.Value
	}
	if v := headers["List-Unsubscribe"]; v != "<"+mailtest.UnsubscribeURL+">" {
		t.Errorf("List-Unsubscribe = %q", v)
	}
	if v := headers["List-Unsubscribe-Post"]; v != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", v)
	}
}

func TestMailer_send_nonASCIISenderName_encoded(t *testing.T) {
	t.Parallel()
	e := mailtest.NurtureEmail()
	e.To = uniqueRecipient()
	e.Sender.From = "Zoë at Acme <zoe@acme.example>"
	id, err := ses.New(testenv.SES(t), "").Send(t.Context(), mailtest.Render(t, e))
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := sentByID(t, id)
	if !strings.HasPrefix(got.From, "=?utf-8?") {
		t.Errorf("from = %q, want an RFC 2047 encoded name", got.From)
	}
	name, _, _ := strings.Cut(got.From, " <")
	if decoded, err := new(mime.WordDecoder).DecodeHeader(name); err != nil || decoded != "Zoë at Acme" {
		t.Errorf("from name decodes to %q (%v)", decoded, err)
	}
}

// aws-ses-v2-local keeps neither tags nor the configuration set, so these
// tests read them from the request the SDK actually sent.
func TestMailer_send_requestCarriesTagsAndConfigurationSet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, defaultSet, messageSet, want string
	}{
		{"sender's configuration set", "nurture-events", "", "nurture-events"},
		{"message overrides it", "nurture-events", "alerts", "alerts"},
		{"none at all", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client, requests := recordingClient(t)
			m := mailtest.Render(t, mailtest.NurtureEmail())
			m.To = uniqueRecipient()
			m.ConfigurationSet = tc.messageSet
			m.Tags = map[string]string{"track": "finops", "lead": "k7m2q4x9r1t8w3y6z5a0b2c4", "step": "2", "kind": "nurture"}

			if _, err := ses.New(client, tc.defaultSet).Send(t.Context(), m); err != nil {
				t.Fatalf("Send: %v", err)
			}
			req := onlyRequest(t, requests)
			if req.ConfigurationSetName != tc.want {
				t.Errorf("ConfigurationSetName = %q, want %q", req.ConfigurationSetName, tc.want)
			}
			wantTags := []tag{{"kind", "nurture"}, {"lead", "k7m2q4x9r1t8w3y6z5a0b2c4"}, {"step", "2"}, {"track", "finops"}}
			if !slices.Equal(req.EmailTags, wantTags) {
				t.Errorf("EmailTags = %v, want %v (sorted by name)", req.EmailTags, wantTags)
			}
		})
	}
}

func TestMailer_send_noFrom_rejectedBySES(t *testing.T) {
	t.Parallel()
	m := mailtest.Render(t, mailtest.NurtureEmail())
	m.To = uniqueRecipient()
	m.From = ""

	_, err := ses.New(testenv.SES(t), "").Send(t.Context(), m)
	if !errors.Is(err, mail.ErrRejected) || errors.Is(err, mail.ErrTransient) || errors.Is(err, mail.ErrThrottled) {
		t.Fatalf("err = %v, want only ErrRejected", err)
	}
	if !strings.Contains(err.Error(), "Bad Request") {
		t.Errorf("err = %q, want SES's reason kept", err)
	}
	for _, e := range testenv.SentMail(t) {
		if slices.Contains(e.To, m.To) {
			t.Errorf("SES local stored the rejected message: %+v", e)
		}
	}
}

func TestMailer_send_malformedMessage_rejectedWithoutARequest(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		change func(*mail.Message)
		want   string
	}{
		{"line break in subject", func(m *mail.Message) { m.Subject = "Hi\r\nBcc: all@example.com" }, "subject contains a line break"},
		{"line break in a header", func(m *mail.Message) {
			m.Headers = append(m.Headers, mail.Header{Name: "X-Campaign", Value: "a\nBcc: all@example.com"})
		}, "header X-Campaign contains a line break"},
		{"colon in a header name", func(m *mail.Message) { m.Headers = append(m.Headers, mail.Header{Name: "X-A:B", Value: "v"}) }, "header name"},
		{"tag value outside SES's charset", func(m *mail.Message) { m.Tags = map[string]string{"answer": "role=cto"} }, "map them with mail.Tag"},
		{"empty tag value", func(m *mail.Message) { m.Tags = map[string]string{"asset": ""} }, "map them with mail.Tag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client, requests := recordingClient(t)
			m := mailtest.Render(t, mailtest.NurtureEmail())
			m.To = uniqueRecipient()
			tc.change(&m)

			_, err := ses.New(client, "").Send(t.Context(), m)
			if !errors.Is(err, mail.ErrRejected) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want ErrRejected saying %q", err, tc.want)
			}
			if n := len(requests()); n != 0 {
				t.Errorf("%d requests reached SES", n)
			}
		})
	}
}

func TestMailer_send_serverUnreachable_transient(t *testing.T) {
	t.Parallel()
	client, err := localstack.SESClient(t.Context(), "http://"+closedAddress(t))
	if err != nil {
		t.Fatal(err)
	}
	client = sesv2.New(client.Options(), func(o *sesv2.Options) { o.RetryMaxAttempts = 1 })
	m := mailtest.Render(t, mailtest.NurtureEmail())

	_, err = ses.New(client, "").Send(t.Context(), m)
	if !errors.Is(err, mail.ErrTransient) || errors.Is(err, mail.ErrRejected) {
		t.Errorf("err = %v, want ErrTransient", err)
	}
	_, err = ses.New(client, "").MaxSendRate(t.Context())
	if !errors.Is(err, mail.ErrTransient) {
		t.Errorf("MaxSendRate err = %v, want ErrTransient", err)
	}
}

// A connection dropped after the request went out leaves SES's answer
// unknown: the message may have gone, so it is neither retried by the SDK
// nor reported as a failure to retry.
func TestMailer_send_answerLost_uncertainAndSentOnce(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	var requests atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			// Read the request, then hang up without an answer.
			_, _ = c.Read(make([]byte, 64<<10))
			requests.Add(1)
			_ = c.Close()
		}
	}()
	client, err := localstack.SESClient(t.Context(), "http://"+l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}

	_, err = ses.New(client, "").Send(t.Context(), mailtest.Render(t, mailtest.NurtureEmail()))
	if !errors.Is(err, mail.ErrUncertain) || errors.Is(err, mail.ErrTransient) {
		t.Errorf("err = %v, want ErrUncertain", err)
	}
	if n := requests.Load(); n != 1 {
		t.Errorf("%d requests reached the server, want 1 (no retry of a send that may have gone)", n)
	}
}

// closedAddress is a loopback address where nothing listens.
func closedAddress(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestMailer_maxSendRate_isTheAccountQuota(t *testing.T) {
	t.Parallel()
	// A server of its own, so the value cannot be a default that happens to match.
	server, err := localstack.StartSES(t.Context(), localstack.SESOptions{MaxSendRate: 3.5})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := server.Stop(); err != nil {
			t.Error(err)
		}
	})
	client, err := localstack.SESClient(t.Context(), server.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	rate, err := ses.New(client, "").MaxSendRate(t.Context())
	if err != nil {
		t.Fatalf("MaxSendRate: %v", err)
	}
	if rate != 3.5 {
		t.Errorf("MaxSendRate = %v, want 3.5", rate)
	}
}

// sendEmailRequest is the part of the SendEmail JSON body the tests read.
type sendEmailRequest struct {
	ConfigurationSetName string
	EmailTags            []tag
}

type tag struct{ Name, Value string }

// recordingClient is the package's SES local client with an HTTP client that
// keeps a copy of every SendEmail body before passing the request on.
func recordingClient(t *testing.T) (*sesv2.Client, func() []sendEmailRequest) {
	t.Helper()
	rec := &recorder{}
	client := sesv2.New(testenv.SES(t).Options(), func(o *sesv2.Options) {
		rec.next = o.HTTPClient
		o.HTTPClient = rec
	})
	return client, func() []sendEmailRequest {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		var out []sendEmailRequest
		for _, b := range rec.bodies {
			var r sendEmailRequest
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("request body is not JSON: %v\n%s", err, b)
			}
			out = append(out, r)
		}
		return out
	}
}

func onlyRequest(t *testing.T, requests func() []sendEmailRequest) sendEmailRequest {
	t.Helper()
	reqs := requests()
	if len(reqs) != 1 {
		t.Fatalf("%d SendEmail requests, want 1", len(reqs))
	}
	return reqs[0]
}

type recorder struct {
	next   sesv2.HTTPClient
	mu     sync.Mutex
	bodies [][]byte
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	if req.Body != nil && strings.HasSuffix(req.URL.Path, "/outbound-emails") {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		r.bodies = append(r.bodies, body)
		r.mu.Unlock()
	}
	return r.next.Do(req)
}
