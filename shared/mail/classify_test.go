package mail

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
)

// The SES answers below cannot all be provoked from the local server, so
// the table checks the decision itself on the error values the SDK builds.
func TestClassify_sesErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want error
	}{
		{"too many requests", &types.TooManyRequestsException{Message: strPtr("Too many requests")}, ErrThrottled},
		{"daily quota reached", &types.LimitExceededException{Message: strPtr("Daily message quota exceeded")}, ErrThrottled},
		{"sending rate as untyped Throttling", &smithy.GenericAPIError{Code: "Throttling", Message: "Maximum sending rate exceeded."}, ErrThrottled},
		{"sending rate, only the message", errors.New("operation error SESv2: SendEmail, Maximum sending rate exceeded"), ErrThrottled},
		{"HTTP 429 without a code", withStatus(&smithy.GenericAPIError{Code: "UnknownError"}, 429), ErrThrottled},
		{"message rejected", &types.MessageRejected{Message: strPtr("Email address is not verified.")}, ErrRejected},
		{"account suspended", &types.AccountSuspendedException{Message: strPtr("suspended")}, ErrRejected},
		{"sending paused", &types.SendingPausedException{Message: strPtr("paused")}, ErrRejected},
		{"mail-from domain not verified", &types.MailFromDomainNotVerifiedException{Message: strPtr("not verified")}, ErrRejected},
		{"bad request", &types.BadRequestException{Message: strPtr("bad")}, ErrRejected},
		{"configuration set not found", &types.NotFoundException{Message: strPtr("no such set")}, ErrRejected},
		{"untyped MessageRejected code", &smithy.GenericAPIError{Code: "MessageRejected"}, ErrRejected},
		{"HTTP 400 without a known code", withStatus(&smithy.GenericAPIError{Code: "UnknownError", Message: "Bad Request Exception"}, 400), ErrRejected},
		{"expired credentials are fixed by deploying, not by dropping mail", withStatus(&smithy.GenericAPIError{Code: "ExpiredTokenException"}, 400), ErrTransient},
		{"access denied", withStatus(&smithy.GenericAPIError{Code: "AccessDeniedException"}, 403), ErrTransient},
		{"internal error", withStatus(&types.InternalServiceErrorException{}, 500), ErrTransient},
		{"service unavailable", withStatus(&smithy.GenericAPIError{Code: "ServiceUnavailable"}, 503), ErrTransient},
		{"network", &smithy.OperationError{ServiceID: "SESv2", OperationName: "SendEmail", Err: errors.New("dial tcp 127.0.0.1:1: connect: connection refused")}, ErrTransient},
		{"deadline", context.DeadlineExceeded, ErrTransient},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify("ses send email", tc.err)
			for _, kind := range []error{ErrThrottled, ErrRejected, ErrTransient} {
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
