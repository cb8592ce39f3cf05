package ses

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/leadnurture/nurture/shared/mail"
)

// The SES answers below cannot all be provoked from the local server, so
// the table checks the decision itself on the error values the SDK builds.
func TestClassify_sesErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"too many requests", &types.TooManyRequestsException{Message: strPtr("Too many requests")}, mail.ErrThrottled},
		{"daily quota reached", &types.LimitExceededException{Message: strPtr("Daily message quota exceeded")}, mail.ErrThrottled},
		{"sending rate as untyped Throttling", &smithy.GenericAPIError{Code: "Throttling", Message: "Maximum sending rate exceeded."}, mail.ErrThrottled},
		{"sending rate, only the message", errors.New("operation error SESv2: SendEmail, Maximum sending rate exceeded"), mail.ErrThrottled},
		{"HTTP 429 without a code", withStatus(&smithy.GenericAPIError{Code: "UnknownError"}, 429), mail.ErrThrottled},
		{"message rejected", &types.MessageRejected{Message: strPtr("Email address is not verified.")}, mail.ErrRejected},
		{"account suspended", &types.AccountSuspendedException{Message: strPtr("suspended")}, mail.ErrAccountPaused},
		{"sending paused", &types.SendingPausedException{Message: strPtr("paused")}, mail.ErrAccountPaused},
		{"untyped SendingPausedException code", withStatus(&smithy.GenericAPIError{Code: "SendingPausedException"}, 400), mail.ErrAccountPaused},
		{"mail-from domain not verified", &types.MailFromDomainNotVerifiedException{Message: strPtr("not verified")}, mail.ErrRejected},
		{"bad request", &types.BadRequestException{Message: strPtr("bad")}, mail.ErrRejected},
		{"configuration set not found", &types.NotFoundException{Message: strPtr("no such set")}, mail.ErrRejected},
		{"untyped MessageRejected code", &smithy.GenericAPIError{Code: "MessageRejected"}, mail.ErrRejected},
		{"HTTP 400 without a known code", withStatus(&smithy.GenericAPIError{Code: "UnknownError", Message: "Bad Request Exception"}, 400), mail.ErrRejected},
		{"expired credentials are fixed by deploying, not by dropping mail", withStatus(&smithy.GenericAPIError{Code: "ExpiredTokenException"}, 400), mail.ErrTransient},
		{"access denied", withStatus(&smithy.GenericAPIError{Code: "AccessDeniedException"}, 403), mail.ErrTransient},
		{"internal error", withStatus(&types.InternalServiceErrorException{}, 500), mail.ErrTransient},
		{"service unavailable", withStatus(&smithy.GenericAPIError{Code: "ServiceUnavailable"}, 503), mail.ErrTransient},
		{"network", &smithy.OperationError{ServiceID: "SESv2", OperationName: "SendEmail", Err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused")}, mail.ErrTransient},
		{"deadline", context.DeadlineExceeded, mail.ErrTransient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify("ses send email", tc.err)
			for _, kind := range []error{mail.ErrThrottled, mail.ErrRejected, mail.ErrAccountPaused, mail.ErrTransient} {
				if errors.Is(got, kind) != (kind == tc.want) {
					t.Errorf("classify(%v) = %v, want only %v", tc.err, got, tc.want)
				}
			}
			if !errors.Is(got, tc.err) {
				t.Errorf("the original error is lost: %v", got)
			}
			if !strings.Contains(got.Error(), tc.err.Error()) {
				t.Errorf("the reason text is lost: %q", got)
			}
		})
	}
}

func strPtr(s string) *string { return &s }

// withStatus wraps err as the SDK does for an HTTP answer with this status.
func withStatus(err error, status int) error {
	return &smithy.OperationError{ServiceID: "SESv2", OperationName: "SendEmail", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err},
		RequestID:     "test",
	}}
}
