// Command capture is the Lambda behind the website forms: POST
// /forms/{formId} stores the lead and what they downloaded, and enrols
// them in nurture; GET /forms.js is the script the form snippets load, and
// GET /forms/{formId} the hosted form page.
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
		app.InitFailed("capture", err)
	}
	lambda.Start(h.Handle)
}

func build(ctx context.Context) (*httpapi.FormRoutes, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	// No SES: capture sends no mail.
	a, err := app.Load(ctx, cfg, app.With{})
	if err != nil {
		return nil, err
	}
	return a.Forms, nil
}
