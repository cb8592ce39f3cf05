package nurture

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// Store is what the scheduler needs of the lead store.
type Store interface {
	DueLeads(ctx context.Context, now time.Time, limit int) ([]string, error)
	UpdateLead(ctx context.Context, id string, fn func(l *lead.Lead, isNew bool) error) (*lead.Lead, error)
	RecordMessage(ctx context.Context, m lead.Message) error
}

// Mailer sends one email and returns SES's MessageId.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) (string, error)
}

// Token lifetimes: an unsubscribe link must keep working as long as anyone
// may still open the mail; an answer only matters while nurture runs.
const (
	unsubscribeTTL = 2 * 365 * 24 * time.Hour
	answerTTL      = 90 * 24 * time.Hour
)

// Defaults for the scheduler's knobs.
const (
	DefaultLease       = 10 * time.Minute
	DefaultBatch       = 1000
	DefaultReconcile   = time.Hour
	sendAttempts       = 4
	deadlineMargin     = 15 * time.Second
	firstRetryInterval = 200 * time.Millisecond
)

// Scheduler sends each due lead its next nurture step, exactly once.
type Scheduler struct {
	Program *program.Program
	Store   Store
	Mailer  Mailer
	Signer  *token.Signer
	Window  Window
	// BaseURL is the public API URL the links in emails point at.
	BaseURL string
	// ConfigurationSet is the SES configuration set that publishes events.
	ConfigurationSet string
	// Rate is the most emails per second (the account's MaxSendRate).
	Rate float64
	// Lease is how long a claim keeps other ticks off a lead.
	Lease time.Duration
	// ReconcileAfter is how long a lapsed claim waits for SES's Send event
	// before the step is tried again.
	ReconcileAfter time.Duration
	// Batch is how many due leads one tick takes on at most.
	Batch int
	// Workers send in parallel to hide SES's latency; zero derives it from Rate.
	Workers int
	// Alerts, when set, sends sales alerts left pending on the leads a tick
	// visits (the due index holds those leads too), so a crossing whose
	// alert could not go out at once is sent by the next tick.
	Alerts lead.Alerts
	Log    *slog.Logger

	// afterSend runs between SES accepting a message and the record of it;
	// tests use it to crash there.
	afterSend func(leadID string) error
}

// Report says what one tick did.
type Report struct {
	Due      int `json:"due"`
	Sent     int `json:"sent"`
	Skipped  int `json:"skipped"`  // claimed elsewhere, not due, or not mailable
	Finished int `json:"finished"` // leads that completed their track
	Deferred int `json:"deferred"` // SES throttled or failed transiently; still due
	Failed   int `json:"failed"`   // SES rejected the message for good
	// Rescheduled counts leads due outside their send window, moved to its next opening.
	Rescheduled int `json:"rescheduled"`
	// Partial is true when the tick stopped early to finish before its
	// deadline; the rest stays due for the next tick.
	Partial bool `json:"partial"`
}

// errAccountPaused stops a tick: every further send would fail the same way.
var errAccountPaused = errors.New("ses account cannot send")

// Tick sends every step due at now, pacing sends at Rate, and stops claiming
// new leads in time to finish before ctx's deadline.
func (s *Scheduler) Tick(ctx context.Context, now time.Time) (Report, error) {
	var rep Report
	batch := s.Batch
	if batch <= 0 {
		batch = DefaultBatch
	}
	ids, err := s.Store.DueLeads(ctx, now, batch)
	if err != nil {
		return rep, err
	}
	rep.Due = len(ids)
	stopBy := time.Time{}
	if dl, ok := ctx.Deadline(); ok {
		stopBy = dl.Add(-deadlineMargin)
	}
	pace := newPacer(s.Rate)
	// A few workers keep SES busy at the allowed rate despite its latency.
	workers := s.Workers
	if workers <= 0 {
		workers = min(int(s.Rate/5)+1, 16)
	}
	jobs := make(chan string)
	var mu sync.Mutex
	var abort error
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				out, err := s.sendNext(ctx, id, now, pace)
				mu.Lock()
				rep.add(out)
				if errors.Is(err, errAccountPaused) && abort == nil {
					abort = err
				} else if err != nil {
					s.Log.Error("nurture step failed", "leadId", id, "error", err.Error())
				}
				mu.Unlock()
			}
		}()
	}
