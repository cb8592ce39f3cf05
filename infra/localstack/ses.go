package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

// SESOptions configures StartSES.
type SESOptions struct {
	// Port to listen on (127.0.0.1 only); 0 picks a free one.
	Port int
	// MaxSendRate is the per-second quota GetAccount reports; 0 means 14,
	// what a new production SES account gets.
	MaxSendRate float64
	// Log receives the server's output, if set. It must be safe for
	// concurrent use if shared with another server.
	Log io.Writer
}

const sesStartTimeout = 90 * time.Second

// StartSES starts aws-ses-v2-local from the cache and returns once its
// health check answers. Its page at Endpoint() shows the mail sent.
func StartSES(ctx context.Context, o SESOptions) (*Server, error) {
	s, err := startSES(ctx, o)
	if err != nil {
		return nil, fmt.Errorf("start ses local: %w", err)
	}
	return s, nil
}

func startSES(ctx context.Context, o SESOptions) (*Server, error) {
	cache, err := CacheDir()
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("SES local needs Node.js 20 or later: %w", err)
	}
	account, err := sesAccount(o.MaxSendRate)
	if err != nil {
		return nil, err
	}
	return startOnPort(ctx, "127.0.0.1", o.Port, func(port int) spec {
		endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
		return spec{
			name:     "ses local",
			path:     node,
			args:     []string{filepath.Join(cache, sesCLI), "--host", "127.0.0.1", "--port", strconv.Itoa(port)},
			env:      []string{"AWS_SES_ACCOUNT=" + account},
			dir:      filepath.Join(cache, "node"),
			port:     port,
			endpoint: endpoint,
			log:      o.Log,
			timeout:  sesStartTimeout,
			ready:    sesReady(endpoint),
		}
	})
}

// sesAccount is what GetAccount returns. aws-ses-v2-local validates the
// whole shape and answers 400 if any field is missing, so all are here.
func sesAccount(maxSendRate float64) (string, error) {
	if maxSendRate == 0 {
		maxSendRate = 14
	}
	if maxSendRate < 0 {
		return "", fmt.Errorf("MaxSendRate %v: want a positive number", maxSendRate)
	}
	b, err := json.Marshal(map[string]any{
		"DedicatedIpAutoWarmupEnabled": false,
		"Details": map[string]any{
			"AdditionalContactEmailAddresses": []string{},
			"ContactLanguage":                 "EN",
			"MailType":                        "MARKETING",
			"ReviewDetails":                   map[string]any{"CaseId": "local", "Status": "GRANTED"},
			"UseCaseDescription":              "local",
			"WebsiteURL":                      "http://localhost",
		},
		"EnforcementStatus":       "HEALTHY",
		"ProductionAccessEnabled": true,
		"SendingEnabled":          true,
		"SendQuota":               map[string]any{"Max24HourSend": 50000, "MaxSendRate": maxSendRate, "SentLast24Hours": 0},
		"SuppressionAttributes":   map[string]any{"SuppressedReasons": []string{"BOUNCE", "COMPLAINT"}},
	})
	if err != nil {
		return "", fmt.Errorf("encode AWS_SES_ACCOUNT: %w", err)
	}
	return string(b), nil
}

func sesReady(endpoint string) func(context.Context) error {
	return func(ctx context.Context) error {
		return sesCall(ctx, http.MethodGet, endpoint+"/health-check", nil)
	}
}

// SESClient returns an SES v2 client for a local endpoint. aws-ses-v2-local
// wants a signed request (an Authorization header starting with AWS), so the
// client signs with dummy credentials.
func SESClient(_ context.Context, endpoint string) (*sesv2.Client, error) {
	if err := checkEndpoint(endpoint); err != nil {
		return nil, fmt.Errorf("ses client: %w", err)
	}
	return sesv2.NewFromConfig(awsConfig(), func(o *sesv2.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	}), nil
}

// Header is one email header as SES local stores it.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// SentEmail is one email SES local accepted. It reads and writes the shape
// of GET /store: To, CC and BCC live under "destination", HTML and Text
// under "body".
type SentEmail struct {
	MessageID string
	From      string
	ReplyTo   []string
	To        []string
	CC        []string
	BCC       []string
	Subject   string
	HTML      string
	Text      string
	Headers   []Header
	// At is when SES local accepted it, in Unix seconds.
	At int64
}

// storeEmail is the exact JSON of one email in GET /store.
type storeEmail struct {
	MessageID   string   `json:"messageId"`
	From        string   `json:"from"`
	ReplyTo     []string `json:"replyTo,omitempty"`
	Destination struct {
		To  []string `json:"to"`
		CC  []string `json:"cc"`
		BCC []string `json:"bcc"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html,omitempty"`
		Text string `json:"text,omitempty"`
	} `json:"body"`
	Headers []Header `json:"headers,omitempty"`
	At      int64    `json:"at"`
}

// UnmarshalJSON reads the GET /store shape.
func (e *SentEmail) UnmarshalJSON(b []byte) error {
	var s storeEmail
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*e = SentEmail{
		MessageID: s.MessageID, From: s.From, ReplyTo: s.ReplyTo,
		To: s.Destination.To, CC: s.Destination.CC, BCC: s.Destination.BCC,
		Subject: s.Subject, HTML: s.Body.HTML, Text: s.Body.Text,
		Headers: s.Headers, At: s.At,
	}
	return nil
}

// MarshalJSON writes the GET /store shape, so a SentEmail round-trips.
func (e SentEmail) MarshalJSON() ([]byte, error) {
	s := storeEmail{MessageID: e.MessageID, From: e.From, ReplyTo: e.ReplyTo, Subject: e.Subject, Headers: e.Headers, At: e.At}
	s.Destination.To, s.Destination.CC, s.Destination.BCC = e.To, e.CC, e.BCC
	s.Body.HTML, s.Body.Text = e.HTML, e.Text
	return json.Marshal(s)
}

// SentMail returns every email SES local holds, oldest first. The store is
// shared by everyone using that server: filter by recipient.
func SentMail(ctx context.Context, sesEndpoint string) ([]SentEmail, error) {
	var store struct {
		Emails []SentEmail `json:"emails"`
	}
	if err := sesCall(ctx, http.MethodGet, strings.TrimRight(sesEndpoint, "/")+"/store", &store); err != nil {
		return nil, fmt.Errorf("read ses local mail: %w", err)
	}
	return store.Emails, nil
}

// ClearMail empties SES local's store (emails and templates).
func ClearMail(ctx context.Context, sesEndpoint string) error {
	if err := sesCall(ctx, http.MethodPost, strings.TrimRight(sesEndpoint, "/")+"/clear-store", nil); err != nil {
		return fmt.Errorf("clear ses local mail: %w", err)
	}
	return nil
}

// sesCall does one request to SES local's own (unsigned) routes and decodes
// the JSON answer into out, if out is not nil.
func sesCall(ctx context.Context, method, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<10))
		return fmt.Errorf("%s %s: %s %s", method, url, resp.Status, strings.TrimSpace(string(b)))
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, url, err)
	}
	return nil
}
