package nurture

import (
	"fmt"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/program"
)

// Window is when nurture mail may go out: business days and hours in the
// lead's time zone, so a step never lands at 3 a.m. or on a Sunday.
type Window struct {
	days       [7]bool
	start, end time.Duration // since local midnight
	loc        *time.Location
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
	return w, nil
}

func clockTime(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("schedule time %q: want HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Next returns the first moment at or after t inside the window, in the
// given zone (the program's zone when zone is empty or unknown).
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
	for d := 0; d < 8; d++ {
		day := time.Date(local.Year(), local.Month(), local.Day()+d, 0, 0, 0, 0, loc)
		if !w.days[day.Weekday()] {
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
