// Package sesevent reads the email sending events that SES v2 publishes
// through a configuration set: Send, Delivery, Open, Click, Bounce,
// Complaint, Reject, DeliveryDelay, Rendering Failure and Subscription.
//
// aws-lambda-go has no type for these records (its SES types are for
// receiving mail), so they are defined here after the SES Developer Guide
// pages "Contents of event data that Amazon SES publishes to Amazon SNS"
// (event-publishing-retrieving-sns-contents) and its examples page. The same
// record arrives in three wrappers, all accepted by Decode:
//
//   - an EventBridge event (source "aws.ses", detail-type "Email Clicked"
//     and so on) whose detail is the record;
//   - an SNS notification whose Message is the record as a JSON string;
//   - the Lambda SNS event that wraps such notifications in Records.
//
// Through SNS it may also be one of the bounce, complaint and delivery
// notifications SES sends for an identity ("Amazon SNS notification
// contents for Amazon SES"): the same record with notificationType for
// eventType, and no tags.
package sesevent

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// Event types: the values of the record's eventType field.
const (
	EventSend             = "Send"
	EventDelivery         = "Delivery"
	EventOpen             = "Open"
	EventClick            = "Click"
	EventBounce           = "Bounce"
	EventComplaint        = "Complaint"
	EventReject           = "Reject"
	EventDeliveryDelay    = "DeliveryDelay"
	EventRenderingFailure = "Rendering Failure"
	EventSubscription     = "Subscription"
)

// Bounce types (Bounce.BounceType). Permanent bounces mean the address will
// not work again; Transient ones are reported once SES has stopped retrying.
const (
	BouncePermanent    = "Permanent"
	BounceTransient    = "Transient"
	BounceUndetermined = "Undetermined"
)

// Record is one email sending event. EventType says which of the event
// objects is set; Decode guarantees that one is non-nil and that
// Mail.MessageID and EventType are not empty.
type Record struct {
	EventType     string         `json:"eventType"`
	Mail          Mail           `json:"mail"`
	Send          *Send          `json:"send,omitempty"`
	Delivery      *Delivery      `json:"delivery,omitempty"`
	Open          *Open          `json:"open,omitempty"`
	Click         *Click         `json:"click,omitempty"`
	Bounce        *Bounce        `json:"bounce,omitempty"`
	Complaint     *Complaint     `json:"complaint,omitempty"`
	Reject        *Reject        `json:"reject,omitempty"`
	DeliveryDelay *DeliveryDelay `json:"deliveryDelay,omitempty"`
	Failure       *Failure       `json:"failure,omitempty"`
	Subscription  *Subscription  `json:"subscription,omitempty"`
}

// Mail describes the message that produced the event.
type Mail struct {
	// Timestamp is when the message was sent.
	Timestamp time.Time `json:"timestamp,omitzero"`
	// Source is the envelope MAIL FROM address, possibly with a display name.
	Source string `json:"source,omitempty"`
	// SourceARN is the identity used to send.
	SourceARN        string `json:"sourceArn,omitempty"`
	SendingAccountID string `json:"sendingAccountId,omitempty"`
	// MessageID is the id SES assigned (and returned from SendEmail).
	MessageID   string   `json:"messageId"`
	Destination []string `json:"destination,omitempty"`
	// HeadersTruncated is true when the headers exceeded 10 KB.
	HeadersTruncated bool           `json:"headersTruncated"`
	Headers          []Header       `json:"headers,omitempty"`
	CommonHeaders    *CommonHeaders `json:"commonHeaders,omitempty"`
	// Tags are the message tags as SES publishes them: every value is a
	// one-element list. SES adds its own ses:* tags (ses:configuration-set,
	// ses:source-ip, ses:from-domain, ses:caller-identity, ...).
	Tags map[string][]string `json:"tags,omitempty"`
}

// Header is one of the message's original headers.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// CommonHeaders are the commonly used headers, parsed. MessageID here is the
// Message-ID header, not necessarily the id SES assigned.
type CommonHeaders struct {
	From       []string `json:"from,omitempty"`
	ReplyTo    []string `json:"replyTo,omitempty"`
	To         []string `json:"to,omitempty"`
	Cc         []string `json:"cc,omitempty"`
	Bcc        []string `json:"bcc,omitempty"`
	Sender     []string `json:"sender,omitempty"`
	ReturnPath string   `json:"returnPath,omitempty"`
	MessageID  string   `json:"messageId,omitempty"`
	Date       string   `json:"date,omitempty"`
	Subject    string   `json:"subject,omitempty"`
}

// Send is always empty: SES accepted the message and will try to deliver it.
type Send struct{}

// Delivery says SES handed the message to the recipient's mail server.
type Delivery struct {
	Timestamp time.Time `json:"timestamp,omitzero"`
	// ProcessingTimeMillis is from SES accepting the request to handing the
	// message over.
	ProcessingTimeMillis int64    `json:"processingTimeMillis,omitempty"`
	Recipients           []string `json:"recipients,omitempty"`
	SMTPResponse         string   `json:"smtpResponse,omitempty"`
	// ReportingMTA is the SES mail server that sent the message.
	ReportingMTA string `json:"reportingMTA,omitempty"`
}

