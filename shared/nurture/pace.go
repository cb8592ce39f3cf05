package nurture

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/leadnurture/nurture/shared/mail"
)

// Sending at the account's rate: one pacer shared by a tick's workers, and
// retries with backoff for what SES says may pass.

// send paces and sends one message, retrying throttling and failures SES
// reported with backoff; an uncertain outcome is never retried.
func (s *Scheduler) send(ctx context.Context, m mail.Message, pace *pacer) error {
	wait := firstRetryInterval
	var err error
	for attempt := 0; attempt < sendAttempts; attempt++ {
		if err := pace.wait(ctx); err != nil {
			return err
		}
		if _, err = s.Mailer.Send(ctx, m); err == nil {
			return nil
		}
		if !errors.Is(err, mail.ErrThrottled) && !errors.Is(err, mail.ErrTransient) {
			return err
		}
		if err := sleep(ctx, wait); err != nil {
			return err
		}
		wait *= 2
	}
	return err
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
