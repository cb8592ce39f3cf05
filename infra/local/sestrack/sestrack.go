// Package sestrack plays, on one machine, what the SES configuration set does
// in AWS. There, SES rewrites every tracked link of a message into a redirect
// that records a Click, adds an open-tracking pixel, and publishes the
// message's Send, Delivery, Open and Click events to EventBridge, whose rule
// hands them to the engagement function. aws-ses-v2-local does none of this,
// so the Tracker does it in front of it:
//
//   - Send rewrites the HTML part (links without ses:no-track become
//     BaseURL/_local/click?r=<ref>&n=<index>, ses:tags attributes go, a 1×1
//     pixel BaseURL/_local/open?r=<ref> goes before </body>), sends it through
//     the real mailer, and publishes a Send and a Delivery event;
//   - Handler serves those two routes: a click publishes a Click event and
//     redirects to the original URL, the pixel publishes an Open event.
//
// Events are EventBridge envelopes (source aws.ses) shaped like SES's, handed
// to Publish, which the local stack wires to the engagement handler. The
// tracking URLs carry only a random reference: the message, its tags and the
// original links stay in memory, so links in mail sent before a restart of
// the local stack answer 404.
package sestrack

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	netmail "net/mail"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/sesevent"
)

// The routes Handler serves.
const (
	ClickPath = "/_local/click"
	OpenPath  = "/_local/open"
)

// What the events say about where they come from.
const (
	region      = "local"
	account     = "000000000000"
	smtpOK      = "250 2.0.0 OK"
	publishWait = 30 * time.Second
)

// Tracker is a mail.Mailer that tracks clicks and opens the way an SES
// configuration set does, and publishes SES's events for what it sends.
type Tracker struct {
	// Mailer sends the rewritten message (the SES local mailer).
	Mailer mail.Mailer
	// BaseURL is where Handler is reachable (the local API URL), without a
	// trailing slash.
	BaseURL string
	// Publish takes one SES event as an EventBridge envelope (the
	// engagement handler). Its failures are logged, never returned: the mail
	// went out either way. Nil drops the events.
	Publish func(ctx context.Context, raw json.RawMessage) error
	// ConfigurationSet is the set named in the events' ses:configuration-set
	// tag for messages that name none themselves: the mailer's default.
	ConfigurationSet string
	// Clock dates sends, deliveries, clicks and opens; nil is the system clock.
	Clock clock.Clock
	Log   *slog.Logger

	mu   sync.Mutex
	sent map[string]*sentMail // by ref
}

var _ mail.Mailer = (*Tracker)(nil)

// sentMail is what the Tracker remembers of one message it sent.
type sentMail struct {
	messageID        string
	tags             map[string][]string // as SES publishes them
	to, from         string
	subject          string
	configurationSet string
	sentAt           time.Time
	links            []trackedLink // by index
}

// Send rewrites m's HTML for tracking, sends it and publishes its Send and
// Delivery events. It fails only if the mailer does, with the mailer's error.
func (t *Tracker) Send(ctx context.Context, m mail.Message) (string, error) {
	ref := newRef()
	base := strings.TrimRight(t.BaseURL, "/")
	var links []trackedLink
	if m.HTML != "" {
		m.HTML, links = rewrite(m.HTML, func(i int) string {
			return base + ClickPath + "?r=" + ref + "&n=" + strconv.Itoa(i)
		})
		m.HTML = addPixel(m.HTML, base+OpenPath+"?r="+ref)
	}
	sentAt := t.now()
	id, err := t.Mailer.Send(ctx, m)
	if err != nil {
		return "", err
	}
	set := m.ConfigurationSet
	if set == "" {
		set = t.ConfigurationSet
	}
	sm := &sentMail{
		messageID: id, tags: mailTags(m, set), to: m.To, from: m.From, subject: m.Subject,
		configurationSet: set, sentAt: sentAt, links: links,
	}
	t.mu.Lock()
	if t.sent == nil {
		t.sent = map[string]*sentMail{}
	}
	t.sent[ref] = sm
	t.mu.Unlock()

	t.publish(ctx, sm, sesevent.Record{EventType: sesevent.EventSend, Send: &sesevent.Send{}})
	deliveredAt := t.now()
	t.publish(ctx, sm, sesevent.Record{EventType: sesevent.EventDelivery, Delivery: &sesevent.Delivery{
		Timestamp:            deliveredAt,
		ProcessingTimeMillis: max(deliveredAt.Sub(sentAt).Milliseconds(), 0),
		Recipients:           []string{m.To},
		SMTPResponse:         smtpOK,
		ReportingMTA:         "localhost",
	}})
	return id, nil
}

// Handler serves GET /_local/click and GET /_local/open.
func (t *Tracker) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+ClickPath, t.click)
	mux.HandleFunc("GET "+OpenPath, t.open)
	return mux
}

