// Command links is the Lambda behind the links in nurture emails:
// GET/POST /u/{token} (unsubscribe, RFC 8058 one-click included) and
// GET/POST /a/{token} (one-click answers), and in sales alerts:
// GET/POST /s/{token} (the lead's dossier; accept, or return to nurture).
// A GET only shows a page with a confirm button; the POST changes the lead.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/leadnurture/nurture/shared/alert"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/engagement"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/store"
	"github.com/leadnurture/nurture/shared/token"
)

func main() {
	h, err := build(context.Background())
	if err != nil {
		config.InitFailed("links", err)
	}
	lambda.Start(h.Handle)
}

func build(ctx context.Context) (*httpapi.LinkRoutes, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, err
	}
	// In AWS the signing keys come from Parameter Store (TOKEN_KEYS_PARAMETER).
	if err := cfg.LoadTokenKeys(ctx); err != nil {
		return nil, err
	}
	if err := cfg.Require("TOKEN_KEYS"); err != nil {
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
	signer, err := token.ParseKeys(cfg.TokenKeys)
	if err != nil {
		return nil, err
	}
	awsCfg, err := cfg.AWS(ctx)
	if err != nil {
		return nil, err
	}
	st := store.New(cfg.DynamoDB(awsCfg), cfg.TableName, store.Options{DueShards: cfg.DueShards, ActivityRetention: prog.ActivityRetention()})
	log := cfg.Logger()
	links := &httpapi.Links{
		// Links never reconcile sends, so the service needs no Sends.
		Engagement: &engagement.Service{Program: prog, Store: st, Log: log},
		Signer:     signer,
		Program:    prog,
		Clock:      clock.System{},
		Log:        log,
	}
	sales := &httpapi.Sales{
		Sales:   &alert.Sales{Program: prog, Store: st, Window: win},
		Store:   st,
		Program: prog,
		Signer:  signer,
		Clock:   clock.System{},
		Log:     log,
	}
	return &httpapi.LinkRoutes{Links: links, Sales: sales}, nil
}
