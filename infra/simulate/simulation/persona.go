package simulation

import (
	"context"
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/infra/local/sestrack"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// What the persona's browser and mail client say they are. The scanner
// says the same as a browser: link scanners do, so only their timing, their
// bursts and the hidden link give them away.
const (
	browserAgent    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
	mailClientAgent = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Microsoft Outlook 16.0"
)

// A reader opens an email, clicks its asset a minute later and answers its
// question a minute after that; a link scanner starts 200 ms after delivery
// and follows a link every 80 ms.
const (
	clickAfterOpen  = time.Minute
	answerAfterOpen = 2 * time.Minute
	scannerStart    = 200 * time.Millisecond
	scannerPace     = 80 * time.Millisecond
)

// persona is one persona during a run.
type persona struct {
	program.Persona
	r      *sim
	email  string // normalised, as the product keys the lead
	leadID string
	// ip is the persona's own source IP: every person is a client of
	// their own to the per-client limits.
	ip   string
	zone *time.Location
	j    Journey
	n    int // emails received
	// acted holds, per behaviour, the months ("2027-03", in the persona's
	// zone) it already acted in, for the monthly frequency.
	acted   map[string]map[string]bool
	samples []sample
}

type sample struct {
	at    time.Time
	score float64
}

func (r *sim) newPersona(pe program.Persona) (*persona, error) {
	email, err := lead.NormaliseEmail(pe.Email)
	if err != nil {
		return nil, fmt.Errorf("persona %s: %w", pe.ID, err)
	}
	zone, err := time.LoadLocation(pe.Zone(r.prog))
	if err != nil {
		return nil, fmt.Errorf("persona %s: %w", pe.ID, err)
	}
	p := &persona{
		Persona: pe, r: r, email: email, leadID: r.ids.ID(email), zone: zone, ip: personaIP(email),
		acted: map[string]map[string]bool{"open": {}, "click": {}, "answer": {}},
	}
	p.j = Journey{Persona: pe, Zone: zone}
	day := r.start
	first := time.Date(day.Year(), day.Month(), day.Day(), 10, 0, 0, 0, zone)
	r.at(first, p, func(ctx context.Context) error { return p.fill(ctx, pe.Form) })
	for _, dl := range pe.Later {
		r.at(first.Add(dl.After.Duration), p, func(ctx context.Context) error { return p.fill(ctx, dl.Form) })
	}
	return p, nil
}

// fill posts a form the way a browser does, filled in from the profile,
// to the capture handler.
func (p *persona) fill(ctx context.Context, formID string) error {
	form, ok := p.r.prog.Form(formID)
	if !ok {
		return fmt.Errorf("the program has no form %q", formID)
	}
	now := p.r.clock.Now()
	v := url.Values{}
	for _, f := range form.Fields {
		if f == "email" {
			v.Set(f, p.Email)
		} else if val := p.Profile.Value(f); val != "" {
			v.Set(f, val)
		}
	}
	v.Set(httpapi.FieldConsent, "on")
	v.Set(httpapi.FieldRenderedAt, strconv.FormatInt(now.Add(-time.Minute).UnixMilli(), 10))
	if p.Profile.TimeZone != "" {
		v.Set(httpapi.FieldTimeZone, p.Profile.TimeZone)
	}
	route := httpapi.Route{Method: http.MethodPost, Path: "/forms/{formId}"}
	req := apiRequest(route, "/forms/"+formID, map[string]string{"formId": formID}, v, p.ip, now)
	resp, err := p.r.app.Capture.Handle(ctx, req)
	if err != nil {
		return fmt.Errorf("form %s: %w", formID, err)
	}
	if resp.StatusCode >= 400 {
		return fmt.Errorf("form %s answered %d: %s", formID, resp.StatusCode, resp.Body)
	}
	p.j.Downloads = append(p.j.Downloads, Download{At: now, Form: formID, Asset: form.Asset})
	return p.sample(ctx)
}

// receive is an email arriving: the persona decides now what it will do
// with it, and when.
func (p *persona) receive(ctx context.Context, m received) error {
	if m.Tags[mail.TagKind] == mail.KindConfirm {
		return p.confirmAddress(m)
	}
	p.n++
	step, _ := strconv.Atoi(m.Tags[mail.TagStep])
	e := &Email{
		At: m.At, MessageID: m.MessageID, Kind: m.Tags[mail.TagKind], Track: m.Tags[mail.TagTrack], Step: step,
		Asset: m.Tags[mail.TagAsset], Subject: m.Subject,
	}
	if err := p.explain(ctx, e); err != nil {
		return err
	}
	p.j.Emails = append(p.j.Emails, e)
	if err := p.sampleAfter(ctx, e); err != nil {
		return err
	}

	// What a reader can do with it: click the asset, and answer what it
	// asks: its question, or what another link of ours asks (the
	// re-engagement email's "keep them coming"). The links that ask for
	// the reader's opinion of the mail (was this useful, what would help,
	// the preference page) are left alone: personas do not rate.
	var asset, answer, other *mailLink
	for i, l := range m.Links {
		kind, ours := productLink(l.URL)
		switch {
		case l.Tracked && l.Kind == mail.LinkAsset && asset == nil:
			asset = &m.Links[i]
		case l.Tracked || !ours:
		case kind == link.Answer:
			if q, v, ok := p.answerOf(l.URL, m.At); ok {
				e.Question = q.ID
				if v != "" {
					e.answer = q.ID + "=" + v
					answer = &m.Links[i]
				}
			}
		case kind == link.Keep && other == nil:
			other = &m.Links[i]
		}
	}
	if e.Question == "" && other != nil {
		e.answer, answer = "“"+other.Text+"”", other
	}

	b := p.Behaviour
	if b.Scanner {
		p.scan(m, e)
	}
	month := m.At.In(p.zone).Format("2006-01")
	open := p.decide("open", b.Opens, month)
	click := asset != nil && p.decide("click", b.Clicks, month)
	answers := answer != nil && (open || click) && p.decide("answer", b.Answers, month)
	readAt := m.At.Add(p.readsAfter())
	if open && m.OpenPixel != "" {
		p.r.at(readAt, p, func(ctx context.Context) error {
			e.Did = append(e.Did, "opened")
			return p.follow(ctx, m.OpenPixel, mailClientAgent, e)
		})
	}
	if click {
		p.r.at(readAt.Add(clickAfterOpen), p, func(ctx context.Context) error {
			e.Did = append(e.Did, "clicked")
			return p.follow(ctx, asset.URL, browserAgent, e)
		})
	}
	if answers {
		p.r.at(readAt.Add(answerAfterOpen), p, func(ctx context.Context) error {
			e.Did = append(e.Did, "answered "+e.answer)
			return p.confirm(ctx, answer.URL, e)
		})
	}
	return nil
}

// confirmAddress is the person confirming the address when the double
// opt-in's email arrives, as soon as they read mail: every persona does
// (one that never did would get nothing else to simulate). A scanner in
// front of the inbox opened the link already; its GET changes nothing.
// The journey lists nurture mail only.
func (p *persona) confirmAddress(m received) error {
	for _, l := range m.Links {
		kind, ours := productLink(l.URL)
		if !ours || kind != link.Confirm {
			continue
		}
		u, err := url.Parse(l.URL)
		if err != nil {
			return fmt.Errorf("confirmation link %q: %w", l.URL, err)
		}
		p.r.at(m.At.Add(p.readsAfter()), p, func(ctx context.Context) error {
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				resp, err := p.linkPage(ctx, kind, u, method)
				if err != nil {
					return err
				}
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("confirmation link %s: %d", method, resp.StatusCode)
				}
			}
			return nil
		})
		return nil
	}
	return fmt.Errorf("confirmation email %s without its link", m.MessageID)
}

