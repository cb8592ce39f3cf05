package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/webform"
)

// FormRoutes is the capture function: the form posts, and what a website
// loads around them, the script and the hosted form pages.
type FormRoutes struct {
	Capture *Capture
	Pages   *FormPages
}

// Handle dispatches one request by its route.
func (h *FormRoutes) Handle(ctx context.Context, req Request) (Response, error) {
	method, path := routeOf(req)
	switch {
	case method == http.MethodGet && path == webform.ScriptPath:
		return h.Pages.Script(req), nil
	case method == http.MethodGet:
		return h.Pages.Page(req), nil
	}
	return h.Capture.Handle(ctx, req)
}

// FormPages serves GET /forms.js, the script every form snippet loads, and
// GET /forms/{formId}, the hosted page of a form (?embed=1: the variant for
// an iframe on the website).
type FormPages struct {
	Program *program.Program
	// BaseURL is the API's public URL (PUBLIC_BASE_URL); when empty it is
	// the domain API Gateway was called on.
	BaseURL string
	// SiteOrigins may frame the embed variant (SITE_ORIGINS).
	SiteOrigins []string
	Log         *slog.Logger
}

// scriptCacheControl lets browsers and proxies keep the script an hour, and
// use it a day longer while they revalidate it (a 304 by its ETag).
const scriptCacheControl = "public, max-age=3600, stale-while-revalidate=86400"

// Script answers forms.js, or 304 to a browser whose copy is current.
func (h *FormPages) Script(req Request) Response {
	etag := webform.ScriptETag()
	headers := map[string]string{
		"content-type":           "text/javascript; charset=utf-8",
		"cache-control":          scriptCacheControl,
		"etag":                   etag,
		"x-content-type-options": "nosniff",
		// Sites that isolate themselves (COEP require-corp) may load it.
		"cross-origin-resource-policy": "cross-origin",
	}
	if etagMatches(header(req, "if-none-match"), etag) {
		return Response{StatusCode: http.StatusNotModified, Headers: headers}
	}
	return Response{StatusCode: http.StatusOK, Headers: headers, Body: string(webform.Script())}
}

// etagMatches reads If-None-Match: a list of tags, weak or strong, or *.
func etagMatches(ifNoneMatch, etag string) bool {
	for _, t := range strings.Split(ifNoneMatch, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// Page answers the hosted page of a form.
func (h *FormPages) Page(req Request) Response {
	company := h.Program.Sender.Company
	base, ok := h.baseURL(req)
	if !ok {
		return htmlResponse(http.StatusBadRequest, Page{Title: "Bad request", Lead: "This address cannot be served.", Company: company})
	}
	formID := req.PathParameters["formId"]
	embed := req.QueryStringParameters["embed"] == "1"
	body, err := webform.Page(h.Program, formID, base, webform.PageOptions{Embed: embed})
	switch {
	case errors.Is(err, lead.ErrUnknownForm):
		h.Log.Info("form page not found", "requestId", req.RequestContext.RequestID, "formId", safeID(formID))
		return htmlResponse(http.StatusNotFound, Page{
			Title: "Form not found", Lead: "This form does not exist (any more). The page that linked here may be out of date.", Company: company,
		})
	case err != nil:
		// A template bug: every form of the program renders in the tests.
		h.Log.Error("form page failed", "requestId", req.RequestContext.RequestID, "formId", safeID(formID), "error", err.Error())
		return htmlResponse(http.StatusInternalServerError, Page{Title: "Something went wrong", Lead: "Please try again later.", Company: company})
	}
	form, _ := h.Program.Form(formID)
	return Response{StatusCode: http.StatusOK, Headers: h.pageHeaders(base, form, embed), Body: body}
}

// pageHeaders are the hosted page's: it loads the script from the API,
// posts (or fetches) there and is sent on to the content; only the embed
// variant may be framed, and only by the website.
func (h *FormPages) pageHeaders(base string, form program.Form, embed bool) map[string]string {
	api := origin(base)
	formAction := api
	// CSP's form-action also covers the redirect that answers the post.
	target := form.ThankYouURL
	if target == "" {
		asset, _ := h.Program.Asset(form.Asset)
		target = asset.URL
	}
	if o := origin(target); o != "" && o != api {
		formAction += " " + o
	}
	ancestors := "'none'"
	if embed {
		ancestors = frameAncestors(h.SiteOrigins)
	}
	hs := securityHeaders("text/html; charset=utf-8")
	hs["content-security-policy"] = "default-src 'none'; script-src " + api + "; connect-src " + api +
		"; style-src 'unsafe-inline'; img-src 'self' data:; form-action " + formAction +
		"; frame-ancestors " + ancestors + "; base-uri 'none'"
	// The same for every visitor, so browsers may keep it a while.
	hs["cache-control"] = "public, max-age=300"
	// A post without the script still tells which page (and campaign) the
	// form was on: the Referer of a same-origin post is the full URL.
	hs["referrer-policy"] = "strict-origin-when-cross-origin"
	return hs
}

// baseURL is the API's URL as the browser reaches it.
func (h *FormPages) baseURL(req Request) (string, bool) {
	if h.BaseURL != "" {
		return h.BaseURL, true
	}
	host := req.RequestContext.DomainName
	if host == "" {
		host = header(req, "host")
	}
	// The host goes into the page and its CSP: a host name and port only.
	if host == "" || strings.IndexFunc(host, func(r rune) bool {
		return !(r == '.' || r == '-' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) >= 0 {
		return "", false
	}
	// API Gateway says https; the local server says http.
	scheme := "https"
	if header(req, "x-forwarded-proto") == "http" {
		scheme = "http"
	}
	return scheme + "://" + host, true
}

// origin is the scheme and host of an absolute URL, or "".
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// frameAncestors turns site origins, as API Gateway's CORS configuration
// takes them, into CSP sources.
func frameAncestors(origins []string) string {
	var srcs []string
	for _, o := range origins {
		switch o {
		case "*":
			srcs = append(srcs, "*")
		case "https://*":
			srcs = append(srcs, "https:")
		case "http://*":
			srcs = append(srcs, "http:")
		default:
			srcs = append(srcs, o)
		}
	}
	if len(srcs) == 0 {
		return "'none'"
	}
	return strings.Join(srcs, " ")
}