loop:
	for _, id := range ids {
		mu.Lock()
		stop := abort != nil
		mu.Unlock()
		if stop || ctx.Err() != nil || (!stopBy.IsZero() && time.Now().After(stopBy)) {
			rep.Partial = true
			break loop
		}
		select {
		case jobs <- id:
		case <-ctx.Done():
			rep.Partial = true
			break loop
		}
	}
	close(jobs)
	wg.Wait()
	s.Log.Info("tick", "due", rep.Due, "sent", rep.Sent, "skipped", rep.Skipped, "finished", rep.Finished,
		"deferred", rep.Deferred, "failed", rep.Failed, "rescheduled", rep.Rescheduled, "partial", rep.Partial)
	return rep, abort
}

type outcome int

const (
	outSkipped outcome = iota
	outSent
	outFinished
	outDeferred
	outFailed
	outRescheduled
)

func (r *Report) add(o outcome) {
	switch o {
	case outSent:
		r.Sent++
	case outFinished:
		r.Finished++
	case outDeferred:
		r.Deferred++
	case outFailed:
		r.Failed++
	case outRescheduled:
		r.Rescheduled++
	default:
		r.Skipped++
	}
}

// sendNext claims, sends and records one lead's next step.
func (s *Scheduler) sendNext(ctx context.Context, id string, now time.Time, pace *pacer) (outcome, error) {
	var (
		claim  lead.Claim
		choice Choice
		result = outSkipped
		track  program.Track
	)
	claimID := newClaimID()
	l, err := s.Store.UpdateLead(ctx, id, func(l *lead.Lead, isNew bool) error {
		result = outSkipped
		if isNew || !l.Mailable() || !l.Nurture.Due() || l.Nurture.DueAt.After(now) {
			return lead.ErrNoChange
		}
		if c := l.Nurture.Claim; c != nil {
			// Held by another tick, or sent and waiting for SES's Send event
			// to confirm it: never resend blindly.
			if now.Before(c.Until.Add(s.reconcileAfter())) {
				return lead.ErrNoChange
			}
			s.Log.Warn("claim lapsed without a Send event; trying the step again", "leadId", id, "step", c.Step)
			l.Nurture.Claim = nil
		}
		// Due, but outside the lead's send window (a step set at capture
		// time can fall on a weekend): move it to the next opening.
		if next := s.Window.Next(now, l.TimeZone); next.After(now) {
			l.Nurture.DueAt = next
			result = outRescheduled
			return nil
		}
		var ok bool
		track, ok = s.Program.Track(l.Nurture.Track)
		if !ok {
			l.Nurture.Status, l.Nurture.StopReason, l.Nurture.DueAt = lead.NurtureStopped, "track removed from the program", time.Time{}
			return nil
		}
		// Steps with nothing left to offer are passed over.
		for l.Nurture.NextStep < len(track.Steps) {
			if choice, ok = Pick(s.Program, l, track, l.Nurture.NextStep); ok {
				break
			}
			l.Nurture.NextStep++
		}
		if l.Nurture.NextStep >= len(track.Steps) {
			l.Nurture.Status, l.Nurture.DueAt = lead.NurtureFinished, time.Time{}
			result = outFinished
			return nil
		}
		claim = lead.Claim{ID: claimID, Step: l.Nurture.NextStep, AssetID: choice.Asset.ID, At: now, Until: now.Add(s.lease())}
		l.Nurture.Claim = &claim
		result = outSent
		return nil
	})
	if l != nil && len(l.PendingAlerts) > 0 && s.Alerts != nil {
		if err := s.Alerts.Flush(ctx, id); err != nil {
			s.Log.Error("pending sales alert not sent", "leadId", id, "error", err.Error())
		}
	}
	if errors.Is(err, lead.ErrNoChange) {
		return outSkipped, nil
	}
	if err != nil {
		return outSkipped, fmt.Errorf("claim step: %w", err)
	}
	if result != outSent {
		return result, nil
	}

	msg, err := s.compose(l, track, claim, choice, now)
	if err != nil {
		// A message that cannot be rendered will never be: fail the step.
		return outFailed, s.fail(ctx, id, claim, err.Error(), now)
	}
	messageID, err := s.send(ctx, msg, pace)
	switch {
	case errors.Is(err, mail.ErrRejected) && accountLevel(err):
		return outDeferred, errors.Join(errAccountPaused, err, s.release(ctx, id, claim))
	case errors.Is(err, mail.ErrRejected):
		return outFailed, s.fail(ctx, id, claim, err.Error(), now)
	case err != nil:
		return outDeferred, errors.Join(err, s.release(ctx, id, claim))
	}
	if s.afterSend != nil {
		if err := s.afterSend(id); err != nil {
			return outSent, err
		}
	}
	return outSent, s.Record(ctx, id, claim.ID, messageID, now)
}