// explain notes why the email is not simply the next step (note), as the
// lead stands on delivery.
func (p *persona) explain(ctx context.Context, e *Email) error {
	var prev *Email
	for i := len(p.j.Emails) - 1; i >= 0 && prev == nil; i-- {
		if p.j.Emails[i].Track != program.ReengageTrack {
			prev = p.j.Emails[i]
		}
	}
	if prev == nil {
		return nil
	}
	l, found, err := p.r.app.Store.GetLead(ctx, p.leadID)
	if err != nil || !found {
		return fmt.Errorf("read lead: found %v: %w", found, err)
	}
	e.Note = note(p.r.prog, l, prev, e)
	return nil
}

// decide applies a frequency to the email just received.
func (p *persona) decide(what string, f program.Frequency, month string) bool {
	if !f.Acts(p.n, p.acted[what][month]) {
		return false
	}
	p.acted[what][month] = true
	return true
}

func (p *persona) readsAfter() time.Duration {
	if d := p.Behaviour.ReadsAfter.Duration; d > 0 {
		return d
	}
	return program.DefaultReadsAfter
}

// scan plans what a link scanner in front of the persona's inbox does: it
// fetches the images and follows every link, tracked or not, within a
// second of delivery.
func (p *persona) scan(m received, e *Email) {
	at := m.At.Add(scannerStart)
	if m.OpenPixel != "" {
		p.r.at(at, p, func(ctx context.Context) error { return p.follow(ctx, m.OpenPixel, browserAgent, e) })
	}
	for i, l := range m.Links {
		p.r.at(at.Add(time.Duration(i+1)*scannerPace), p, func(ctx context.Context) error { return p.follow(ctx, l.URL, browserAgent, e) })
	}
	e.Did = append(e.Did, fmt.Sprintf("scanner followed %d links", len(m.Links)))
}

