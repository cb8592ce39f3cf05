package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/limit"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/webform"
)

// Names of the form's own fields besides the lead fields. The snippet
// (webform) carries the first two; its script (webform/forms.js) adds the
// rest in the browser.
const (
	FieldConsent     = "consent"
	FieldHoneypot    = "website"    // hidden from humans with CSS; bots fill it in
	FieldRenderedAt  = "_t"         // unix milliseconds, browser clock, when the form was shown
	FieldSubmittedAt = "_s"         // unix milliseconds, browser clock, when it was sent
	FieldSubmission  = "submission" // a nonce per page view
	FieldPage        = "page"       // the page the form is on (else the Referer header)
	FieldReferrer    = "referrer"   // document.referrer
	FieldTimeZone    = "tz"         // the browser's IANA time zone
)

// UTMFields are the campaign parameters kept as first-touch attribution,
// posted as fields or read from the page's URL.
var UTMFields = []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

// Attribution limits: it is informational and must never make a lead item
// large.
const (
	maxURLLen      = 512
	maxUTMLen      = 128
	maxNonceLen    = 64
	maxTimeZoneLen = 64
)

// Capture serves POST /forms/{formId}.
type Capture struct {
	Capturer *lead.Capturer
	// Limits counts every post of a source IP before its body is read,
	// valid or not (nil: no limits); the Capturer's counts the posts per
	// address.
	Limits *limit.Limiter
	Log    *slog.Logger
}

// Handle decodes a form post, captures the lead, and answers a browser with
// a redirect to the asset and a script with JSON.
func (h *Capture) Handle(ctx context.Context, req Request) (Response, error) {
	formID := req.PathParameters["formId"]
	log := h.Log.With("requestId", req.RequestContext.RequestID, "formId", safeID(formID))
	html := wantsHTML(req)
	company := h.Capturer.Program.Sender.Company

	if req.RequestContext.HTTP.Method != "" && req.RequestContext.HTTP.Method != http.MethodPost {
		return failure(html, http.StatusMethodNotAllowed, "method not allowed", Page{Title: "Method not allowed", Lead: "Forms are sent with POST.", Company: company}), nil
	}
	// First, before anything is read: a client over its limit costs one
	// write and learns nothing about its post.
	if err := h.Limits.Capture(ctx, req.RequestContext.HTTP.SourceIP); err != nil {
		return h.limited(log, html, err), nil
	}
	values, err := formValues(req)
	if err != nil {
		log.Info("capture rejected", "reason", err.Error())
		return decodeFailure(html, err, company), nil
	}
	sub := submission(formID, values, req, h.Capturer.Clock.Now())
	out, err := h.Capturer.Capture(ctx, sub)
	var invalid *lead.InvalidError
	_, limited := limit.AsExceeded(err)
	switch {
	case limited:
		return h.limited(log, html, err), nil
	case errors.Is(err, lead.ErrUnknownForm):
		log.Info("capture rejected", "reason", "unknown form")
		return failure(html, http.StatusNotFound, "unknown form", Page{Title: "Form not found", Lead: "This form does not exist (any more). Please reload the page you came from.", Company: company}), nil
	case errors.As(err, &invalid):
		log.Info("capture rejected", "reason", "invalid fields", "fields", fieldNames(invalid.Fields))
		return invalidResponse(html, invalid, company), nil
	case err != nil:
		// Our fault, not the person's: say so without detail, and let them retry.
		log.Error("capture failed", "leadId", out.LeadID, "error", err.Error())
		resp := failure(html, http.StatusServiceUnavailable, "temporarily unavailable, please retry", Page{Title: "Please try again", Lead: "We could not save your request just now. Please send the form again in a minute.", Back: true, Company: company})
		resp.Headers["retry-after"] = "5"
		return resp, nil
	}
	log.Info("captured", "leadId", out.LeadID, "newLead", out.NewLead, "duplicate", out.Duplicate, "ignored", out.Ignored, "suppressed", out.Suppressed, "enrolled", out.Enrolled)

	target := out.Form.ThankYouURL
	if target == "" {
		target = out.Asset.URL
	}
	if html {
		return redirect(target), nil
	}
	// The same answer whether the lead is new, known or a bot: the response
	// must not tell anyone whether an address is already in the database.
	// So whether it asks to confirm depends on the form and the country
	// posted, never on the lead.
	message := "Thank you! Your content is ready."
	confirm := h.Capturer.Program.NeedsConfirmation(out.Form, sub.Fields["country"])
	if confirm {
		message += " To get related articles by email, confirm your address with the link we sent you."
	}
	return jsonResponse(http.StatusOK, map[string]any{
		"ok":      true,
		"message": message,
		"confirm": confirm,
		"asset":   map[string]string{"id": out.Asset.ID, "title": out.Asset.Title, "url": out.Asset.URL},
		"next":    target,
	}), nil
}

// limited answers a post over a limit: 429 with Retry-After, saying when to
// try again.
func (h *Capture) limited(log *slog.Logger, html bool, err error) Response {
	e, _ := limit.AsExceeded(err)
	log.Info("capture rejected", "reason", "limited", "limit", e.Rule.Name)
	resp := failure(html, http.StatusTooManyRequests, "too many requests from this client: try again in "+waitText(e),
		Page{Title: "Too many requests", Lead: "This form was sent too often. Please try again in " + waitText(e) + ".", Company: h.Capturer.Program.Sender.Company})
	resp.Headers["retry-after"] = strconv.Itoa(e.RetryAfterSeconds())
	return resp
}

