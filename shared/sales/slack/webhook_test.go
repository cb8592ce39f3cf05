package slack_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/sales/salestest"
	"github.com/leadnurture/nurture/shared/sales/slack"
)

// hook is a webhook receiver that answers with the given statuses in turn
// (the last one repeats) and keeps every body.
type hook struct {
	mu       sync.Mutex
	statuses []int
	header   http.Header
	bodies   [][]byte
	srv      *httptest.Server
}

func newHook(t *testing.T, statuses ...int) *hook {
	t.Helper()
	h := &hook{statuses: statuses}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		n := len(h.bodies)
		h.bodies = append(h.bodies, body)
		status := http.StatusOK
		if len(h.statuses) > 0 {
			status = h.statuses[min(n, len(h.statuses)-1)]
		}
		for k, v := range h.header {
			w.Header()[k] = v
		}
		h.mu.Unlock()
		if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			status = http.StatusMethodNotAllowed
		}
		w.WriteHeader(status)
		if status == http.StatusOK {
			io.WriteString(w, "ok")
		} else {
			io.WriteString(w, "invalid_payload")
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) posts() [][]byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([][]byte(nil), h.bodies...)
}

func (h *hook) webhook() *slack.Webhook {
	return &slack.Webhook{URL: h.srv.URL + "/services/T000/B000/SECRET", Client: h.srv.Client(), Backoff: time.Millisecond}
}

func TestWebhook_succeedsAfterTwo503s(t *testing.T) {
	h := newHook(t, 503, 503, 200)
	if err := h.webhook().Post(context.Background(), salestest.Dossier(), salestest.Links); err != nil {
		t.Fatal(err)
	}
	if n := len(h.posts()); n != 3 {
		t.Fatalf("%d posts, want 3", n)
	}
}

func TestWebhook_givesUpAfterAttempts(t *testing.T) {
	h := newHook(t, 500)
	w := h.webhook()
	w.Attempts = 3
	err := w.Post(context.Background(), salestest.Dossier(), salestest.Links)
	var werr *slack.StatusError
	if !errors.As(err, &werr) || werr.Status != 500 || werr.Body != "invalid_payload" {
		t.Fatalf("err = %v, want the last 500", err)
	}
	if n := len(h.posts()); n != 3 {
		t.Fatalf("%d posts, want 3", n)
	}
}

func TestWebhook_defaultsToFourAttempts(t *testing.T) {
	h := newHook(t, 502)
	w := h.webhook()
	if err := w.Post(context.Background(), salestest.Dossier(), salestest.Links); err == nil {
		t.Fatal("no error")
	}
	if n := len(h.posts()); n != 4 {
		t.Fatalf("%d posts, want 4", n)
	}
}

func TestWebhook_noRetryOn400(t *testing.T) {
	h := newHook(t, 400, 200)
	err := h.webhook().Post(context.Background(), salestest.Dossier(), salestest.Links)
	var werr *slack.StatusError
	if !errors.As(err, &werr) || werr.Status != 400 {
		t.Fatalf("err = %v, want 400", err)
	}
	if n := len(h.posts()); n != 1 {
		t.Fatalf("%d posts, want 1", n)
	}
}

func TestWebhook_429HonoursRetryAfter(t *testing.T) {
	h := newHook(t, 429, 200)
	h.header = http.Header{"Retry-After": {"1"}}
	start := time.Now()
	if err := h.webhook().Post(context.Background(), salestest.Dossier(), salestest.Links); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("retried after %v; the server asked for 1s", d)
	}
	if n := len(h.posts()); n != 2 {
		t.Fatalf("%d posts, want 2", n)
	}
}

func TestWebhook_retryAfterIsCapped(t *testing.T) {
	h := newHook(t, 429, 200)
	h.header = http.Header{"Retry-After": {"3600"}}
	w := h.webhook()
	w.MaxWait = 20 * time.Millisecond
	start := time.Now()
	if err := w.Post(context.Background(), salestest.Dossier(), salestest.Links); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("waited %v", d)
	}
}

