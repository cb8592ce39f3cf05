package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// Journal is what the rollup reads: the activities of a span, found
// through the store's day index (never a scan), the leads they belong to,
// and one lead's activities.
type Journal interface {
	// JournalBetween returns the activities with a time in [from, to),
	// each with its lead's id.
	JournalBetween(ctx context.Context, from, to time.Time) ([]Entry, error)
	// LeadsByID reads leads; an id with no lead is left out.
	LeadsByID(ctx context.Context, ids []string) (map[string]*lead.Lead, error)
	Activities(ctx context.Context, leadID string, now time.Time) ([]lead.Activity, error)
}

// Shelf keeps the summaries the rollup built: one an hour, and one a day
// once the day is over.
type Shelf interface {
	PutSummary(ctx context.Context, s Summary, span Span) error
	// DaySummaries returns the day summaries stored for the days (their
	// starts), by day start.
	DaySummaries(ctx context.Context, days []time.Time) (map[time.Time]Summary, error)
	// HourSummaries returns the hour summaries stored for one day.
	HourSummaries(ctx context.Context, day time.Time) ([]Summary, error)
}

// Span says what a summary covers.
type Span string

// Spans of summaries.
const (
	SpanHour Span = "hour"
	SpanDay  Span = "day"
)

// Rollup builds summaries from the journal and reads them back for a
// report. Every summary is rebuilt whole from its span's activities, so a
// re-run replaces it with the same numbers; none is ever added to.
type Rollup struct {
	Program *program.Program
	Journal Journal
	Shelf   Shelf
	Log     *slog.Logger
}

// DayGrace is how long after midnight the previous day's summary waits:
// SES reports opens and clicks, and retries its events, a little late.
const DayGrace = time.Hour

// Run is the scheduled rollup at now: the hour before and this hour are
// rebuilt, and once DayGrace into a day, yesterday's day summary is built
// if it is not there yet.
func (r *Rollup) Run(ctx context.Context, now time.Time) error {
	hour := now.UTC().Truncate(time.Hour)
	var errs []error
	for _, h := range []time.Time{hour.Add(-time.Hour), hour} {
		if err := r.RebuildHour(ctx, h, now); err != nil {
			errs = append(errs, err)
		}
	}
	today := Day(now)
	if now.Sub(today) >= DayGrace {
		yesterday := today.AddDate(0, 0, -1)
		have, err := r.Shelf.DaySummaries(ctx, []time.Time{yesterday})
		if err != nil {
			errs = append(errs, err)
		} else if s, ok := have[yesterday]; !ok || s.Built.Before(s.End) {
			errs = append(errs, r.RebuildDay(ctx, yesterday, now))
		}
	}
	return errors.Join(errs...)
}

// RebuildHour rebuilds the summary of the hour starting at start.
func (r *Rollup) RebuildHour(ctx context.Context, start, now time.Time) error {
	s, err := r.Build(ctx, start, start.Add(time.Hour), now)
	if err != nil {
		return err
	}
	if err := r.Shelf.PutSummary(ctx, s, SpanHour); err != nil {
		return fmt.Errorf("store summary of hour %s: %w", start.Format(time.RFC3339), err)
	}
	return nil
}

// RebuildDay rebuilds the summary of the day starting at day from that
// day's activities: a re-run gives the same numbers.
func (r *Rollup) RebuildDay(ctx context.Context, day, now time.Time) error {
	day = Day(day)
	s, err := r.Build(ctx, day, day.AddDate(0, 0, 1), now)
	if err != nil {
		return err
	}
	if err := r.Shelf.PutSummary(ctx, s, SpanDay); err != nil {
		return fmt.Errorf("store summary of day %s: %w", day.Format(DateLayout), err)
	}
	if r.Log != nil {
		r.Log.Info("day rolled up", "day", day.Format(DateLayout), "captured", s.Total(Captured), "mailed", s.Total(Mailed))
	}
	return nil
}

