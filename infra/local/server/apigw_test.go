package server

import (
	"encoding/base64"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/httpapi"
)

func TestMatchRoute(t *testing.T) {
	tests := []struct {
		pattern, path string
		want          map[string]string
		ok            bool
	}{
		{"/forms/{formId}", "/forms/finops-guide", map[string]string{"formId": "finops-guide"}, true},
		{"/forms/{formId}", "/forms/", nil, false},
		{"/forms/{formId}", "/forms/a/b", nil, false},
		{"/forms/{formId}", "/other/a", nil, false},
		{"/u/{token}", "/u/abc", map[string]string{"token": "abc"}, true},
	}
	for _, tt := range tests {
		got, ok := matchRoute(tt.pattern, tt.path)
		if ok != tt.ok || (ok && got[keyOf(tt.want)] != tt.want[keyOf(tt.want)]) {
			t.Errorf("matchRoute(%q, %q) = %v, %v; want %v, %v", tt.pattern, tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

func keyOf(m map[string]string) string {
	for k := range m {
		return k
	}
	return ""
}

func TestToEvent_formPost_isBase64LikeAPIGateway(t *testing.T) {
	r := httptest.NewRequest("POST", "/forms/finops-guide?x=1", strings.NewReader("email=ada%40example.com&name=Ada"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Accept", "text/html")
	r.Header.Add("Cookie", "a=1; b=2")
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	route := httpapi.Route{Method: "POST", Path: "/forms/{formId}", Function: "capture"}

	ev, err := toEvent(r, route, map[string]string{"formId": "finops-guide"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !ev.IsBase64Encoded {
		t.Fatal("a form-urlencoded body must arrive base64-encoded, as API Gateway sends it")
	}
	body, _ := base64.StdEncoding.DecodeString(ev.Body)
	if string(body) != "email=ada%40example.com&name=Ada" {
		t.Fatalf("body = %q", body)
	}
	if ev.RouteKey != "POST /forms/{formId}" || ev.RequestContext.HTTP.Method != "POST" || ev.PathParameters["formId"] != "finops-guide" {
		t.Fatalf("route fields wrong: %+v", ev)
	}
	if ev.Headers["content-type"] != "application/x-www-form-urlencoded" || ev.Headers["accept"] != "text/html" {
		t.Fatalf("headers must be lower-cased: %v", ev.Headers)
	}
	if len(ev.Cookies) != 2 || ev.RawQueryString != "x=1" || ev.QueryStringParameters["x"] != "1" {
		t.Fatalf("cookies %v query %q", ev.Cookies, ev.RawQueryString)
	}
	if ev.Headers["x-forwarded-proto"] != "http" {
		t.Fatalf("API Gateway tells the function the scheme it was called with: %v", ev.Headers)
	}
	if ev.RequestContext.TimeEpoch != now.UnixMilli() || ev.RequestContext.RequestID == "" {
		t.Fatalf("request context: %+v", ev.RequestContext)
	}
}

func TestToEvent_jsonPost_isPlainText(t *testing.T) {
	r := httptest.NewRequest("POST", "/forms/x", strings.NewReader(`{"email":"a@b.co"}`))
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	ev, err := toEvent(r, httpapi.Routes[0], map[string]string{"formId": "x"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if ev.IsBase64Encoded || ev.Body != `{"email":"a@b.co"}` {
		t.Fatalf("json body should pass as text: %q base64=%v", ev.Body, ev.IsBase64Encoded)
	}
}
