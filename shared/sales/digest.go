package sales

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// DigestStore is what the daily digest needs of the store: the open
// alerts, and a claim per owner and day.
type DigestStore interface {
	OpenStore
	ClaimDigest(ctx context.Context, owner, day string) (bool, error)
	ReleaseDigest(ctx context.Context, owner, day string) error
}

// Digest sends each owner, once a business day, the list of their alerts
// waiting for a decision, oldest first, each with a fresh dossier link,
// and a fresh link to their inbox. The scheduler's tick runs it.
type Digest struct {
	Program *program.Program
	Store   DigestStore
	Mailer  mail.Mailer
	Signer  *token.Signer
	BaseURL string
	// Window says when an owner's day starts: the send window's opening
	// on a business day, in the owner's zone.
	Window nurture.Window
	// ConfigurationSet is the SES configuration set of the digests; empty
	// uses the mailer's (see Alerter.ConfigurationSet).
	ConfigurationSet string
	Log              *slog.Logger

	// claimed remembers the days this process claimed, by owner, so the
	// ticks after the first of a day do not ask DynamoDB again (a refused
	// conditional write is billed like a write).
	mu      sync.Mutex
	claimed map[string]string
}

// KindDigest is the digest's value of the kind tag.
const KindDigest = "digest"

// Send sends the digests due at now and says how many went out. An
// owner's digest is due at the first tick inside their business hours on a
// business day: one conditional write claims the owner's day before
// anything is read or sent, so concurrent or retried ticks send it once.
// An owner with nothing open gets none that day. When SES refuses it
// (throttled, rejected, paused) the day is released for the next tick; a
// failure that may have sent it keeps the claim (at most once, like a
// nurture step).
func (g *Digest) Send(ctx context.Context, now time.Time) (int, error) {
	sent := 0
	var errs []error
	for _, o := range g.Program.Owners() {
		ok, err := g.sendOne(ctx, o, now)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			sent++
		}
	}
	return sent, errors.Join(errs...)
}

func (g *Digest) sendOne(ctx context.Context, o program.Owner, now time.Time) (bool, error) {
	if !g.Window.Open(now, o.TimeZone) {
		return false, nil
	}
	loc := inZone(now, o.TimeZone).Location()
	day := now.In(loc).Format(time.DateOnly)
	if g.seen(o.Address) == day {
		return false, nil
	}
	claimed, err := g.Store.ClaimDigest(ctx, o.Address, day)
	if err != nil {
		return false, err
	}
	g.remember(o.Address, day) // ours, or another tick's: done for today either way
	if !claimed {
		return false, nil
	}
	open, err := (&Inbox{Program: g.Program, Store: g.Store}).Open(ctx, o.Address, now)
	if err != nil {
		return false, g.release(ctx, o, day, fmt.Errorf("digest for an owner: %w", err))
	}
	if len(open) == 0 {
		return false, nil
	}
	m, err := g.render(o, open, loc, now)
	if err != nil {
		return false, fmt.Errorf("digest: %w", err)
	}
	id, err := g.Mailer.Send(ctx, m)
	if err != nil {
		if errors.Is(err, mail.ErrThrottled) || errors.Is(err, mail.ErrRejected) || errors.Is(err, mail.ErrAccountPaused) || errors.Is(err, mail.ErrTransient) {
			return false, g.release(ctx, o, day, fmt.Errorf("send digest: %w", err))
		}
		return false, fmt.Errorf("send digest (it may have gone out; not sent again today): %w", err)
	}
	g.log().Info("digest sent", "open", len(open), "messageId", id, "day", day)
	return true, nil
}

func (g *Digest) seen(owner string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.claimed[owner]
}

func (g *Digest) remember(owner, day string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.claimed == nil {
		g.claimed = map[string]string{}
	}
	g.claimed[owner] = day
}

