package nurture

import (
	"fmt"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/program"
)

// Window is when nurture mail may go out: business days and hours in the
// lead's time zone, never on a no-send date there (a holiday), and never
// sooner after a lead's previous email than the program's frequency cap,
// so a step never lands at 3 a.m., on a Sunday, on Christmas Day or on the
// heels of another track's email.
type Window struct {
	days       [7]bool
	start, end time.Duration // since local midnight
	loc        *time.Location
	// cap is the least time between two emails to one lead.
	cap time.Duration
	// offDays are the no-send dates; year 0 is every year.
	offDays map[civilDate]bool
}

type civilDate struct {
	year  int
	month time.Month
	day   int
}

var weekdays = map[string]time.Weekday{
	"sun": time.Sunday, "mon": time.Monday, "tue": time.Tuesday, "wed": time.Wednesday,
	"thu": time.Thursday, "fri": time.Friday, "sat": time.Saturday,
}

// NewWindow builds the program's send window. The program validator checks
// the same fields; this repeats the checks so a Window is never half-built.
func NewWindow(s program.Schedule) (Window, error) {
	var w Window
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return w, fmt.Errorf("schedule time zone %q: %w", s.TimeZone, err)
	}
	w.loc = loc
	for _, d := range s.Days {
		wd, ok := weekdays[strings.ToLower(d)]
		if !ok {
			return w, fmt.Errorf("schedule day %q: want mon, tue, wed, thu, fri, sat or sun", d)
		}
		w.days[wd] = true
	}
	if w.start, err = clockTime(s.Start); err != nil {
		return w, err
	}
	if w.end, err = clockTime(s.End); err != nil {
		return w, err
	}
	if w.end <= w.start {
		return w, fmt.Errorf("schedule end %s must be after start %s", s.End, s.Start)
	}
	w.cap = max(s.FrequencyCap.Duration, 0)
	for _, d := range s.NoSendDates {
		y, m, day, err := program.ParseNoSendDate(d)
		if err != nil {
			return w, fmt.Errorf("schedule no-send date: %w", err)
		}
		if w.offDays == nil {
			w.offDays = map[civilDate]bool{}
		}
		w.offDays[civilDate{y, m, day}] = true
	}
	return w, nil
}

func clockTime(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("schedule time %q: want HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// maxSearchDays bounds the search for an open day: a year and a week
// covers any list of holidays the validator lets through.
const maxSearchDays = 372

// Next returns the first moment at or after t inside the window, in the
// given zone (the program's zone when zone is empty or unknown): a
// business day that is no no-send date there, within business hours.
func (w Window) Next(t time.Time, zone string) time.Time {
	if w.loc == nil {
		return t.UTC() // no window configured: any time will do
	}
	loc := w.loc
	if zone != "" {
		if l, err := time.LoadLocation(zone); err == nil {
			loc = l
		}
	}
	local := t.In(loc)
	for d := 0; d < maxSearchDays; d++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+d, 0, 0, 0, 0, loc)
		if !w.days[day.Weekday()] || w.off(day) {
			continue
		}
		// Adding hours to a date built in loc keeps daylight-saving days right.
		start := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc).Add(w.start)
		end := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc).Add(w.end)
		if local.Before(start) {
			return start.UTC()
		}
		if local.Before(end) {
			return t.UTC()
		}
	}
	// No allowed day at all cannot pass validation; fall back to t.
	return t.UTC()
}

// off reports whether a local day is a no-send date.
func (w Window) off(day time.Time) bool {
	return w.offDays[civilDate{day.Year(), day.Month(), day.Day()}] || w.offDays[civilDate{0, day.Month(), day.Day()}]
}

// Following is when an email that waits wait after from may go out: inside
// the window, and no sooner than the frequency cap after lastSent, the
// lead's latest email (zero when there was none).
func (w Window) Following(from time.Time, wait time.Duration, lastSent time.Time, zone string) time.Time {
	t := from.Add(wait)
	if !lastSent.IsZero() && t.Before(lastSent.Add(w.cap)) {
		t = lastSent.Add(w.cap)
	}
	return w.Next(t, zone)
}
