// Command engagement is the Lambda behind the EventBridge rule for SES
// events (source aws.ses): it applies deliveries, opens, clicks, bounces and
// complaints to the lead, each at most once.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadnurture/nurture/shared/app"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/engagement"
)

func main() {
	svc, err := build(context.Background())
	if err != nil {
		app.InitFailed("engagement", err)
	}
	lambda.Start(func(ctx context.Context, raw json.RawMessage) error {
		_, err := svc.HandleEvent(ctx, raw)
		return err
	})
}

func build(ctx context.Context) (*engagement.Service, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	// No SES: engagement sends no mail.
	a, err := app.Load(ctx, cfg, app.With{})
	if err != nil {
		return nil, err
	}
	return a.Engagement, nil
}