// Build summarises [start, end) from the journal as it is at now: the
// activities, their leads, and for each sales alert what the lead engaged
// with before it.
func (r *Rollup) Build(ctx context.Context, start, end, now time.Time) (Summary, error) {
	// What happened at now counts: the span ends just after it.
	if limit := now.Add(time.Nanosecond); end.After(limit) {
		end = limit
	}
	if !start.Before(end) {
		return Summary{Start: start.UTC(), End: start.UTC(), Built: now.UTC(), Counts: map[string]int{}}, nil
	}
	entries, err := r.Journal.JournalBetween(ctx, start, end)
	if err != nil {
		return Summary{}, fmt.Errorf("read the journal from %s: %w", start.Format(time.RFC3339), err)
	}
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.LeadID)
	}
	slices.Sort(ids)
	leads, err := r.Journal.LeadsByID(ctx, slices.Compact(ids))
	if err != nil {
		return Summary{}, fmt.Errorf("read the journal's leads: %w", err)
	}
	for i := range entries {
		e := &entries[i]
		e.Lead = leads[e.LeadID]
		if e.Act.Kind == kindAlert && e.Act.Threshold != "" {
			if e.Engaged, err = r.engaged(ctx, e.LeadID, e.Act.At, now); err != nil {
				return Summary{}, err
			}
		}
	}
	return Build(r.Program, start, end, now, entries), nil
}

// engaged lists the assets the lead downloaded or clicked as a reader
// before at.
func (r *Rollup) engaged(ctx context.Context, leadID string, at, now time.Time) ([]string, error) {
	acts, err := r.Journal.Activities(ctx, leadID, now)
	if err != nil {
		return nil, fmt.Errorf("read activities of lead %s: %w", leadID, err)
	}
	var out []string
	for _, a := range acts {
		if a.At.After(at) || a.AssetID == "" {
			continue
		}
		if a.Kind == lead.KindDownload || (a.Kind == lead.KindClick && !a.Machine) {
			out = append(out, a.AssetID)
		}
	}
	return uniq(out), nil
}

// Read returns one summary a day of the period, as of now: a day's stored
// summary when complete, else its complete hours and, live from the
// journal, the rest of it up to now. Days after now are empty. So a report
// is exact whenever it is read, and costs the journal's reads only for
// what the rollup has not summarised yet.
func (r *Rollup) Read(ctx context.Context, per Period, now time.Time) ([]Summary, error) {
	var days []time.Time
	for d := per.From; d.Before(per.To); d = d.AddDate(0, 0, 1) {
		days = append(days, d)
	}
	stored, err := r.Shelf.DaySummaries(ctx, days)
	if err != nil {
		return nil, fmt.Errorf("read day summaries: %w", err)
	}
	out := make([]Summary, 0, len(days))
	for _, d := range days {
		end := d.AddDate(0, 0, 1)
		if s, ok := stored[d]; ok && !s.Built.Before(s.End) {
			out = append(out, s)
			continue
		}
		if !d.Before(now) {
			out = append(out, Summary{Start: d, End: end, Counts: map[string]int{}})
			continue
		}
		s, err := r.readDay(ctx, d, now)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// readDay is a day from its complete hour summaries and, live, the rest.
func (r *Rollup) readDay(ctx context.Context, day, now time.Time) (Summary, error) {
	hours, err := r.Shelf.HourSummaries(ctx, day)
	if err != nil {
		return Summary{}, fmt.Errorf("read hour summaries of %s: %w", day.Format(DateLayout), err)
	}
	complete := map[time.Time]Summary{}
	for _, h := range hours {
		if !h.Built.Before(h.End) && h.End.Sub(h.Start) == time.Hour {
			complete[h.Start] = h
		}
	}
	parts := []Summary{{Start: day, End: day, Counts: map[string]int{}}}
	h := day
	for ; h.Before(day.AddDate(0, 0, 1)); h = h.Add(time.Hour) {
		s, ok := complete[h]
		if !ok {
			break
		}
		parts = append(parts, s)
	}
	if h.Before(day.AddDate(0, 0, 1)) && h.Before(now) {
		live, err := r.Build(ctx, h, day.AddDate(0, 0, 1), now)
		if err != nil {
			return Summary{}, err
		}
		parts = append(parts, live)
	}
	s := Merge(parts...)
	s.Start, s.End = day, day.AddDate(0, 0, 1)
	return s, nil
}
