package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/lead"
)

// The settle time's wake-up. An alert a click or an open caused waits its
// settle time (program scoring.settle) before it may go out, and the write
// that crossed marks the lead lead.OutboxSettle. The alerts function's
// Settler takes those records and hands a Wakeup to a Delayer (SQS's delay
// queue in AWS) due when the settle time ends; the delayed message comes
// back to the alerts function, whose Waker wakes the lead as the
// scheduler's tick would (lead.Wake) and sends the alert at once. So a
// click-caused alert goes out seconds after its settle time, not at the
// next tick; the tick still wakes whatever a lost message left behind.

// Wakeup asks for a lead to be woken when an alert's settle time ends. It
// names no person: only the lead's id.
type Wakeup struct {
	LeadID string    `json:"leadId"`
	At     time.Time `json:"notBefore"`
}

// MaxDelay is the longest one delay can be (SQS DelaySeconds is at most
// 900). A wake-up due later comes back early and is delayed again.
const MaxDelay = 15 * time.Minute

// Delayer hands a wake-up back after d: each message at least once, never
// before d has passed on the Delayer's clock (SQS rounds up to a second).
type Delayer interface {
	Delay(ctx context.Context, w Wakeup, d time.Duration) error
}

// EncodeWakeup is a wake-up as a queue message's body.
func EncodeWakeup(w Wakeup) (string, error) {
	if w.LeadID == "" || w.At.IsZero() {
		return "", fmt.Errorf("wake-up %+v: a lead id and a time are required", w)
	}
	b, err := json.Marshal(Wakeup{LeadID: w.LeadID, At: w.At.UTC()})
	if err != nil {
		return "", fmt.Errorf("encode wake-up: %w", err)
	}
	return string(b), nil
}

// DecodeWakeup reads a queue message's body.
func DecodeWakeup(body string) (Wakeup, error) {
	var w Wakeup
	if err := json.Unmarshal([]byte(body), &w); err != nil {
		return Wakeup{}, fmt.Errorf("decode wake-up: %w", err)
	}
	if w.LeadID == "" || w.At.IsZero() {
		return Wakeup{}, errors.New("decode wake-up: leadId and notBefore are required")
	}
	return w, nil
}

// LeadStore is what the settle's wake-up needs of the lead store.
type LeadStore interface {
	GetLead(ctx context.Context, id string) (*lead.Lead, bool, error)
	UpdateLead(ctx context.Context, id string, fn func(l *lead.Lead, isNew bool) error) (*lead.Lead, error)
}

// Settler is the outbox's sender of lead.OutboxSettle work: it asks the
// Delayer for a wake-up when the lead's first settling alert may go out.
// Every write of the lead while the alert settles asks again; the wake-ups
// after the first find nothing left to wake.
type Settler struct {
	Store   LeadStore
	Delayer Delayer
	Clock   clock.Clock
}

// Flush asks for the wake-up of the lead's first settle time to end.
func (s *Settler) Flush(ctx context.Context, leadID string) error {
	l, found, err := s.Store.GetLead(ctx, leadID)
	if err != nil {
		return fmt.Errorf("read lead %s for its settle time: %w", leadID, err)
	}
	if !found {
		return nil
	}
	at, ok := l.SettleAt()
	if !ok {
		return nil // woken already, or withdrawn
	}
	return delayUntil(ctx, s.Delayer, Wakeup{LeadID: leadID, At: at}, s.Clock.Now())
}

// delayUntil hands w to the delayer due at w.At (at most MaxDelay ahead; a
// wake-up already due goes at once).
func delayUntil(ctx context.Context, d Delayer, w Wakeup, now time.Time) error {
	wait := min(max(w.At.Sub(now), 0), MaxDelay)
	if err := d.Delay(ctx, w, wait); err != nil {
		return fmt.Errorf("delay the wake-up of lead %s: %w", w.LeadID, err)
	}
	return nil
}

