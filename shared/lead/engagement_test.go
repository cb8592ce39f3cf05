package lead

import (
	"testing"
	"time"
)

func TestSoftBounce_stopsMailAfterTheLimitInARow_aDeliveryBetweenResets(t *testing.T) {
	t0 := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return t0.Add(time.Duration(n) * 24 * time.Hour) }
	type event struct {
		bounce bool
		at     time.Time
	}
	tests := []struct {
		name   string
		events []event
		want   bool // suppressed
	}{
		{"two soft bounces are not three", []event{{true, day(1)}, {true, day(8)}}, false},
		{"three in a row", []event{{true, day(1)}, {true, day(8)}, {true, day(15)}}, true},
		{"a delivery between", []event{{true, day(1)}, {true, day(8)}, {false, day(10)}, {true, day(15)}}, false},
		{"three after a delivery", []event{{false, day(0)}, {true, day(1)}, {true, day(8)}, {true, day(15)}}, true},
		// SES's events arrive in any order: what counts is when each happened.
		{"the delivery between arrives after later bounces", []event{{true, day(1)}, {true, day(12)}, {false, day(10)}, {true, day(15)}}, false},
		{"bounces older than a delivery arrive after it", []event{{false, day(20)}, {true, day(1)}, {true, day(8)}, {true, day(15)}}, false},
		{"in reverse", []event{{true, day(15)}, {true, day(8)}, {true, day(1)}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Lead{ID: "k7m2q4x9r1t8w3y6z5a0b2c4"}
			l.Nurture.Enrol("cloud-cost", t0)
			for _, e := range tt.events {
				if e.bounce {
					l.SoftBounce(e.at, 3)
				} else {
					l.Delivered(e.at)
				}
			}
			if got := l.Suppression != nil; got != tt.want {
				t.Fatalf("suppressed = %v (%+v), want %v; soft bounces %v", got, l.Suppression, tt.want, l.SoftBounces)
			}
			if tt.want && (l.Suppression.Reason != SuppressedSoftBounced || l.Nurture.Status != NurtureStopped) {
				t.Fatalf("suppression %+v, nurture %+v", l.Suppression, l.Nurture)
			}
			if len(l.SoftBounces) > 3 {
				t.Fatalf("keeps %d soft bounces, never needs more than the limit", len(l.SoftBounces))
			}
		})
	}
}