func (s *Scheduler) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return DefaultLease
}

func (s *Scheduler) reconcileAfter() time.Duration {
	if s.ReconcileAfter > 0 {
		return s.ReconcileAfter
	}
	return DefaultReconcile
}

// accountLevel tells rejections of the whole account from those of one message.
func accountLevel(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "SendingPaused") || strings.Contains(msg, "AccountSuspended")
}

// send paces and sends one message, retrying throttling and transient
// failures with backoff.
func (s *Scheduler) send(ctx context.Context, m mail.Message, pace *pacer) (string, error) {
	wait := firstRetryInterval
	var err error
	for attempt := 0; attempt < sendAttempts; attempt++ {
		if err := pace.wait(ctx); err != nil {
			return "", err
		}
		var id string
		id, err = s.Mailer.Send(ctx, m)
		if err == nil {
			return id, nil
		}
		if !errors.Is(err, mail.ErrThrottled) && !errors.Is(err, mail.ErrTransient) {
			return "", err
		}
		if err := sleep(ctx, wait); err != nil {
			return "", err
		}
		wait *= 2
	}
	return "", err
}

// Record marks a claimed step as sent. The scheduler calls it after SES
// accepts the message; the engagement handler calls it for SES's Send event,
// which reconciles a send whose record was lost. Whichever comes second
// changes nothing.
func (s *Scheduler) Record(ctx context.Context, leadID, claimID, messageID string, at time.Time) error {
	var sent lead.SentStep
	_, err := s.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, isNew bool) error {
		c := l.Nurture.Claim
		if isNew || c == nil || c.ID != claimID {
			return lead.ErrNoChange
		}
		sent = lead.SentStep{Track: l.Nurture.Track, Step: c.Step, AssetID: c.AssetID, MessageID: messageID, At: at}
		l.Nurture.Sent = append(l.Nurture.Sent, sent)
		l.Nurture.Claim = nil
		l.Nurture.NextStep = c.Step + 1
		s.scheduleNext(l, at)
		return nil
	})
	if errors.Is(err, lead.ErrNoChange) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("record sent step: %w", err)
	}
	return s.Store.RecordMessage(ctx, lead.Message{
		MessageID: messageID, LeadID: leadID, Track: sent.Track, Step: sent.Step, AssetID: sent.AssetID, ClaimID: claimID, At: at,
	})
}

// scheduleNext sets when the next step is due, inside the send window.
func (s *Scheduler) scheduleNext(l *lead.Lead, after time.Time) {
	track, ok := s.Program.Track(l.Nurture.Track)
	if !ok || l.Nurture.NextStep >= len(track.Steps) {
		l.Nurture.Status, l.Nurture.DueAt = lead.NurtureFinished, time.Time{}
		return
	}
	l.Nurture.DueAt = s.Window.Next(after.Add(track.Steps[l.Nurture.NextStep].Wait.Duration), l.TimeZone)
}

// release gives a claim back without sending: the step stays due.
func (s *Scheduler) release(ctx context.Context, leadID string, claim lead.Claim) error {
	_, err := s.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, _ bool) error {
		if l.Nurture.Claim == nil || l.Nurture.Claim.ID != claim.ID {
			return lead.ErrNoChange
		}
		l.Nurture.Claim = nil
		return nil
	})
	if err != nil && !errors.Is(err, lead.ErrNoChange) {
		return fmt.Errorf("release claim: %w", err)
	}
	return nil
}

