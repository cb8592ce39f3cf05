package sesevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Errors from Decode. They are wrapped with where in the input the problem
// is; test with errors.Is. Messages quote at most envelope names (source,
// detail-type, SNS Type, eventType), never addresses, links or other content
// of the event.
var (
	// ErrMalformed: not JSON, a field of the wrong type, a record that
	// contradicts its envelope, or too large. Retrying will not help.
	ErrMalformed = errors.New("sesevent: malformed event")
	// ErrUnknownShape: valid JSON, but not one of the accepted shapes (an
	// event from another source, an EventBridge detail-type or SNS message
	// type that is not an SES sending event, an SNS subscription
	// confirmation), or a record without messageId, eventType or the object
	// its eventType names. Safe to ignore.
	ErrUnknownShape = errors.New("sesevent: not an SES sending event")
	// ErrTooLarge comes wrapped together with ErrMalformed.
	ErrTooLarge = errors.New("sesevent: too large")
	// ErrSetupMessage comes wrapped together with ErrUnknownShape: a message
	// that setting up delivery sends once (SNS's subscription confirmation,
	// SES's "Successfully validated SNS topic" and
	// AmazonSnsSubscriptionSucceeded). Expected, and nothing to apply.
	ErrSetupMessage = errors.New("sesevent: a setup message, not an event")
)

const (
	// MaxRecordSize is the largest record accepted, as JSON. It is the size
	// limit of an SNS message and of an EventBridge event.
	MaxRecordSize = 256 << 10
	// MaxInputSize is the largest input Decode reads: room for a record with
	// its envelope and JSON-string escaping.
	MaxInputSize = 1 << 20
	// Source is the EventBridge source of SES events.
	Source = "aws.ses"
)

// detailTypes maps the EventBridge detail-type of each SES sending event to
// the record's eventType.
var detailTypes = map[string]string{
	"Email Sent":               EventSend,
	"Email Delivered":          EventDelivery,
	"Email Opened":             EventOpen,
	"Email Clicked":            EventClick,
	"Email Bounced":            EventBounce,
	"Email Complaint Received": EventComplaint,
	"Email Rejected":           EventReject,
	"Email Delivery Delayed":   EventDeliveryDelay,
	"Email Rendering Failed":   EventRenderingFailure,
	"Email Subscribed":         EventSubscription,
}

// notificationTypes maps the notificationType of identity feedback
// notifications (SES's older bounce, complaint and delivery notifications
// to an SNS topic, set on the identity rather than a configuration set) to
// the record's eventType. Their records are otherwise the same as event
// publishing's, without tags.
var notificationTypes = map[string]string{
	"Bounce":    EventBounce,
	"Complaint": EventComplaint,
	"Delivery":  EventDelivery,
}

// Setup messages: what SNS and SES send once when a topic is wired up.
const (
	// subscriptionSucceeded is the notificationType SES publishes to a
	// topic it was given for an identity's feedback notifications.
	subscriptionSucceeded = "AmazonSnsSubscriptionSucceeded"
	// topicValidated starts the plain-text message SES publishes to a topic
	// it was given as an event destination.
	topicValidated = "Successfully validated SNS topic for Amazon SES event publishing"
)

// DetailType is the EventBridge detail-type SES uses for an event type, or ""
// for an unknown one.
func DetailType(eventType string) string {
	for dt, et := range detailTypes {
		if et == eventType {
			return dt
		}
	}
	return ""
}

