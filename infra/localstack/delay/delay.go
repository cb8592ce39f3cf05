// Package delay plays SQS's delay queue and its Lambda event source
// mapping on the local stack and in tests, on the stack's clock: a message
// sent with a delay becomes visible once the clock has passed it, so when
// the local clock jumps (POST /_local/clock, /_local/next, a test's
// Clock.Set) every message due by then is handed over at the next poll.
// Messages are handed to the handler in batches as the SQS event Lambda
// would send; one the handler reports failed comes back after the
// visibility timeout, and after MaxReceiveCount receives goes to
// OnFailure (the dead-letter queue). Messages live in memory: a restart of
// make run loses them, and the scheduler's tick wakes what they would
// have.
package delay

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/outbox"
)

// Handler takes one batch, as a Lambda function behind an SQS event source
// mapping with ReportBatchItemFailures does (outbox.Waker.Handle).
type Handler func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// Defaults, as the template's queue and mapping set them.
const (
	DefaultBatchSize         = 10
	DefaultMaxReceiveCount   = 5
	DefaultVisibilityTimeout = 6 * time.Minute
	DefaultPollInterval      = 250 * time.Millisecond
	// MaxDelay is SQS's longest DelaySeconds.
	MaxDelay = 900 * time.Second
)

// Queue is a delay queue with its event source mapping: an outbox.Delayer.
type Queue struct {
	Clock   clock.Clock
	Handler Handler
	// BatchSize is the most messages in one batch (DefaultBatchSize).
	BatchSize int
	// VisibilityTimeout is how long a message the handler failed stays
	// hidden before it is handed over again (DefaultVisibilityTimeout).
	VisibilityTimeout time.Duration
	// MaxReceiveCount is how often a message is handed over before it goes
	// to OnFailure (DefaultMaxReceiveCount).
	MaxReceiveCount int
	// OnFailure receives the messages that failed every receive (the
	// dead-letter queue); nil logs them.
	OnFailure    func(events.SQSMessage)
	PollInterval time.Duration
	Log          *slog.Logger

	mu       sync.Mutex
	seq      int
	messages []*message
	// deliver serialises Drain and Run, as one poller per queue.
	deliver sync.Mutex
}

type message struct {
	id, body string
	visible  time.Time // on the queue's clock
	receives int
	sent     time.Time
}

var _ outbox.Delayer = (*Queue)(nil)

// Delay sends w with a delay of d, rounded up to whole seconds as SQS's
// DelaySeconds is.
func (q *Queue) Delay(_ context.Context, w outbox.Wakeup, d time.Duration) error {
	if d < 0 || d > MaxDelay {
		return fmt.Errorf("delay %s: SQS delays 0 to 900 seconds", d)
	}
	body, err := outbox.EncodeWakeup(w)
	if err != nil {
		return err
	}
	secs := (d + time.Second - 1) / time.Second
	now := q.Clock.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	q.seq++
	q.messages = append(q.messages, &message{
		id: "local-" + strconv.Itoa(q.seq), body: body, visible: now.Add(secs * time.Second), sent: now,
	})
	return nil
}

// Len is how many messages the queue holds, delayed, visible or in flight.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.messages)
}

// Run hands over what is due, polling until ctx ends; it returns ctx's
// error.
func (q *Queue) Run(ctx context.Context) error {
	every := q.PollInterval
	if every <= 0 {
		every = DefaultPollInterval
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := q.Drain(ctx); err != nil && ctx.Err() == nil {
			q.log().Error("delay queue poll failed", "error", err.Error())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Drain hands the handler every message visible at the clock's now, batch
// by batch, and returns when none is left: tests call it where Lambda
// would have polled in the background.
func (q *Queue) Drain(ctx context.Context) error {
	q.deliver.Lock()
	defer q.deliver.Unlock()
	for {
		batch := q.receive()
		if len(batch) == 0 {
			return nil
		}
		ev := events.SQSEvent{Records: make([]events.SQSMessage, len(batch))}
		for i, m := range batch {
			ev.Records[i] = events.SQSMessage{
				MessageId: m.id, Body: m.body, EventSource: "aws:sqs", AWSRegion: "us-east-1",
				Attributes: map[string]string{
					"ApproximateReceiveCount": strconv.Itoa(m.receives),
					"SentTimestamp":           strconv.FormatInt(m.sent.UnixMilli(), 10),
				},
			}
		}
		resp, err := q.Handler(ctx, ev)
		failed := map[string]bool{}
		switch {
		case err != nil:
			// A function error fails the whole batch.
			for _, m := range batch {
				failed[m.id] = true
			}
			q.log().Warn("delay queue batch failed", "messages", len(batch), "error", err.Error())
		default:
			for _, f := range resp.BatchItemFailures {
				failed[f.ItemIdentifier] = true
			}
		}
		q.settle(batch, failed)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// receive takes up to a batch of visible messages and hides them for the
// visibility timeout, as ReceiveMessage does.
func (q *Queue) receive() []*message {
	now := q.Clock.Now()
	size := q.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	var batch []*message
	for _, m := range q.messages {
		if len(batch) == size {
			break
		}
		if !m.visible.After(now) {
			m.receives++
			m.visible = now.Add(q.visibility())
			batch = append(batch, m)
		}
	}
	return batch
}

// settle deletes the messages handled, and parks those that failed their
// last receive in the dead-letter queue; the other failures stay hidden
// until their visibility timeout ends.
func (q *Queue) settle(batch []*message, failed map[string]bool) {
	maxReceives := q.MaxReceiveCount
	if maxReceives <= 0 {
		maxReceives = DefaultMaxReceiveCount
	}
	var dead []*message
	q.mu.Lock()
	q.messages = slices.DeleteFunc(q.messages, func(m *message) bool {
		if !slices.Contains(batch, m) {
			return false
		}
		if !failed[m.id] {
			return true
		}
		if m.receives >= maxReceives {
			dead = append(dead, m)
			return true
		}
		return false
	})
	q.mu.Unlock()
	for _, m := range dead {
		msg := events.SQSMessage{MessageId: m.id, Body: m.body, EventSource: "aws:sqs"}
		if q.OnFailure != nil {
			q.OnFailure(msg)
			continue
		}
		q.log().Error("wake-up failed every receive; moved to the dead-letter queue", "messageId", m.id, "receives", m.receives)
	}
}

func (q *Queue) visibility() time.Duration {
	if q.VisibilityTimeout > 0 {
		return q.VisibilityTimeout
	}
	return DefaultVisibilityTimeout
}

func (q *Queue) log() *slog.Logger {
	if q.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return q.Log
}
