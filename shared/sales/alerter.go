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
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// Store is what the alerter needs of the lead store.
type Store interface {
	UpdateLead(ctx context.Context, id string, fn func(l *lead.Lead, isNew bool) error) (*lead.Lead, error)
	Activities(ctx context.Context, leadID string, now time.Time) ([]lead.Activity, error)
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
// address and, if configured, a webhook post. It satisfies lead.Alerter.
type Alerter struct {
	Program *program.Program
	Store   Store
	Mailer  mail.Mailer
	Webhook Webhook // nil: email only
	Signer  *token.Signer
	BaseURL string // the public base of the link routes, e.g. https://api.acme.example
	Clock   clock.Clock
	Log     *slog.Logger
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
}

var _ lead.Alerter = (*Alerter)(nil)

// Alert defaults.
const (
	DefaultLease = 5 * time.Minute
	// LinkTTL is how long the links of an alert work.
	LinkTTL = 30 * 24 * time.Hour
)

// Flush sends every alert pending on the lead, exactly once per threshold
// crossing:
//
//  1. One conditional write claims the pending alerts nobody else holds
//     (ClaimedUntil = now + Lease); a concurrent Flush either loses the
//     write and then sees the claim, or finds nothing to claim.
//  2. Per claimed alert: the dossier is built, the links signed, the email
//     sent to the routed address. A failed send is returned. When the
//     mailer was refused (throttled, rejected, account paused) the claim
//     is released, so the caller's retry sends at once; otherwise it may
//     have gone out, and the claim is left to lapse: a Flush after the
//     lease sends it.
//  3. The alert is recorded at once: removed from PendingAlerts and
//     appended to Alerts with the MessageId.
//  4. The webhook, if any, is posted; its failure is logged, not returned:
//     the email went out.
//
// A lead with nothing pending, or whose alerts another sender holds, is not
// an error. The lead of an erased person has its pending alerts dropped
// unsent.
func (a *Alerter) Flush(ctx context.Context, leadID string) error {
	if err := a.check(); err != nil {
		return err
	}
	now := a.now()
	until := now.Add(a.lease())
	var claimed []lead.PendingAlert
	dropped := 0
	l, err := a.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, isNew bool) error {
		claimed, dropped = nil, 0 // fn runs again after a conflict
		if isNew || len(l.PendingAlerts) == 0 {
			return lead.ErrNoChange
		}
		if l.Suppression != nil && l.Suppression.Reason == lead.SuppressedErased {
			dropped = len(l.PendingAlerts)
			l.PendingAlerts = nil
			return nil
		}
		for i := range l.PendingAlerts {
			p := &l.PendingAlerts[i]
			if p.ClaimedUntil.After(now) {
				continue // another sender has it
			}
			if p.NotBefore.After(now) {
				continue // held back until a scanner's burst would show
			}
			p.ClaimedUntil = until
			claimed = append(claimed, *p)
		}
		if len(claimed) == 0 {
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

	acts, err := a.Store.Activities(ctx, leadID, now)
	if err != nil {
		for _, p := range claimed {
			a.release(ctx, leadID, p, a.log()) // nothing went out
		}
		return fmt.Errorf("alert lead %s: %w", leadID, err)
	}
	var errs []error
	for _, p := range claimed {
		if sent, ok := sentAlert(acts, p.ID); ok {
			// An earlier sender sent it and could not record it on the lead.
			errs = append(errs, a.record(ctx, l.ID, p, sent.At, strings.TrimPrefix(sent.Detail, p.Threshold+" to "), sent.MessageID, a.log()))
			continue
		}
		if err := a.send(ctx, l, acts, p, now); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func sentAlert(acts []lead.Activity, id string) (lead.Activity, bool) {
	for _, act := range acts {
		if act.Kind == KindAlert && act.Key == alertKey(id) {
			return act, true
		}
	}
	return lead.Activity{}, false
}

func (a *Alerter) send(ctx context.Context, l *lead.Lead, acts []lead.Activity, p lead.PendingAlert, now time.Time) error {
	log := a.log().With("leadId", l.ID, "alert", p.ID, "threshold", p.Threshold)
	to := Route(a.Program, l)
	if to == "" {
		return fmt.Errorf("alert %s of lead %s: no routing address (set routing.default)", p.ID, l.ID)
	}
	d := Build(a.Program, l, acts, now)
	d.Threshold = p.Threshold
	links := a.Links(l.ID, p.ID, now)
	m, err := RenderAlert(d, links, a.Program.Sender, to)
	if err != nil {
		return fmt.Errorf("alert %s of lead %s: %w", p.ID, l.ID, err)
	}
	m.Tags[mail.TagAlert] = mail.Tag(p.ID)
	m.ConfigurationSet = a.ConfigurationSet

	messageID, err := a.Mailer.Send(ctx, m)
	if err != nil {
		log.Error("alert email not sent", "error", err.Error())
		if errors.Is(err, mail.ErrThrottled) || errors.Is(err, mail.ErrRejected) || errors.Is(err, mail.ErrAccountPaused) {
			// SES said no: nothing went out, so the caller's retry may send
			// at once instead of waiting for the lease.
			a.release(ctx, l.ID, p, log)
		}
		// Otherwise (a timeout, a 5xx) it may have gone out: the claim
		// lapses and a Flush after that sends it.
		return fmt.Errorf("send alert %s of lead %s: %w", p.ID, l.ID, err)
	}
	log = log.With("messageId", messageID)

	// Recorded before anything else can fail or take time: until this
	// write a lapsed claim would send the email again. It must not be cut
	// short by the caller's deadline now that the email went out.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	act := lead.Activity{Key: alertKey(p.ID), Kind: KindAlert, At: now, MessageID: messageID, Detail: p.Threshold + " to " + to}
	if _, err := a.Store.AddActivity(rctx, l.ID, act); err != nil {
		log.Error("alert sent but not recorded: it may be sent again when the claim lapses", "error", err.Error())
		return fmt.Errorf("record alert %s of lead %s: %w", p.ID, l.ID, err)
	}
	if err := a.record(rctx, l.ID, p, now, to, messageID, log); err != nil {
		return err
	}
	if a.Webhook != nil {
		if err := a.Webhook.Post(ctx, d, links); err != nil {
			log.Error("alert webhook failed", "error", err.Error())
		}
	}
	return nil
}

// record moves a sent alert from the lead's pending alerts to its sent ones.
// The alert activity already says it went out; if the lead is too busy to
// take this write now, the next Flush finds the activity and records it.
func (a *Alerter) record(ctx context.Context, leadID string, p lead.PendingAlert, at time.Time, to, messageID string, log *slog.Logger) error {
	sent := lead.SentAlert{ID: p.ID, Threshold: p.Threshold, Score: p.Score, At: at, To: to, MessageID: messageID}
	twice := false
	_, err := a.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, isNew bool) error {
		twice = false
		if isNew {
			return lead.ErrNoChange // erased meanwhile: nothing to record on
		}
		l.PendingAlerts = slices.DeleteFunc(l.PendingAlerts, func(q lead.PendingAlert) bool { return q.ID == p.ID })
		if slices.ContainsFunc(l.Alerts, func(s lead.SentAlert) bool { return s.ID == p.ID }) {
			twice = true
			return nil
		}
		l.Alerts = append(l.Alerts, sent)
		return nil
	})
	if err != nil && !errors.Is(err, lead.ErrNoChange) {
		log.Warn("alert sent, its record on the lead left for the next flush", "error", err.Error())
		return nil
	}
	if twice {
		log.Warn("alert recorded twice: the claim lapsed while recording", "lease", a.lease().String())
	}
	log.Info("alert recorded", "to", to, "score", p.Score)
	return nil
}

// release gives up our claim on an alert that was certainly not sent.
func (a *Alerter) release(ctx context.Context, leadID string, p lead.PendingAlert, log *slog.Logger) {
	_, err := a.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, isNew bool) error {
		for i := range l.PendingAlerts {
			q := &l.PendingAlerts[i]
			if q.ID == p.ID && q.ClaimedUntil.Equal(p.ClaimedUntil) { // still ours
				q.ClaimedUntil = time.Time{}
				return nil
			}
		}
		return lead.ErrNoChange
	})
	if err != nil && !errors.Is(err, lead.ErrNoChange) {
		log.Warn("alert claim not released; it lapses", "error", err.Error())
	}
}

// Links signs the three links of an alert: the dossier page, and the same
// page with Accept or Return preselected. Each token is bound to its
// purpose, names the lead and the alert (Ref), and works for LinkTTL.
func (a *Alerter) Links(leadID, alertID string, now time.Time) AlertLinks {
	sign := func(purpose string) string {
		return link.Sales.URL(a.BaseURL, a.Signer.Sign(token.Claims{Purpose: purpose, LeadID: leadID, Ref: alertID, Expires: now.Add(LinkTTL)}))
	}
	return AlertLinks{
		Dossier: sign(token.PurposeDossier),
		Accept:  sign(token.PurposeAccept),
		Return:  sign(token.PurposeReturn),
	}
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