// Decode reads SES sending event records from any of the shapes they arrive
// in:
//
//   - an EventBridge event: source must be "aws.ses" and detail-type one of
//     the ten "Email ..." types; the record is detail, and a detail without
//     eventType gets it from the detail-type;
//   - an SNS notification ({"Type":"Notification","Message":"<record>"}); the
//     message may also be an EventBridge event (an EventBridge rule with an
//     SNS target);
//   - a Lambda SNS event ({"Records":[{"EventSource":"aws:sns","Sns":{...}}]}),
//     one record per notification, in order;
//   - a bare record ({"eventType":...,"mail":...}).
//
// A record may also be an identity feedback notification, with
// notificationType Bounce, Complaint or Delivery instead of eventType.
// Setup messages (an SNS subscription confirmation, SES's topic validation
// and AmazonSnsSubscriptionSucceeded) are ErrSetupMessage; in a Lambda SNS
// event they are skipped, and only an event of nothing else is one.
//
// Every record returned has a non-empty Mail.MessageID, an EventType that is
// one of the Event* constants, and the matching event object set (other
// event objects are dropped). Send records always have a non-nil Send.
//
// Errors wrap ErrMalformed or ErrUnknownShape; a Lambda event fails as a
// whole if any of its notifications does.
func Decode(raw []byte) ([]Record, error) {
	if len(raw) > MaxInputSize {
		return nil, fmt.Errorf("%w: %w: input is %d bytes, the limit is %d", ErrMalformed, ErrTooLarge, len(raw), MaxInputSize)
	}
	return decode(raw, "input", true)
}

// decode reads one JSON object in any shape; SNS wrappers only at the top.
func decode(raw []byte, where string, allowSNS bool) ([]Record, error) {
	obj, err := object(raw, where)
	if err != nil {
		return nil, err
	}
	switch {
	case allowSNS && has(obj, "Records"):
		return decodeLambda(obj, where)
	case has(obj, "detail-type") || has(obj, "detail"):
		r, err := decodeEventBridge(obj, where)
		if err != nil {
			return nil, err
		}
		return []Record{r}, nil
	case allowSNS && has(obj, "Message") && (has(obj, "Type") || has(obj, "TopicArn")):
		r, err := decodeSNS(obj, where)
		if err != nil {
			return nil, err
		}
		return []Record{r}, nil
	case has(obj, "eventType") || has(obj, "notificationType") || has(obj, "mail"):
		r, err := decodeRecord(raw, where, "")
		if err != nil {
			return nil, err
		}
		return []Record{r}, nil
	}
	return nil, fmt.Errorf("%w: %s is neither an EventBridge event, an SNS notification nor an SES event record", ErrUnknownShape, where)
}

