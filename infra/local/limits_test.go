package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/shared/limit"
	"github.com/leadnurture/nurture/shared/program"
)

// In the local stack, requests from 127.0.0.2 and 127.0.0.3 are two
// clients, as two source IPs are in AWS: one uses up its limit of form
// posts and is answered 429 with Retry-After, the other is not.
func TestLocalStack_loopbackAddressesAreDifferentClients(t *testing.T) {
	s := startStack(t, tuesdayMorning)
	prog, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	form := prog.Forms[0]
	api := strings.Replace(s.api, "localhost", "127.0.0.1", 1)
	post := func(from string, i int) *http.Response {
		t.Helper()
		v := url.Values{"email": {fmt.Sprintf("reader%d-%s@example.com", i, strings.ReplaceAll(from, ".", "-"))}, "consent": {"yes"}}
		for _, f := range form.Fields {
			if v.Get(f) == "" {
				v.Set(f, "Ada Lovelace")
			}
		}
		for _, q := range prog.Questions {
			if q.Field != "" && v.Has(q.Field) {
				v.Set(q.Field, q.Options[0].Value)
			}
		}
		req, _ := http.NewRequest(http.MethodPost, api+"/forms/"+form.ID, strings.NewReader(v.Encode()))
		req.Header.Set("content-type", "application/x-www-form-urlencoded")
		resp, err := localstack.LoopbackClient(from).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	// Each post is a new address on a form that asks to confirm, so the
	// confirmation limit (new addresses per IP) comes before the form-post one.
	max := min(limit.Default().CaptureIP.Max, limit.Default().ConfirmIP.Max)
	for i := range max {
		if resp := post("127.0.0.2", i); resp.StatusCode != http.StatusOK {
			t.Fatalf("post %d from 127.0.0.2 answered %d\n%s", i+1, resp.StatusCode, s.output)
		}
	}
	resp := post("127.0.0.2", max)
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("post %d from 127.0.0.2 answered %d, want 429", max+1, resp.StatusCode)
	}
	if n, err := strconv.Atoi(resp.Header.Get("retry-after")); err != nil || n < 1 {
		t.Errorf("Retry-After %q", resp.Header.Get("retry-after"))
	}
	if resp := post("127.0.0.3", 0); resp.StatusCode != http.StatusOK {
		t.Errorf("the first post from 127.0.0.3 answered %d: it was counted with 127.0.0.2's", resp.StatusCode)
	}
}
