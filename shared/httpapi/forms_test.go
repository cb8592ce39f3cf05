package httpapi_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/webform"
)

func (f *fixture) routes(pages httpapi.FormPages) *httpapi.FormRoutes {
	pages.Program = f.prog
	pages.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	return &httpapi.FormRoutes{Capture: f.capture, Pages: &pages}
}

func handleRoutes(t *testing.T, h *httpapi.FormRoutes, req httpapi.Request) httpapi.Response {
	t.Helper()
	resp, err := h.Handle(context.Background(), req)
	if err != nil {
		t.Fatalf("Handle returned an error (API Gateway would answer 500): %v", err)
	}
	return resp
}

func TestFormRoutes_script_cacheableWithETag(t *testing.T) {
	f := newFixture(t)
	h := f.routes(httpapi.FormPages{})
	req := loadEvent(t, "script.json")
	resp := handleRoutes(t, h, req)
	if resp.StatusCode != http.StatusOK || resp.Body != string(webform.Script()) {
		t.Fatalf("got %d, %d bytes", resp.StatusCode, len(resp.Body))
	}
	for k, want := range map[string]string{
		"content-type":           "text/javascript; charset=utf-8",
		"etag":                   webform.ScriptETag(),
		"x-content-type-options": "nosniff",
	} {
		if resp.Headers[k] != want {
			t.Errorf("%s: %q, want %q", k, resp.Headers[k], want)
		}
	}
	if cc := resp.Headers["cache-control"]; !strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=") {
		t.Errorf("cache-control %q: the script is the same for everyone and may be kept", cc)
	}
	for _, inm := range []string{webform.ScriptETag(), `"other", ` + webform.ScriptETag(), "W/" + webform.ScriptETag(), "*"} {
		req.Headers["if-none-match"] = inm
		if resp := handleRoutes(t, h, req); resp.StatusCode != http.StatusNotModified || resp.Body != "" || resp.Headers["etag"] == "" {
			t.Errorf("If-None-Match %s: got %d with %d bytes, want an empty 304", inm, resp.StatusCode, len(resp.Body))
		}
	}
	req.Headers["if-none-match"] = `"an-older-script"`
	if resp := handleRoutes(t, h, req); resp.StatusCode != http.StatusOK {
		t.Errorf("an old copy: got %d, want the script", resp.StatusCode)
	}
}

// The script adds what the capture reads, under the capture's names, and
// the snippet's honeypot and consent are the capture's.
func TestFormRoutes_scriptAndSnippetPostTheCapturesFields(t *testing.T) {
	script := string(webform.Script())
	for _, name := range append([]string{httpapi.FieldRenderedAt, httpapi.FieldSubmittedAt, httpapi.FieldSubmission, httpapi.FieldPage, httpapi.FieldReferrer, httpapi.FieldTimeZone}, httpapi.UTMFields...) {
		if !strings.Contains(script, `"`+name+`"`) {
			t.Errorf("forms.js never sets %q", name)
		}
	}
	f := newFixture(t)
	snippet, err := webform.Snippet(f.prog, f.prog.Forms[0].ID, "https://go.acme.example", webform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{httpapi.FieldHoneypot, httpapi.FieldConsent} {
		if !strings.Contains(snippet, `name="`+name+`"`) {
			t.Errorf("the snippet has no field %q", name)
		}
	}
}

func TestFormRoutes_hostedPage(t *testing.T) {
	f := newFixture(t)
	form, _ := f.prog.Form("finops-guide")
	asset, _ := f.prog.Asset(form.Asset)
	site := []string{"https://www.acme.example", "https://*"}
	h := f.routes(httpapi.FormPages{SiteOrigins: site})
	embedReq := loadEvent(t, "page-embed.json")
	const api = "https://r4nd0m1d.execute-api.eu-central-1.amazonaws.com"

	page := loadEvent(t, "page-embed.json")
	page.QueryStringParameters, page.RawQueryString = nil, ""
	resp := handleRoutes(t, h, page)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Headers["content-type"], "text/html") {
		t.Fatalf("got %d %q", resp.StatusCode, resp.Headers["content-type"])
	}
	want, _ := webform.Page(f.prog, form.ID, api, webform.PageOptions{})
	if resp.Body != want {
		t.Errorf("the page is not webform's page for the API's own URL:\n%s", resp.Body)
	}
	csp := resp.Headers["content-security-policy"]
	for _, d := range []string{
		"frame-ancestors 'none'", "script-src " + api + ";", "connect-src " + api + ";",
		// The post is answered with a redirect to the asset, which
		// form-action covers too.
		"form-action " + api + " https://" + hostOf(asset.URL) + ";",
	} {
		if !strings.Contains(csp, d) {
			t.Errorf("CSP %q lacks %q", csp, d)
		}
	}
	if rp := resp.Headers["referrer-policy"]; rp != "strict-origin-when-cross-origin" {
		t.Errorf("referrer-policy %q: a post without the script should still tell the page", rp)
	}

	resp = handleRoutes(t, h, embedReq)
	want, _ = webform.Page(f.prog, form.ID, api, webform.PageOptions{Embed: true})
	if resp.StatusCode != http.StatusOK || resp.Body != want {
		t.Fatalf("embed: got %d\n%s", resp.StatusCode, resp.Body)
	}
	if csp := resp.Headers["content-security-policy"]; !strings.Contains(csp, "frame-ancestors https://www.acme.example https:;") {
		t.Errorf("embed CSP %q: only the site's origins may frame it", csp)
	}
	none := f.routes(httpapi.FormPages{})
	if csp := handleRoutes(t, none, embedReq).Headers["content-security-policy"]; !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("embed CSP without SiteOrigins %q: nobody may frame it", csp)
	}

	// With a custom domain the page names it, whatever host was called.
	custom := f.routes(httpapi.FormPages{BaseURL: "https://go.acme.example"})
	if body := handleRoutes(t, custom, page).Body; !strings.Contains(body, `action="https://go.acme.example/forms/`+form.ID+`"`) {
		t.Errorf("with PUBLIC_BASE_URL the form posts elsewhere:\n%s", body)
	}
}

func hostOf(u string) string {
	rest := u[strings.Index(u, "://")+3:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

func TestFormRoutes_hostedPage_badRequests(t *testing.T) {
	f := newFixture(t)
	h := f.routes(httpapi.FormPages{})
	unknown := loadEvent(t, "page-embed.json")
	unknown.PathParameters["formId"] = "no-such-form"
	resp := handleRoutes(t, h, unknown)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(resp.Body, "Form not found") || !strings.HasPrefix(resp.Headers["content-type"], "text/html") {
		t.Errorf("unknown form: %d %q\n%s", resp.StatusCode, resp.Headers["content-type"], resp.Body)
	}
	badHost := loadEvent(t, "page-embed.json")
	badHost.RequestContext.DomainName = "evil.example; script-src *"
	if resp := handleRoutes(t, h, badHost); resp.StatusCode != http.StatusBadRequest || strings.Contains(resp.Headers["content-security-policy"], "evil") {
		t.Errorf("a bad host: %d %q", resp.StatusCode, resp.Headers["content-security-policy"])
	}
}

// The capture function still takes the form posts.
func TestFormRoutes_postGoesToCapture(t *testing.T) {
	f := newFixture(t)
	h := f.routes(httpapi.FormPages{})
	if resp := handleRoutes(t, h, loadEvent(t, "form-urlencoded.json")); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Body)
	}
	if l, _ := f.lead(t, "ada.lovelace@analytical-engines.example"); l == nil {
		t.Fatal("no lead stored")
	}
}
