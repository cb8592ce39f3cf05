package nurture

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// No-send dates are days in the lead's own zone: Christmas Eve in New York
// starts five hours after it does in Berlin.
func TestWindowNext_skipsNoSendDatesInTheLeadsZone(t *testing.T) {
	w, err := NewWindow(program.Schedule{TimeZone: "Europe/Berlin", Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00",
		NoSendDates: []string{"12-24", "12-25", "2026-12-28"}})
	if err != nil {
		t.Fatal(err)
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	ny, _ := time.LoadLocation("America/New_York")
	for _, tc := range []struct {
		name string
		t    time.Time
		zone string
		want time.Time
	}{
		{"the day before stays", time.Date(2026, 12, 23, 10, 0, 0, 0, berlin), "", time.Date(2026, 12, 23, 10, 0, 0, 0, berlin)},
		{"Christmas Eve (Thu) to Tuesday: Friday is Christmas, Monday a one-year date", time.Date(2026, 12, 24, 10, 0, 0, 0, berlin), "", time.Date(2026, 12, 29, 9, 0, 0, 0, berlin)},
		{"evening of the 23rd in Berlin, to the 29th", time.Date(2026, 12, 23, 18, 0, 0, 0, berlin), "", time.Date(2026, 12, 29, 9, 0, 0, 0, berlin)},
		{"same moment in New York: still the 23rd, inside the window", time.Date(2026, 12, 23, 18, 0, 0, 0, berlin), "America/New_York", time.Date(2026, 12, 23, 12, 0, 0, 0, ny)},
		{"New York evening of the 23rd, to the 29th there", time.Date(2026, 12, 23, 18, 0, 0, 0, ny), "America/New_York", time.Date(2026, 12, 29, 9, 0, 0, 0, ny)},
		{"every year's dates recur", time.Date(2027, 12, 24, 10, 0, 0, 0, berlin), "", time.Date(2027, 12, 27, 9, 0, 0, 0, berlin)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := w.Next(tc.t, tc.zone); !got.Equal(tc.want) {
				t.Errorf("Next(%v, %q) = %v, want %v", tc.t, tc.zone, got.In(berlin), tc.want.In(berlin))
			}
		})
	}
}

