package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestNew_trackingRoutes_goToTheTrackingHandler(t *testing.T) {
	for _, path := range []string{"/_local/click?r=x&n=0", "/_local/open?r=x"} {
		rec := httptest.NewRecorder()
		New(Options{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusNotImplemented {
			t.Errorf("GET %s without a tracking handler: %d, want 501", path, rec.Code)
		}

		var got string
		h := New(Options{Tracking: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r.URL.String()
			w.WriteHeader(http.StatusTeapot)
		})})
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusTeapot || got != path {
			t.Errorf("GET %s: %d, handler saw %q", path, rec.Code, got)
		}
	}
}
