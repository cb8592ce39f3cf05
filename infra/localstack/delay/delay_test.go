package delay_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leadnurture/nurture/infra/localstack/delay"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/outbox"
)

var t0 = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

// handler records the wake-ups it is handed and fails those named in fail.
type handler struct {
	mu   sync.Mutex
	got  []outbox.Wakeup
	fail map[string]bool
}

func (h *handler) handle(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	resp := events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{}}
	for _, m := range ev.Records {
		w, err := outbox.DecodeWakeup(m.Body)
		if err != nil || m.EventSource != "aws:sqs" {
			return resp, err
		}
		h.got = append(h.got, w)
		if h.fail[w.LeadID] {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
		}
	}
	return resp, nil
}

func (h *handler) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.got)
}

// A delayed message waits for the queue's clock, not the wall clock: a
// jump of the local clock past it hands it over at once.
func TestQueue_handsAMessageOverOnceTheClockPassedItsDelay(t *testing.T) {
	clk := clock.NewFixed(t0)
	h := &handler{}
	q := &delay.Queue{Clock: clk, Handler: h.handle}
	ctx := context.Background()
	if err := q.Delay(ctx, outbox.Wakeup{LeadID: "l1", At: t0.Add(2 * time.Minute)}, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	// SQS delays whole seconds, rounded up here so a wake-up never comes early.
	if err := q.Delay(ctx, outbox.Wakeup{LeadID: "l2", At: t0.Add(1500 * time.Millisecond)}, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	clk.Advance(1500 * time.Millisecond)
	_ = q.Drain(ctx)
	if h.count() != 0 {
		t.Fatalf("handed over %+v before the delay (rounded up to 2 s)", h.got)
	}
	clk.Advance(500 * time.Millisecond)
	_ = q.Drain(ctx)
	if h.count() != 1 || h.got[0].LeadID != "l2" {
		t.Fatalf("at 2 s: %+v, want l2's wake-up", h.got)
	}
	clk.Set(t0.Add(time.Hour)) // the clock jumps
	_ = q.Drain(ctx)
	if h.count() != 2 || h.got[1].LeadID != "l1" || q.Len() != 0 {
		t.Fatalf("after the jump: %+v, %d left", h.got, q.Len())
	}
	if err := q.Delay(ctx, outbox.Wakeup{LeadID: "l3", At: t0}, 901*time.Second); err == nil {
		t.Error("a delay beyond SQS's 900 s was taken")
	}
}

// Run polls on its own: the local stack's clock moving is enough.
func TestQueue_Run_handsOverWhatTheClockMakesDue(t *testing.T) {
	clk := &clock.Offset{}
	clk.Set(t0)
	h := &handler{}
	q := &delay.Queue{Clock: clk, Handler: h.handle, PollInterval: 10 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = q.Run(ctx) }()
	if err := q.Delay(ctx, outbox.Wakeup{LeadID: "l1", At: t0.Add(2 * time.Minute)}, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	if h.count() != 0 {
		t.Fatal("handed over two minutes early")
	}
	clk.Advance(2 * time.Minute)
	deadline := time.Now().Add(5 * time.Second)
	for h.count() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if h.count() != 1 {
		t.Fatalf("%d handed over after the clock moved, want 1", h.count())
	}
}

// A failed message comes back after the visibility timeout; after the
// last receive it goes to the dead-letter queue.
func TestQueue_failedMessage_comesBackAfterTheVisibilityTimeout_thenGoesToTheDeadLetterQueue(t *testing.T) {
	clk := clock.NewFixed(t0)
	h := &handler{fail: map[string]bool{"bad": true}}
	var dead []events.SQSMessage
	q := &delay.Queue{Clock: clk, Handler: h.handle, VisibilityTimeout: time.Minute, MaxReceiveCount: 3,
		OnFailure: func(m events.SQSMessage) { dead = append(dead, m) }}
	ctx := context.Background()
	_ = q.Delay(ctx, outbox.Wakeup{LeadID: "bad", At: t0}, 0)
	_ = q.Delay(ctx, outbox.Wakeup{LeadID: "good", At: t0}, 0)
	_ = q.Drain(ctx)
	if h.count() != 2 || q.Len() != 1 {
		t.Fatalf("handed %+v, %d left; want both once, the failed one kept", h.got, q.Len())
	}
	_ = q.Drain(ctx)
	if h.count() != 2 {
		t.Fatal("the failed message came back within its visibility timeout")
	}
	for range 2 {
		clk.Advance(time.Minute)
		_ = q.Drain(ctx)
	}
	if h.count() != 4 || q.Len() != 0 || len(dead) != 1 {
		t.Fatalf("handed %d, %d left, %d dead; want 3 receives of the failed one, then the dead-letter queue", h.count(), q.Len(), len(dead))
	}
	if w, err := outbox.DecodeWakeup(dead[0].Body); err != nil || w.LeadID != "bad" {
		t.Errorf("dead letter %+v: %v", dead[0], err)
	}
}
