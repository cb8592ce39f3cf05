//go:build bench

package bench

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/leadnurture/nurture/infra/localstack/testworld"
	"github.com/leadnurture/nurture/shared/httpapi"
	rpt "github.com/leadnurture/nurture/shared/report"
)

// resultsNumbers are the results scenario's, for the cost model.
var resultsNumbers struct {
	activities            int
	rollupRRUPerActivity  float64
	rollupTimePerActivity time.Duration
	reportRRU             float64
	reportTime            time.Duration
	pageBytes             int
}

// --- scenario (e): the program's results over what the others stored -------
//
// The rollup rebuilds every day of the last 8 weeks from the journal (the
// day index: one query a shard and day) and the leads in it; then an
// 8-week report reads the day summaries back, and the results page is
// rendered. A day's rollup reads that day's activities and their leads
// only, so its cost and time grow with the day, never with the table.
func BenchmarkResults(b *testing.B) {
	if err := ensureSent(); err != nil {
		b.Fatal(err)
	}
	now := w.clock.Now()
	per := rpt.LastDays(56, now)
	entries, err := w.store.JournalBetween(benchCtx, per.From, now.Add(time.Nanosecond))
	if err != nil {
		b.Fatal(err)
	}
	acts := len(entries)
	if acts == 0 {
		b.Fatal("no activities in the journal")
	}
	r := &rpt.Rollup{Program: w.prog, Journal: w.store, Shelf: w.store}
	days := per.Days()
	rolled, err := measure("ResultsRollup", days, 1, func(i int) error {
		return r.RebuildDay(benchCtx, per.From.AddDate(0, 0, i), now)
	})
	if err != nil {
		b.Fatal(err)
	}
	read, err := measure("Results8WeekReport", 1, 1, func(int) error {
		d, err := r.Read(benchCtx, per, now)
		if err != nil {
			return err
		}
		before, err := r.Read(benchCtx, per.Before(), now)
		if err != nil {
			return err
		}
		rpt.Compute(w.prog, per, d, before)
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	h := &httpapi.Results{Rollup: r, Signer: w.signer, Program: w.prog, Clock: w.clock, Log: slog.New(slog.DiscardHandler)}
	page, err := h.Handle(context.Background(), testworld.LinkRequest("GET", rpt.LinkURL(w.signer, "https://api.acme.example", now), nil, now))
	if err != nil || page.StatusCode != 200 {
		b.Fatalf("results page: %d %v", page.StatusCode, err)
	}
	n := &resultsNumbers
	n.activities = acts
	n.rollupRRUPerActivity = rolled.rcu / float64(acts)
	n.rollupTimePerActivity = rolled.elapsed / time.Duration(acts)
	n.reportRRU, n.reportTime = read.rcu, read.elapsed
	n.pageBytes = len(page.Body)
	b.ReportMetric(float64(acts), "activities")
	b.ReportMetric(n.rollupRRUPerActivity, "rollup-rru/activity")
	b.ReportMetric(float64(n.rollupTimePerActivity.Microseconds()), "rollup-us/activity")
	b.ReportMetric(rolled.wcu/float64(days), "summary-wru/day")
	b.ReportMetric(n.reportRRU, "8w-report-rru")
	b.ReportMetric(float64(n.reportTime.Milliseconds()), "8w-report-ms")
	b.ReportMetric(float64(n.pageBytes)/1024, "page-KB")
	resultsReport = []string{
		fmt.Sprintf("  results: rollup of %d days holding %d activities: %.3f RRU and %v an activity, %.1f WRU a day's summary;",
			days, acts, n.rollupRRUPerActivity, n.rollupTimePerActivity.Round(time.Microsecond), rolled.wcu/float64(days)),
		fmt.Sprintf("  an 8-week report (and the 8 weeks before, for the changes) from the stored days: %.1f RRU, %v; the page %.0f KB.",
			n.reportRRU, n.reportTime.Round(time.Millisecond), float64(n.pageBytes)/1024),
		fmt.Sprintf("  At 100M activities a year (274,000 a day, 1M leads): a day's rollup ≈ %.0f RRU and %v; the report stays at %.0f RRU.",
			274000*n.rollupRRUPerActivity, (274000 * n.rollupTimePerActivity).Round(time.Second), n.reportRRU),
	}
}

var resultsReport []string
