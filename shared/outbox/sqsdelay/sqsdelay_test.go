package sqsdelay_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/leadnurture/nurture/shared/outbox"
	"github.com/leadnurture/nurture/shared/outbox/sqsdelay"
)

const queueURL = "https://sqs.eu-central-1.amazonaws.com/123456789012/nurture-SettleQueue"

var at = time.Date(2026, 12, 1, 10, 2, 0, 0, time.UTC)

// The request SQS gets: the wake-up as the body the Waker decodes, the
// delay in whole seconds, never shorter than asked, at most SQS's 900.
func TestInput_delaySecondsRoundUp_andTheBodyIsTheWakeup(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int32
	}{
		{2 * time.Minute, 120},
		{119*time.Second + time.Millisecond, 120},
		{1500 * time.Millisecond, 2},
		{0, 0},
		{-time.Second, 0},
		{20 * time.Minute, 900},
	} {
		w := outbox.Wakeup{LeadID: "xx5jcwsvjiyemvgsxlqw2shm", At: at}
		in, err := sqsdelay.Input(queueURL, w, tc.d)
		if err != nil {
			t.Fatal(err)
		}
		if in.DelaySeconds != tc.want || aws.ToString(in.QueueUrl) != queueURL {
			t.Errorf("delay %s: DelaySeconds %d to %s, want %d", tc.d, in.DelaySeconds, aws.ToString(in.QueueUrl), tc.want)
		}
		got, err := outbox.DecodeWakeup(aws.ToString(in.MessageBody))
		if err != nil || got.LeadID != w.LeadID || !got.At.Equal(at) {
			t.Errorf("body %s decodes to %+v, %v", aws.ToString(in.MessageBody), got, err)
		}
	}
	if want := `{"leadId":"xx5jcwsvjiyemvgsxlqw2shm","notBefore":"2026-12-01T10:02:00Z"}`; func() string {
		in, _ := sqsdelay.Input(queueURL, outbox.Wakeup{LeadID: "xx5jcwsvjiyemvgsxlqw2shm", At: at.In(time.FixedZone("CET", 3600))}, time.Minute)
		return aws.ToString(in.MessageBody)
	}() != want {
		t.Errorf("the body is not %s (the samples in events/alerts are)", want)
	}
}

func TestInput_refusesWhatCannotWake(t *testing.T) {
	for name, tc := range map[string]struct {
		url string
		w   outbox.Wakeup
	}{
		"no queue":   {"", outbox.Wakeup{LeadID: "l1", At: at}},
		"no lead id": {queueURL, outbox.Wakeup{At: at}},
		"no time":    {queueURL, outbox.Wakeup{LeadID: "l1"}},
	} {
		if _, err := sqsdelay.Input(tc.url, tc.w, time.Minute); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
