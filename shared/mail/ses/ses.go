// Package ses sends mail.Messages with the SES v2 API and sorts SES's
// failures into mail's errors, so that the domain never reads an SES code.
package ses

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	netmail "net/mail"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/leadnurture/nurture/shared/mail"
)

// Mailer sends messages with the SES v2 API.
type Mailer struct {
	client           *sesv2.Client
	configurationSet string
}

var _ mail.Mailer = (*Mailer)(nil)

// New wraps an SES v2 client. configurationSet is the set whose event
// destinations publish sends, deliveries, opens, clicks, bounces and
// complaints; a message's own ConfigurationSet overrides it. Empty means none.
func New(client *sesv2.Client, configurationSet string) *Mailer {
	return &Mailer{client: client, configurationSet: configurationSet}
}

// charset makes SES encode non-ASCII subjects and bodies properly.
const charset = "UTF-8"

// Send sends m and returns SES's MessageId. Failures wrap one of mail's
// errors; a message that is malformed before it even reaches SES (see
// mail.Message.Check) is mail.ErrRejected, because sending it again would
// fail the same way.
//
// The SDK's own retries are off for this call: they would resend after a
// dropped connection, when SES may already have accepted the message. The
// caller retries what is safe to retry.
func (s *Mailer) Send(ctx context.Context, m mail.Message) (string, error) {
	in, err := s.input(m)
	if err != nil {
		return "", fmt.Errorf("%w: not sent: %w", mail.ErrRejected, err)
	}
	out, err := s.client.SendEmail(ctx, in, func(o *sesv2.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		if uncertain(err) {
			return "", fmt.Errorf("%w: ses send email: %w", mail.ErrUncertain, err)
		}
		return "", classify("ses send email", err)
	}
	if out.MessageId == nil || *out.MessageId == "" {
		return "", fmt.Errorf("%w: ses send email: no MessageId in the answer", mail.ErrUncertain)
	}
	return *out.MessageId, nil
}

// uncertain reports a failure in sending the request (not before it, like
// a missing credential, nor an answer from SES) other than a connection
// that never opened: the request may have reached SES.
func uncertain(err error) bool {
	if _, ok := errors.AsType[*smithyhttp.RequestSendError](err); !ok {
		return false
	}
	if r, ok := errors.AsType[*awshttp.ResponseError](err); ok && r.HTTPStatusCode() != 0 {
		return false
	}
	if _, ok := errors.AsType[*net.DNSError](err); ok {
		return false
	}
	if op, ok := errors.AsType[*net.OpError](err); ok && op.Op == "dial" {
		return false
	}
	return true
}

func (s *Mailer) input(m mail.Message) (*sesv2.SendEmailInput, error) {
	if err := m.Check(); err != nil {
		return nil, err
	}
	in := &sesv2.SendEmailInput{
		FromEmailAddress: nonEmpty(encodeAddress(m.From)),
		Destination:      &types.Destination{ToAddresses: []string{m.To}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(m.Subject), Charset: aws.String(charset)},
			Body:    &types.Body{},
		}},
		EmailTags: emailTags(m.Tags),
	}
	simple := in.Content.Simple
	if m.HTML != "" {
		simple.Body.Html = &types.Content{Data: aws.String(m.HTML), Charset: aws.String(charset)}
	}
	if m.Text != "" {
		simple.Body.Text = &types.Content{Data: aws.String(m.Text), Charset: aws.String(charset)}
	}
	for _, h := range m.Headers {
		simple.Headers = append(simple.Headers, types.MessageHeader{Name: aws.String(h.Name), Value: aws.String(h.Value)})
	}
	if m.ReplyTo != "" {
		in.ReplyToAddresses = []string{encodeAddress(m.ReplyTo)}
	}
	set := m.ConfigurationSet
	if set == "" {
		set = s.configurationSet
	}
	in.ConfigurationSetName = nonEmpty(set)
	return in, nil
}

