package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/program"
)

// Handler is a Lambda handler for API Gateway HTTP API events.
type Handler func(ctx context.Context, req httpapi.Request) (httpapi.Response, error)

// Options wire the local server.
type Options struct {
	Program *program.Program
	Clock   *clock.Offset
	// Functions serve the public routes, by function name (see httpapi.Routes).
	Functions map[string]Handler
	// Tick runs one scheduler tick; nil answers 501 until the scheduler exists.
	Tick func(ctx context.Context, at time.Time) (nurture.Report, error)
	// NextDue tells when the earliest scheduled nurture step is due
	// (store.NextDue); POST /_local/next jumps the clock there.
	NextDue func(ctx context.Context) (time.Time, bool, error)
	// SESEvent hands one SES event (EventBridge envelope) to the engagement
	// handler; nil answers 501 until the engagement handler exists.
	SESEvent func(ctx context.Context, event json.RawMessage) error
	// Tracking serves GET /_local/click and GET /_local/open, the redirect
	// and pixel of SES's click and open tracking (see sestrack); nil
	// answers 501.
	Tracking http.Handler
	// SiteOrigins are the website origins whose scripts may read the public
	// routes' answers (SITE_ORIGINS), as API Gateway's CORS configuration
	// allows them in AWS.
	SiteOrigins config.Origins
	// Links are shown on the demo page (name to URL), e.g. the mail viewer.
	Links []Link
	// Inboxes are the sales owners' inbox links (Name the owner's address)
	// under base, the API as the browser reached it, signed afresh for each
	// view of the demo page.
	Inboxes func(base string) []Link
	// Results is the signed link to the program's results under base.
	Results func(base string) string
	// Metrics are the business metrics recorded so far (metrics.Recorder's
	// Totals): GET /_local/metrics shows them.
	Metrics func() map[string]int
	Log     *slog.Logger
}

// Link is a named URL shown on the demo page.
type Link struct{ Name, URL string }

// New returns the local server's handler.
func New(o Options) http.Handler {
	if o.Log == nil {
		o.Log = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	s := &srv{o: o}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.demo)
	mux.HandleFunc("POST /_local/tick", s.tick)
	mux.HandleFunc("POST /_local/next", s.next)
	mux.HandleFunc("GET /_local/clock", s.clock)
	mux.HandleFunc("POST /_local/clock", s.clock)
	mux.HandleFunc("POST /_local/ses-events", s.sesEvent)
	mux.HandleFunc("GET /_local/click", s.tracking)
	mux.HandleFunc("GET /_local/open", s.tracking)
	mux.HandleFunc("GET /_local/metrics", s.metrics)
	mux.HandleFunc("/", s.api)
	return mux
}

type srv struct{ o Options }

// api plays API Gateway: answer CORS preflights, match the route, build the
// event, call the function.
func (s *srv) api(w http.ResponseWriter, r *http.Request) {
	if isPreflight(r) {
		s.preflight(w, r)
		return
	}
	for _, route := range httpapi.Routes {
		params, ok := matchRoute(route.Path, r.URL.Path)
		if !ok {
			continue
		}
		if r.Method != route.Method {
			continue
		}
		fn := s.o.Functions[route.Function]
		if fn == nil {
			http.Error(w, `{"message":"Not Implemented"}`, http.StatusNotImplemented)
			return
		}
		ev, err := toEvent(r, route, params, s.o.Clock.Now())
		if err != nil {
			http.Error(w, `{"message":"Bad Request"}`, http.StatusBadRequest)
			return
		}
		resp, err := fn(r.Context(), ev)
		if err != nil {
			// What API Gateway answers when the function returns an error.
			s.o.Log.Error("function failed", "function", route.Function, "error", err.Error())
			w.Header().Set("content-type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, `{"message":"Internal Server Error"}`)
			return
		}
		writeResponse(w, s.withCORS(r, resp))
		return
	}
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, `{"message":"Not Found"}`)
}

