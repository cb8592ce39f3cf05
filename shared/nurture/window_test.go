package nurture

import (
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/program"
)

func TestWindowNext(t *testing.T) {
	w, err := NewWindow(program.Schedule{TimeZone: "Europe/Berlin", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"})
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")
	at := func(loc *time.Location, y int, m time.Month, d, h, min int) time.Time {
		return time.Date(y, m, d, h, min, 0, 0, loc)
	}
	tests := []struct {
		name string
		t    time.Time
		zone string
		want time.Time
	}{
		{"inside the window stays", at(berlin, 2026, 11, 25, 10, 30), "", at(berlin, 2026, 11, 25, 10, 30)},
		{"before opening waits for 9:00", at(berlin, 2026, 11, 25, 6, 0), "", at(berlin, 2026, 11, 25, 9, 0)},
		{"after closing moves to next morning", at(berlin, 2026, 11, 25, 17, 0), "", at(berlin, 2026, 11, 26, 9, 0)},
		{"friday evening moves to monday", at(berlin, 2026, 11, 27, 18, 0), "", at(berlin, 2026, 11, 30, 9, 0)},
		{"saturday moves to monday", at(berlin, 2026, 11, 28, 12, 0), "", at(berlin, 2026, 11, 30, 9, 0)},
		{"lead zone wins over the program's", at(berlin, 2026, 11, 25, 10, 0), "America/New_York", at(ny, 2026, 11, 25, 9, 0)},
		{"unknown zone falls back to the program's", at(berlin, 2026, 11, 25, 6, 0), "Mars/Olympus", at(berlin, 2026, 11, 25, 9, 0)},
		{"daylight saving change day", at(berlin, 2026, 3, 30, 7, 0), "", at(berlin, 2026, 3, 30, 9, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := w.Next(tt.t, tt.zone)
			if !got.Equal(tt.want) {
				t.Fatalf("Next(%v) = %v, want %v", tt.t, got.In(berlin), tt.want.In(berlin))
			}
		})
	}
}

func TestNewWindow_rejectsNonsense(t *testing.T) {
	bad := []program.Schedule{
		{TimeZone: "Nowhere/City", Days: []string{"mon"}, Start: "09:00", End: "17:00"},
		{TimeZone: "UTC", Days: []string{"funday"}, Start: "09:00", End: "17:00"},
		{TimeZone: "UTC", Days: []string{"mon"}, Start: "9am", End: "17:00"},
		{TimeZone: "UTC", Days: []string{"mon"}, Start: "17:00", End: "09:00"},
	}
	for _, s := range bad {
		if _, err := NewWindow(s); err == nil {
			t.Errorf("NewWindow(%+v) accepted", s)
		}
	}
}
