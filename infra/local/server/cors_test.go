package server

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/httpapi"
)

// The local server plays API Gateway's CORS configuration for SITE_ORIGINS.
func TestAPI_cors_likeAPIGateway(t *testing.T) {
	h := New(Options{
		Clock:       &clock.Offset{},
		SiteOrigins: config.Origins{"http://127.0.0.1:8080"},
		Functions: map[string]Handler{"capture": func(ctx context.Context, req httpapi.Request) (httpapi.Response, error) {
			// API Gateway ignores a function's own CORS headers.
			return httpapi.Response{StatusCode: 200, Headers: map[string]string{"access-control-allow-origin": "*"}, Body: `{"ok":true}`}, nil
		}},
	})
	do := func(method, origin string, header map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "/forms/finops-guide", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		for k, v := range header {
			r.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	preflight := map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}

	rec := do(http.MethodOptions, "http://127.0.0.1:8080", preflight)
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "http://127.0.0.1:8080" ||
		rec.Header().Get("Access-Control-Allow-Methods") != "POST" || rec.Header().Get("Access-Control-Allow-Headers") != "content-type" ||
		rec.Header().Get("Access-Control-Max-Age") != "600" {
		t.Errorf("preflight from a site origin: %d %v", rec.Code, rec.Header())
	}
	rec = do(http.MethodOptions, "http://evil.example", preflight)
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin: %d %v, want no CORS headers", rec.Code, rec.Header())
	}

	rec = do(http.MethodPost, "http://127.0.0.1:8080", nil)
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "http://127.0.0.1:8080" {
		t.Errorf("post from a site origin: %d %v", rec.Code, rec.Header())
	}
	// Simple requests from anywhere reach the function (a plain form post
	// is one); only a listed origin may read the answer.
	rec = do(http.MethodPost, "http://evil.example", nil)
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("post from another origin: %d %v, want the answer without CORS headers", rec.Code, rec.Header())
	}
	rec = do(http.MethodPost, "", nil)
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("post without Origin: %d %v", rec.Code, rec.Header())
	}
}