// follow fetches a link of an email as a browser does (a GET): the
// tracking redirect and pixel, or a link page; both answer in-process.
func (p *persona) follow(ctx context.Context, raw, agent string, e *Email) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("link %q in email %s: %w", raw, e.MessageID, err)
	}
	if u.Path == sestrack.ClickPath || u.Path == sestrack.OpenPath {
		req := httptest.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
		req.Header.Set("User-Agent", agent)
		rec := httptest.NewRecorder()
		p.r.track.Handler().ServeHTTP(rec, req)
		if rec.Code >= 400 {
			return fmt.Errorf("tracked link of email %s answered %d", e.MessageID, rec.Code)
		}
		return p.sampleAfter(ctx, e)
	}
	kind, ok := productLink(raw)
	if !ok {
		return nil // a page on the website: nothing the product sees
	}
	_, err = p.linkPage(ctx, kind, u, http.MethodGet)
	return err
}

// confirm opens a link of ours and presses its page's button, as a reader
// does: a GET shows the page, the POST acts.
func (p *persona) confirm(ctx context.Context, raw string, e *Email) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("link %q in email %s: %w", raw, e.MessageID, err)
	}
	kind, ok := link.Parse(u.Path)
	if !ok {
		return fmt.Errorf("link %q in email %s is not one of ours", raw, e.MessageID)
	}
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		if _, err := p.linkPage(ctx, kind, u, method); err != nil {
			return err
		}
	}
	return p.sampleAfter(ctx, e)
}

// productLink tells a link of ours (answer, unsubscribe ...) by its kind.
func productLink(raw string) (link.Kind, bool) {
	u, err := url.Parse(raw)
	if err != nil || !strings.HasPrefix(raw, baseURL+"/") {
		return "", false
	}
	return link.Parse(u.Path)
}