// fail records a step SES rejected for good and stops nurture for the lead:
// the same address would be rejected again at every step.
func (s *Scheduler) fail(ctx context.Context, leadID string, claim lead.Claim, reason string, now time.Time) error {
	_, err := s.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, _ bool) error {
		if l.Nurture.Claim == nil || l.Nurture.Claim.ID != claim.ID {
			return lead.ErrNoChange
		}
		l.Nurture.Claim = nil
		l.Nurture.Status, l.Nurture.DueAt = lead.NurtureStopped, time.Time{}
		l.Nurture.StopReason = fmt.Sprintf("step %d failed at %s: %s", claim.Step+1, now.Format(time.RFC3339), clip(reason, 300))
		return nil
	})
	if err != nil && !errors.Is(err, lead.ErrNoChange) {
		return fmt.Errorf("record failed step: %w", err)
	}
	return nil
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// compose renders the email for a claimed step.
func (s *Scheduler) compose(l *lead.Lead, track program.Track, claim lead.Claim, choice Choice, now time.Time) (mail.Message, error) {
	step := track.Steps[claim.Step]
	unsub := s.Signer.Sign(token.Claims{Purpose: token.PurposeUnsubscribe, LeadID: l.ID, Track: track.ID, Step: claim.Step, Expires: now.Add(unsubscribeTTL)})
	e := mail.NurtureEmail{
		To:             l.Email,
		FirstName:      firstName(l.Name),
		Sender:         s.Program.Sender,
		Subject:        step.Subject,
		Intro:          step.Intro,
		Asset:          choice.Asset,
		AssetURL:       assetURL(choice.Asset, track.ID, claim.Step),
		Reason:         choice.Reason,
		UnsubscribeURL: s.BaseURL + "/u/" + unsub,
	}
	if e.Subject == "" {
		e.Subject = choice.Asset.Title
	}
	if len(l.Downloaded) > 0 {
		if first, ok := s.Program.Asset(l.Downloaded[0]); ok {
			e.Downloaded = first.Title
		}
	}
	if q := choice.Question; q != nil {
		block := &mail.QuestionBlock{Text: q.Text}
		for _, o := range q.Options {
			tok := s.Signer.Sign(token.Claims{Purpose: token.PurposeAnswer, LeadID: l.ID, Track: track.ID, Step: claim.Step, Ref: q.ID + "=" + o.Value, Expires: now.Add(answerTTL)})
			block.Answers = append(block.Answers, mail.AnswerLink{Label: o.Label, URL: s.BaseURL + "/a/" + tok})
		}
		e.Question = block
	}
	m, err := mail.RenderNurture(e)
	if err != nil {
		return m, fmt.Errorf("render step %d: %w", claim.Step+1, err)
	}
	m.ConfigurationSet = s.ConfigurationSet
	m.Tags = map[string]string{
		"lead":  mail.Tag(l.ID),
		"track": mail.Tag(track.ID),
		"step":  strconv.Itoa(claim.Step),
		"asset": mail.Tag(choice.Asset.ID),
		"claim": mail.Tag(claim.ID),
		"kind":  "nurture",
	}
	return m, nil
}

// assetURL adds campaign parameters, so the website's analytics sees
// nurture traffic; it never carries who the reader is.
func assetURL(a program.Asset, track string, step int) string {
	u, err := url.Parse(a.URL)
	if err != nil {
		return a.URL
	}
	q := u.Query()
	q.Set("utm_source", "nurture")
	q.Set("utm_medium", "email")
	q.Set("utm_campaign", track)
	q.Set("utm_content", "step-"+strconv.Itoa(step+1))
	u.RawQuery = q.Encode()
	return u.String()
}

func firstName(name string) string {
	f := strings.Fields(name)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func newClaimID() string {
	var b [9]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pacer spaces sends evenly at rate per second, across all workers.
type pacer struct {
	mu       sync.Mutex
	interval time.Duration
	next     time.Time
}

func newPacer(rate float64) *pacer {
	if rate <= 0 {
		rate = 1
	}
	return &pacer{interval: time.Duration(float64(time.Second) / rate)}
}

func (p *pacer) wait(ctx context.Context) error {
	p.mu.Lock()
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(p.interval)
	p.mu.Unlock()
	return sleep(ctx, time.Until(at))
}
