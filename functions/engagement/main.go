// Command engagement is the Lambda behind the EventBridge rule for SES
// events (source aws.ses): it applies deliveries, opens, clicks, bounces and
// complaints to the lead, each at most once.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/engagement"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/store"
)

func main() {
	svc, err := build(context.Background())
	if err != nil {
		config.InitFailed("engagement", err)
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
	prog, err := program.Default()
	if err != nil {
		return nil, err
	}
	win, err := nurture.NewWindow(prog.Schedule)
	if err != nil {
		return nil, err
	}
	awsCfg, err := cfg.AWS(ctx)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger()
	st := store.New(cfg.DynamoDB(awsCfg), cfg.TableName, store.Options{DueShards: cfg.DueShards, ActivityRetention: prog.ActivityRetention()})
	// The scheduler only records sends here (SES's Send event reconciles a
	// send whose record was lost); it never sends from this function.
	sends := &nurture.Scheduler{Program: prog, Store: st, Window: win, Log: log}
	return &engagement.Service{Program: prog, Store: st, Sends: sends, Log: log, BotWindow: cfg.BotWindow}, nil
}
