package httpapi

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
var Routes = []Route{
	{Method: "POST", Path: "/forms/{formId}", Function: "capture"},
	// The links in nurture emails: a GET shows a page with a confirm
	// button, only a POST (the button, or a mail client's RFC 8058
	// one-click unsubscribe) changes anything.
	{Method: "GET", Path: "/u/{token}", Function: "links"},
	{Method: "POST", Path: "/u/{token}", Function: "links"},
	{Method: "GET", Path: "/a/{token}", Function: "links"},
	{Method: "POST", Path: "/a/{token}", Function: "links"},
	// The links in sales alerts: a GET shows the lead's dossier with
	// Accept and Return-to-nurture forms, only a POST records a decision.
	{Method: "GET", Path: "/s/{token}", Function: "links"},
	{Method: "POST", Path: "/s/{token}", Function: "links"},
}
