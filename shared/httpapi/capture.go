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

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// Names of the form's own fields besides the lead fields.
const (
	FieldConsent    = "consent"
	FieldHoneypot   = "website"    // hidden from humans with CSS; bots fill it in
	FieldRenderedAt = "_t"         // unix milliseconds when the form was rendered
	FieldSubmission = "submission" // a nonce rendered into the form
	FieldPage       = "page"       // the page the form is on
	FieldReferrer   = "referrer"   // document.referrer, when the page sets it
	FieldTimeZone   = "tz"         // the browser's IANA time zone, set by the form script
)

// Capture serves POST /forms/{formId}.
type Capture struct {
	Capturer *lead.Capturer
	Log      *slog.Logger
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
	values, err := formValues(req)
	if err != nil {
		log.Info("capture rejected", "reason", err.Error())
		return decodeFailure(html, err, company), nil
	}
	sub := submission(formID, values, req, h.Capturer.Clock.Now())
	out, err := h.Capturer.Capture(ctx, sub)
	var invalid *lead.InvalidError
	switch {
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
	if out.AlertErr != nil {
		log.Error("sales alert left pending", "leadId", out.LeadID, "error", out.AlertErr.Error())
	}

	target := out.Form.ThankYouURL
	if target == "" {
		target = out.Asset.URL
	}
	if html {
		return redirect(target), nil
	}
	// The same answer whether the lead is new, known or a bot: the response
	// must not tell anyone whether an address is already in the database.
	return jsonResponse(http.StatusOK, map[string]any{
		"ok":      true,
		"message": "Thank you! Your content is ready.",
		"asset":   map[string]string{"id": out.Asset.ID, "title": out.Asset.Title, "url": out.Asset.URL},
		"next":    target,
	}), nil
}

// submission maps the posted values to the domain's submission.
func submission(formID string, v map[string]string, req Request, now time.Time) lead.Submission {
	fields := map[string]string{}
	for _, name := range program.FormFields {
		if val, ok := v[name]; ok {
			fields[name] = val
		}
	}
	page := v[FieldPage]
	if page == "" {
		page = header(req, "referer")
	}
	touch := lead.Attribution{SourcePage: clip(page, 512), Referrer: clip(v[FieldReferrer], 512)}
	// UTM parameters come as hidden fields or on the page URL itself.
	var pageQuery url.Values
	if u, err := url.Parse(page); err == nil {
		pageQuery = u.Query()
	}
	utm := func(name string) string {
		if s := v[name]; s != "" {
			return clip(s, 128)
		}
		return clip(pageQuery.Get(name), 128)
	}
	touch.UTMSource, touch.UTMMedium, touch.UTMCampaign = utm("utm_source"), utm("utm_medium"), utm("utm_campaign")
	touch.UTMTerm, touch.UTMContent = utm("utm_term"), utm("utm_content")

	received := now
	if ms := req.RequestContext.TimeEpoch; ms > 0 {
		received = time.UnixMilli(ms).UTC()
	}
	s := lead.Submission{
		FormID:       formID,
		Fields:       fields,
		Consent:      truthy(v[FieldConsent]),
		Honeypot:     v[FieldHoneypot],
		SubmissionID: clip(v[FieldSubmission], 64),
		Touch:        touch,
		TimeZone:     clip(v[FieldTimeZone], 64),
		IP:           req.RequestContext.HTTP.SourceIP,
		ReceivedAt:   received,
	}
	if ms, err := strconv.ParseInt(v[FieldRenderedAt], 10, 64); err == nil && ms > 0 {
		s.RenderedAt = time.UnixMilli(ms).UTC()
	}
	return s
}

func truthy(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "on", "yes", "true", "1":
		return true
	}
	return false
}

// clip bounds attribution strings: they are informational and must never
// make a lead item large.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	return s
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

var fieldLabels = map[string]string{
	"email": "Email", "name": "Name", "company": "Company", "role": "Role", "industry": "Industry",
	"companySize": "Company size", "country": "Country", "timeline": "Timeline", "consent": "Consent",
}

// FieldLabel is the human name of a form field.
func FieldLabel(name string) string {
	if l, ok := fieldLabels[name]; ok {
		return l
	}
	return name
}

func invalidResponse(html bool, e *lead.InvalidError, company string) Response {
	if !html {
		return jsonResponse(http.StatusBadRequest, map[string]any{"error": "invalid submission", "fields": e.Fields})
	}
	items := make([]string, 0, len(e.Fields))
	for _, f := range fieldNames(e.Fields) {
		items = append(items, FieldLabel(f)+": "+e.Fields[f])
	}
	return htmlResponse(http.StatusBadRequest, Page{Title: "Please check the form", Lead: "Some entries need a correction:", Items: items, Back: true, Company: company})
}
