package sales

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/metrics"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// Store is what the alerter needs of the lead store.
type Store interface {
	UpdateLead(ctx context.Context, id string, fn func(l *lead.Lead, isNew bool) error) (*lead.Lead, error)
	RecentActivities(ctx context.Context, leadID string, now time.Time, limit int) ([]lead.Activity, bool, error)
	AddActivity(ctx context.Context, leadID string, a lead.Activity) (bool, error)
}

// KindAlert is the activity that says an alert went to sales. It is its own
// item, written right after SES accepts the email: unlike the lead, which
// every event of the lead writes, nothing contends for it, so the fact that
// the alert went out is never lost to a busy lead.
const KindAlert = "alert"

func alertKey(id string) string { return "alert-" + id }

// Webhook posts an alert beside its email, to a chat channel (slack.Webhook).
// Its errors must not name its URL, which is a secret.
type Webhook interface {
	Post(ctx context.Context, d Dossier, links AlertLinks) error
}

// Alerter sends the alerts pending on a lead: an email to the routed sales
// address and, if configured, a webhook post: the outbox's sender of
// lead.OutboxAlert work.
type Alerter struct {
	Program *program.Program
	Store   Store
	Mailer  mail.Mailer
	Webhook Webhook // nil: email only
	Signer  *token.Signer
	BaseURL string // the public base of the link routes, e.g. https://api.acme.example
	Clock   clock.Clock
	Log     *slog.Logger
	// Window is the send window: the SLA of an alert counts its business
	// hours (routing.sla). A zero Window counts plain hours.
	Window nurture.Window
	// Lease is how long a claimed alert keeps other senders off (default
	// 5m). A send that fails leaves its claim to lapse; the next Flush after
	// that tries again.
	Lease time.Duration
	// ConfigurationSet is the SES configuration set of alert emails; empty
	// uses the mailer's default. Alert emails carry the tag lead=<id>, and
	// the engagement service joins SES events to leads by that tag: a set
	// that publishes events to it would apply sales' opens, and an alert's
	// bounce or complaint, to the lead. Use a set without that destination
	// (or have engagement ignore kind=alert).
	ConfigurationSet string
	// Metrics counts the leads handed to sales (nil: none).
	Metrics *metrics.Recorder
}

// Alert defaults.
const (
	DefaultLease = 5 * time.Minute
	// LinkTTL is how long an alert's dossier link works: it only shows.
	LinkTTL = 30 * 24 * time.Hour
	// DecisionLinkTTL is how long an alert's Accept and Return links work:
	// long enough for a rep back from a week away, short enough that a
	// forwarded or leaked alert cannot decide a lead's fate weeks later
	// (a reminder or the lead's next crossing brings fresh links; the
	// dossier link still shows the lead).
	DecisionLinkTTL = 14 * 24 * time.Hour
	// MaxTries is how often an alert's email, and then its webhook post,
	// is tried before the alert is given up ("alert abandoned" in the log,
	// which raises an alarm). With RetryDelay's backoff that spans about
	// four hours: long enough to outlast an SES throttle or a chat
	// service's outage, short enough that a lead is still worth calling.
	MaxTries = 10
)

// Channels of an alert, as the log names them.
const (
	channelEmail   = "email"
	channelWebhook = "webhook"
)

// RetryDelay is how long a failed channel waits before its next try: a
// minute after the first failure, doubling, at most an hour.
func RetryDelay(tries int) time.Duration {
	if tries < 1 {
		tries = 1
	}
	if tries > 7 {
		return time.Hour
	}
	return min(time.Minute<<(tries-1), time.Hour)
}

