package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/report"
)

// serve plays API Gateway for the links function on a local port, as
// make run does: the browser asks, the handler answers.
func (h *history) serve() string {
	h.T.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := testworld.LinkRequest(r.Method, testworld.BaseURL+r.URL.Path, nil, h.Clock.Now())
		req.RawQueryString = r.URL.RawQuery
		resp, err := h.App.LinkRoutes.Handle(r.Context(), req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		for k, v := range resp.Headers {
			w.Header().Set(k, v)
		}
		w.WriteHeader(resp.StatusCode)
		io.WriteString(w, resp.Body)
	}))
	h.T.Cleanup(srv.Close)
	return srv.URL
}

func get(t *testing.T, u string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var noScript = chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
	_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
	return err
})

func browser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath("/usr/bin/chromium"),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

// The report page of the scripted history: the same numbers as make
// report, every table as CSV, a tampered link the plain 404 of every bad
// link; in Chromium without script, on a laptop and at a phone's 375 px
// with no horizontal scrolling.
func TestReportPage_scriptedHistory_sameNumbers_csv_phone(t *testing.T) {
	h := newHistory(t)
	h.play()
	if err := h.rollup.Run(context.Background(), h.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	base := h.serve()
	from := report.Day(h.Clock.Now()).AddDate(0, 0, -3).Format(report.DateLayout)
	to := report.Day(h.Clock.Now()).Format(report.DateLayout)
	tokURL := report.LinkURL(h.Signer, base, h.Clock.Now())
	page := tokURL + "?from=" + from + "&to=" + to

	status, body, hdr := get(t, page)
	if status != http.StatusOK || !strings.Contains(hdr.Get("content-security-policy"), "default-src 'none'") || strings.Contains(body, "<script") {
		t.Fatalf("report page: %d %v\n%s", status, hdr, body)
	}
	// Every table downloads as CSV, and the page shows its cells.
	rep := h.makeReport(Options{From: from, To: to, Table: "list"})
	for _, id := range strings.Fields(rep) {
		status, got, hdr := get(t, tokURL+"?from="+from+"&to="+to+"&csv="+id)
		if status != http.StatusOK || !strings.HasPrefix(hdr.Get("content-type"), "text/csv") || !strings.Contains(hdr.Get("content-disposition"), "attachment") {
			t.Errorf("csv %s: %d %v", id, status, hdr)
			continue
		}
		want := h.makeReport(Options{From: from, To: to, Table: id, Format: "csv"})
		if got != want {
			t.Errorf("csv %s from the page differs from make report's:\n%s\n---\n%s", id, got, want)
		}
		if !strings.Contains(body, `id="`+id+`"`) {
			t.Errorf("the page has no table %s", id)
		}
	}
	// Tampered, expired or for another link: the one invalid page.
	_, invalid, _ := get(t, base+"/u/AAAA")
	for name, u := range map[string]string{
		"tampered": tokURL[:len(tokURL)-2] + "xx",
		"expired":  report.LinkURL(h.Signer, base, h.Clock.Now().Add(-report.LinkTTL-time.Hour)),
	} {
		if status, got, _ := get(t, u); status != http.StatusNotFound || got != invalid {
			t.Errorf("%s link: %d\n%s", name, status, got)
		}
	}
	if status, got, _ := get(t, tokURL+"?from=2026-13-01"); status != http.StatusBadRequest || !strings.Contains(got, "is not a date like") {
		t.Errorf("a bad period: %d\n%s", status, got)
	}

	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank"), noScript); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	check := func(width, height int, shot string, opts ...chromedp.EmulateViewportOption) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(int64(width), int64(height), opts...),
			chromedp.Navigate(page),
			chromedp.WaitVisible("#funnel table"),
		)
		if err != nil {
			t.Fatalf("open the report at %d px: %v", width, err)
		}
		funnel, _ := chromedp.Run(ctx, chromedp.Text("#funnel table"))
		for step, n := range wantFunnel {
			if !strings.Contains(funnel, step+"\t"+n) && !strings.Contains(funnel, step+" "+n) {
				t.Errorf("at %d px the funnel does not say %s %s:\n%s", width, step, n, funnel)
			}
		}
		bars, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#funnel-chart svg rect").length`))
		if bars == 0 {
			t.Errorf("no funnel chart at %d px", width)
		}
		scroll, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
		if err != nil || scroll > width {
			t.Errorf("at %d px the page is %d px wide: it scrolls sideways (%v)", width, scroll, err)
		}
		if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)); err == nil {
			_ = os.WriteFile(filepath.Join(t.ArtifactDir(), shot), png, 0o644)
		} else {
			t.Errorf("screenshot: %v", err)
		}
	}
	check(1280, 900, "report-laptop.png")
	check(375, 740, "report-phone.png", chromedp.EmulateMobile, chromedp.EmulatePortrait)
}