// waitText says how long to wait, in words a person reads.
func waitText(e *limit.Exceeded) string {
	s := e.RetryAfterSeconds()
	if s < 90 {
		return strconv.Itoa(s) + " seconds"
	}
	return strconv.Itoa((s+59)/60) + " minutes"
}

// submission maps the posted values to the domain's submission.
func submission(formID string, v map[string]string, req Request, now time.Time) lead.Submission {
	fields := map[string]string{}
	for _, name := range program.FormFields {
		if val, ok := v[name]; ok {
			fields[name] = val
		}
	}
	// The script says which page the form is on; a plain HTML form leaves
	// it to the browser's Referer header (only the site's origin, under the
	// default referrer policy, for a post to another origin).
	page := webURL(v[FieldPage])
	if page == nil {
		page = webURL(header(req, "referer"))
	}
	var touch lead.Attribution
	var pageQuery url.Values
	if page != nil {
		touch.SourcePage = cut(page.String(), maxURLLen)
		pageQuery = page.Query()
	}
	if ref := webURL(v[FieldReferrer]); ref != nil {
		touch.Referrer = cut(ref.String(), maxURLLen)
	}
	// UTM parameters come as fields or on the page URL itself.
	utm := make([]string, len(UTMFields))
	for i, name := range UTMFields {
		if utm[i] = shortText(v[name], maxUTMLen); utm[i] == "" {
			utm[i] = shortText(pageQuery.Get(name), maxUTMLen)
		}
	}
	touch.UTMSource, touch.UTMMedium, touch.UTMCampaign, touch.UTMTerm, touch.UTMContent = utm[0], utm[1], utm[2], utm[3], utm[4]

	received := now
	if ms := req.RequestContext.TimeEpoch; ms > 0 {
		received = time.UnixMilli(ms).UTC()
	}
	return lead.Submission{
		FormID:       formID,
		Fields:       fields,
		Consent:      truthy(v[FieldConsent]),
		Honeypot:     v[FieldHoneypot],
		SubmissionID: shortText(v[FieldSubmission], maxNonceLen),
		RenderedAt:   browserTime(v[FieldRenderedAt]),
		SubmittedAt:  browserTime(v[FieldSubmittedAt]),
		Touch:        touch,
		TimeZone:     shortText(v[FieldTimeZone], maxTimeZoneLen),
		IP:           req.RequestContext.HTTP.SourceIP,
		ReceivedAt:   received,
	}
}

// browserTime reads unix milliseconds; anything else is no time.
func browserTime(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// webURL parses an absolute http(s) URL, without its fragment and any
// user:password; anything else (text, a javascript: URL, control
// characters) is nil.
func webURL(s string) *url.URL {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil
	}
	u.User, u.Fragment, u.RawFragment = nil, "", ""
	return u
}

// shortText keeps a tag or nonce: dropped altogether when it holds control
// or format characters (a newline, NUL, a zero-width space, a right-to-left
// override) or invalid UTF-8, which no real campaign tag has; else trimmed
// and cut to n bytes.
func shortText(s string, n int) string {
	if !utf8.ValidString(s) || strings.IndexFunc(s, isControlOrFormat) >= 0 {
		return ""
	}
	return cut(strings.TrimSpace(s), n)
}

func isControlOrFormat(r rune) bool { return unicode.In(r, unicode.Cc, unicode.Cf) }

// cut shortens s to at most n bytes without splitting a character.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on", "yes", "true", "1":
		return true
	}
	return false
}

// safeID keeps a path parameter fit for logs.
func safeID(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '?'
	}, s)
}

func fieldNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func failure(html bool, status int, msg string, p Page) Response {
	if html {
		return htmlResponse(status, p)
	}
	return jsonResponse(status, map[string]string{"error": msg})
}

func decodeFailure(html bool, err error, company string) Response {
	switch {
	case errors.Is(err, errTooLarge):
		return failure(html, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body too large (limit %d bytes)", MaxBody),
			Page{Title: "Too much data", Lead: "The form sent more data than it should. Please shorten your entries.", Back: true, Company: company})
	case errors.Is(err, errContentType):
		return failure(html, http.StatusUnsupportedMediaType, "send application/x-www-form-urlencoded, multipart/form-data or application/json",
			Page{Title: "Unsupported form", Lead: "The form was sent in a format we do not accept.", Company: company})
	default:
		return failure(html, http.StatusBadRequest, err.Error(),
			Page{Title: "Something went wrong", Lead: "The form data could not be read. Please send the form again.", Back: true, Company: company})
	}
}

func invalidResponse(html bool, e *lead.InvalidError, company string) Response {
	if !html {
		return jsonResponse(http.StatusBadRequest, map[string]any{"error": "invalid submission", "fields": e.Fields})
	}
	items := make([]string, 0, len(e.Fields))
	for _, f := range fieldNames(e.Fields) {
		items = append(items, webform.Label(f)+": "+e.Fields[f])
	}
	return htmlResponse(http.StatusBadRequest, Page{Title: "Please check the form", Lead: "Some entries need a correction:", Items: items, Back: true, Company: company})
}
