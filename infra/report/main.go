// Command report prints the program's results in the terminal: the same
// tables the report page shows (docs/report.md).
//
//	go run ./infra/report [-period week|month|8w] [-from 2026-11-01] [-to 2026-11-30]
//	                      [-by industry] [-table assets] [-format text|csv] [-rebuild]
//
// It reads TABLE_NAME, DYNAMODB_ENDPOINT and the AWS settings like the
// functions do, so it works against the deployed table (with the operator's
// AWS credentials) and against `make run`'s DynamoDB Local. With LOCAL_URL
// (make report sets it for make run) "today" is the local stack's clock,
// which may have been moved on. -rebuild re-runs the rollup of every day of
// the period first: the numbers stay the same, since a rollup rebuilds a
// day from its activities.
package main

import (
	"context"
	"encoding/json"

	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/config"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/report"
	"github.com/leadnurture/nurture/shared/store"
)

// Options are what to print.
type Options struct {
	Period, From, To string
	By               string // one dimension's table instead of all of them
	Table            string // one table by id
	Format           string // text or csv
	Rebuild          bool
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var o Options
	flag.StringVar(&o.Period, "period", "", "week, month or 8w (the default)")
	flag.StringVar(&o.From, "from", "", "first day, e.g. 2026-11-01")
	flag.StringVar(&o.To, "to", "", "last day, e.g. 2026-11-30")
	flag.StringVar(&o.By, "by", "", "show the funnel by this dimension only: "+strings.Join(report.Dimensions, ", "))
	flag.StringVar(&o.Table, "table", "", "show this table only (-table list names them)")
	flag.StringVar(&o.Format, "format", "text", "text or csv")
	flag.BoolVar(&o.Rebuild, "rebuild", false, "re-run the rollup of every day of the period first")
	flag.Parse()
	if err := main1(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(1)
	}
}

func main1(ctx context.Context, o Options) error {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	awsCfg, err := cfg.AWS(ctx)
	if err != nil {
		return err
	}
	prog, err := program.Default()
	if err != nil {
		return err
	}
	now, err := localNow(ctx, os.Getenv("LOCAL_URL"))
	if err != nil {
		return err
	}
	st := store.New(cfg.DynamoDB(awsCfg), cfg.TableName, store.Options{DueShards: cfg.DueShards, ActivityRetention: prog.ActivityRetention()})
	r := &report.Rollup{Program: prog, Journal: st, Shelf: st}
	return Run(ctx, r, o, now, os.Stdout)
}

// localNow is the local stack's clock when base names one that answers,
// else the real time.
func localNow(ctx context.Context, base string) (time.Time, error) {
	if base == "" {
		return time.Now(), nil
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+"/_local/clock", nil)
	if err != nil {
		return time.Time{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return time.Time{}, fmt.Errorf("is make run running? ask its clock at %s: %w", base, err)
	}
	defer resp.Body.Close()
	var c struct{ Now time.Time }
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&c); err != nil || c.Now.IsZero() {
		return time.Time{}, fmt.Errorf("the local stack's clock at %s: %s", base, resp.Status)
	}
	return c.Now, nil
}

// Run prints the report of the period o names as of now.
func Run(ctx context.Context, r *report.Rollup, o Options, now time.Time, w io.Writer) error {
	per, err := report.ParsePeriod(o.Period, o.From, o.To, now)
	if err != nil {
		return err
	}
	if o.Format == "" {
		o.Format = "text"
	}
	if o.Format != "text" && o.Format != "csv" {
		return fmt.Errorf("format %q: use text or csv", o.Format)
	}
	if o.By != "" && !slices.Contains(report.Dimensions, o.By) {
		return fmt.Errorf("by %q: use one of %s", o.By, strings.Join(report.Dimensions, ", "))
	}
	if o.Rebuild {
		for d := per.From; d.Before(per.To) && d.Before(now); d = d.AddDate(0, 0, 1) {
			if err := r.RebuildDay(ctx, d, now); err != nil {
				return err
			}
		}
	}
	days, err := r.Read(ctx, per, now)
	if err != nil {
		return err
	}
	before, err := r.Read(ctx, per.Before(), now)
	if err != nil {
		return err
	}
	rep := report.Compute(r.Program, per, days, before)
	tables := rep.Tables
	switch {
	case o.Table == "list":
		fmt.Fprintln(w, strings.Join(rep.TableIDs(), "\n"))
		return nil
	case o.Table != "":
		t, ok := rep.Table(o.Table)
		if !ok {
			return fmt.Errorf("table %q: use one of %s", o.Table, strings.Join(rep.TableIDs(), ", "))
		}
		tables = []report.Table{t}
	case o.By != "":
		t, _ := rep.Table("by-" + o.By)
		tables = []report.Table{t}
	}
	if o.Format == "csv" {
		return report.WriteCSV(w, tables...)
	}
	if o.Table == "" && o.By == "" {
		fmt.Fprintf(w, "Results %s (UTC days)\n", per)
		for _, f := range rep.Headline {
			fmt.Fprintf(w, "  %-24s %8s   %s against the %d days before\n", f.Label, f.Value, f.Change(), per.Days())
		}
		fmt.Fprintln(w)
	}
	return report.WriteText(w, tables...)
}