// linkPage asks the links function for a link's page (GET) or action (POST).
func (p *persona) linkPage(ctx context.Context, kind link.Kind, u *url.URL, method string) (httpapi.Response, error) {
	tok := strings.TrimPrefix(u.Path, kind.Path(""))
	route := httpapi.Route{Method: method, Path: kind.Route()}
	var form url.Values
	if method == http.MethodPost {
		form = url.Values{}
	}
	resp, err := p.r.app.LinkRoutes.Handle(ctx, apiRequest(route, u.Path, map[string]string{"token": tok}, form, p.ip, p.r.clock.Now()))
	if err != nil {
		return resp, fmt.Errorf("%s %s: %w", method, kind.Route(), err)
	}
	if resp.StatusCode >= 400 {
		return resp, fmt.Errorf("%s %s answered %d", method, kind.Route(), resp.StatusCode)
	}
	return resp, nil
}

// answerOf reads which question and answer an answer link stands for, and
// returns the persona's own answer's value if this link is it.
func (p *persona) answerOf(raw string, now time.Time) (program.Question, string, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return program.Question{}, "", false
	}
	if kind, ok := link.Parse(u.Path); !ok || kind != link.Answer {
		return program.Question{}, "", false
	}
	c, err := p.r.signer.Verify(strings.TrimPrefix(u.Path, link.Answer.Path("")), token.PurposeAnswer, now)
	if err != nil {
		return program.Question{}, "", false
	}
	qid, value, _ := strings.Cut(c.Ref, "=")
	q, ok := p.r.prog.Question(qid)
	if !ok {
		return program.Question{}, "", false
	}
	if mine := p.Profile.Answer(q); mine == "" || mine != value {
		value = ""
	}
	return q, value, true
}

// sample notes the persona's score now.
func (p *persona) sample(ctx context.Context) error {
	l, found, err := p.r.app.Store.GetLead(ctx, p.leadID)
	if err != nil {
		return fmt.Errorf("read lead: %w", err)
	}
	if !found {
		return nil
	}
	now := p.r.clock.Now()
	p.samples = append(p.samples, sample{at: now, score: p.r.model.Value(l.Score, now)})
	return nil
}

// sampleAfter notes the score after the persona did something with e.
func (p *persona) sampleAfter(ctx context.Context, e *Email) error {
	if err := p.sample(ctx); err != nil {
		return err
	}
	e.Score = p.score()
	return nil
}

func (p *persona) score() float64 {
	if len(p.samples) == 0 {
		return 0
	}
	return p.samples[len(p.samples)-1].score
}

// apiRequest is the API Gateway (HTTP API, payload 2.0) event of a browser's
// request: a form post's body urlencoded and base64-encoded, as API Gateway
// passes it, and the request's own time.
func apiRequest(route httpapi.Route, path string, params map[string]string, form url.Values, ip string, at time.Time) httpapi.Request {
	req := httpapi.Request{
		Version:        "2.0",
		RouteKey:       route.RouteKey(),
		RawPath:        path,
		PathParameters: params,
		Headers:        map[string]string{"accept": "text/html,application/xhtml+xml", "user-agent": browserAgent},
	}
	if form != nil {
		req.Headers["content-type"] = "application/x-www-form-urlencoded"
		req.Body = base64.StdEncoding.EncodeToString([]byte(form.Encode()))
		req.IsBase64Encoded = true
	}
	req.RequestContext.HTTP.Method = route.Method
	req.RequestContext.HTTP.Path = path
	req.RequestContext.HTTP.SourceIP = ip
	req.RequestContext.HTTP.UserAgent = browserAgent
	req.RequestContext.RequestID = "simulation"
	req.RequestContext.TimeEpoch = at.UnixMilli()
	return req
}

// personaIP is an address of the benchmarking range 198.18.0.0/15 (RFC
// 2544), one per persona.
func personaIP(email string) string {
	h := fnv.New32a()
	h.Write([]byte(email))
	n := h.Sum32() % (1 << 17)
	return fmt.Sprintf("198.%d.%d.%d", 18+n>>16, n>>8&0xff, n&0xff)
}

func normalised(addr string) string {
	n, err := lead.NormaliseEmail(addr)
	if err != nil {
		return addr
	}
	return n
}