// Open is a load of the open-tracking pixel.
type Open struct {
	IPAddress string    `json:"ipAddress,omitempty"`
	Timestamp time.Time `json:"timestamp,omitzero"`
	UserAgent string    `json:"userAgent,omitempty"`
}

// Click is a click on a tracked link.
type Click struct {
	IPAddress string    `json:"ipAddress,omitempty"`
	Timestamp time.Time `json:"timestamp,omitzero"`
	UserAgent string    `json:"userAgent,omitempty"`
	// Link is the URL the recipient clicked (the original, not the
	// tracking redirect).
	Link string `json:"link,omitempty"`
	// LinkTags are the link's ses:tags, each value a list like Mail.Tags.
	LinkTags map[string][]string `json:"linkTags,omitempty"`
}

// Bounce is a hard bounce, or a soft bounce SES has stopped retrying.
type Bounce struct {
	// BounceType is BouncePermanent, BounceTransient or BounceUndetermined.
	BounceType string `json:"bounceType,omitempty"`
	// BounceSubType is e.g. General, NoEmail, Suppressed,
	// OnAccountSuppressionList, MailboxFull, MessageTooLarge,
	// ContentRejected, AttachmentRejected or Undetermined.
	BounceSubType     string             `json:"bounceSubType,omitempty"`
	BouncedRecipients []BouncedRecipient `json:"bouncedRecipients,omitempty"`
	// Timestamp is when the ISP sent the bounce notification.
	Timestamp  time.Time `json:"timestamp,omitzero"`
	FeedbackID string    `json:"feedbackId,omitempty"`
	// ReportingMTA is the DSN's Reporting-MTA, when a DSN was attached.
	ReportingMTA string `json:"reportingMTA,omitempty"`
}

// BouncedRecipient is one address that bounced. Action, Status and
// DiagnosticCode come from the DSN and may be empty.
type BouncedRecipient struct {
	EmailAddress   string `json:"emailAddress"`
	Action         string `json:"action,omitempty"`
	Status         string `json:"status,omitempty"`
	DiagnosticCode string `json:"diagnosticCode,omitempty"`
}

// Complaint is a recipient marking the message as spam (or similar
// feedback from the ISP).
type Complaint struct {
	// ComplainedRecipients lists everyone the message was sent to on the
	// complaining domain: most ISPs redact who actually complained.
	ComplainedRecipients []Recipient `json:"complainedRecipients,omitempty"`
	Timestamp            time.Time   `json:"timestamp,omitzero"`
	FeedbackID           string      `json:"feedbackId,omitempty"`
	// ComplaintSubType is empty or OnAccountSuppressionList.
	ComplaintSubType string `json:"complaintSubType,omitempty"`
	// The rest come from the feedback report, when one was attached.
	UserAgent             string    `json:"userAgent,omitempty"`
	ComplaintFeedbackType string    `json:"complaintFeedbackType,omitempty"`
	ArrivalDate           time.Time `json:"arrivalDate,omitzero"`
}

// Recipient is an address in a complaint.
type Recipient struct {
	EmailAddress string `json:"emailAddress"`
}

// Reject means SES refused to send the message; Reason is "Bad content".
type Reject struct {
	Reason string `json:"reason,omitempty"`
}

// DeliveryDelay says delivery is delayed by a temporary problem.
type DeliveryDelay struct {
	// DelayType is e.g. InternalFailure, General, MailboxFull, SpamDetected,
	// RecipientServerError, IPFailure, TransientCommunicationFailure,
	// BYOIPHostNameLookupUnavailable, Undetermined or SendingDeferral.
	DelayType         string             `json:"delayType,omitempty"`
	DelayedRecipients []DelayedRecipient `json:"delayedRecipients,omitempty"`
	// ExpirationTime is when SES stops trying.
	ExpirationTime time.Time `json:"expirationTime,omitzero"`
	ReportingMTA   string    `json:"reportingMTA,omitempty"`
	Timestamp      time.Time `json:"timestamp,omitzero"`
}

// DelayedRecipient is one address whose delivery is delayed.
type DelayedRecipient struct {
	EmailAddress   string `json:"emailAddress"`
	Status         string `json:"status,omitempty"`
	DiagnosticCode string `json:"diagnosticCode,omitempty"`
}

// Failure is a template rendering failure: the message was not sent.
type Failure struct {
	ErrorMessage string `json:"errorMessage,omitempty"`
	TemplateName string `json:"templateName,omitempty"`
}

