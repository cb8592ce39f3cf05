package nurture

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// "Not really" on a whitepaper: the step that prefers whitepapers offers
// another format of its stage instead.
func TestPick_notUsefulWhitepaper_anotherFormatWinsTheStep(t *testing.T) {
	p, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	track, _ := p.Track("reliability-track")
	const step = 2 // consideration, formats [whitepaper, briefing]
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	l := &lead.Lead{Downloaded: []string{"downtime-cost-report"}, Topics: []string{"reliability"}}
	if c, ok := Pick(p, l, track, step, now); !ok || c.Asset.Format != "whitepaper" {
		t.Fatalf("before any rating the step offers %s (%s), want a whitepaper", c.Asset.ID, c.Asset.Format)
	}
	l.Rate("cloud-bill-explained", false) // an awareness whitepaper
	c, ok := Pick(p, l, track, step, now)
	if !ok || c.Asset.Format == "whitepaper" || c.Asset.Stage != "consideration" {
		t.Errorf("after a whitepaper was not useful the step offers %s (%s, %s), want another format of its stage", c.Asset.ID, c.Asset.Format, c.Asset.Stage)
	}
}

// In evergreen a muted topic's assets never come, and a format the lead
// found unhelpful comes after the others.
func TestPickEvergreen_mutedTopicNever_unhelpfulFormatLater(t *testing.T) {
	p, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC)
	l := &lead.Lead{Topics: []string{"cloud-cost", "reliability"}}
	first, _ := PickEvergreen(p, l, now)
	l.Rate("some-other-"+first.Asset.ID, false) // no such asset: changes nothing
	if again, _ := PickEvergreen(p, l, now); again.Asset.ID != first.Asset.ID {
		t.Fatalf("a mark of no asset changed the pick: %s, then %s", first.Asset.ID, again.Asset.ID)
	}
	l.Prefer(p, []string{"cloud-cost"}, false)
	for range 30 {
		c, ok := PickEvergreen(p, l, now)
		if !ok {
			break
		}
		if !containsTopic(c.Asset, "cloud-cost") {
			t.Fatalf("reliability is muted, yet evergreen offers %s (%v)", c.Asset.ID, c.Asset.Topics)
		}
		l.Nurture.Claim(lead.SentStep{Track: program.EvergreenTrack, AssetID: c.Asset.ID, At: now})
	}

	l = &lead.Lead{Topics: []string{"cloud-cost"}}
	first, _ = PickEvergreen(p, l, now)
	l.Rate(first.Asset.ID, false)
	l.Nurture.Claim(lead.SentStep{Track: program.EvergreenTrack, AssetID: first.Asset.ID, At: now})
	next, _ := PickEvergreen(p, l, now)
	if next.Asset.Format == first.Asset.Format {
		t.Errorf("after %s (%s) was not useful evergreen offers %s (%s)", first.Asset.ID, first.Asset.Format, next.Asset.ID, next.Asset.Format)
	}
}

func containsTopic(a program.Asset, topic string) bool {
	for _, t := range a.Topics {
		if t == topic {
			return true
		}
	}
	return false
}

// Every nurture email carries "Was this useful?" (two signed links) and
// the preference page; the first email from the third on without a
// profiling question also asks what would help, with a link per topic.
func TestScheduler_everyEmail_ratingAndPreferences_everyThirdAsksWhatHelps(t *testing.T) {
	w := newWorld(t)
	id := w.capture("voice", 0, nil)
	every := w.prog.Voice.AskEvery
	asked := 0
	for i := 1; i <= 8 && asked == 0; i++ {
		w.clock.Set(w.lead(id).Nurture.DueAt)
		if rep := w.tick(); rep.Sent != 1 {
			t.Fatalf("email %d: %+v", i, rep)
		}
		got := w.mailTo("voice")
		m := got[len(got)-1]
		for _, want := range []string{"Was this useful?\n- Yes: https://api.acme.example/r/", "- Not really: https://api.acme.example/r/", "Choose topics and how often: https://api.acme.example/p/"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("email %d lacks %q:\n%s", i, want, m.Text)
			}
		}
		if n := strings.Count(m.HTML, `<a ses:no-track href="https://api.acme.example/r/`); n != 2 {
			t.Errorf("email %d has %d rating links in HTML, want 2", i, n)
		}
		question := strings.Contains(m.Text, "https://api.acme.example/a/")
		if !strings.Contains(m.Text, w.prog.AskText()) {
			if i >= every && !question {
				t.Errorf("email %d is the first from the %dth on without a profiling question, yet does not ask what would help", i, every)
			}
			continue
		}
		asked = i
		if i < every || question {
			t.Errorf("email %d asks what would help (a profiling question too: %v)", i, question)
		}
		for _, topic := range w.prog.ChoosableTopics() {
			if !strings.Contains(m.Text, "- "+topic.Label+": https://api.acme.example/h/") {
				t.Errorf("the help question lacks the topic %q:\n%s", topic.Label, m.Text)
			}
		}
		if !strings.Contains(m.Text, "- Something else: https://api.acme.example/h/") {
			t.Errorf("the help question lacks something else:\n%s", m.Text)
		}
	}
	if asked == 0 {
		t.Fatal("no email asked what would help")
	}
	if l := w.lead(id); l.Voice.Asked != asked {
		t.Errorf("the lead remembers the ask in email %d, want %d", l.Voice.Asked, asked)
	}
}

// A lead that chose less often gets its emails twice the wait apart; one
// that wants another topic gets its track's first email next.
func TestScheduler_lessOftenAndAWish_steerTheNextEmail(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := w.capture("steer", 0, nil)
	w.clock.Set(w.lead(id).Nurture.DueAt)
	if rep := w.tick(); rep.Sent != 1 {
		t.Fatalf("email 1: %+v", rep)
	}
	first := w.clock.Now()
	if _, err := w.store.UpdateLead(ctx, id, func(l *lead.Lead, _ bool) error {
		l.Prefer(w.prog, []string{"cloud-cost", "reliability"}, true)
		_, _ = l.Want(w.prog, "reliability", first.Add(time.Hour))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	l := w.lead(id)
	if gap := l.Nurture.DueAt.Sub(first); gap < 14*24*time.Hour || gap > 15*24*time.Hour {
		t.Fatalf("less often: email 2 due %v after email 1, want 14 days (twice the step's wait)", gap)
	}
	w.clock.Set(l.Nurture.DueAt)
	if rep := w.tick(); rep.Sent != 1 {
		t.Fatalf("email 2: %+v", rep)
	}
	l = w.lead(id)
	sent := l.Nurture.Sent[len(l.Nurture.Sent)-1]
	if sent.Track != "reliability-track" || sent.Step != 0 {
		t.Errorf("email 2 is %s step %d, want the wanted reliability track's first", sent.Track, sent.Step)
	}
	track, _ := w.prog.Track("reliability-track")
	if gap := l.Nurture.DueAt.Sub(w.clock.Now()); gap < 2*track.Steps[1].Wait.Duration {
		t.Errorf("email 3 due %v after email 2, want at least twice the step's wait", gap)
	}
}
