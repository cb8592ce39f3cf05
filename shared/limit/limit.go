// Package limit holds the per-client limits of the public routes: how many
// requests one source IP, one address or one lead may make in a window, and
// the limiter that counts them. The counts live in the table (store.Counter:
// one conditional write per request), so they hold across every Lambda
// instance, and the local stack counts exactly as AWS does.
//
// Every limit is far above what a person does: they bound scripts, not
// readers. docs/security.md says why counters in the table and not AWS WAF.
package limit

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/netip"
	"time"

	"github.com/leadnurture/nurture/shared/clock"
)

// Rule allows at most Max requests per Window for one subject (an IP, an
// address, a lead). A rule with Max 0 allows everything.
type Rule struct {
	// Name keys the counters, so two rules never share one.
	Name   string
	Max    int
	Window time.Duration
}

// Policy is the product's set of rules.
type Policy struct {
	// CaptureIP counts every form post of one source IP, valid or not,
	// before the body is read.
	CaptureIP Rule
	// CaptureAddress counts the valid posts naming one address (its lead
	// id), from any IP: re-posting a form to pump one lead.
	CaptureAddress Rule
	// LinkIP and LinkLead count the posts of valid links in mail (answers,
	// ratings, preferences, keep, sales decisions) per source IP and per
	// lead. Never an unsubscribe: that one is always honoured.
	LinkIP   Rule
	LinkLead Rule
	// ConfirmIP and ConfirmAddress count the double opt-in's confirmation
	// emails sent for one source IP and to one address: a script cannot
	// have us mail made-up addresses or spam traps by the hundred.
	ConfirmIP      Rule
	ConfirmAddress Rule
}

// Default is the shipped policy. A person posts one to three forms, answers
// a few links and gets one confirmation (a second, if they post again); an
// office or a mobile carrier's NAT puts many people behind one IP, hence
// the per-IP rules' room.
func Default() Policy {
	return Policy{
		CaptureIP:      Rule{Name: "capture-ip", Max: 30, Window: 10 * time.Minute},
		CaptureAddress: Rule{Name: "capture-addr", Max: 10, Window: time.Hour},
		LinkIP:         Rule{Name: "link-ip", Max: 60, Window: 10 * time.Minute},
		LinkLead:       Rule{Name: "link-lead", Max: 20, Window: 10 * time.Minute},
		ConfirmIP:      Rule{Name: "confirm-ip", Max: 20, Window: time.Hour},
		ConfirmAddress: Rule{Name: "confirm-addr", Max: 3, Window: 24 * time.Hour},
	}
}

// Counter keeps the counts: store.Store is one, on the table.
type Counter interface {
	// CountHit counts one hit of key in the window that starts at start,
	// unless the window already holds max hits; it reports whether the
	// hit counted. The count may be forgotten after expires.
	CountHit(ctx context.Context, key string, start time.Time, max int, expires time.Time) (bool, error)
}

// Exceeded is the answer to a subject that used up its rule's window: try
// again after RetryAfter.
type Exceeded struct {
	Rule       Rule
	RetryAfter time.Duration
}

func (e *Exceeded) Error() string {
	return fmt.Sprintf("limit %s exceeded (%d per %s); retry after %s", e.Rule.Name, e.Rule.Max, e.Rule.Window, e.RetryAfter)
}

// RetryAfterSeconds is the Retry-After header's value: whole seconds,
// rounded up, at least 1.
func (e *Exceeded) RetryAfterSeconds() int {
	return max(1, int(math.Ceil(e.RetryAfter.Seconds())))
}

// AsExceeded tells whether err is a limit's answer.
func AsExceeded(err error) (*Exceeded, bool) {
	var e *Exceeded
	ok := errors.As(err, &e)
	return e, ok
}

// Limiter counts requests against rules. A nil Limiter allows everything.
type Limiter struct {
	Policy  Policy
	Counter Counter
	Clock   clock.Clock
	// Hash keys the counters' subjects (a keyed hash, so the table holds
	// no IP that a guess could confirm); nil hashes with plain SHA-256.
	Hash func(subject string) string
	Log  *slog.Logger
}

