// Command privacy answers a person's data requests, for the operator:
//
//	go run ./infra/privacy export <email>   everything stored about the address, as JSON
//	go run ./infra/privacy erase <email>    delete it all at once and block the address
//
// It reads TABLE_NAME, DYNAMODB_ENDPOINT and the AWS settings like the
// functions do, so it works against the deployed table (with the operator's
// AWS credentials) and against `make run`'s DynamoDB Local
// (DYNAMODB_ENDPOINT=http://localhost:8000 TABLE_NAME=nurture-local).
// Lead ids are a keyed hash of the address, so it reads the lead id key as
// the functions do (TOKEN_KEYS_PARAMETER, or TOKEN_KEYS).
//
// erase prints what it deleted as counts, never the data itself; the
// address is kept only as its keyed lead id in the suppression marker, so
// capture never stores or mails it again.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/leadnurture/nurture/shared/app"
	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/store"
)

const usage = `usage:
  privacy export <email>   print everything stored about the address as JSON
  privacy erase <email>    delete everything stored about the address and never mail it again

Settings from the environment: TABLE_NAME (required), the lead id key as the
functions read it (TOKEN_KEYS_PARAMETER in AWS; for make run's data
TOKEN_KEYS="$(cat .cache/data/token-key)", as make privacy-export does),
DYNAMODB_ENDPOINT (DynamoDB Local, e.g. http://localhost:8000),
AWS_REGION / AWS_PROFILE in AWS.`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if len(os.Args) != 3 || (os.Args[1] != "export" && os.Args[1] != "erase") {
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	st, ids, err := openStore(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "privacy:", err)
		os.Exit(1)
	}
	if err := run(ctx, st, ids, os.Args[1], os.Args[2], time.Now(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "privacy:", err)
		os.Exit(1)
	}
}

// openStore opens the table, and reads the lead id key as the functions
// do (TOKEN_KEYS, or the parameter TOKEN_KEYS_PARAMETER names): an address
// finds its lead only through the key.
func openStore(ctx context.Context) (*store.Store, lead.IDKey, error) {
	cfg, err := config.Load()
	if err != nil {
		return nil, lead.IDKey{}, err
	}
	if err := cfg.LoadTokenKeys(ctx); err != nil {
		return nil, lead.IDKey{}, err
	}
	keys, err := app.LoadKeys(cfg)
	if err != nil {
		return nil, lead.IDKey{}, err
	}
	awsCfg, err := cfg.AWS(ctx)
	if err != nil {
		return nil, lead.IDKey{}, err
	}
	prog, err := program.Default()
	if err != nil {
		return nil, lead.IDKey{}, err
	}
	st := store.New(cfg.DynamoDB(awsCfg), cfg.TableName, store.Options{DueShards: cfg.DueShards, ActivityRetention: prog.ActivityRetention()})
	return st, keys.LeadIDs, nil
}

// ExportReport is what export prints.
type ExportReport struct {
	Email string `json:"email"`
	// LeadID is the id the address maps to; Found says whether a lead is stored.
	LeadID     string          `json:"leadId"`
	Found      bool            `json:"found"`
	Suppressed bool            `json:"suppressed"`
	Lead       *lead.Lead      `json:"lead"`
	Activities []lead.Activity `json:"activities"`
	// Events counts the records of applied events; they hold only a key.
	Events int `json:"events"`
}

// EraseReport is what erase prints: counts only.
type EraseReport struct {
	LeadID     string `json:"leadId"`
	Found      bool   `json:"found"`
	Profile    int    `json:"profile"`
	Activities int    `json:"activities"`
	// Events are the records of applied events, which hold only a key.
	Events     int  `json:"events"`
	Deleted    int  `json:"deleted"`
	Suppressed bool `json:"suppressed"`
}

func run(ctx context.Context, st *store.Store, ids lead.IDKey, cmd, rawEmail string, now time.Time, out io.Writer) error {
	email, err := lead.NormaliseEmail(rawEmail)
	if err != nil {
		return fmt.Errorf("not an email address: %w", err)
	}
	id := ids.ID(email)
	ex, err := st.Export(ctx, id)
	if err != nil {
		return err
	}
	var report any
	switch cmd {
	case "export":
		suppressed, err := st.IsSuppressed(ctx, id)
		if err != nil {
			return err
		}
		report = ExportReport{
			Email: email, LeadID: id, Found: ex.Lead != nil, Suppressed: suppressed,
			Lead: ex.Lead, Activities: ex.Activities, Events: ex.Events,
		}
	case "erase":
		// The marker first, even for an address with no lead stored: the
		// request is to forget the person and never mail them.
		if err := st.SuppressErased(ctx, id, now); err != nil {
			return err
		}
		n, err := st.Erase(ctx, id, now)
		if err != nil {
			return err
		}
		suppressed, err := st.IsSuppressed(ctx, id)
		if err != nil {
			return err
		}
		r := EraseReport{LeadID: id, Found: ex.Lead != nil, Activities: len(ex.Activities), Events: ex.Events, Deleted: n, Suppressed: suppressed}
		if r.Found {
			r.Profile = 1
		}
		report = r
	default:
		return errors.New(usage)
	}
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(report)
}