// decodeLambda reads a Lambda SNS event.
func decodeLambda(obj map[string]json.RawMessage, where string) ([]Record, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(obj["Records"], &items); err != nil || items == nil {
		return nil, fmt.Errorf("%w: %s.Records is not a list", ErrMalformed, where)
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("%w: %s.Records is empty", ErrUnknownShape, where)
	}
	out := make([]Record, 0, len(items))
	var setup error
	for i, item := range items {
		at := fmt.Sprintf("%s.Records[%d]", where, i)
		if !isObject(item) {
			return nil, fmt.Errorf("%w: %s is not an object", ErrMalformed, at)
		}
		rec, err := object(item, at)
		if err != nil {
			return nil, err
		}
		src, err := stringField(rec, "EventSource", at)
		if err != nil {
			return nil, err
		}
		if src != "aws:sns" {
			return nil, fmt.Errorf("%w: %s.EventSource is %q, want aws:sns", ErrUnknownShape, at, clip(src))
		}
		if !has(rec, "Sns") || isNull(rec["Sns"]) {
			return nil, fmt.Errorf("%w: %s has no Sns", ErrUnknownShape, at)
		}
		if !isObject(rec["Sns"]) {
			return nil, fmt.Errorf("%w: %s.Sns is not an object", ErrMalformed, at)
		}
		sns, err := object(rec["Sns"], at+".Sns")
		if err != nil {
			return nil, err
		}
		r, err := decodeSNS(sns, at+".Sns")
		if errors.Is(err, ErrSetupMessage) {
			setup = err
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, setup
	}
	return out, nil
}

// decodeSNS reads an SNS notification whose Message is a record or an
// EventBridge event.
func decodeSNS(obj map[string]json.RawMessage, where string) (Record, error) {
	typ, err := stringField(obj, "Type", where)
	if err != nil {
		return Record{}, err
	}
	switch typ {
	case "Notification":
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		return Record{}, fmt.Errorf("%w: %w: %s is an SNS %s", ErrUnknownShape, ErrSetupMessage, where, typ)
	default:
		return Record{}, fmt.Errorf("%w: %s.Type is %q, want Notification", ErrUnknownShape, where, clip(typ))
	}
	if !has(obj, "Message") {
		return Record{}, fmt.Errorf("%w: %s has no Message", ErrUnknownShape, where)
	}
	msg, err := stringField(obj, "Message", where)
	if err != nil {
		return Record{}, err
	}
	if len(msg) > MaxRecordSize {
		return Record{}, fmt.Errorf("%w: %w: %s.Message is %d bytes, the limit is %d", ErrMalformed, ErrTooLarge, where, len(msg), MaxRecordSize)
	}
	if strings.HasPrefix(strings.TrimSpace(msg), topicValidated) {
		return Record{}, fmt.Errorf("%w: %w: %s.Message is SES's topic validation", ErrUnknownShape, ErrSetupMessage, where)
	}
	recs, err := decode([]byte(msg), where+".Message", false)
	if err != nil {
		return Record{}, err
	}
	return recs[0], nil
}

// decodeEventBridge reads an EventBridge event from SES.
func decodeEventBridge(obj map[string]json.RawMessage, where string) (Record, error) {
	src, err := stringField(obj, "source", where)
	if err != nil {
		return Record{}, err
	}
	if src != Source {
		return Record{}, fmt.Errorf("%w: %s.source is %q, want %s", ErrUnknownShape, where, clip(src), Source)
	}
	dt, err := stringField(obj, "detail-type", where)
	if err != nil {
		return Record{}, err
	}
	eventType, ok := detailTypes[dt]
	if !ok {
		return Record{}, fmt.Errorf("%w: %s.detail-type %q is not an SES sending event", ErrUnknownShape, where, clip(dt))
	}
	detail, ok := obj["detail"]
	if !ok || isNull(detail) {
		return Record{}, fmt.Errorf("%w: %s (%s) has no detail", ErrUnknownShape, where, dt)
	}
	if !isObject(detail) {
		return Record{}, fmt.Errorf("%w: %s.detail is not an object", ErrMalformed, where)
	}
	return decodeRecord(detail, where+".detail", eventType)
}

// decodeRecord reads one record; want is the event type its envelope names,
// if any.
func decodeRecord(raw []byte, where, want string) (Record, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > MaxRecordSize {
		return Record{}, fmt.Errorf("%w: %w: %s is %d bytes, the limit is %d", ErrMalformed, ErrTooLarge, where, len(raw), MaxRecordSize)
	}
	var in struct {
		Record
		NotificationType string `json:"notificationType"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return Record{}, malformedJSON(where, err)
	}
	r := in.Record
	if nt := in.NotificationType; nt != "" {
		et, known := notificationTypes[nt]
		switch {
		case nt == subscriptionSucceeded:
			return Record{}, fmt.Errorf("%w: %w: %s is SES's %s", ErrUnknownShape, ErrSetupMessage, where, nt)
		case !known:
			return Record{}, fmt.Errorf("%w: %s.notificationType %q is not a bounce, complaint or delivery", ErrUnknownShape, where, clip(nt))
		case r.EventType == "":
			r.EventType = et
		case r.EventType != et:
			return Record{}, fmt.Errorf("%w: %s.eventType %q contradicts its notificationType %q", ErrMalformed, where, clip(r.EventType), nt)
		}
	}
	switch {
	case r.EventType == "":
		r.EventType = want
	case want != "" && r.EventType != want:
		return Record{}, fmt.Errorf("%w: %s.eventType %q contradicts the detail-type (%s)", ErrMalformed, where, clip(r.EventType), want)
	}
	if r.EventType == "" {
		return Record{}, fmt.Errorf("%w: %s has no eventType", ErrUnknownShape, where)
	}
	if !isBlank(r.Mail.MessageID) {
		return r.normalize(where)
	}
	return Record{}, fmt.Errorf("%w: %s has no mail.messageId", ErrUnknownShape, where)
}

// normalize keeps only the event object that EventType names, and insists
// that it is there.
func (r Record) normalize(where string) (Record, error) {
	out := Record{EventType: r.EventType, Mail: r.Mail}
	var present bool
	switch r.EventType {
	case EventSend:
		out.Send, present = r.Send, true
		if out.Send == nil {
			out.Send = &Send{}
		}
	case EventDelivery:
		out.Delivery, present = r.Delivery, r.Delivery != nil
	case EventOpen:
		out.Open, present = r.Open, r.Open != nil
	case EventClick:
		out.Click, present = r.Click, r.Click != nil
	case EventBounce:
		out.Bounce, present = r.Bounce, r.Bounce != nil
	case EventComplaint:
		out.Complaint, present = r.Complaint, r.Complaint != nil
	case EventReject:
		out.Reject, present = r.Reject, r.Reject != nil
	case EventDeliveryDelay:
		out.DeliveryDelay, present = r.DeliveryDelay, r.DeliveryDelay != nil
	case EventRenderingFailure:
		out.Failure, present = r.Failure, r.Failure != nil
	case EventSubscription:
		out.Subscription, present = r.Subscription, r.Subscription != nil
	default:
		return Record{}, fmt.Errorf("%w: %s.eventType %q is not an SES sending event", ErrUnknownShape, where, clip(r.EventType))
	}
	if !present {
		return Record{}, fmt.Errorf("%w: %s is a %s event without its %s object", ErrUnknownShape, where, r.EventType, objectName(r.EventType))
	}
	return out, nil
}

// objectName is the record field that holds an event type's details.
func objectName(eventType string) string {
	switch eventType {
	case EventRenderingFailure:
		return "failure"
	case EventDeliveryDelay:
		return "deliveryDelay"
	}
	b := []byte(eventType)
	if len(b) > 0 && b[0] >= 'A' && b[0] <= 'Z' {
		b[0] += 'a' - 'A'
	}
	return string(b)
}

// object parses a JSON object with its keys as written (encoding/json would
// match struct fields case-insensitively, which would let an SQS "eventSource"
// pass for an SNS "EventSource"). Valid JSON that is not an object is an
// unknown shape; invalid JSON is malformed.
func object(raw []byte, where string) (map[string]json.RawMessage, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return nil, fmt.Errorf("%w: %s is JSON %s, not an object", ErrUnknownShape, where, typeErr.Value)
		}
		return nil, malformedJSON(where, err)
	}
	if obj == nil {
		return nil, fmt.Errorf("%w: %s is null", ErrUnknownShape, where)
	}
	return obj, nil
}

// malformedJSON reports a JSON error without the content it may quote: a
// bad timestamp's error repeats the value.
func malformedJSON(where string, err error) error {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	var timeErr *time.ParseError
	switch {
	case errors.As(err, &syntaxErr), errors.As(err, &typeErr):
		return fmt.Errorf("%w: %s: %w", ErrMalformed, where, err)
	case errors.As(err, &timeErr):
		return fmt.Errorf("%w: %s: a timestamp is not RFC 3339", ErrMalformed, where)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %s: unexpected end of JSON input", ErrMalformed, where)
	}
	return fmt.Errorf("%w: %s: invalid JSON", ErrMalformed, where)
}

// stringField reads obj[key] as a string; absent or null gives "".
func stringField(obj map[string]json.RawMessage, key, where string) (string, error) {
	v, ok := obj[key]
	if !ok || isNull(v) {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("%w: %s.%s is not a string", ErrMalformed, where, key)
	}
	return s, nil
}

func has(obj map[string]json.RawMessage, key string) bool {
	_, ok := obj[key]
	return ok
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

func isObject(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '{'
}

func isBlank(s string) bool { return len(bytes.TrimSpace([]byte(s))) == 0 }

// clip keeps values quoted in errors short.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}
