package nurture

import (
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/program"
)

func TestWindowAddBusiness_countsOnlyTheWindowsHours(t *testing.T) {
	w, err := NewWindow(program.Schedule{TimeZone: "Europe/Berlin", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00",
		NoSendDates: []string{"12-25"}})
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")
	at := func(loc *time.Location, m time.Month, d, h, min int) time.Time {
		return time.Date(2026, m, d, h, min, 0, 0, loc)
	}
	hours := func(h int) program.BusinessDuration {
		return program.BusinessDuration{Time: time.Duration(h) * time.Hour}
	}
	days := func(n int) program.BusinessDuration { return program.BusinessDuration{Days: n} }
	tests := []struct {
		name string
		from time.Time
		d    program.BusinessDuration
		zone string
		want time.Time
	}{
		{"within the day", at(berlin, 12, 1, 10, 0), hours(4), "", at(berlin, 12, 1, 14, 0)},
		{"ending exactly at closing", at(berlin, 12, 1, 13, 0), hours(4), "", at(berlin, 12, 1, 17, 0)},
		{"over the night", at(berlin, 12, 1, 16, 0), hours(4), "", at(berlin, 12, 2, 12, 0)},
		{"over the weekend", at(berlin, 12, 4, 15, 0), hours(4), "", at(berlin, 12, 7, 11, 0)},
		{"from the night, counting from the opening", at(berlin, 12, 1, 22, 0), hours(4), "", at(berlin, 12, 2, 13, 0)},
		{"from saturday", at(berlin, 12, 5, 12, 0), hours(4), "", at(berlin, 12, 7, 13, 0)},
		{"a business day is the same time next business day", at(berlin, 12, 1, 16, 0), days(1), "", at(berlin, 12, 2, 16, 0)},
		{"a business day from friday is monday", at(berlin, 12, 4, 10, 0), days(1), "", at(berlin, 12, 7, 10, 0)},
		{"a no-send date is no business day", at(berlin, 12, 24, 10, 0), days(1), "", at(berlin, 12, 28, 10, 0)},
		{"one day and four hours", at(berlin, 12, 1, 10, 0), program.BusinessDuration{Days: 1, Time: 4 * time.Hour}, "", at(berlin, 12, 2, 14, 0)},
		{"in the owner's zone", at(berlin, 12, 1, 10, 0), hours(4), "America/New_York", at(ny, 12, 1, 13, 0)},
		{"across the change to summer time", at(berlin, 3, 27, 15, 0), hours(4), "", at(berlin, 3, 30, 11, 0)},
		{"nothing", at(berlin, 12, 1, 22, 0), program.BusinessDuration{}, "", at(berlin, 12, 2, 9, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := w.AddBusiness(tt.from, tt.d, tt.zone); !got.Equal(tt.want) {
				t.Fatalf("AddBusiness(%v, %s) = %v, want %v", tt.from, tt.d, got.In(berlin), tt.want.In(berlin))
			}
		})
	}
}

func TestWindowAddBusiness_withoutAWindow_isPlainTime(t *testing.T) {
	from := time.Date(2026, 12, 5, 22, 0, 0, 0, time.UTC)
	if got := (Window{}).AddBusiness(from, program.BusinessDuration{Days: 1, Time: time.Hour}, ""); !got.Equal(from.Add(25 * time.Hour)) {
		t.Fatalf("got %v", got)
	}
}

func TestWindowOpen(t *testing.T) {
	w, err := NewWindow(program.Schedule{TimeZone: "Europe/Berlin", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"})
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	for when, want := range map[time.Time]bool{
		time.Date(2026, 12, 1, 9, 0, 0, 0, berlin):   true,
		time.Date(2026, 12, 1, 16, 59, 0, 0, berlin): true,
		time.Date(2026, 12, 1, 17, 0, 0, 0, berlin):  false,
		time.Date(2026, 12, 1, 8, 59, 0, 0, berlin):  false,
		time.Date(2026, 12, 5, 12, 0, 0, 0, berlin):  false, // Saturday
	} {
		if got := w.Open(when, ""); got != want {
			t.Errorf("Open(%v) = %v, want %v", when, got, want)
		}
	}
}