// The frequency cap counts from the lead's latest email, whatever its
// track: a shorter wait waits for the cap, a longer one is kept.
func TestWindowFollowing_neverWithinTheCapOfTheLatestEmail(t *testing.T) {
	w, err := NewWindow(program.Schedule{TimeZone: "UTC", Days: []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}, Start: "00:00", End: "23:59",
		FrequencyCap: program.Duration{Duration: 5 * 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, tc := range []struct {
		name     string
		from     time.Time
		wait     time.Duration
		lastSent time.Time
		want     time.Time
	}{
		{"no email yet: the wait", t0, 2 * day, time.Time{}, t0.Add(2 * day)},
		{"a 2-day wait after an email: the cap", t0, 2 * day, t0, t0.Add(5 * day)},
		{"a 7-day wait: the wait", t0, 7 * day, t0, t0.Add(7 * day)},
		{"an email long ago: the wait", t0, 0, t0.Add(-30 * day), t0},
		{"an email 3 days ago: 2 days more", t0, 0, t0.Add(-3 * day), t0.Add(2 * day)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := w.Following(tc.from, tc.wait, tc.lastSent, ""); !got.Equal(tc.want) {
				t.Errorf("Following = %v, want %v", got, tc.want)
			}
		})
	}
}

// A step that falls due on a no-send date in the lead's zone moves to the
// next day mail may go out there.
func TestScheduler_dueOnANoSendDate_waitsForTheNextOpenDayInTheLeadsZone(t *testing.T) {
	w := newWorld(t)
	ny, _ := time.LoadLocation("America/New_York")
	id := w.capture("christmas", 0, nil)
	christmasEve := time.Date(2026, 12, 24, 10, 0, 0, 0, ny)
	if _, err := w.store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
		l.TimeZone = "America/New_York"
		l.Nurture.Schedule(christmasEve.Add(-time.Hour))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w.clock.Set(christmasEve)
	if rep := w.tick(); rep.Sent != 0 || rep.Rescheduled != 1 {
		t.Fatalf("Christmas Eve in New York: %+v, want the step moved", rep)
	}
	// The 25th and 26th are no-send dates, the 26th and 27th a weekend.
	monday := time.Date(2026, 12, 28, 9, 0, 0, 0, ny)
	if due := w.lead(id).Nurture.DueAt; !due.Equal(monday) {
		t.Fatalf("moved to %v, want %v", due.In(ny), monday)
	}
	w.clock.Set(monday)
	if rep := w.tick(); rep.Sent != 1 {
		t.Fatalf("Monday the 28th: %+v", rep)
	}
}

// A program change that removes the track a lead is in moves the lead on
// to its next place (here evergreen) at its next due time: nurture goes on,
// never an error or a lead stuck in a loop.
func TestScheduler_currentTrackRemovedFromTheProgram_leadMovesOn(t *testing.T) {
	w := newWorld(t)
	id := w.capture("orphan", 0, nil)
	w.clock.Set(w.lead(id).Nurture.DueAt)
	if rep := w.tick(); rep.Sent != 1 {
		t.Fatalf("step 1: %+v", rep)
	}
	w.change(func(p *program.Program) {
		p.Tracks = slices.DeleteFunc(slices.Clone(p.Tracks), func(t program.Track) bool { return t.ID == "cloud-cost-track" })
	})
	w.clock.Set(w.lead(id).Nurture.DueAt)
	if rep := w.tick(); rep.Sent != 1 || rep.Failed != 0 {
		t.Fatalf("after the track left the program: %+v, want the next email sent", rep)
	}
	l := w.lead(id)
	if n := l.Nurture; n.Track != program.EvergreenTrack || n.Status != lead.NurtureActive || !n.Due() || n.Sent[len(n.Sent)-1].Track != program.EvergreenTrack {
		t.Fatalf("after the track left the program: %+v, want evergreen", n)
	}
}

// The lead a re-engagement email failed for (SES throttled it) is not
// waiting for an answer: the next tick asks again, and no lead goes
// dormant for an email it never got.
func TestScheduler_reengagementThrottled_askedAgainNotDormant(t *testing.T) {
	w := newWorld(t)
	id := w.capture("quiet", 0, nil)
	silent := w.clock.Now().Add(w.prog.Reengage.After.Duration + 24*time.Hour)
	if _, err := w.store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
		l.Nurture.Schedule(silent)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w.clock.Set(w.sched.Window.Next(silent, ""))
	real := w.sched.Mailer
	w.sched.Mailer = throttledMailer{}
	if rep := w.tick(); rep.Deferred != 1 {
		t.Fatalf("throttled: %+v", rep)
	}
	if n := w.lead(id).Nurture; !n.AskedAt.IsZero() || !n.Due() || n.DueAt.After(w.clock.Now()) || n.Emails != 0 {
		t.Fatalf("after SES refused the re-engagement email: %+v, want it due again, not asked", n)
	}
	w.sched.Mailer = real
	if rep := w.tick(); rep.Sent != 1 {
		t.Fatalf("the next tick: %+v", rep)
	}
	if n := w.lead(id).Nurture; n.AskedAt.IsZero() || n.Sent[0].Track != program.ReengageTrack || len(w.mailTo("quiet")) != 1 {
		t.Fatalf("after asking: %+v", n)
	}
}

// Lifelong nurture adds no write to a send: an evergreen email, a
// re-engagement email and the move to the next track are each the one
// claim write (the lead under 1 KB, 1 unit) plus the due index moving (2),
// and going dormant is the lead's write and the index entry's removal.
func TestScheduler_lifelongSends_costThreeWriteUnits(t *testing.T) {
	w := newWorld(t)
	track, _ := w.prog.Track("cloud-cost-track")
	last := len(track.Steps) - 1
	type scene struct {
		name  string
		set   func(l *lead.Lead, now time.Time)
		units float64
		rep   func(r Report) bool
	}
	sent := func(r Report) bool { return r.Sent == 1 }
	for i, sc := range []scene{
		{"the last step, moving on", func(l *lead.Lead, now time.Time) {
			l.Nurture.NextStep = last
		}, 3, sent},
		{"the first step of the next track", func(l *lead.Lead, now time.Time) {
			l.Engage(now, "reliability")
			l.Nurture.NextStep = len(track.Steps)
		}, 3, sent},
		{"an evergreen email", func(l *lead.Lead, now time.Time) {
			l.Nurture.MoveOn(program.EvergreenTrack, now)
		}, 3, sent},
		{"an email asking what would help", func(l *lead.Lead, now time.Time) {
			l.Nurture.Emails = w.prog.Voice.AskEvery
			l.Nurture.NextStep = 3
		}, 3, sent},
		{"a wish: the wanted track's first email", func(l *lead.Lead, now time.Time) {
			l.Nurture.NextStep = 3
			l.Want(w.prog, "reliability", now)
			l.Rate("cloud-bill-explained", false)
		}, 3, sent},
		{"the re-engagement email", func(l *lead.Lead, now time.Time) {
			l.EngagedAt, l.CreatedAt = now.Add(-w.prog.Reengage.After.Duration), now.Add(-w.prog.Reengage.After.Duration)
		}, 3, sent},
		{"going dormant", func(l *lead.Lead, now time.Time) {
			l.EngagedAt, l.CreatedAt = now.Add(-120*24*time.Hour), now.Add(-120*24*time.Hour)
			l.Nurture.Ask(lead.SentStep{Track: program.ReengageTrack, At: now.Add(-15 * 24 * time.Hour)}, now.Add(-time.Hour))
		}, 2, func(r Report) bool { return r.Dormant == 1 }},
	} {
		t.Run(sc.name, func(t *testing.T) {
			id := w.capture(fmt.Sprintf("cost-%d", i), 0, nil)
			now := w.clock.Now()
			if _, err := w.store.UpdateLead(context.Background(), id, func(l *lead.Lead, _ bool) error {
				sc.set(l, now)
				l.Nurture.Schedule(now.Add(-time.Minute))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			before := w.store.Usage().Write()
			if rep := w.tick(); !sc.rep(rep) {
				t.Fatalf("tick: %+v", rep)
			}
			if got := w.store.Usage().Write() - before; got != sc.units {
				t.Errorf("%s cost %v write units, want %v", sc.name, got, sc.units)
			}
		})
	}
}
