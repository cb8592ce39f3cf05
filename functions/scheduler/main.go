// Command scheduler is the Lambda EventBridge Scheduler runs every few
// minutes: it sends each due lead the next step of its nurture track, hands
// the sales alerts and SLA follow-ups that fell due to the alerts function,
// and sends each sales owner the day's digest of open alerts.
package main

import (
	"context"
	"fmt"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadnurture/nurture/shared/app"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/mail/ses"
	"github.com/leadnurture/nurture/shared/nurture"
)

// Input is what the schedule hands the function: EventBridge Scheduler
// passes the configured Input JSON, not an EventBridge envelope.
type Input struct {
	ScheduledTime string `json:"scheduledTime"` // <aws.scheduler.scheduled-time>
}

func main() {
	h, err := build(context.Background())
	if err != nil {
		app.InitFailed("scheduler", err)
	}
	lambda.Start(h.handle)
}

type handler struct {
	app   *app.App
	sched *nurture.Scheduler
	ses   *ses.Mailer
	clock clock.Clock
}

func build(ctx context.Context) (*handler, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	awsCfg, err := cfg.AWS(ctx)
	if err != nil {
		return nil, err
	}
	mailer := ses.New(cfg.SES(awsCfg), cfg.ConfigurationSet)
	a, err := app.Load(ctx, cfg, app.With{Mailer: mailer}, "PUBLIC_BASE_URL", "TOKEN_KEYS")
	if err != nil {
		return nil, err
	}
	return &handler{app: a, clock: a.Clock, ses: mailer, sched: a.Scheduler}, nil
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
	now := h.clock.Now()
	rep, err := s.Tick(ctx, now)
	h.app.SendDigests(ctx, now)
	return rep, err
}
