// Command links is the Lambda behind the links in nurture emails:
// GET/POST /u/{token} (unsubscribe, RFC 8058 one-click included) and
// GET/POST /a/{token} (one-click answers), and in sales alerts:
// GET/POST /s/{token} (the lead's dossier; accept, or return to nurture).
// A GET only shows a page with a confirm button; the POST changes the lead.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadnurture/nurture/shared/app"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/httpapi"
)

func main() {
	h, err := build(context.Background())
	if err != nil {
		app.InitFailed("links", err)
	}
	lambda.Start(h.Handle)
}

func build(ctx context.Context) (*httpapi.LinkRoutes, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	// No SES: the links sends no mail.
	a, err := app.Load(ctx, cfg, app.With{}, "TOKEN_KEYS")
	if err != nil {
		return nil, err
	}
	return a.LinkRoutes, nil
}