// Flush sends every alert pending on the lead that may go out now, each
// channel exactly once per threshold crossing (the webhook at least once):
//
//  1. One conditional write claims the pending alerts that are due and
//     that nobody else holds (ClaimedUntil = now + Lease); a concurrent
//     Flush either loses the write and then sees the claim, or finds
//     nothing to claim. Alerts still settling or backing off are left.
//  2. Per claimed alert not yet mailed: the dossier is built, the links
//     signed, the email sent to the routed address and recorded at once as
//     an alert activity, the durable proof that it went out: a later Flush
//     that finds it never mails again. A failed send is returned. When SES
//     refused it (throttled, rejected, account paused) nothing went out:
//     the claim is released with a backoff (RetryDelay); otherwise it may
//     have gone out, and the claim is left to lapse.
//  3. The webhook, if any, is posted. Its failure is logged, not returned:
//     the alert stays pending with the email marked as sent and the post
//     owed after a backoff, so a retry posts without mailing again.
//  4. One write records the outcome: the email in Alerts, and the alert
//     off PendingAlerts once nothing is owed.
//
// A channel that failed MaxTries times is given up. A lead with nothing
// due, or whose alerts another sender holds, is not an error. The lead of
// an erased person has its pending alerts dropped unsent.
func (a *Alerter) Flush(ctx context.Context, leadID string) error {
	if err := a.check(); err != nil {
		return err
	}
	now := a.now()
	until := now.Add(a.lease())
	var claimed []lead.PendingAlert
	dropped, moots := 0, 0
	l, err := a.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, isNew bool) error {
		claimed, dropped, moots = nil, 0, 0 // fn runs again after a conflict
		if isNew || len(l.PendingAlerts) == 0 {
			return lead.ErrNoChange
		}
		if l.Suppression != nil && l.Suppression.Reason == lead.SuppressedErased {
			dropped = len(l.PendingAlerts)
			l.PendingAlerts = nil
			return nil
		}
		// A reminder or escalation whose alert was decided meanwhile is
		// not sent.
		n := len(l.PendingAlerts)
		l.PendingAlerts = slices.DeleteFunc(l.PendingAlerts, func(p lead.PendingAlert) bool { return moot(l, p) })
		moots = n - len(l.PendingAlerts)
		for i := range l.PendingAlerts {
			p := &l.PendingAlerts[i]
			if p.Held(now) {
				continue // settling, backing off, or another sender has it
			}
			p.ClaimedUntil = until
			claimed = append(claimed, *p)
		}
		if len(claimed) == 0 && moots == 0 {
			return lead.ErrNoChange
		}
		return nil
	})
	if errors.Is(err, lead.ErrNoChange) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("claim alerts of lead %s: %w", leadID, err)
	}
	if dropped > 0 {
		a.log().Info("alerts dropped: lead erased", "leadId", leadID, "alerts", dropped)
		return nil
	}
	if moots > 0 {
		a.log().Info("follow-ups dropped: the alert was decided", "leadId", leadID, "followUps", moots)
	}
	if len(claimed) == 0 {
		return nil
	}

	acts, older, err := a.Store.RecentActivities(ctx, leadID, now, TimelineLimit)
	if err != nil {
		// Nothing went out: each is tried again after a backoff (released
		// at once, its own write would wake the sender straight back).
		for _, p := range claimed {
			_ = a.record(ctx, leadID, p, outcome{owed: owedChannel(p)}, now, a.log().With("leadId", leadID, "alert", p.ID))
		}
		return fmt.Errorf("alert lead %s: %w", leadID, err)
	}
	var errs []error
	for _, p := range claimed {
		if err := a.deliver(ctx, l, acts, older, p, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// owedChannel is the channel an alert owes next.
func owedChannel(p lead.PendingAlert) string {
	if p.Mailed {
		return channelWebhook
	}
	return channelEmail
}

// outcome is what one attempt at an alert delivered.
type outcome struct {
	// mailed is the email, when it went out in this attempt or in an
	// earlier one whose record on the lead was lost.
	mailed *lead.SentAlert
	// owed names the channel that failed and is tried again after a
	// backoff; empty when nothing is owed any more.
	owed string
}

func (a *Alerter) deliver(ctx context.Context, l *lead.Lead, acts []lead.Activity, older bool, p lead.PendingAlert, now time.Time) error {
	log := a.log().With("leadId", l.ID, "alert", p.ID, "threshold", p.Threshold)
	if p.Kind != "" {
		log = log.With("followUp", p.Kind)
	}
	to := p.To // a follow-up's recipient; the alert's is routed now
	if to == "" {
		to = Route(a.Program, l)
	}
	if to == "" {
		return fmt.Errorf("alert %s of lead %s: no routing address (set routing.default)", p.ID, l.ID)
	}
	d := Build(a.Program, l, acts, now)
	d.Older = older
	d.Threshold = p.Threshold
	links := a.linksFor(l.ID, Ref(about(p), viaOf(p)), now)
	// The owner's inbox: the alert's recipient, or whom a follow-up is about.
	owner := to
	if p.Kind != "" && l.SLA != nil {
		owner = l.SLA.Owner
	}
	links.Inbox, links.InboxOf = InboxURL(a.Signer, a.BaseURL, owner, now), program.Mailbox(owner)

	var o outcome
	if !p.Mailed {
		if act, ok := sentAlert(acts, p.ID); ok {
			// An earlier sender mailed it and could not record it on the lead.
			o.mailed = &lead.SentAlert{ID: p.ID, Threshold: p.Threshold, Score: p.Score, At: act.At,
				To: strings.TrimPrefix(act.Detail, detailPrefix(p)), MessageID: act.MessageID}
		} else {
			prefix, note := followNote(a.Program, l, p)
			m, err := renderAlert(d, links, a.Program.Sender, to, prefix, note)
			if err != nil {
				return fmt.Errorf("alert %s of lead %s: %w", p.ID, l.ID, err)
			}
			sent, err := a.mail(ctx, l.ID, m, p, to, now, log)
			if err != nil {
				return err
			}
			o.mailed = sent
		}
	}
	// Recorded (the alert activity) before anything else can fail or take
	// time; the rest must not be cut short by the caller's deadline now.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if a.Webhook != nil && p.Kind == "" { // the channel hears of the alert, not of its follow-ups
		if err := a.Webhook.Post(ctx, d, links); err != nil {
			log.Error("alert webhook failed", "error", err.Error(), "tries", p.Tries+1)
			o.owed = channelWebhook
		}
	}
	return a.record(rctx, l.ID, p, o, now, log)
}

// mail sends the alert's email m and records it as an alert activity.
func (a *Alerter) mail(ctx context.Context, leadID string, m mail.Message, p lead.PendingAlert, to string, now time.Time, log *slog.Logger) (*lead.SentAlert, error) {
	m.Tags[mail.TagAlert] = mail.Tag(p.ID)
	m.ConfigurationSet = a.ConfigurationSet

	messageID, err := a.Mailer.Send(ctx, m)
	if err != nil {
		log.Error("alert email not sent", "error", err.Error(), "tries", p.Tries+1)
		if errors.Is(err, mail.ErrThrottled) || errors.Is(err, mail.ErrRejected) || errors.Is(err, mail.ErrAccountPaused) {
			// SES said no: nothing went out, so it is tried again after a
			// backoff rather than when the lease lapses.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
			defer cancel()
			_ = a.record(rctx, leadID, p, outcome{owed: channelEmail}, now, log)
		}
		// Otherwise (a timeout, a 5xx) it may have gone out: the claim
		// lapses and a Flush after that sends it.
		return nil, fmt.Errorf("send alert %s of lead %s: %w", p.ID, leadID, err)
	}
	log.Info("alert email sent", "messageId", messageID)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	act := lead.Activity{Key: alertKey(p.ID), Kind: KindAlert, At: now, MessageID: messageID, Detail: detailPrefix(p) + to}
	if p.Kind == "" {
		// The alert itself, not a follow-up: the lead became sales-ready.
		act.Threshold = p.Threshold
	}
	if _, err := a.Store.AddActivity(rctx, leadID, act); err != nil {
		log.Error("alert sent but not recorded: it may be sent again when the claim lapses", "error", err.Error())
		return nil, fmt.Errorf("record alert %s of lead %s: %w", p.ID, leadID, err)
	}
	return &lead.SentAlert{ID: p.ID, Threshold: p.Threshold, Score: p.Score, At: now, To: to, MessageID: messageID}, nil
}

// detailPrefix starts an alert activity's detail, before the recipient:
// "mql to ", or "mql reminder to " for a follow-up.
func detailPrefix(p lead.PendingAlert) string {
	if p.Kind != "" {
		return p.Threshold + " " + p.Kind + " to "
	}
	return p.Threshold + " to "
}

func sentAlert(acts []lead.Activity, id string) (lead.Activity, bool) {
	for _, act := range acts {
		if act.Kind == KindAlert && act.Key == alertKey(id) {
			return act, true
		}
	}
	return lead.Activity{}, false
}

// record writes an attempt's outcome on the lead: the email into Alerts;
// the alert off PendingAlerts once nothing is owed; a failed channel's try
// counted and its next try held back (or, after MaxTries, the alert given
// up). The alert activity already says the email went out: if the lead is
// too busy to take this write now, the next Flush finds the activity.
func (a *Alerter) record(ctx context.Context, leadID string, p lead.PendingAlert, o outcome, now time.Time, log *slog.Logger) error {
	var twice, abandoned, handed bool
	var tries int
	_, err := a.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, isNew bool) error {
		twice, abandoned, handed, tries = false, false, false, 0
		if isNew {
			return lead.ErrNoChange // erased meanwhile: nothing to record on
		}
		changed := false
		if o.mailed != nil && p.Kind == "" { // a follow-up is no alert of its own
			if slices.ContainsFunc(l.Alerts, func(s lead.SentAlert) bool { return s.ID == p.ID }) {
				twice = true
			} else {
				l.Alerts = append(l.Alerts, *o.mailed)
				// The SLA runs from the email on.
				a.openSLA(l, *o.mailed)
				changed, handed = true, true
			}
		}
		i := slices.IndexFunc(l.PendingAlerts, func(q lead.PendingAlert) bool { return q.ID == p.ID })
		switch {
		case i < 0:
		case o.owed == "":
			l.PendingAlerts = slices.Delete(l.PendingAlerts, i, i+1)
			changed = true
		case !l.PendingAlerts[i].ClaimedUntil.Equal(p.ClaimedUntil):
			// Our claim lapsed and another sender has it now: it counts
			// its own tries; ours only says what went out.
			l.PendingAlerts[i].Mailed = l.PendingAlerts[i].Mailed || o.mailed != nil
			changed = true
		default:
			q := &l.PendingAlerts[i]
			if o.mailed != nil {
				q.Mailed, q.Tries = true, 0 // the email's tries are over; the webhook's begin
			}
			q.Tries++
			tries = q.Tries
			if q.Tries >= MaxTries {
				l.PendingAlerts = slices.Delete(l.PendingAlerts, i, i+1)
				abandoned = true
			} else {
				q.RetryAt, q.ClaimedUntil = now.Add(RetryDelay(q.Tries)), time.Time{}
			}
			changed = true
		}
		if !changed {
			return lead.ErrNoChange
		}
		return nil
	})
	if err != nil && !errors.Is(err, lead.ErrNoChange) {
		if o.mailed != nil {
			log.Warn("alert sent, its record on the lead left for the next flush", "error", err.Error())
			return nil
		}
		log.Warn("alert's failed try not recorded; its claim lapses", "error", err.Error())
		return nil
	}
	if handed && err == nil {
		// The one write that lists the alert on the lead: a later flush
		// finds it listed and counts nothing.
		a.Metrics.SalesReady(o.mailed.At, leadID, p.Threshold)
	}
	if twice {
		log.Warn("alert recorded twice: the claim lapsed while recording", "lease", a.lease().String())
	}
	switch {
	case abandoned:
		log.Error("alert abandoned", "channel", o.owed, "tries", tries)
	case o.owed != "":
		log.Warn("alert try failed, tried again later", "channel", o.owed, "tries", tries, "retryIn", RetryDelay(tries).String())
	case o.mailed != nil:
		log.Info("alert recorded", "to", o.mailed.To, "score", p.Score)
	default:
		log.Info("alert delivered")
	}
	return nil
}

