// Command report is the Lambda EventBridge Scheduler runs every 15
// minutes: it rebuilds the program's results of the hours (and, after
// midnight, the day) just past from the journal, and on Monday morning
// mails reports.to the weekly digest with a link to the results page.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadnurture/nurture/shared/app"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/mail/ses"
)

// Input is what the schedule hands the function: EventBridge Scheduler
// passes the configured Input JSON, not an EventBridge envelope.
type Input struct {
	ScheduledTime string `json:"scheduledTime"` // <aws.scheduler.scheduled-time>
}

func main() {
	a, err := build(context.Background())
	if err != nil {
		app.InitFailed("report", err)
	}
	lambda.Start(func(ctx context.Context, in Input) error {
		return a.RunReport(ctx, a.Clock.Now())
	})
}

func build(ctx context.Context) (*app.App, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	awsCfg, err := cfg.AWS(ctx)
	if err != nil {
		return nil, err
	}
	mailer := ses.New(cfg.SES(awsCfg), cfg.ConfigurationSet)
	return app.Load(ctx, cfg, app.With{Mailer: mailer}, "PUBLIC_BASE_URL", "TOKEN_KEYS")
}
