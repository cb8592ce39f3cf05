package httpapi

import (
	"context"
	"net/http"
	"strings"

	"github.com/leadnurture/nurture/shared/link"
)

// Route is one route of the HTTP API and the function that serves it. The
// SAM template and the local server are both checked against this list.
type Route struct {
	Method   string
	Path     string // API Gateway route path, with {param} placeholders
	Function string // folder name under functions/
}

// RouteKey is the API Gateway route key, e.g. "POST /forms/{formId}".
func (r Route) RouteKey() string { return r.Method + " " + r.Path }

// Routes lists every public route.
var Routes = append([]Route{
	// The website forms: the post, the script the snippet loads, and the
	// hosted form page.
	{Method: "POST", Path: "/forms/{formId}", Function: "capture"},
	{Method: "GET", Path: "/forms.js", Function: "capture"},
	{Method: "GET", Path: "/forms/{formId}", Function: "capture"},
}, linkRoutes()...)

// routeOf is a request's method and route path ("/forms/{formId}"); a
// hand-made event without a route key gives its raw path.
func routeOf(req Request) (method, path string) {
	method, path, found := strings.Cut(req.RouteKey, " ")
	if !found {
		method, path = req.RequestContext.HTTP.Method, req.RawPath
	}
	return method, path
}

// linkRoutes are the routes of every kind of link, all served by the links
// function. A GET shows a page (with a confirm button, or the dossier with
// its forms); only a POST (the button, or a mail client's RFC 8058
// one-click unsubscribe) changes anything.
func linkRoutes() []Route {
	var rs []Route
	for _, k := range link.Kinds {
		for _, m := range []string{http.MethodGet, http.MethodPost} {
			rs = append(rs, Route{Method: m, Path: k.Route(), Function: "links"})
		}
	}
	return rs
}

// LinkRoutes is the links function: it hands each kind of link to its
// handler, Sales for the sales page, Inbox for the sales inbox, Results
// for the program's results and Links
// for the rest (which answers an unknown path with the invalid-link page).
type LinkRoutes struct {
	Links   *Links
	Sales   *Sales
	Inbox   *Inbox
	Results *Results
}

// Handle dispatches one request by its path.
func (h *LinkRoutes) Handle(ctx context.Context, req Request) (Response, error) {
	switch _, kind, _ := linkRoute(req); {
	case kind == link.Sales && h.Sales != nil:
		return h.Sales.Handle(ctx, req)
	case kind == link.Inbox && h.Inbox != nil:
		return h.Inbox.Handle(ctx, req)
	case kind == link.Results && h.Results != nil:
		return h.Results.Handle(ctx, req)
	}
	return h.Links.Handle(ctx, req)
}

// CORSConfig is the HTTP API's CORS configuration besides its origins.
type CORSConfig struct {
	AllowMethods []string
	AllowHeaders []string
	MaxAge       int // seconds a browser may keep a preflight's answer
}

// CORS lets scripts on the website's pages (SiteOrigins) post the forms
// and read the answer. The form script's fetch is a "simple request"
// (urlencoded, no custom header) that needs no preflight; a script posting
// JSON is preflighted, hence content-type. The template's
// CorsConfiguration and the local server are both checked against it.
var CORS = CORSConfig{AllowMethods: []string{"POST"}, AllowHeaders: []string{"content-type"}, MaxAge: 600}
