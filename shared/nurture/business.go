package nurture

import (
	"time"

	"github.com/leadnurture/nurture/shared/program"
)

// Business time is the send window's time: the schedule's days and hours,
// no-send dates left out. Sales' SLA counts it, in the owner's zone, so an
// alert that arrives on Friday evening is not overdue on Monday morning.

// Day is how long the window is open on a business day.
func (w Window) Day() time.Duration { return w.end - w.start }

// AddBusiness returns the moment d of business time after t, in the given
// zone (the program's when empty or unknown): time outside the window does
// not count, and d's days are whole window-days. Without a window (a zero
// Window) it is plain time, a day being 24 hours.
func (w Window) AddBusiness(t time.Time, d program.BusinessDuration, zone string) time.Time {
	if w.loc == nil || w.Day() <= 0 {
		return t.Add(d.In(24 * time.Hour)).UTC()
	}
	left := d.In(w.Day())
	loc := w.zone(zone)
	cur := t.In(loc)
	for i := 0; i < maxBusinessDays(left, w.Day()); i++ {
		day := time.Date(cur.Year(), cur.Month(), cur.Day(), 0, 0, 0, 0, loc)
		if w.days[day.Weekday()] && !w.off(day) {
			start, end := day.Add(w.start), day.Add(w.end)
			if cur.Before(start) {
				cur = start
			}
			if cur.Before(end) {
				if open := end.Sub(cur); left <= open {
					return cur.Add(left).UTC()
				} else {
					left -= open
				}
			}
		}
		cur = time.Date(cur.Year(), cur.Month(), cur.Day()+1, 0, 0, 0, 0, loc)
	}
	// A window with no open day cannot pass validation.
	return t.Add(d.In(24 * time.Hour)).UTC()
}

// maxBusinessDays bounds the walk: the days d needs, and a year and a week
// of closed days besides.
func maxBusinessDays(left, day time.Duration) int {
	return int(left/day) + 1 + maxSearchDays
}

// Open reports whether t is inside the window in the given zone.
func (w Window) Open(t time.Time, zone string) bool {
	return w.Next(t, zone).Equal(t.UTC())
}

// zone is the location of a zone name, the program's when empty or unknown.
func (w Window) zone(name string) *time.Location {
	if name != "" {
		if l, err := time.LoadLocation(name); err == nil {
			return l
		}
	}
	return w.loc
}
