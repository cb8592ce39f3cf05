// Package sqsdelay is the settle time's delay queue on Amazon SQS: an
// outbox.Delayer that sends each wake-up with DelaySeconds, so SQS hands
// it to the alerts function (its event source mapping) when the settle
// time ends. Why SQS rather than a one-time EventBridge Scheduler schedule
// per alert: a message is one request and costs $0.40 a million, needs no
// clean-up (a one-time schedule stays until deleted, unless created with
// ActionAfterCompletion DELETE), and brings the retries, the dead-letter
// queue and the batch item failures of an event source mapping that the
// outbox already uses for the stream.
package sqsdelay

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/leadnurture/nurture/shared/outbox"
)

// MaxDelaySeconds is the longest delay SQS takes.
const MaxDelaySeconds = 900

// Sender is what the queue needs of the SQS client.
type Sender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// Queue sends wake-ups to one queue.
type Queue struct {
	Client Sender
	URL    string
}

var _ outbox.Delayer = (*Queue)(nil)

// New returns the delay queue at url.
func New(client Sender, url string) *Queue { return &Queue{Client: client, URL: url} }

// Delay sends w to come back after d.
func (q *Queue) Delay(ctx context.Context, w outbox.Wakeup, d time.Duration) error {
	in, err := Input(q.URL, w, d)
	if err != nil {
		return err
	}
	if _, err := q.Client.SendMessage(ctx, in); err != nil {
		return fmt.Errorf("send wake-up of lead %s to the delay queue: %w", w.LeadID, err)
	}
	return nil
}

// Input is the SendMessage request for w after d: DelaySeconds rounded up
// to a whole second (never early), at most MaxDelaySeconds (a longer wait
// comes back early and the Waker delays it again).
func Input(url string, w outbox.Wakeup, d time.Duration) (*sqs.SendMessageInput, error) {
	if url == "" {
		return nil, fmt.Errorf("no delay queue URL (SETTLE_QUEUE_URL)")
	}
	body, err := outbox.EncodeWakeup(w)
	if err != nil {
		return nil, err
	}
	secs := min(max((d+time.Second-1)/time.Second, 0), MaxDelaySeconds)
	return &sqs.SendMessageInput{
		QueueUrl:     aws.String(url),
		MessageBody:  aws.String(body),
		DelaySeconds: int32(secs),
	}, nil
}
