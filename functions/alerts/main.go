// Command alerts is the Lambda behind the table's stream (an event source
// mapping filtered to lead items with outbox work ready): it sends the
// sales alerts pending on those leads, the email to the routed owner and
// the Slack-compatible webhook post, each exactly once per crossing. No
// request waits for it: capture, the links and the engagement events only
// record the crossing on the lead. An alert held by its settle time (a
// click's or an open's) is delayed on the settle queue (SETTLE_QUEUE_URL),
// whose event source mapping brings it back here when the time ends.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadnurture/nurture/shared/app"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/mail/ses"
	"github.com/leadnurture/nurture/shared/outbox"
	"github.com/leadnurture/nurture/shared/outbox/sqsdelay"
	"github.com/leadnurture/nurture/shared/sales/slack"
)

func main() {
	c, err := build(context.Background())
	if err != nil {
		app.InitFailed("alerts", err)
	}
	lambda.Start(c.Invoke)
}

func build(ctx context.Context) (*outbox.Function, error) {
	// The webhook URL is a secret only this function reads: from Parameter
	// Store at start (WEBHOOK_URL_PARAMETER), never from the environment.
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	url, err := config.LoadWebhookURL(ctx, cfg)
	if err != nil {
		return nil, err
	}
	awsCfg, err := cfg.AWS(ctx)
	if err != nil {
		return nil, err
	}
	with := app.With{Mailer: ses.New(cfg.SES(awsCfg), cfg.ConfigurationSet)}
	if url != "" {
		with.Webhook = slack.Outbox(url)
	}
	queue, err := config.SettleQueueURL()
	if err != nil {
		return nil, err
	}
	if queue != "" {
		with.Delayer = sqsdelay.New(cfg.SQS(awsCfg), queue)
	}
	a, err := app.Load(ctx, cfg, with, "PUBLIC_BASE_URL", "TOKEN_KEYS")
	if err != nil {
		return nil, err
	}
	return a.Alerts, nil
}
