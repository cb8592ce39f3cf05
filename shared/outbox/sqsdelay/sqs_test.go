package sqsdelay_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/leadnurture/nurture/infra/localstack"
	"github.com/leadnurture/nurture/shared/outbox"
	"github.com/leadnurture/nurture/shared/outbox/sqsdelay"
)

// emulator is the SQS emulator (moto's server, installed by make deps) the
// adapter is tested against: a real SQS API with DelaySeconds, not a fake.
var emulator *localstack.Server

func TestMain(m *testing.M) {
	s, err := localstack.StartSQS(context.Background(), localstack.SQSOptions{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	emulator = s
	code := m.Run()
	_ = s.Stop()
	os.Exit(code)
}

// queue creates a queue as the template's SettleQueue is.
func queue(t *testing.T, c *sqs.Client) string {
	t.Helper()
	out, err := c.CreateQueue(context.Background(), &sqs.CreateQueueInput{
		QueueName:  aws.String(strings.ReplaceAll(t.Name(), "_", "-")),
		Attributes: map[string]string{"VisibilityTimeout": "360", "MessageRetentionPeriod": "86400"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

func client(t *testing.T) *sqs.Client {
	t.Helper()
	c, err := localstack.SQSClient(emulator.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A wake-up sent with a delay stays hidden until the delay has passed,
// then comes back as the body the alerts function's Waker decodes.
func TestDelay_onSQS_theWakeupIsHiddenForItsDelay_thenComesBack(t *testing.T) {
	ctx := context.Background()
	c := client(t)
	url := queue(t, c)
	sent := time.Now()
	w := outbox.Wakeup{LeadID: "xx5jcwsvjiyemvgsxlqw2shm", At: sent.Add(2 * time.Second).UTC().Truncate(time.Millisecond)}
	if err := sqsdelay.New(c, url).Delay(ctx, w, 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for {
		out, err := c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(url), WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		waited := time.Since(sent)
		if len(out.Messages) == 0 {
			if waited > 10*time.Second {
				t.Fatal("the wake-up never came back")
			}
			continue
		}
		// 1.5 s is sent as DelaySeconds 2: never early.
		if waited < 2*time.Second {
			t.Fatalf("the wake-up came back after %v, before its 2 s delay", waited)
		}
		got, err := outbox.DecodeWakeup(aws.ToString(out.Messages[0].Body))
		if err != nil || got.LeadID != w.LeadID || !got.At.Equal(w.At) {
			t.Fatalf("came back as %s: %+v, %v", aws.ToString(out.Messages[0].Body), got, err)
		}
		return
	}
}

// A queue that is not there (a wrong SETTLE_QUEUE_URL) fails the send,
// naming the lead, so the stream's record is retried and the failure
// logged; the tick still wakes the lead.
func TestDelay_toAQueueThatIsNotThere_failsNamingTheLead(t *testing.T) {
	c := client(t)
	missing := strings.TrimSuffix(queue(t, c), "/") + "-gone"
	err := sqsdelay.New(c, missing).Delay(context.Background(), outbox.Wakeup{LeadID: "lead42", At: time.Now()}, time.Second)
	if err == nil || !strings.Contains(err.Error(), "lead42") {
		t.Fatalf("Delay to a missing queue = %v, want an error naming the lead", err)
	}
}
