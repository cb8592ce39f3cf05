// Command events is the Lambda behind the table's stream (an event source
// mapping filtered to lead items with lifecycle events ready): it delivers
// the events pending on those leads to the CRM's webhook, signed, at least
// once, in order per lead. It is its own function, beside alerts on the
// same stream, so a CRM that is slow, failing or down delays nothing but
// its own events: never a sales alert, never a request.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadnurture/nurture/shared/app"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/crm"
	"github.com/leadnurture/nurture/shared/outbox"
)

func main() {
	c, err := build(context.Background())
	if err != nil {
		app.InitFailed("events", err)
	}
	lambda.Start(c.Handle)
}

func build(ctx context.Context) (*outbox.Consumer, error) {
	// The receiver's URL and signing secret are secrets only this function
	// reads: from Parameter Store at start (EVENTS_PARAMETER), never from
	// the environment.
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	url, secret, err := config.LoadEventsWebhook(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var with app.With
	if url != "" {
		if with.Events, err = crm.NewReceiver(url, secret); err != nil {
			return nil, err
		}
	}
	a, err := app.Load(ctx, cfg, with, "PUBLIC_BASE_URL", "TOKEN_KEYS")
	if err != nil {
		return nil, err
	}
	return a.EventsOutbox, nil
}