// Waker takes the wake-ups back when they are due: the alerts function's
// handler of the delay queue (an SQS event source mapping in AWS).
type Waker struct {
	Store LeadStore
	// Alerts sends the alerts the wake-up made ready (the sales.Alerter),
	// without waiting for the stream to bring the woken lead back.
	Alerts  Sender
	Delayer Delayer // delays again a wake-up that came back early
	Clock   clock.Clock
	Log     *slog.Logger
}

// Wake wakes the lead once w is due, as the scheduler's tick does, and
// sends what it made ready. It is idempotent: a wake-up delivered again
// finds the settle time cleared and writes nothing, and the Alerter claims
// what it sends, so no alert goes out twice. The write also marks the
// crossing's lifecycle event ready for the events function.
func (k *Waker) Wake(ctx context.Context, w Wakeup) error {
	now := k.Clock.Now()
	if w.At.After(now) {
		// Early: a settle time beyond one delay, or clocks apart.
		return delayUntil(ctx, k.Delayer, w, now)
	}
	_, err := k.Store.UpdateLead(ctx, w.LeadID, func(l *lead.Lead, isNew bool) error {
		at, settling := l.SettleAt()
		if isNew || !settling || at.After(now) {
			return lead.ErrNoChange // woken already (or by the tick), or withdrawn
		}
		l.Wake(now)
		return nil
	})
	if err != nil && !errors.Is(err, lead.ErrNoChange) {
		return fmt.Errorf("wake lead %s: %w", w.LeadID, err)
	}
	if err := k.Alerts.Flush(ctx, w.LeadID); err != nil {
		return fmt.Errorf("send the alerts of lead %s: %w", w.LeadID, err)
	}
	return nil
}

// Handle takes a batch of the delay queue's messages, as a Lambda function
// behind an SQS event source mapping with ReportBatchItemFailures does: a
// message that failed is reported and comes back after the queue's
// visibility timeout, and after the queue's maxReceiveCount goes to its
// dead-letter queue (the alert stays on the lead for the tick). A message
// that is not a wake-up fails too, so it ends there for a look.
func (k *Waker) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	// Never nil: Lambda reads [] as "all done", as it does null.
	failures := []events.SQSBatchItemFailure{}
	for _, m := range ev.Records {
		w, err := DecodeWakeup(m.Body)
		if err == nil {
			err = k.Wake(ctx, w)
		}
		if err != nil {
			k.log().Error("wake-up failed; the queue delivers it again", "leadId", w.LeadID, "messageId", m.MessageId, "error", err.Error())
			failures = append(failures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return events.SQSEventResponse{BatchItemFailures: failures}, nil
}

func (k *Waker) log() *slog.Logger {
	if k.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return k.Log
}

// Function is the alerts function's handler: the table's stream's batches
// go to Stream, the delay queue's to Wakeups. One function serves both, so
// the wake-up sends the alert with the clients and secrets the function
// already holds.
type Function struct {
	Stream  *Consumer
	Wakeups *Waker // nil: no delay queue, the tick wakes settled alerts
}

// Event sources as Lambda names them in each record.
const (
	sourceDynamoDB = "aws:dynamodb"
	sourceSQS      = "aws:sqs"
)

// Invoke tells the event's source by its records and hands it on.
func (f *Function) Invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	var probe struct {
		Records []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	if len(probe.Records) == 0 {
		return nil, errors.New("event without records: want a DynamoDB stream batch or an SQS batch")
	}
	switch src := probe.Records[0].EventSource; src {
	case sourceDynamoDB:
		var ev events.DynamoDBEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("read stream batch: %w", err)
		}
		return f.Stream.Handle(ctx, ev)
	case sourceSQS:
		if f.Wakeups == nil {
			return nil, errors.New("a delay queue's batch, but no delay queue is configured (SETTLE_QUEUE_URL)")
		}
		var ev events.SQSEvent
		if err := json.Unmarshal(raw, &ev); err != nil {
			return nil, fmt.Errorf("read queue batch: %w", err)
		}
		return f.Wakeups.Handle(ctx, ev)
	default:
		return nil, fmt.Errorf("event source %q: want %s or %s", src, sourceDynamoDB, sourceSQS)
	}
}
