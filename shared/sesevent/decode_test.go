package sesevent_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/sesevent"
)

// The samples in events/engagement all belong to one nurture email.
const (
	messageID = "010701937b2a4f5e-6c1f9f5a-4b6e-4d8e-9b7a-2f3c1e0d5a6b-000000"
	recipient = "ada.lovelace@example.com"
	assetLink = "https://acme.example/library/finops-maturity-checklist?utm_campaign=cloud-cost-track&utm_content=step-1&utm_medium=email&utm_source=nurture"
)

var sentAt = at("2026-12-01T09:00:02.512Z")

// samples are the EventBridge events, one per event type we handle.
var samples = []string{
	"send.json", "delivery.json", "open.json", "click.json",
	"bounce-permanent.json", "bounce-transient.json", "complaint.json",
	"reject.json", "delivery-delay.json", "rendering-failure.json",
}

// feedbackSamples are the other samples of events we apply: identity
// feedback notifications through SNS, and event publishing's rarer cases.
var feedbackSamples = []string{
	"sns-notification-bounce-suppressed.json", "sns-notification-bounce-nosuchuser.json",
	"sns-notification-complaint.json", "sns-notification-delivery.json",
	"bounce-undetermined.json", "complaint-not-spam.json", "subscription.json",
}

// setupSamples are what SNS and SES send once when a topic is wired up.
var setupSamples = []string{"sns-topic-validated.json", "sns-subscription-succeeded.json"}

// allSamples are every file in events/engagement, for the fuzzer.
var allSamples = slices.Concat(samples, feedbackSamples, setupSamples, []string{"sns-click.json", "eventbridge-unknown.json"})