// emailTags turns the tag map into SES's list, sorted by name so the same
// message always makes the same request.
func emailTags(tags map[string]string) []types.MessageTag {
	var out []types.MessageTag
	for _, name := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, types.MessageTag{Name: aws.String(name), Value: aws.String(tags[name])})
	}
	return out
}

// encodeAddress writes a display name with non-ASCII characters as an RFC
// 2047 encoded word, which SES requires ("Zoë <z@x>" would be refused). An
// address that does not parse is passed on for SES to judge.
func encodeAddress(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r > '~' }) {
		return s
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return s
	}
	return a.String()
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// MaxSendRate is the account's most emails per second; sending faster makes
// SES drop messages with "Maximum sending rate exceeded".
func (s *Mailer) MaxSendRate(ctx context.Context) (float64, error) {
	out, err := s.client.GetAccount(ctx, &sesv2.GetAccountInput{})
	if err != nil {
		return 0, classify("ses get account", err)
	}
	if out.SendQuota == nil {
		return 0, fmt.Errorf("%w: ses get account: no send quota in the answer", mail.ErrTransient)
	}
	return out.SendQuota.MaxSendRate, nil
}

// Error codes by what the caller should do. Typed exceptions are matched
// first; the codes cover errors that arrive untyped.
var (
	throttleCodes = []string{"TooManyRequestsException", "LimitExceededException", "Throttling", "ThrottlingException", "RequestThrottled"}
	rejectCodes   = []string{"MessageRejected", "MailFromDomainNotVerifiedException", "BadRequestException", "NotFoundException"}
	pausedCodes   = []string{"AccountSuspendedException", "SendingPausedException"}
	// Credential and signing failures come as 400 or 403 but are fixed by
	// fixing the deployment, not the message: retry them later.
	authCodes = []string{"AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException", "IncompleteSignature", "ExpiredToken", "ExpiredTokenException", "RequestExpired", "InvalidClientTokenId", "MissingAuthenticationTokenException", "SignatureDoesNotMatch"}
)

// classify wraps err in the mail error that says what to do about it,
// keeping SES's code and reason in the message.
func classify(op string, err error) error {
	var code string
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok {
		code = apiErr.ErrorCode()
	}
	status := 0
	if respErr, ok := errors.AsType[*awshttp.ResponseError](err); ok {
		status = respErr.HTTPStatusCode()
	}
	kind := mail.ErrTransient
	switch {
	case throttled(err, code, status):
		kind = mail.ErrThrottled
	case slices.Contains(authCodes, code):
		kind = mail.ErrTransient
	case paused(err, code):
		kind = mail.ErrAccountPaused
	case rejected(err, code, status):
		kind = mail.ErrRejected
	}
	return fmt.Errorf("%w: %s: %w", kind, op, err)
}

func throttled(err error, code string, status int) bool {
	if _, ok := errors.AsType[*types.TooManyRequestsException](err); ok {
		return true
	}
	if _, ok := errors.AsType[*types.LimitExceededException](err); ok {
		return true
	}
	return slices.Contains(throttleCodes, code) || status == 429 ||
		strings.Contains(err.Error(), "Maximum sending rate exceeded")
}

// paused tells a refusal of the whole account (or of its configuration
// set) from one of the message.
func paused(err error, code string) bool {
	if _, ok := errors.AsType[*types.AccountSuspendedException](err); ok {
		return true
	}
	if _, ok := errors.AsType[*types.SendingPausedException](err); ok {
		return true
	}
	return slices.Contains(pausedCodes, code)
}

func rejected(err error, code string, status int) bool {
	if _, ok := errors.AsType[*types.MessageRejected](err); ok {
		return true
	}
	if _, ok := errors.AsType[*types.MailFromDomainNotVerifiedException](err); ok {
		return true
	}
	if _, ok := errors.AsType[*types.BadRequestException](err); ok {
		return true
	}
	if _, ok := errors.AsType[*types.NotFoundException](err); ok {
		return true
	}
	// A 400 with a code we do not know still means SES judged this request
	// bad: the same bytes would fail again.
	return slices.Contains(rejectCodes, code) || status == 400
}