// Subscription is a change of the recipient's preferences in an SES contact
// list (e.g. through the List-Unsubscribe header SES manages).
type Subscription struct {
	ContactList         string            `json:"contactList,omitempty"`
	Timestamp           time.Time         `json:"timestamp,omitzero"`
	Source              string            `json:"source,omitempty"`
	NewTopicPreferences *TopicPreferences `json:"newTopicPreferences,omitempty"`
	OldTopicPreferences *TopicPreferences `json:"oldTopicPreferences,omitempty"`
}

// TopicPreferences are a contact's preferences in a contact list.
type TopicPreferences struct {
	UnsubscribeAll                 bool          `json:"unsubscribeAll"`
	TopicSubscriptionStatus        []TopicStatus `json:"topicSubscriptionStatus,omitempty"`
	TopicDefaultSubscriptionStatus []TopicStatus `json:"topicDefaultSubscriptionStatus,omitempty"`
}

// TopicStatus is OptIn or OptOut for one topic.
type TopicStatus struct {
	TopicName          string `json:"topicName"`
	SubscriptionStatus string `json:"subscriptionStatus"`
}

// OptOut is the SubscriptionStatus of a topic the contact left.
const OptOut = "OptOut"

// OptsOut reports whether the change leaves the list or one of its topics:
// unsubscribeAll, or a topic now OptOut. The mail of one contact list is
// one stream to its recipient, so leaving any part of it is leaving.
func (s Subscription) OptsOut() bool {
	p := s.NewTopicPreferences
	if p == nil {
		return false
	}
	if p.UnsubscribeAll {
		return true
	}
	for _, t := range p.TopicSubscriptionStatus {
		if t.SubscriptionStatus == OptOut {
			return true
		}
	}
	return false
}

// FeedbackNotSpam is the ComplaintFeedbackType of a report that is no
// complaint: the reporter says the message is not spam, correcting an
// earlier report or filter.
const FeedbackNotSpam = "not-spam"

// Recipients are the addresses a bounce or complaint names (bounced or
// complained recipients), in order; nil for other events.
func (r Record) Recipients() []string {
	var out []string
	switch {
	case r.EventType == EventBounce && r.Bounce != nil:
		for _, b := range r.Bounce.BouncedRecipients {
			out = append(out, b.EmailAddress)
		}
	case r.EventType == EventComplaint && r.Complaint != nil:
		for _, c := range r.Complaint.ComplainedRecipients {
			out = append(out, c.EmailAddress)
		}
	}
	return out
}

// Tag returns the first value of the message tag name, or "".
func (r Record) Tag(name string) string { return first(r.Mail.Tags[name]) }

// LinkTag returns the first value of the clicked link's tag name, or "" (also
// for records that are not clicks).
func (r Record) LinkTag(name string) string {
	if r.EventType != EventClick || r.Click == nil {
		return ""
	}
	return first(r.Click.LinkTags[name])
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// Time is when the event itself happened: the timestamp of the click, open,
// bounce, complaint, delivery, delivery delay or subscription change. Send,
// Reject and Rendering Failure have none of their own, so they (and any
// event whose own timestamp is missing) fall back to when the mail was sent.
func (r Record) Time() time.Time {
	var t time.Time
	switch r.EventType {
	case EventClick:
		if r.Click != nil {
			t = r.Click.Timestamp
		}
	case EventOpen:
		if r.Open != nil {
			t = r.Open.Timestamp
		}
	case EventBounce:
		if r.Bounce != nil {
			t = r.Bounce.Timestamp
		}
	case EventComplaint:
		if r.Complaint != nil {
			t = r.Complaint.Timestamp
		}
	case EventDelivery:
		if r.Delivery != nil {
			t = r.Delivery.Timestamp
		}
	case EventDeliveryDelay:
		if r.DeliveryDelay != nil {
			t = r.DeliveryDelay.Timestamp
		}
	case EventSubscription:
		if r.Subscription != nil {
			t = r.Subscription.Timestamp
		}
	}
	if t.IsZero() {
		return r.Mail.Timestamp
	}
	return t
}

// Key identifies the event for deduplication: SES and EventBridge deliver at
// least once, so the same event can arrive twice, through either path. It is
// derived only from the event itself (message id, event type, the event's
// own timestamp, the clicked link, the bounce or complaint feedback id),
// never from when it was received, and is the same for every delivery of
// the event. 16 hex characters: 64 bits are plenty to tell apart the events
// of one lead, and every byte of it is stored on the lead.
func (r Record) Key() string {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	field("sesevent.Key/v1")
	field(r.Mail.MessageID)
	field(r.EventType)
	field(r.Time().UTC().Format(time.RFC3339Nano))
	var link, feedback string
	switch {
	case r.EventType == EventClick && r.Click != nil:
		link = r.Click.Link
	case r.EventType == EventBounce && r.Bounce != nil:
		feedback = r.Bounce.FeedbackID
	case r.EventType == EventComplaint && r.Complaint != nil:
		feedback = r.Complaint.FeedbackID
	}
	field(link)
	field(feedback)
	return hex.EncodeToString(h.Sum(nil)[:8])
}