func sample(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "engagement", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

// decodeOne decodes raw and insists on exactly one record.
func decodeOne(t *testing.T, raw []byte) sesevent.Record {
	t.Helper()
	recs, err := sesevent.Decode(raw)
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if len(recs) != 1 {
		t.Fatalf("Decode returned %d records, want 1", len(recs))
	}
	return recs[0]
}

// edit decodes a JSON object, lets change modify it, and encodes it again.
func edit(t testing.TB, raw []byte, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// detail is the record inside an EventBridge sample.
func detail(t testing.TB, name string) []byte {
	t.Helper()
	var env struct{ Detail json.RawMessage }
	if err := json.Unmarshal(sample(t, name), &env); err != nil {
		t.Fatal(err)
	}
	return env.Detail
}

// snsNotification wraps a message as SNS delivers it to an HTTP endpoint.
func snsNotification(t testing.TB, message []byte) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"Type":             "Notification",
		"MessageId":        "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
		"TopicArn":         "arn:aws:sns:eu-central-1:123456789012:nurture-prod-ses-events",
		"Message":          string(message),
		"Timestamp":        "2026-12-01T09:06:03.214Z",
		"SignatureVersion": "1",
		"Signature":        "EXAMPLE",
		"SigningCertURL":   "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-example.pem",
		"UnsubscribeURL":   "https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lambdaSNSEvent wraps messages as the Lambda SNS event does.
func lambdaSNSEvent(t testing.TB, messages ...[]byte) []byte {
	t.Helper()
	var records []any
	for _, m := range messages {
		records = append(records, map[string]any{
			"EventSource":          "aws:sns",
			"EventVersion":         "1.0",
			"EventSubscriptionArn": "arn:aws:sns:eu-central-1:123456789012:nurture-prod-ses-events:5c0e9a27",
			"Sns": map[string]any{
				"Type":              "Notification",
				"MessageId":         "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
				"TopicArn":          "arn:aws:sns:eu-central-1:123456789012:nurture-prod-ses-events",
				"Subject":           nil,
				"Message":           string(m),
				"Timestamp":         "2026-12-01T09:06:03.214Z",
				"MessageAttributes": map[string]any{},
			},
		})
	}
	b, err := json.Marshal(map[string]any{"Records": records})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sampleCase is what a sample must decode to.
type sampleCase struct {
	file      string
	eventType string
	time      time.Time
	check     func(t *testing.T, r sesevent.Record)
}

func TestEverySampleDecodesToItsEventWithTagsAndOwnTimestamp(t *testing.T) {
	tests := []sampleCase{
		{"send.json", sesevent.EventSend, sentAt, func(t *testing.T, r sesevent.Record) {
			if r.Send == nil {
				t.Error("Send is nil")
			}
		}},
		{"delivery.json", sesevent.EventDelivery, at("2026-12-01T09:00:05.512Z"), func(t *testing.T, r sesevent.Record) {
			if r.Delivery.ProcessingTimeMillis != 3000 || !reflect.DeepEqual(r.Delivery.Recipients, []string{recipient}) || r.Delivery.SMTPResponse == "" {
				t.Errorf("delivery = %+v", r.Delivery)
			}
		}},
		{"open.json", sesevent.EventOpen, at("2026-12-01T09:02:02.512Z"), func(t *testing.T, r sesevent.Record) {
			if r.Open.IPAddress != "198.51.100.23" || !strings.Contains(r.Open.UserAgent, "Outlook") {
				t.Errorf("open = %+v", r.Open)
			}
		}},
		{"click.json", sesevent.EventClick, at("2026-12-01T09:06:02.512Z"), func(t *testing.T, r sesevent.Record) {
			if r.Click.Link != assetLink {
				t.Errorf("link = %q", r.Click.Link)
			}
			if r.LinkTag("link") != "asset" || r.LinkTag("asset") != "finops-maturity-checklist" || r.LinkTag("missing") != "" {
				t.Errorf("link tags = %v", r.Click.LinkTags)
			}
			if !strings.Contains(r.Click.UserAgent, "Chrome/") || strings.Contains(r.Click.UserAgent, "Mobile") {
				t.Errorf("user agent %q is not desktop Chrome", r.Click.UserAgent)
			}
		}},
		{"bounce-permanent.json", sesevent.EventBounce, at("2026-12-01T09:00:03.870Z"), func(t *testing.T, r sesevent.Record) {
			b := r.Bounce
			if b.BounceType != sesevent.BouncePermanent || b.BounceSubType != "General" || b.FeedbackID == "" {
				t.Errorf("bounce = %+v", b)
			}
			want := []sesevent.BouncedRecipient{{EmailAddress: recipient, Action: "failed", Status: "5.1.1", DiagnosticCode: "smtp; 550 5.1.1 user unknown"}}
			if !reflect.DeepEqual(b.BouncedRecipients, want) {
				t.Errorf("bounced recipients = %+v", b.BouncedRecipients)
			}
		}},
		{"bounce-transient.json", sesevent.EventBounce, at("2026-12-01T23:00:04.219Z"), func(t *testing.T, r sesevent.Record) {
			if r.Bounce.BounceType != sesevent.BounceTransient || len(r.Bounce.BouncedRecipients) != 1 {
				t.Errorf("bounce = %+v", r.Bounce)
			}
		}},
		{"complaint.json", sesevent.EventComplaint, at("2026-12-01T10:17:45Z"), func(t *testing.T, r sesevent.Record) {
			c := r.Complaint
			if c.ComplaintFeedbackType != "abuse" || c.ComplaintSubType != "" || c.FeedbackID == "" ||
				!c.ArrivalDate.Equal(at("2026-12-01T10:17:44Z")) ||
				!reflect.DeepEqual(c.ComplainedRecipients, []sesevent.Recipient{{EmailAddress: recipient}}) {
				t.Errorf("complaint = %+v", c)
			}
		}},
		{"reject.json", sesevent.EventReject, sentAt, func(t *testing.T, r sesevent.Record) {
			if r.Reject.Reason != "Bad content" {
				t.Errorf("reject = %+v", r.Reject)
			}
		}},
		{"delivery-delay.json", sesevent.EventDeliveryDelay, at("2026-12-01T09:10:02.698Z"), func(t *testing.T, r sesevent.Record) {
			d := r.DeliveryDelay
			if d.DelayType != "TransientCommunicationFailure" || !d.ExpirationTime.Equal(at("2026-12-01T23:00:02.512Z")) ||
				len(d.DelayedRecipients) != 1 || d.DelayedRecipients[0].Status != "4.4.1" {
				t.Errorf("delivery delay = %+v", d)
			}
		}},
		{"rendering-failure.json", sesevent.EventRenderingFailure, sentAt, func(t *testing.T, r sesevent.Record) {
			if r.Failure.TemplateName == "" || r.Failure.ErrorMessage == "" {
				t.Errorf("failure = %+v", r.Failure)
			}
		}},
	}
	if len(tests) != len(samples) {
		t.Fatalf("%d cases for %d samples", len(tests), len(samples))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := decodeOne(t, sample(t, tt.file))
			if r.EventType != tt.eventType {
				t.Errorf("EventType = %q, want %q", r.EventType, tt.eventType)
			}
			if n := eventObjects(r); n != 1 {
				t.Errorf("%d event objects set, want exactly the %s one", n, tt.eventType)
			}
			if r.Mail.MessageID != messageID {
				t.Errorf("MessageID = %q", r.Mail.MessageID)
			}
			if !r.Mail.Timestamp.Equal(sentAt) {
				t.Errorf("mail timestamp = %v, want %v", r.Mail.Timestamp, sentAt)
			}
			if !reflect.DeepEqual(r.Mail.Destination, []string{recipient}) {
				t.Errorf("destination = %v", r.Mail.Destination)
			}
			for name, want := range map[string]string{
				"lead":                  "f3u2l7x5k4c2m8n9p6q1r0sa",
				"track":                 "cloud-cost-track",
				"step":                  "0",
				"asset":                 "finops-maturity-checklist",
				"kind":                  "nurture",
				"ses:configuration-set": "nurture-prod",
				"ses:from-domain":       "acme.example",
				"not-a-tag":             "",
			} {
				if got := r.Tag(name); got != want {
					t.Errorf("Tag(%q) = %q, want %q", name, got, want)
				}
			}
			if got := r.Time(); !got.Equal(tt.time) {
				t.Errorf("Time() = %v, want %v", got, tt.time)
			}
			tt.check(t, r)
		})
	}
}

// eventObjects counts the event objects that are set.
func eventObjects(r sesevent.Record) int {
	n := 0
	for _, set := range []bool{r.Send != nil, r.Delivery != nil, r.Open != nil, r.Click != nil, r.Bounce != nil,
		r.Complaint != nil, r.Reject != nil, r.DeliveryDelay != nil, r.Failure != nil, r.Subscription != nil} {
		if set {
			n++
		}
	}
	return n
}

func TestSNSWrappersDecodeToTheSameRecordAsEventBridge(t *testing.T) {
	fromEventBridge := decodeOne(t, sample(t, "click.json"))
	tests := []struct {
		name string
		raw  []byte
	}{
		{"sample Lambda SNS event", sample(t, "sns-click.json")},
		{"SNS notification to an HTTP endpoint", snsNotification(t, detail(t, "click.json"))},
		{"Lambda SNS event built from the detail", lambdaSNSEvent(t, detail(t, "click.json"))},
		{"SNS notification carrying the EventBridge event", snsNotification(t, sample(t, "click.json"))},
		{"bare record", detail(t, "click.json")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decodeOne(t, tt.raw)
			if !reflect.DeepEqual(got, fromEventBridge) {
				t.Errorf("got %+v\nwant %+v", got, fromEventBridge)
			}
			if got.Key() != fromEventBridge.Key() {
				t.Error("same event, different keys")
			}
		})
	}
}

