package lead

import (
	"testing"
	"time"
)

// The form's script sends the browser's time at render and at submit; the
// server's receive time comes from API Gateway.
func TestLooksLikeBot_fillTime_skewProof(t *testing.T) {
	received := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	ms := func(d time.Duration) time.Time { return received.Add(d) }
	tests := []struct {
		name string
		s    Submission
		bot  bool
	}{
		{"no times (plain HTML): no timing check", Submission{}, false},
		{"human, browser clock right", Submission{RenderedAt: ms(-40 * time.Second), SubmittedAt: ms(-50 * time.Millisecond)}, false},
		{"bot, browser clock right", Submission{RenderedAt: ms(-600 * time.Millisecond), SubmittedAt: ms(-100 * time.Millisecond)}, true},
		// A browser five minutes behind: render time to receive time
		// would look like five minutes, its own two times tell 0.8 s.
		{"bot, browser clock 5 min behind", Submission{RenderedAt: ms(-5*time.Minute - 800*time.Millisecond), SubmittedAt: ms(-5 * time.Minute)}, true},
		// A browser five minutes ahead: render time is "in the future" to
		// the server, its own two times tell 30 s.
		{"human, browser clock 5 min ahead", Submission{RenderedAt: ms(5*time.Minute - 30*time.Second), SubmittedAt: ms(5 * time.Minute)}, false},
		{"bot, browser clock 5 min ahead", Submission{RenderedAt: ms(5*time.Minute - time.Second), SubmittedAt: ms(5 * time.Minute)}, true},
		{"exactly the minimum is a human", Submission{RenderedAt: ms(-DefaultMinFillTime), SubmittedAt: received}, false},
		// Without the script's submit time the server's receive time ends
		// the interval, as before.
		{"render time only, fast", Submission{RenderedAt: ms(-300 * time.Millisecond)}, true},
		{"render time only, slow", Submission{RenderedAt: ms(-45 * time.Second)}, false},
		{"render time only, in the future (skew)", Submission{RenderedAt: ms(time.Minute)}, false},
		{"submit before render (clock moved)", Submission{RenderedAt: ms(-time.Second), SubmittedAt: ms(-10 * time.Second)}, false},
		{"submit time without render time", Submission{SubmittedAt: received}, false},
		{"honeypot filled in", Submission{Honeypot: "http://spam.example", RenderedAt: ms(-time.Minute), SubmittedAt: received}, true},
		{"honeypot only spaces", Submission{Honeypot: "  "}, false},
	}
	c := &Capturer{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.s.ReceivedAt = received
			if got := c.looksLikeBot(tt.s); got != tt.bot {
				took, ok := tt.s.FillTime()
				t.Errorf("looksLikeBot = %v, want %v (fill time %v, known %v)", got, tt.bot, took, ok)
			}
		})
	}
}

func TestLooksLikeBot_programsMinimumFillTime(t *testing.T) {
	received := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	s := Submission{RenderedAt: received.Add(-4 * time.Second), SubmittedAt: received, ReceivedAt: received}
	if (&Capturer{}).looksLikeBot(s) {
		t.Error("4 s is a human with the default minimum of 2 s")
	}
	if !(&Capturer{MinFillTime: 5 * time.Second}).looksLikeBot(s) {
		t.Error("4 s is a bot with a minimum of 5 s")
	}
}