// release gives the owner's day back after a digest that did not go out.
func (g *Digest) release(ctx context.Context, o program.Owner, day string, cause error) error {
	g.remember(o.Address, "")
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return errors.Join(cause, g.Store.ReleaseDigest(rctx, o.Address, day))
}

//go:embed digest.html.tmpl
var digestHTML string

var digestTemplate = template.Must(template.New("digest").Parse(digestHTML))

// digestView is what a digest shows, for its HTML and text parts.
type digestView struct {
	Subject, Preheader string
	Lead               string // the first line
	Inbox              string // the owner's inbox, a fresh link
	Rows               []digestRow
	Footer             string
}

type digestRow struct {
	Name, Company, Score, Level, Waited, State string
	Overdue                                    bool
	Links                                      AlertLinks
}

func (g *Digest) render(o program.Owner, open []OpenAlert, loc *time.Location, now time.Time) (mail.Message, error) {
	n := len(open)
	v := digestView{
		Inbox:  InboxURL(g.Signer, g.BaseURL, o.Address, now),
		Footer: "Sent to " + o.Address + " at the start of each business day while sales-ready leads wait for a decision. Accept or return a lead with its links; decided leads leave this list.",
	}
	oldest := Waited(open[0].SLA.Since, now)
	if n == 1 {
		v.Subject = "1 sales-ready lead waits for your decision (" + oldest + ")"
		v.Lead = "One sales-ready lead is waiting for your decision."
	} else {
		v.Subject = strconv.Itoa(n) + " sales-ready leads wait for your decision (oldest " + oldest + ")"
		v.Lead = strconv.Itoa(n) + " sales-ready leads are waiting for your decision, the longest waiting first."
	}
	if n >= MaxOpen {
		v.Lead += " Your inbox lists the first " + strconv.Itoa(MaxOpen) + "."
	}
	var names []string
	for _, a := range open {
		row := digestRow{
			Name: a.Name, Company: a.Company, Score: formatScore(a.Score), Level: strings.ToUpper(a.Threshold),
			Waited: Waited(a.SLA.Since, now), State: SLAState(a.SLA, loc), Overdue: Overdue(a.SLA),
			Links: SignLinks(g.Signer, g.BaseURL, a.LeadID, a.Ref(ViaDigest), now),
		}
		for _, u := range []string{row.Links.Dossier, row.Links.Accept, row.Links.Return} {
			if err := checkURL("link", u); err != nil {
				return mail.Message{}, err
			}
		}
		v.Rows = append(v.Rows, row)
		names = append(names, a.Name)
	}
	if err := checkURL("inbox URL", v.Inbox); err != nil {
		return mail.Message{}, err
	}
	v.Preheader = strings.Join(names, " · ")
	var html bytes.Buffer
	if err := digestTemplate.Execute(&html, v); err != nil {
		return mail.Message{}, err
	}
	return mail.Message{
		From: g.Program.Sender.From, To: o.Address, ReplyTo: g.Program.Sender.ReplyTo,
		Subject: v.Subject, HTML: html.String(), Text: v.text(),
		Tags:             map[string]string{mail.TagKind: KindDigest},
		ConfigurationSet: g.ConfigurationSet,
	}, nil
}

// text is the digest's plain-text part, every URL written out.
func (v digestView) text() string {
	var b strings.Builder
	b.WriteString(v.Subject + "\n\n" + v.Lead + "\n\nYour sales inbox: " + v.Inbox + "\n")
	for i, r := range v.Rows {
		who := r.Name
		if r.Company != "" {
			who += ", " + r.Company
		}
		fmt.Fprintf(&b, "\n%d. %s\n   %s, score %s, waiting %s; %s\n   Dossier: %s\n   Accept: %s\n   Return to nurture: %s\n",
			i+1, who, r.Level, r.Score, r.Waited, r.State, r.Links.Dossier, r.Links.Accept, r.Links.Return)
	}
	b.WriteString("\n-- \n" + v.Footer + "\n")
	return b.String()
}

func (g *Digest) log() *slog.Logger {
	if g.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return g.Log
}
