// Command scheduler is the Lambda EventBridge Scheduler runs every few
// minutes: it sends each due lead the next step of its nurture track.
package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

// Input is what the schedule hands the function: EventBridge Scheduler
// passes the configured Input JSON, not an EventBridge envelope.
type Input struct {
	ScheduledTime string `json:"scheduledTime"` // <aws.scheduler.scheduled-time>
}

func main() {
	h, err := build(context.Background())
	if err != nil {
		config.InitFailed("scheduler", err)
	}
	lambda.Start(h.handle)
}

type handler struct {
	sched *nurture.Scheduler
	ses   *mail.SES
	clock clock.Clock
}

func build(ctx context.Context) (*handler, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	// In AWS the signing keys come from Parameter Store (TOKEN_KEYS_PARAMETER).
	if err := cfg.LoadTokenKeys(ctx); err != nil {
		return nil, err
	}
	if err := cfg.Require("PUBLIC_BASE_URL", "TOKEN_KEYS"); err != nil {
		return nil, err
	}
	prog, err := program.Default()
	if err != nil {
		return nil, err
	}
	signer, err := token.ParseKeys(cfg.TokenKeys)
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
	ses := mail.NewSES(cfg.SES(awsCfg), cfg.ConfigurationSet)
	st := store.New(cfg.DynamoDB(awsCfg), cfg.TableName, store.Options{DueShards: cfg.DueShards, ActivityRetention: prog.ActivityRetention()})
	return &handler{
		clock: clock.System{},
		ses:   ses,
		sched: &nurture.Scheduler{
			Program: prog, Store: st, Mailer: ses, Signer: signer, Window: win,
			BaseURL: cfg.PublicBaseURL, ConfigurationSet: cfg.ConfigurationSet, Log: cfg.Logger(),
		},
	}, nil
}

// handle runs one tick. The account's send rate is read every tick: SES
// raises it as the account earns trust, and a tick is minutes apart.
func (h *handler) handle(ctx context.Context, in Input) (nurture.Report, error) {
	rate, err := h.ses.MaxSendRate(ctx)
	if err != nil {
		return nurture.Report{}, fmt.Errorf("read ses send rate: %w", err)
	}
	s := *h.sched
	s.Rate = rate
	s.Log = s.Log.With("scheduledTime", in.ScheduledTime)
	return s.Tick(ctx, h.clock.Now())
}
