package simulation

import (
	"context"
	"html"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/leadnurture/nurture/infra/local/sestrack"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/mail"
)

// mailbox keeps the nurture mail the product sends, as the recipients'
// mail clients get it: the scheduler sends through sent, sent through the
// click and open tracking of the local stack (sestrack, what SES's
// configuration set does in AWS), and that through delivered to SES local.
// Both ends are kept, because the tracking rewrites every tracked link:
// the message as composed says what each link is (its ses:tags), the
// message as delivered where a click on it goes.
type mailbox struct {
	mu        sync.Mutex
	delivered map[string]string // MessageId -> delivered HTML
	fresh     []received        // sent since the last take
}

// received is one email in a persona's inbox.
type received struct {
	MessageID string
	To        string
	At        time.Time
	Tags      map[string]string
	Subject   string
	Links     []mailLink
	OpenPixel string // the open-tracking image's URL
}

// mailLink is one link of a received email.
type mailLink struct {
	URL  string // as delivered: the tracking redirect for tracked links
	Text string // what the reader sees
	// Kind is the link tag's value (mail.LinkAsset, mail.LinkHoneypot) for
	// tracked links, empty for the others (answers, unsubscribe).
	Kind    string
	Tracked bool
}

// sender records what the scheduler sends, after next sent it.
type sender struct {
	next  mail.Mailer
	box   *mailbox
	clock clock.Clock
}

func (s sender) Send(ctx context.Context, m mail.Message) (string, error) {
	at := s.clock.Now()
	id, err := s.next.Send(ctx, m)
	if err != nil {
		return id, err
	}
	s.box.mu.Lock()
	defer s.box.mu.Unlock()
	r := received{MessageID: id, To: m.To, At: at, Tags: m.Tags, Subject: m.Subject}
	composed, delivered := anchors(m.HTML), anchors(s.box.delivered[id])
	for i, a := range composed {
		l := mailLink{URL: a.href, Text: a.text}
		if i < len(delivered) {
			l.URL = delivered[i].href
		}
		if !a.noTrack && (strings.HasPrefix(a.href, "https://") || strings.HasPrefix(a.href, "http://")) {
			l.Tracked = true
			l.Kind = linkTag(a.tags, mail.TagLink)
		}
		r.Links = append(r.Links, l)
	}
	if m := pixelRE.FindStringSubmatch(s.box.delivered[id]); m != nil {
		r.OpenPixel = html.UnescapeString(m[1])
	}
	delete(s.box.delivered, id)
	s.box.fresh = append(s.box.fresh, r)
	return id, nil
}

// deliverer keeps the delivered HTML of each message it sends through next.
type deliverer struct {
	next mail.Mailer
	box  *mailbox
}

func (d deliverer) Send(ctx context.Context, m mail.Message) (string, error) {
	id, err := d.next.Send(ctx, m)
	if err == nil {
		d.box.mu.Lock()
		d.box.delivered[id] = m.HTML
		d.box.mu.Unlock()
	}
	return id, err
}

// take returns the mail received since the last take, oldest first.
func (b *mailbox) take() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.fresh
	b.fresh = nil
	return out
}

var (
	anchorRE = regexp.MustCompile(`(?is)<a\s([^>]*)>(.*?)</a>`)
	markupRE = regexp.MustCompile(`<[^>]*>`)
	hrefRE   = regexp.MustCompile(`(?is)\bhref\s*=\s*"([^"]*)"`)
	tagsRE   = regexp.MustCompile(`(?is)\bses:tags\s*=\s*"([^"]*)"`)
	pixelRE  = regexp.MustCompile(`<img src="([^"]*` + regexp.QuoteMeta(sestrack.OpenPath) + `[^"]*)"`)
)

type anchor struct {
	href, tags, text string
	noTrack          bool
}

// anchors lists the links of an email's HTML in document order. The HTML is
// the product's own template, so a pattern is enough to read it.
func anchors(body string) []anchor {
	var out []anchor
	for _, m := range anchorRE.FindAllStringSubmatch(body, -1) {
		var a anchor
		if h := hrefRE.FindStringSubmatch(m[1]); h != nil {
			a.href = strings.TrimSpace(html.UnescapeString(h[1]))
		}
		if t := tagsRE.FindStringSubmatch(m[1]); t != nil {
			a.tags = html.UnescapeString(t[1])
		}
		a.noTrack = strings.Contains(strings.ToLower(m[1]), "ses:no-track")
		a.text = strings.Join(strings.Fields(html.UnescapeString(markupRE.ReplaceAllString(m[2], ""))), " ")
		out = append(out, a)
	}
	return out
}

// linkTag reads one tag of a ses:tags attribute ("link:asset;asset:x;").
func linkTag(tags, name string) string {
	for _, kv := range strings.Split(tags, ";") {
		if k, v, ok := strings.Cut(strings.TrimSpace(kv), ":"); ok && k == name {
			return v
		}
	}
	return ""
}