func TestLambdaSNSEventWithSeveralRecordsKeepsTheirOrder(t *testing.T) {
	raw := lambdaSNSEvent(t, detail(t, "delivery.json"), detail(t, "open.json"), detail(t, "click.json"))
	recs, err := sesevent.Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.EventType)
	}
	if want := []string{sesevent.EventDelivery, sesevent.EventOpen, sesevent.EventClick}; !reflect.DeepEqual(got, want) {
		t.Errorf("event types = %v, want %v", got, want)
	}
}

func TestEventTypeComesFromDetailTypeWhenDetailLacksIt(t *testing.T) {
	for _, name := range samples {
		t.Run(name, func(t *testing.T) {
			want := decodeOne(t, sample(t, name))
			raw := edit(t, sample(t, name), func(m map[string]any) {
				delete(m["detail"].(map[string]any), "eventType")
			})
			if got := decodeOne(t, raw); !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
			if dt := sesevent.DetailType(want.EventType); dt == "" {
				t.Errorf("DetailType(%q) is empty", want.EventType)
			}
		})
	}
}

func TestKeyIsShortHexAndDiffersBetweenEvents(t *testing.T) {
	hex := regexp.MustCompile(`^[0-9a-f]{16}$`)
	seen := map[string]string{}
	for _, name := range samples {
		k := decodeOne(t, sample(t, name)).Key()
		if !hex.MatchString(k) {
			t.Errorf("%s: Key() = %q, want 16 hex characters", name, k)
		}
		if other, dup := seen[k]; dup {
			t.Errorf("%s and %s have the same key", name, other)
		}
		seen[k] = name
	}
}

