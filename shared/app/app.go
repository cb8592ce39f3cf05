// Package app builds, once at a function's start, what every function is
// made of: settings, the nurture program, the store, the mailer, the link
// signer, and the services on top. Each function's main picks what it
// serves; the local stack builds the same parts.
package app

import (
	"context"
	"log/slog"

	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/engagement"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/mail/ses"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sales"
	"github.com/leadnurture/nurture/shared/sales/slack"
	"github.com/leadnurture/nurture/shared/scoring"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

// App holds a function's parts.
type App struct {
	Config  config.Config
	Program *program.Program
	Window  nurture.Window
	Store   *store.Store
	SES     *ses.Mailer
	// Signer signs and verifies link tokens; nil when no keys are set.
	Signer *token.Signer
	Clock  clock.Clock
	Log    *slog.Logger
}

// Load reads the environment and builds the parts. required names settings
// the function cannot start without (e.g. "TOKEN_KEYS").
func Load(ctx context.Context, required ...string) (*App, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	// In AWS the signing keys come from Parameter Store (TOKEN_KEYS_PARAMETER).
	if err := cfg.LoadTokenKeys(ctx); err != nil {
		return nil, err
	}
	if err := cfg.Require(required...); err != nil {
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
	a := &App{
		Config:  cfg,
		Program: prog,
		Window:  win,
		Store:   store.New(cfg.DynamoDB(awsCfg), cfg.TableName, store.Options{DueShards: cfg.DueShards, ActivityRetention: prog.ActivityRetention()}),
		SES:     ses.New(cfg.SES(awsCfg), cfg.ConfigurationSet),
		Clock:   clock.System{},
		Log:     cfg.Logger(),
	}
	if cfg.TokenKeys != "" {
		if a.Signer, err = token.ParseKeys(cfg.TokenKeys); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// Scorer is the program's scoring model.
func (a *App) Scorer() lead.Scorer { return scoring.New(a.Program) }

// Alerter sends sales alerts at once; it needs link keys and the public
// URL the links point at. Without them crossings stay pending on the lead
// and the scheduler's next tick sends them.
func (a *App) Alerter() lead.Alerter {
	if a.Signer == nil || a.Config.PublicBaseURL == "" {
		return nil
	}
	al := &sales.Alerter{
		Program: a.Program, Store: a.Store, Mailer: a.SES, Signer: a.Signer, BaseURL: a.Config.PublicBaseURL,
		Clock: a.Clock, Log: a.Log,
	}
	if a.Config.WebhookURL != "" {
		al.Webhook = &slack.Webhook{URL: a.Config.WebhookURL}
	}
	return al
}

// Scheduler sends nurture steps.
func (a *App) Scheduler() *nurture.Scheduler {
	return &nurture.Scheduler{
		Program: a.Program, Store: a.Store, Mailer: a.SES, Signer: a.Signer, Window: a.Window,
		BaseURL: a.Config.PublicBaseURL, ConfigurationSet: a.Config.ConfigurationSet, Log: a.Log,
		Alerter: a.Alerter(),
	}
}

// Engagement applies SES events and link clicks to leads, scored, with
// alerts when a threshold is crossed.
func (a *App) Engagement() *engagement.Service {
	return &engagement.Service{
		Program: a.Program, Store: a.Store, Log: a.Log, BotWindow: a.Config.BotWindow,
		Scorer: a.Scorer(), Alerter: a.Alerter(),
	}
}

// Capturer turns form posts into leads.
func (a *App) Capturer() *lead.Capturer {
	return &lead.Capturer{
		Program: a.Program, Store: a.Store, Clock: a.Clock, MinFillTime: a.Config.MinFillTime,
		Scorer: a.Scorer(), Alerter: a.Alerter(), Suppressions: a.Store,
	}
}