// metrics shows what CloudWatch would have counted from the EMF lines so
// far, by metric and by dimension value ("LeadsCaptured/new").
func (s *srv) metrics(w http.ResponseWriter, r *http.Request) {
	if s.o.Metrics == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "no metrics recorder"})
		return
	}
	writeJSON(w, http.StatusOK, s.o.Metrics())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("content-type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// clock shows the local time, and with {"advance":"168h"} (JSON or form)
// moves it forward, so a week of nurture takes a second.
func (s *srv) clock(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost {
		var req struct {
			Advance string `json:"advance"`
		}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&req); err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": `send {"advance":"168h"}`})
				return
			}
		} else {
			req.Advance = r.FormValue("advance")
		}
		d, err := time.ParseDuration(req.Advance)
		if err != nil || d <= 0 {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("advance %q: want a positive duration such as 168h", req.Advance)})
			return
		}
		s.o.Clock.Advance(d)
		if wantsPage(r) {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"now": s.o.Clock.Now().Format(time.RFC3339)})
}

func (s *srv) tick(w http.ResponseWriter, r *http.Request) {
	if s.o.Tick == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "the scheduler is not built yet"})
		return
	}
	res, err := s.o.Tick(r.Context(), s.o.Clock.Now())
	if err != nil {
		s.o.Log.Error("tick failed", "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "tick failed; see the server log"})
		return
	}
	if wantsPage(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

// nextJumps bounds POST /_local/next: a step due outside its send window
// takes two jumps (to its due time, where the tick moves it to the window's
// opening, then there); more means nothing can go out.
const nextJumps = 4

// NextReport says what POST /_local/next did.
type NextReport struct {
	Now     string `json:"now"`
	Sent    int    `json:"sent"`
	Ticks   int    `json:"ticks"`
	Message string `json:"message"`
}

// next sends the next nurture email whatever the hour: it ticks, and while
// nothing went out it moves the clock to the earliest scheduled step and
// ticks again. A tick outside the send window moves a due step to the
// window's next opening, so the following jump lands inside the window; a
// walk started on a Saturday night thus reaches Monday morning, which
// whole-week jumps never do.
func (s *srv) next(w http.ResponseWriter, r *http.Request) {
	if s.o.Tick == nil || s.o.NextDue == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "the scheduler is not built yet"})
		return
	}
	ctx := r.Context()
	var rep NextReport
	for rep.Ticks < nextJumps && rep.Sent == 0 {
		res, err := s.o.Tick(ctx, s.o.Clock.Now())
		if err != nil {
			s.o.Log.Error("tick failed", "error", err.Error())
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "tick failed; see the server log"})
			return
		}
		rep.Ticks++
		rep.Sent = res.Sent + res.Uncertain
		if rep.Sent > 0 {
			break
		}
		at, ok, err := s.o.NextDue(ctx)
		if err != nil {
			s.o.Log.Error("next due step", "error", err.Error())
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not read the schedule; see the server log"})
			return
		}
		if !ok {
			break
		}
		// The index keeps whole seconds and the lead its exact due time:
		// land a second later so the step is due by both.
		if d := at.Add(time.Second).Sub(s.o.Clock.Now()); d > 0 {
			s.o.Clock.Advance(d)
		}
	}
	rep.Now = s.o.Clock.Now().Format(time.RFC3339)
	switch {
	case rep.Sent == 1:
		rep.Message = "sent 1 email"
	case rep.Sent > 1:
		rep.Message = fmt.Sprintf("sent %d emails", rep.Sent)
	default:
		rep.Message = "no nurture email is scheduled: fill in a form first"
	}
	if wantsPage(r) {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

func (s *srv) sesEvent(w http.ResponseWriter, r *http.Request) {
	if s.o.SESEvent == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "the engagement handler is not built yet"})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 256<<10))
	if err != nil || !json.Valid(body) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "send one SES event as JSON (EventBridge envelope, source aws.ses)"})
		return
	}
	if err := s.o.SESEvent(r.Context(), body); err != nil {
		s.o.Log.Error("ses event failed", "error", err.Error())
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "the engagement handler failed; see the server log"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
}

func (s *srv) tracking(w http.ResponseWriter, r *http.Request) {
	if s.o.Tracking == nil {
		writeJSON(w, http.StatusNotImplemented, map[string]string{"error": "click and open tracking is not built yet"})
		return
	}
	s.o.Tracking.ServeHTTP(w, r)
}

// wantsPage tells the demo page's buttons from scripts.
func wantsPage(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