// Allow counts one request of subject against rule: nil when allowed, an
// *Exceeded when not. When the counter fails (the table throttled or
// unreachable) it logs and allows: a limit exists to keep scripts out, and
// a request we cannot count is far likelier a person's than a script's,
// whose lead or unsubscribe must not be lost to our own trouble. An empty
// subject (a request without a source IP: only hand-made events lack one)
// is not counted.
func (l *Limiter) Allow(ctx context.Context, rule Rule, subject string) error {
	err := l.Try(ctx, rule, subject)
	if _, limited := AsExceeded(err); err == nil || limited {
		return err
	}
	log := l.Log
	if log == nil {
		log = slog.Default()
	}
	log.Warn("limit not counted; allowed", "limit", rule.Name, "error", err.Error())
	return nil
}

// Try is Allow that returns the counter's failure instead of allowing: for
// a caller that would rather not act when it cannot count.
func (l *Limiter) Try(ctx context.Context, rule Rule, subject string) error {
	if l == nil || rule.Max <= 0 || rule.Window <= 0 || subject == "" {
		return nil
	}
	now := l.Clock.Now()
	start := now.Truncate(rule.Window)
	end := start.Add(rule.Window)
	// The window's start is part of the counter's key, so a new window
	// starts from zero and a counter whose TTL deletion is late (it can
	// be days) is never read again: nothing to filter on read.
	ok, err := l.Counter.CountHit(ctx, l.key(rule, subject), start, rule.Max, end.Add(time.Hour))
	if err != nil {
		return fmt.Errorf("count %s: %w", rule.Name, err)
	}
	if !ok {
		return &Exceeded{Rule: rule, RetryAfter: end.Sub(now)}
	}
	return nil
}

// key is the counter's key of subject under rule: the rule's name and a
// hash of the subject, so the table holds no IP address in the clear (and
// the key's length is fixed).
func (l *Limiter) key(rule Rule, subject string) string {
	if l.Hash != nil {
		return rule.Name + "#" + l.Hash(rule.Name+"\x00"+subject)
	}
	sum := sha256.Sum256([]byte(rule.Name + "\x00" + subject))
	return rule.Name + "#" + base64.RawURLEncoding.EncodeToString(sum[:16])
}

// Client is the subject of a per-IP rule for a source IP: the address
// itself for IPv4, and its /64 for IPv6, since one subscriber holds a whole
// /64 and could otherwise take a new address for every request. Anything
// that is not an IP is kept as it is.
func Client(sourceIP string) string {
	a, err := netip.ParseAddr(sourceIP)
	if err != nil {
		return sourceIP
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// Capture counts a form post of a source IP (CaptureIP).
func (l *Limiter) Capture(ctx context.Context, sourceIP string) error {
	if l == nil {
		return nil
	}
	return l.Allow(ctx, l.Policy.CaptureIP, Client(sourceIP))
}

// CaptureOf counts a valid post naming the lead leadID (CaptureAddress).
func (l *Limiter) CaptureOf(ctx context.Context, leadID string) error {
	if l == nil {
		return nil
	}
	return l.Allow(ctx, l.Policy.CaptureAddress, leadID)
}

// Link counts the post of a valid link of leadID from a source IP
// (LinkIP, then LinkLead). Never call it for an unsubscribe.
func (l *Limiter) Link(ctx context.Context, sourceIP, leadID string) error {
	if l == nil {
		return nil
	}
	return l.allowBoth(ctx, l.Policy.LinkIP, sourceIP, l.Policy.LinkLead, leadID)
}

// Confirmation counts a confirmation email about to go to the lead leadID,
// asked for from a source IP (ConfirmIP, then ConfirmAddress; an empty
// one is not counted). Call it before sending; an *Exceeded means do not
// send now. Like every rule it allows what it cannot count: the person
// asking is far likelier a person than a script.
func (l *Limiter) Confirmation(ctx context.Context, sourceIP, leadID string) error {
	if l == nil {
		return nil
	}
	return l.allowBoth(ctx, l.Policy.ConfirmIP, sourceIP, l.Policy.ConfirmAddress, leadID)
}

// allowBoth counts a request against a per-IP rule and then, if it
// passed, against a per-lead rule.
func (l *Limiter) allowBoth(ctx context.Context, perIP Rule, sourceIP string, perLead Rule, leadID string) error {
	if err := l.Allow(ctx, perIP, Client(sourceIP)); err != nil {
		return err
	}
	return l.Allow(ctx, perLead, leadID)
}