func TestWebhook_contextEndsTheWait(t *testing.T) {
	h := newHook(t, 503)
	w := h.webhook()
	w.Backoff = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := w.Post(ctx, salestest.Dossier(), salestest.Links)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
}

func TestWebhook_networkErrorsAreRetriedAndNeverNameTheURL(t *testing.T) {
	h := newHook(t)
	w := h.webhook()
	w.Attempts = 2
	h.srv.Close()
	err := w.Post(context.Background(), salestest.Dossier(), salestest.Links)
	if err == nil {
		t.Fatal("no error")
	}
	if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "/services/") {
		t.Fatalf("error names the webhook URL: %v", err)
	}
	if !strings.Contains(err.Error(), "2 attempts") {
		t.Fatalf("err = %v, want a retried network error", err)
	}
}

type slackMsg struct {
	Text   string `json:"text"`
	Blocks []struct {
		Type   string `json:"type"`
		Text   *struct{ Type, Text string }
		Fields []struct{ Type, Text string }
		// Elements are buttons (actions) or texts (context).
		Elements []struct {
			Type     string
			Text     json.RawMessage
			URL      string
			ActionID string `json:"action_id"`
		}
	} `json:"blocks"`
}

func TestWebhook_payload(t *testing.T) {
	h := newHook(t)
	d := salestest.Dossier()
	d.Company = "Ada <script>alert(1)</script> <!channel> & <@U123|boss> *now* _it_ ~x~ `c`"
	if err := h.webhook().Post(context.Background(), d, salestest.Links); err != nil {
		t.Fatal(err)
	}
	posts := h.posts()
	if len(posts) != 1 {
		t.Fatalf("%d posts", len(posts))
	}
	raw := string(posts[0])
	var msg slackMsg
	if err := json.Unmarshal(posts[0], &msg); err != nil {
		t.Fatalf("payload is not JSON: %v\n%s", err, raw)
	}
	if !strings.HasPrefix(msg.Text, "MQL: Ada Lovelace, Ada &lt;script&gt;") || !strings.Contains(msg.Text, "score 54") || !strings.Contains(msg.Text, "<"+salestest.Links.Dossier+"|Open the dossier>") {
		t.Errorf("text = %q", msg.Text)
	}
	for _, s := range []string{"<script>", "<!channel>", "<@U123"} {
		if strings.Contains(raw, s) {
			t.Errorf("payload carries %q unescaped", s)
		}
	}
	for _, s := range []string{"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;!channel&gt; &amp; &lt;@U123|boss&gt; ＊now＊ ＿it＿ ～x～ ｀c｀",
		"Paying for Nines", "Multi-Region or Multi-AZ?", "SLOs in Plain Language", "This quarter", "score *54*", "+15 fit: timeline now"} {
		if !strings.Contains(raw, s) {
			t.Errorf("payload lacks %q", s)
		}
	}
	types := map[string]int{}
	var buttons []string
	for _, b := range msg.Blocks {
		types[b.Type]++
		if b.Type == "actions" {
			for _, e := range b.Elements {
				buttons = append(buttons, e.ActionID+"="+e.URL)
			}
		}
		if b.Type == "section" && (b.Text == nil || b.Text.Type != "mrkdwn") {
			t.Errorf("section without mrkdwn text: %+v", b)
		}
	}
	if types["section"] < 3 || types["actions"] != 1 || types["context"] != 1 {
		t.Errorf("blocks: %v", types)
	}
	if len(msg.Blocks[0].Fields) < 2 || !strings.Contains(msg.Blocks[0].Fields[len(msg.Blocks[0].Fields)-1].Text, "54") {
		t.Errorf("first section's fields: %+v", msg.Blocks[0].Fields)
	}
	want := []string{"dossier=" + salestest.Links.Dossier, "accept=" + salestest.Links.Accept, "return=" + salestest.Links.Return}
	if strings.Join(buttons, " ") != strings.Join(want, " ") {
		t.Errorf("buttons = %v, want %v", buttons, want)
	}
	if !strings.Contains(raw, "machine, not the person: scanner user agent") {
		t.Errorf("machine events are not marked as such")
	}
}
