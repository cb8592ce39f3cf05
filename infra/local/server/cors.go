package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/leadnurture/nurture/shared/httpapi"
)

// The public routes get the CORS behaviour of API Gateway's CorsConfiguration
// (httpapi.CORS, origins from SITE_ORIGINS): API Gateway answers preflights
// itself, ignores any CORS header a function returns, and adds
// Access-Control-Allow-Origin to an answer only for a listed origin. A
// script on any other origin may still send a simple request (a plain form
// post is one), but cannot read the answer.

// isPreflight tells a CORS preflight from an ordinary OPTIONS request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" && r.Header.Get("Access-Control-Request-Method") != ""
}

// preflight answers a preflight as API Gateway does: 204, with the
// configuration's headers for a listed origin and none for another, so the
// browser refuses the request.
func (s *srv) preflight(w http.ResponseWriter, r *http.Request) {
	if allow := s.allowOrigin(r); allow != "" {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", allow)
		h.Set("Access-Control-Allow-Methods", strings.Join(httpapi.CORS.AllowMethods, ","))
		h.Set("Access-Control-Allow-Headers", strings.Join(httpapi.CORS.AllowHeaders, ","))
		h.Set("Access-Control-Max-Age", strconv.Itoa(httpapi.CORS.MaxAge))
		h.Add("Vary", "Origin")
	}
	w.WriteHeader(http.StatusNoContent)
}

// withCORS puts the CORS headers of API Gateway, not the function's, on resp.
func (s *srv) withCORS(r *http.Request, resp httpapi.Response) httpapi.Response {
	for k := range resp.Headers {
		if strings.HasPrefix(strings.ToLower(k), "access-control-") {
			delete(resp.Headers, k)
		}
	}
	if allow := s.allowOrigin(r); allow != "" {
		if resp.Headers == nil {
			resp.Headers = map[string]string{}
		}
		resp.Headers["access-control-allow-origin"] = allow
		if allow != "*" {
			resp.Headers["vary"] = "Origin"
		}
	}
	return resp
}

// allowOrigin is the Access-Control-Allow-Origin for r, or "".
func (s *srv) allowOrigin(r *http.Request) string {
	origin := r.Header.Get("Origin")
	if !s.o.SiteOrigins.Allows(origin) {
		return ""
	}
	for _, o := range s.o.SiteOrigins {
		if o == "*" {
			return "*"
		}
	}
	return origin
}