// click publishes a Click event and sends the reader on to the original URL.
func (t *Tracker) click(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	sm, ok := t.lookup(q.Get("r"))
	n, err := strconv.Atoi(q.Get("n"))
	if !ok || err != nil || n < 0 || n >= len(sm.links) {
		notFound(w)
		return
	}
	link := sm.links[n]
	t.publish(r.Context(), sm, sesevent.Record{EventType: sesevent.EventClick, Click: &sesevent.Click{
		IPAddress: clientIP(r), Timestamp: t.now(), UserAgent: r.UserAgent(), Link: link.url, LinkTags: link.tags,
	}})
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, link.url, http.StatusFound)
}

// open publishes an Open event and answers the pixel. An unknown reference
// still gets the pixel (a broken image helps no one), but no event.
func (t *Tracker) open(w http.ResponseWriter, r *http.Request) {
	if sm, ok := t.lookup(r.URL.Query().Get("r")); ok {
		t.publish(r.Context(), sm, sesevent.Record{EventType: sesevent.EventOpen, Open: &sesevent.Open{
			IPAddress: clientIP(r), Timestamp: t.now(), UserAgent: r.UserAgent(),
		}})
	}
	w.Header().Set("Content-Type", "image/gif")
	w.Header().Set("Content-Length", strconv.Itoa(len(pixelGIF)))
	w.Header().Set("Cache-Control", "no-store, max-age=0")
	_, _ = w.Write(pixelGIF)
}

// pixelGIF is a 1×1 transparent GIF.
var pixelGIF = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff" +
	"\x21\xf9\x04\x01\x00\x00\x00\x00\x2c\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02\x44\x01\x00\x3b")

func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, "<!doctype html><title>Link not found</title>"+
		"<p>This tracked link is unknown. The local stack keeps tracked links in memory, "+
		"so links in mail sent before it was restarted no longer work.</p>\n")
}

func (t *Tracker) lookup(ref string) (*sentMail, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	sm, ok := t.sent[ref]
	return sm, ok
}

// envelope is an EventBridge event as SES publishes it.
type envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       string          `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     sesevent.Record `json:"detail"`
}

// publish hands one event about sm to Publish, logging a failure. The event
// is published even if the request that caused it is gone.
func (t *Tracker) publish(ctx context.Context, sm *sentMail, r sesevent.Record) {
	if t.Publish == nil {
		return
	}
	r.Mail = sesevent.Mail{
		Timestamp:        sm.sentAt,
		Source:           sm.from,
		SendingAccountID: account,
		MessageID:        sm.messageID,
		Destination:      []string{sm.to},
		CommonHeaders: &sesevent.CommonHeaders{
			From: []string{sm.from}, To: []string{sm.to}, Subject: sm.subject, MessageID: sm.messageID,
		},
		Tags: sm.tags,
	}
	ev := envelope{
		Version:    "0",
		ID:         newUUID(),
		DetailType: sesevent.DetailType(r.EventType),
		Source:     sesevent.Source,
		Account:    account,
		Time:       r.Time().UTC().Format(time.RFC3339),
		Region:     region,
		Resources:  []string{},
		Detail:     r,
	}
	if sm.configurationSet != "" {
		ev.Resources = []string{fmt.Sprintf("arn:aws:ses:%s:%s:configuration-set/%s", region, account, sm.configurationSet)}
	}
	log := t.log().With("event", r.EventType, "messageId", sm.messageID)
	raw, err := json.Marshal(ev)
	if err != nil {
		log.Error("encode ses event", "error", err.Error())
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishWait)
	defer cancel()
	if err := t.Publish(ctx, raw); err != nil {
		log.Error("publish ses event", "error", err.Error())
	}
}

// mailTags are the message's tags as SES publishes them: its own, each
// value a one-element list, and SES's ses:* tags.
func mailTags(m mail.Message, configurationSet string) map[string][]string {
	tags := map[string][]string{
		"ses:operation":       {"SendEmail"},
		"ses:caller-identity": {"local"},
		"ses:source-ip":       {"127.0.0.1"},
	}
	if configurationSet != "" {
		tags["ses:configuration-set"] = []string{configurationSet}
	}
	if a, err := netmail.ParseAddress(m.From); err == nil {
		if _, domain, ok := strings.Cut(a.Address, "@"); ok {
			tags["ses:from-domain"] = []string{domain}
		}
	}
	for name, value := range m.Tags {
		tags[name] = []string{value}
	}
	return tags
}

// now is the clock's time to the millisecond, as SES reports times.
func (t *Tracker) now() time.Time {
	c := t.Clock
	if c == nil {
		c = clock.System{}
	}
	return c.Now().UTC().Truncate(time.Millisecond)
}

func (t *Tracker) log() *slog.Logger {
	if t.Log == nil {
		return slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	return t.Log
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// newRef names one sent message in tracking URLs: random, so a URL says
// nothing about the lead and cannot be guessed.
func newRef() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand panics instead)
	return base64.RawURLEncoding.EncodeToString(b)
}

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
