// Command capture is the Lambda behind POST /forms/{formId}: it stores the
// lead and what they downloaded, and enrols them in nurture.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/store"
)

func main() {
	h, err := build(context.Background())
	if err != nil {
		config.InitFailed("capture", err)
	}
	lambda.Start(h.Handle)
}

func build(ctx context.Context) (*httpapi.Capture, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	prog, err := program.Default()
	if err != nil {
		return nil, err
	}
	awsCfg, err := cfg.AWS(ctx)
	if err != nil {
		return nil, err
	}
	st := store.New(cfg.DynamoDB(awsCfg), cfg.TableName, store.Options{DueShards: cfg.DueShards, ActivityRetention: prog.ActivityRetention()})
	return &httpapi.Capture{
		Capturer: &lead.Capturer{Program: prog, Store: st, Clock: clock.System{}, MinFillTime: cfg.MinFillTime},
		Log:      cfg.Logger(),
	}, nil
}