// Links signs the three links of an alert: the dossier page, and the same
// page with Accept or Return preselected. Each token is bound to its
// purpose, names the lead and the alert (Ref), and works for LinkTTL.
func (a *Alerter) Links(leadID, alertID string, now time.Time) AlertLinks {
	return a.linksFor(leadID, alertID, now)
}

// linksFor signs an alert's links with ref (Ref) in their tokens.
func (a *Alerter) linksFor(leadID, ref string, now time.Time) AlertLinks {
	return SignLinks(a.Signer, a.BaseURL, leadID, ref, now)
}

// SignLinks signs the three links about a lead's alert, with ref (see Ref)
// in their tokens, fresh from now. Each token is bound to its one action
// (the purpose) and the lead; the dossier link works for LinkTTL, Accept
// and Return for DecisionLinkTTL.
func SignLinks(signer *token.Signer, baseURL, leadID, ref string, now time.Time) AlertLinks {
	sign := func(purpose string) string {
		return link.Sales.URL(baseURL, signer.Sign(token.Claims{Purpose: purpose, LeadID: leadID, Ref: ref, Expires: now.Add(LinkLifetime(purpose))}))
	}
	return AlertLinks{
		Dossier: sign(token.PurposeDossier),
		Accept:  sign(token.PurposeAccept),
		Return:  sign(token.PurposeReturn),
	}
}

// LinkLifetime is how long a sales link of the purpose works.
func LinkLifetime(purpose string) time.Duration {
	if purpose == token.PurposeDossier {
		return LinkTTL
	}
	return DecisionLinkTTL
}

func (a *Alerter) check() error {
	var missing []string
	if a.Program == nil {
		missing = append(missing, "Program")
	}
	if a.Store == nil {
		missing = append(missing, "Store")
	}
	if a.Mailer == nil {
		missing = append(missing, "Mailer")
	}
	if a.Signer == nil {
		missing = append(missing, "Signer")
	}
	if a.BaseURL == "" {
		missing = append(missing, "BaseURL")
	}
	if len(missing) > 0 {
		return fmt.Errorf("alerter: %s not set", strings.Join(missing, ", "))
	}
	return nil
}

func (a *Alerter) now() time.Time {
	if a.Clock == nil {
		return time.Now().UTC()
	}
	return a.Clock.Now()
}

func (a *Alerter) lease() time.Duration {
	if a.Lease > 0 {
		return a.Lease
	}
	return DefaultLease
}

func (a *Alerter) log() *slog.Logger {
	if a.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Log
}