func TestKey(t *testing.T) {
	click := sample(t, "click.json")
	setClick := func(field string, v any) []byte {
		return edit(t, click, func(m map[string]any) {
			m["detail"].(map[string]any)["click"].(map[string]any)[field] = v
		})
	}
	bounce := sample(t, "bounce-permanent.json")
	reencoded := func(name string) []byte {
		b, err := json.Marshal(decodeOne(t, sample(t, name)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name  string
		a, b  []byte
		equal bool
	}{
		{"same click re-marshalled", click, reencoded("click.json"), true},
		{"same bounce re-marshalled", bounce, reencoded("bounce-permanent.json"), true},
		{"same send re-marshalled", sample(t, "send.json"), reencoded("send.json"), true},
		{"same click delivered again by EventBridge with another id and time", click, edit(t, click, func(m map[string]any) {
			m["id"] = "0d6f4c2a-8b1e-4f37-9a5c-3e7b1d9f2a68"
			m["time"] = "2026-12-01T09:07:41Z"
		}), true},
		{"same click with the timestamp in another time zone", click, setClick("timestamp", "2026-12-01T10:06:02.512+01:00"), true},
		{"same click from another IP and browser", click, setClick("userAgent", "curl/8.0"), true},
		{"clicks on different links", click, setClick("link", "https://acme.example/pricing"), false},
		{"clicks on the same link a millisecond apart", click, setClick("timestamp", "2026-12-01T09:06:02.513Z"), false},
		{"click and open", click, sample(t, "open.json"), false},
		{"send and reject (both at send time)", sample(t, "send.json"), sample(t, "reject.json"), false},
		{"bounces with different feedback ids", bounce, edit(t, bounce, func(m map[string]any) {
			m["detail"].(map[string]any)["bounce"].(map[string]any)["feedbackId"] = "010701937b2a5c31-ffffffff-7b6c-4a93-8d05-6f1e3c9a2b47-000000"
		}), false},
		{"same click on another message", click, edit(t, click, func(m map[string]any) {
			m["detail"].(map[string]any)["mail"].(map[string]any)["messageId"] = "010701937b2a4f5e-00000000-4b6e-4d8e-9b7a-2f3c1e0d5a6b-000000"
		}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := decodeOne(t, tt.a).Key(), decodeOne(t, tt.b).Key()
			if (ka == kb) != tt.equal {
				t.Errorf("keys %s and %s: equal = %v, want %v", ka, kb, ka == kb, tt.equal)
			}
		})
	}
}

func TestHelpersOnRecordsWithoutTheirData(t *testing.T) {
	open := decodeOne(t, sample(t, "open.json"))
	if got := open.LinkTag("asset"); got != "" {
		t.Errorf("LinkTag on an open = %q, want empty", got)
	}
	var zero sesevent.Record
	if zero.Tag("lead") != "" || zero.LinkTag("asset") != "" || !zero.Time().IsZero() {
		t.Error("zero record: helpers should return zero values")
	}
	noOwnTime := decodeOne(t, edit(t, sample(t, "open.json"), func(m map[string]any) {
		delete(m["detail"].(map[string]any)["open"].(map[string]any), "timestamp")
	}))
	if !noOwnTime.Time().Equal(sentAt) {
		t.Errorf("open without a timestamp: Time() = %v, want the mail's %v", noOwnTime.Time(), sentAt)
	}
	emptyTag := decodeOne(t, edit(t, sample(t, "send.json"), func(m map[string]any) {
		m["detail"].(map[string]any)["mail"].(map[string]any)["tags"].(map[string]any)["lead"] = []any{}
	}))
	if got := emptyTag.Tag("lead"); got != "" {
		t.Errorf("Tag of an empty list = %q", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	click := sample(t, "click.json")
	clickDetail := func(change func(d map[string]any)) []byte {
		return edit(t, click, func(m map[string]any) { change(m["detail"].(map[string]any)) })
	}
	bigHeader := func(n int) []byte {
		return clickDetail(func(d map[string]any) {
			d["mail"].(map[string]any)["headers"] = []any{map[string]any{"name": "X-Padding", "value": strings.Repeat("a", n)}}
		})
	}
	tests := []struct {
		name string
		raw  []byte
		want error
	}{
		// Not JSON, or the wrong JSON types where the shape is clear.
		{"empty input", []byte(""), sesevent.ErrMalformed},
		{"truncated JSON", click[:len(click)/2], sesevent.ErrMalformed},
		{"not JSON", []byte("Email Clicked"), sesevent.ErrMalformed},
		{"trailing garbage", append(append([]byte{}, click...), '}'), sesevent.ErrMalformed},
		{"detail is a string", []byte(`{"version":"0","detail-type":"Email Clicked","source":"aws.ses","detail":"{}"}`), sesevent.ErrMalformed},
		{"messageId is a number", clickDetail(func(d map[string]any) { d["mail"].(map[string]any)["messageId"] = 42 }), sesevent.ErrMalformed},
		{"tags are not lists", clickDetail(func(d map[string]any) { d["mail"].(map[string]any)["tags"] = map[string]any{"lead": "x"} }), sesevent.ErrMalformed},
		{"timestamp is not RFC 3339 (and is not quoted back)", clickDetail(func(d map[string]any) { d["click"].(map[string]any)["timestamp"] = recipient }), sesevent.ErrMalformed},
		{"click is a list", clickDetail(func(d map[string]any) { d["click"] = []any{} }), sesevent.ErrMalformed},
		{"eventType contradicts detail-type", clickDetail(func(d map[string]any) { d["eventType"] = "Open" }), sesevent.ErrMalformed},
		{"source is a number", edit(t, click, func(m map[string]any) { m["source"] = 7 }), sesevent.ErrMalformed},
		{"Records is an object", []byte(`{"Records":{}}`), sesevent.ErrMalformed},
		{"Records holds a string", []byte(`{"Records":["x"]}`), sesevent.ErrMalformed},
		{"Sns is a string", []byte(`{"Records":[{"EventSource":"aws:sns","Sns":"x"}]}`), sesevent.ErrMalformed},
		{"SNS Message is not a string", []byte(`{"Type":"Notification","Message":{"eventType":"Click"}}`), sesevent.ErrMalformed},
		{"SNS Message is not JSON", snsNotification(t, []byte("hello from the console")), sesevent.ErrMalformed},
		{"record over 256 KiB", bigHeader(300 << 10), sesevent.ErrTooLarge},
		{"input over 1 MiB", bigHeader(1 << 20), sesevent.ErrTooLarge},
		{"one bad record in a Lambda event", lambdaSNSEvent(t, detail(t, "open.json"), []byte("{")), sesevent.ErrMalformed},

		// Valid JSON, but not an SES sending event we handle.
		{"empty object", []byte(`{}`), sesevent.ErrUnknownShape},
		{"null", []byte(`null`), sesevent.ErrUnknownShape},
		{"array", []byte(`[]`), sesevent.ErrUnknownShape},
		{"string", []byte(`"Email Clicked"`), sesevent.ErrUnknownShape},
		{"EventBridge event from another service", []byte(`{"version":"0","id":"6a7e8feb-b491-4cf7-a9f1-bf3703467718","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2026-12-01T09:00:00Z","region":"eu-central-1","resources":["arn:aws:ec2:eu-central-1:123456789012:instance/i-1234567890abcdef0"],"detail":{"instance-id":"i-1234567890abcdef0","state":"running"}}`), sesevent.ErrUnknownShape},
		{"SES-shaped detail from another source", edit(t, click, func(m map[string]any) { m["source"] = "acme.nurture" }), sesevent.ErrUnknownShape},
		{"SES detail-type we do not handle", sample(t, "eventbridge-unknown.json"), sesevent.ErrUnknownShape},
		{"EventBridge event without detail", edit(t, click, func(m map[string]any) { delete(m, "detail") }), sesevent.ErrUnknownShape},
		{"record without messageId", clickDetail(func(d map[string]any) { delete(d["mail"].(map[string]any), "messageId") }), sesevent.ErrUnknownShape},
		{"record with a blank messageId", clickDetail(func(d map[string]any) { d["mail"].(map[string]any)["messageId"] = "  " }), sesevent.ErrUnknownShape},
		{"bare record without eventType", edit(t, detail(t, "click.json"), func(m map[string]any) { delete(m, "eventType") }), sesevent.ErrUnknownShape},
		{"notificationType other than bounce, complaint or delivery", edit(t, detail(t, "bounce-permanent.json"), func(m map[string]any) {
			m["notificationType"] = "Received"
			delete(m, "eventType")
		}), sesevent.ErrUnknownShape},
		{"notificationType contradicts eventType", edit(t, detail(t, "bounce-permanent.json"), func(m map[string]any) {
			m["notificationType"] = "Delivery"
		}), sesevent.ErrMalformed},
		{"unknown eventType", edit(t, detail(t, "click.json"), func(m map[string]any) { m["eventType"] = "Forward" }), sesevent.ErrUnknownShape},
		{"Click without its click object", clickDetail(func(d map[string]any) { delete(d, "click") }), sesevent.ErrUnknownShape},
		{"SNS subscription confirmation", []byte(`{"Type":"SubscriptionConfirmation","MessageId":"165545c9-2a5c-472c-8df2-7ff2be2b3b1b","Token":"2336412f37","TopicArn":"arn:aws:sns:eu-central-1:123456789012:nurture-prod-ses-events","Message":"You have chosen to subscribe to the topic.","SubscribeURL":"https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription","Timestamp":"2026-12-01T09:00:00.000Z"}`), sesevent.ErrUnknownShape},
		{"SNS notification of something else", snsNotification(t, []byte(`{"alarm":"high bounce rate"}`)), sesevent.ErrUnknownShape},
		{"SQS event", []byte(`{"Records":[{"messageId":"059f36b4-87a3-44ab-83d2-661975830a7d","eventSource":"aws:sqs","body":"{}"}]}`), sesevent.ErrUnknownShape},
		{"Lambda event without records", []byte(`{"Records":[]}`), sesevent.ErrUnknownShape},
		{"SNS inside SNS", snsNotification(t, snsNotification(t, detail(t, "click.json"))), sesevent.ErrUnknownShape},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs, err := sesevent.Decode(tt.raw)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Decode() error = %v, want %v", err, tt.want)
			}
			if recs != nil {
				t.Errorf("records returned with the error: %+v", recs)
			}
			if errors.Is(err, sesevent.ErrMalformed) == errors.Is(err, sesevent.ErrUnknownShape) {
				t.Errorf("error %v should be exactly one of ErrMalformed and ErrUnknownShape", err)
			}
			if errors.Is(err, sesevent.ErrTooLarge) && !errors.Is(err, sesevent.ErrMalformed) {
				t.Errorf("ErrTooLarge without ErrMalformed: %v", err)
			}
			if strings.Contains(err.Error(), recipient) {
				t.Errorf("error quotes the recipient: %v", err)
			}
		})
	}
}

// Identity feedback notifications (notificationType, SES's bounce,
// complaint and delivery notifications to an SNS topic) decode to the
// records event publishing sends, without tags.
func TestIdentityNotificationsDecodeLikeEventPublishing(t *testing.T) {
	tests := []sampleCase{
		{"sns-notification-bounce-suppressed.json", sesevent.EventBounce, at("2026-12-01T09:00:03.302Z"), func(t *testing.T, r sesevent.Record) {
			if r.Bounce.BounceType != sesevent.BouncePermanent || r.Bounce.BounceSubType != "Suppressed" {
				t.Errorf("bounce = %+v", r.Bounce)
			}
		}},
		{"sns-notification-bounce-nosuchuser.json", sesevent.EventBounce, at("2026-12-01T09:00:04.741Z"), func(t *testing.T, r sesevent.Record) {
			if r.Bounce.BounceType != sesevent.BouncePermanent || !strings.Contains(r.Bounce.BouncedRecipients[0].DiagnosticCode, "NoSuchUser") {
				t.Errorf("bounce = %+v", r.Bounce)
			}
		}},
		{"sns-notification-complaint.json", sesevent.EventComplaint, at("2026-12-01T10:17:45Z"), func(t *testing.T, r sesevent.Record) {
			if r.Complaint.ComplaintFeedbackType != "abuse" {
				t.Errorf("complaint = %+v", r.Complaint)
			}
			// The same complaint as event publishing's sample: both routes
			// wired at once still apply it once.
			if r.Key() != decodeOne(t, sample(t, "complaint.json")).Key() {
				t.Error("the complaint has another key than through event publishing")
			}
		}},
		{"sns-notification-delivery.json", sesevent.EventDelivery, at("2026-12-01T09:00:05.512Z"), func(t *testing.T, r sesevent.Record) {
			if !reflect.DeepEqual(r.Delivery.Recipients, []string{recipient}) {
				t.Errorf("delivery = %+v", r.Delivery)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			r := decodeOne(t, sample(t, tt.file))
			if r.EventType != tt.eventType || eventObjects(r) != 1 || r.Mail.MessageID != messageID || !r.Time().Equal(tt.time) {
				t.Errorf("got %s of %s at %v, want %s at %v", r.EventType, r.Mail.MessageID, r.Time(), tt.eventType, tt.time)
			}
			if len(r.Mail.Tags) != 0 || !reflect.DeepEqual(r.Mail.Destination, []string{recipient}) {
				t.Errorf("tags %v, destination %v: identity notifications carry no tags", r.Mail.Tags, r.Mail.Destination)
			}
			tt.check(t, r)
		})
	}
	// Event publishing's record with notificationType for eventType is the
	// same record.
	want := decodeOne(t, sample(t, "bounce-permanent.json"))
	got := decodeOne(t, snsNotification(t, edit(t, detail(t, "bounce-permanent.json"), func(m map[string]any) {
		m["notificationType"] = m["eventType"]
		delete(m, "eventType")
	})))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestRecipientsAreTheBouncedOrComplainedAddresses(t *testing.T) {
	bounce := decodeOne(t, edit(t, sample(t, "bounce-permanent.json"), func(m map[string]any) {
		b := m["detail"].(map[string]any)["bounce"].(map[string]any)
		b["bouncedRecipients"] = append(b["bouncedRecipients"].([]any), map[string]any{"emailAddress": "grace@example.com"})
	}))
	for _, tt := range []struct {
		r    sesevent.Record
		want []string
	}{
		{bounce, []string{recipient, "grace@example.com"}},
		{decodeOne(t, sample(t, "complaint.json")), []string{recipient}},
		{decodeOne(t, sample(t, "delivery.json")), nil},
	} {
		if got := tt.r.Recipients(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Recipients() = %v, want %v", tt.r.EventType, got, tt.want)
		}
	}
}

func TestRarerEventsDecode(t *testing.T) {
	if b := decodeOne(t, sample(t, "bounce-undetermined.json")).Bounce; b.BounceType != sesevent.BounceUndetermined {
		t.Errorf("bounce = %+v", b)
	}
	if c := decodeOne(t, sample(t, "complaint-not-spam.json")).Complaint; c.ComplaintFeedbackType != sesevent.FeedbackNotSpam {
		t.Errorf("complaint = %+v", c)
	}
	sub := decodeOne(t, sample(t, "subscription.json"))
	if sub.EventType != sesevent.EventSubscription || !sub.Subscription.OptsOut() || !sub.Time().Equal(at("2026-12-01T14:27:18.660Z")) {
		t.Errorf("subscription = %+v", sub.Subscription)
	}
	for name, prefs := range map[string]*sesevent.TopicPreferences{
		"no new preferences":    nil,
		"still in every topic":  {TopicSubscriptionStatus: []sesevent.TopicStatus{{TopicName: "nurture", SubscriptionStatus: "OptIn"}}},
		"subscribed to nothing": {},
	} {
		if (sesevent.Subscription{NewTopicPreferences: prefs}).OptsOut() {
			t.Errorf("%s: OptsOut() = true", name)
		}
	}
	topic := sesevent.Subscription{NewTopicPreferences: &sesevent.TopicPreferences{TopicSubscriptionStatus: []sesevent.TopicStatus{{TopicName: "nurture", SubscriptionStatus: sesevent.OptOut}}}}
	if !topic.OptsOut() {
		t.Error("leaving the topic is opting out")
	}
}

// Setup messages are expected: neither poison nor an event.
func TestSetupMessagesAreErrSetupMessage(t *testing.T) {
	confirmation := func(typ string) []byte {
		return []byte(`{"Type":"` + typ + `","MessageId":"165545c9-2a5c-472c-8df2-7ff2be2b3b1b","Token":"2336412f37","TopicArn":"arn:aws:sns:eu-central-1:123456789012:nurture-prod-ses-events","Message":"You have chosen to subscribe to the topic.","SubscribeURL":"https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription","Timestamp":"2026-12-01T09:00:00.000Z"}`)
	}
	tests := map[string][]byte{
		"SES's topic validation":                 sample(t, "sns-topic-validated.json"),
		"SES's AmazonSnsSubscriptionSucceeded":   sample(t, "sns-subscription-succeeded.json"),
		"SNS subscription confirmation":          confirmation("SubscriptionConfirmation"),
		"SNS unsubscribe confirmation":           confirmation("UnsubscribeConfirmation"),
		"topic validation to an HTTP endpoint":   snsNotification(t, []byte("Successfully validated SNS topic for Amazon SES event publishing.")),
		"two setup messages in one Lambda event": lambdaSNSEvent(t, []byte("Successfully validated SNS topic for Amazon SES event publishing."), []byte(`{"notificationType":"AmazonSnsSubscriptionSucceeded","message":"You have successfully subscribed"}`)),
	}
	for name, raw := range tests {
		recs, err := sesevent.Decode(raw)
		if !errors.Is(err, sesevent.ErrSetupMessage) || !errors.Is(err, sesevent.ErrUnknownShape) || recs != nil {
			t.Errorf("%s: %v, %+v; want ErrSetupMessage (an unknown shape)", name, err, recs)
		}
	}
	// Among events, a setup message is skipped.
	recs, err := sesevent.Decode(lambdaSNSEvent(t, []byte("Successfully validated SNS topic for Amazon SES event publishing."), detail(t, "click.json")))
	if err != nil || len(recs) != 1 || recs[0].EventType != sesevent.EventClick {
		t.Errorf("a setup message and a click: %v, %+v; want the click", err, recs)
	}
	// Other plain-text messages are still malformed.
	if _, err := sesevent.Decode(snsNotification(t, []byte("Successfully delivered"))); !errors.Is(err, sesevent.ErrMalformed) {
		t.Errorf("plain text that is no setup message: %v, want ErrMalformed", err)
	}
}

// FuzzDecode: whatever arrives, Decode answers with records that keep its
// promises or with one of its errors, and never panics.
func FuzzDecode(f *testing.F) {
	for _, name := range allSamples {
		f.Add(sample(f, name))
	}
	for _, name := range samples {
		f.Add(detail(f, name))
	}
	f.Add(snsNotification(f, detail(f, "bounce-permanent.json")))
	f.Add(snsNotification(f, sample(f, "complaint.json")))
	f.Add(lambdaSNSEvent(f, detail(f, "open.json"), detail(f, "delivery-delay.json")))
	for _, s := range []string{"", "{}", "null", "[]", `{"Records":[]}`, `{"Type":"Notification","Message":"{}"}`,
		`{"eventType":"Subscription","mail":{"messageId":"m"},"subscription":{"timestamp":"2026-12-01T09:00:00Z","newTopicPreferences":{"unsubscribeAll":true}}}`} {
		f.Add([]byte(s))
	}
	known := map[string]bool{}
	for _, et := range []string{sesevent.EventSend, sesevent.EventDelivery, sesevent.EventOpen, sesevent.EventClick,
		sesevent.EventBounce, sesevent.EventComplaint, sesevent.EventReject, sesevent.EventDeliveryDelay,
		sesevent.EventRenderingFailure, sesevent.EventSubscription} {
		known[et] = true
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		recs, err := sesevent.Decode(raw)
		if err != nil {
			if !errors.Is(err, sesevent.ErrMalformed) && !errors.Is(err, sesevent.ErrUnknownShape) {
				t.Fatalf("error wraps neither sentinel: %v", err)
			}
			if recs != nil {
				t.Fatal("records returned with an error")
			}
			return
		}
		if len(recs) == 0 {
			t.Fatal("no records and no error")
		}
		for _, r := range recs {
			if strings.TrimSpace(r.Mail.MessageID) == "" || r.EventType == "" {
				t.Fatalf("record without MessageID or EventType: %+v", r)
			}
			if !known[r.EventType] {
				t.Fatalf("unknown EventType %q", r.EventType)
			}
			if eventObjects(r) != 1 {
				t.Fatalf("%s record with %d event objects", r.EventType, eventObjects(r))
			}
			_ = r.Tag("lead")
			_ = r.LinkTag("asset")
			_ = r.Time()
			key := r.Key()
			// The same event, re-encoded, keeps its key.
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if len(b) > sesevent.MaxRecordSize {
				continue
			}
			again, err := sesevent.Decode(b)
			if err != nil {
				t.Fatalf("re-encoded record does not decode: %v\n%s", err, b)
			}
			if len(again) != 1 || again[0].Key() != key {
				t.Fatalf("re-encoded record has another key")
			}
		}
	})
}
