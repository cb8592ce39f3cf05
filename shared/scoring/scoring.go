// Package scoring is the shared definition of a sales-ready lead, executed:
// points for what a lead does (decaying with a half-life) plus points for
// who they are, and the thresholds whose upward crossing alerts sales.
package scoring

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// Model scores leads by the program's scoring section.
type Model struct {
	prog     *program.Program
	halfLife time.Duration
}

// New returns the model of a program.
func New(p *program.Program) Model {
	hl := time.Duration(p.Scoring.HalfLifeDays * float64(24*time.Hour))
	return Model{prog: p, halfLife: hl}
}

// Value is the lead's score at t: fit plus activity points decayed to t.
// Every reader and writer computes it this way, so it is the same number
// whether shown in an alert, a page or used for a threshold.
func (m Model) Value(s lead.Score, t time.Time) float64 {
	return float64(s.Fit) + m.activityAt(s, t)
}

func (m Model) activityAt(s lead.Score, t time.Time) float64 {
	if s.At.IsZero() || m.halfLife <= 0 || !t.After(s.At) {
		return s.Activity
	}
	return s.Activity * math.Pow(0.5, float64(t.Sub(s.At))/float64(m.halfLife))
}

// ActivityPoints is what one activity is worth, and why. Machine opens and
// clicks are worth nothing: scanners and privacy proxies are not interest.
func (m Model) ActivityPoints(a lead.Activity) (int, string) {
	pts := m.prog.Scoring.Activities
	asset, _ := m.prog.Asset(a.AssetID)
	switch a.Kind {
	case lead.KindDownload:
		if a.Repeat {
			return 0, "" // posting a form again is not more interest
		}
		return pts.Download[asset.Stage], fmt.Sprintf("downloaded “%s” (%s)", asset.Title, asset.Stage)
	case lead.KindClick:
		if a.Machine || asset.ID == "" {
			return 0, ""
		}
		return pts.Click[asset.Stage], fmt.Sprintf("clicked “%s” (%s)", asset.Title, asset.Stage)
	case lead.KindOpen:
		if a.Machine {
			return 0, ""
		}
		return pts.Open, "opened a nurture email"
	case lead.KindAnswer:
		return pts.Answer, "answered " + strings.SplitN(a.Detail, "=", 2)[0]
	case lead.KindUnsubscribe:
		return pts.Unsubscribe, "unsubscribed"
	}
	return 0, ""
}

// FitPart is one part of a lead's fit.
type FitPart struct {
	Why    string // e.g. "industry finance", "free mail address"
	Points int
}

// Fit is who the lead is worth, part by part.
func (m Model) Fit(l *lead.Lead) (int, []FitPart) {
	total := 0
	var parts []FitPart
	fields := map[string]string{
		"industry": l.Industry, "companySize": l.CompanySize, "role": l.Role, "timeline": l.Timeline, "country": l.Country,
	}
	for _, field := range program.ProfileFields {
		v := fields[field]
		if p, ok := m.prog.Scoring.Fit[field][v]; ok && v != "" && p != 0 {
			total += p
			parts = append(parts, FitPart{Why: field + " " + v, Points: p})
		}
	}
	// The program's own questions carry their fit points on the answer.
	for _, q := range m.prog.Questions {
		if v := l.AnswerTo(q); q.Field == "" && v != "" {
			if o, _ := q.Option(v); o.Points != 0 {
				total += o.Points
				parts = append(parts, FitPart{Why: q.ID + " " + v, Points: o.Points})
			}
		}
	}
	if fm := m.prog.Scoring.FreeMail; fm.Points != 0 && l.Email != "" && slices.Contains(fm.Domains, lead.Domain(l.Email)) {
		total += fm.Points
		parts = append(parts, FitPart{Why: "free mail address", Points: fm.Points})
	}
	return total, parts
}

// Decay is the share of points earned at t that is left at now.
func (m Model) Decay(t, now time.Time) float64 {
	return m.activityAt(lead.Score{Activity: 1, At: t}, now)
}

// Apply adds an activity to the lead's score at its time, records in the
// activity what it changed (the ledger), and returns the thresholds it
// crossed upward. A crossing is recorded on the lead as a pending alert in
// the same write, so exactly one writer ever sees it.
func (m Model) Apply(l *lead.Lead, a *lead.Activity) []program.Threshold {
	at := a.At
	if at.Before(l.Score.At) {
		// Events arrive out of order; the score never runs backwards.
		at = l.Score.At
	}
	before := m.Value(l.Score, at)
	m.rearm(l, before)

	pts, why := m.ActivityPoints(*a)
	earned := pts
	pts += a.Adjust
	fit, fitParts := m.Fit(l)
	fitDelta := fit - l.Score.Fit
	l.Score.Activity = m.activityAt(l.Score, at) + float64(pts)
	l.Score.Fit = fit
	l.Score.At = at
	after := m.Value(l.Score, at)

	a.Earned = earned
	a.Points = round(float64(pts + fitDelta))
	a.ScoreAfter = round(after)
	a.Why = nil
	if earned != 0 {
		a.Why = append(a.Why, fmt.Sprintf("%+d %s", earned, why))
	}
	if a.Adjust != 0 {
		a.Why = append(a.Why, fmt.Sprintf("%+d earlier clicks were a scanner's", a.Adjust))
	}
	if fitDelta != 0 {
		names := make([]string, len(fitParts))
		for i, f := range fitParts {
			names[i] = f.Why
		}
		a.Why = append(a.Why, fmt.Sprintf("%+d fit (%s)", fitDelta, strings.Join(names, ", ")))
	}
	m.rearm(l, after)
	m.withdraw(l, a, after)
	return m.cross(l, a, after, at)
}

// SettleAfterEngagement is the default settle time (the program's
// scoring.settle): it holds back an alert whose crossing a click or an
// open caused, since a scanner's first click looks like a reader's until
// the next arrives. The crossing's write marks the lead for the settle's
// wake-up (lead.OutboxSettle), which the alerts function delays by the
// settle time (outbox.Settler); the scheduler's tick wakes it too.
const SettleAfterEngagement = program.DefaultSettle

// withdraw drops the alerts still waiting to go out whose threshold the
// score fell back below (the points of a scanner's burst taken back): no
// alert went out, so the threshold is armed again.
func (m Model) withdraw(l *lead.Lead, a *lead.Activity, score float64) {
	for _, t := range m.prog.Thresholds {
		if score >= float64(t.Score) {
			continue
		}
		n := len(l.PendingAlerts)
		l.PendingAlerts = slices.DeleteFunc(l.PendingAlerts, func(p lead.PendingAlert) bool {
			// Claimed or mailed, it may have gone out: it stands.
			return p.Threshold == t.Name && p.ClaimedUntil.IsZero() && !p.Mailed
		})
		if len(l.PendingAlerts) < n {
			l.Score.Disarmed = slices.DeleteFunc(l.Score.Disarmed, func(d string) bool { return d == t.Name })
			a.Why = append(a.Why, fmt.Sprintf("%s alert withdrawn: the score fell back below %d", t.Name, t.Score))
		}
	}
}

// rearm makes a threshold alert again once the score fell its margin below.
func (m Model) rearm(l *lead.Lead, score float64) {
	for _, t := range m.prog.Thresholds {
		if score < float64(t.Score-t.RearmMargin) {
			l.Score.Disarmed = slices.DeleteFunc(l.Score.Disarmed, func(n string) bool { return n == t.Name })
		}
	}
}

// cross records the thresholds the score is at or above and that are
// armed. A form post is anyone's who knows the address: the lead's own
// posts cross one threshold at most, once per form crossing period; a
// threshold they reach beyond that stays armed, so the reader's next click
// or answer alerts it.
func (m Model) cross(l *lead.Lead, a *lead.Activity, score float64, at time.Time) []program.Threshold {
	var crossed []program.Threshold
	if l.Unconfirmed() {
		// Nobody confirmed the address yet: the points count, the
		// thresholds stay armed, and the confirmation crosses them.
		for _, t := range m.prog.Thresholds {
			if score >= float64(t.Score) && !slices.Contains(l.Score.Disarmed, t.Name) {
				a.Why = append(a.Why, fmt.Sprintf("%s not alerted: the address is not confirmed yet", t.Name))
				break
			}
		}
		return nil
	}
	// The confirmation crosses what the lead's posts reached: posts' points.
	post := a.Kind == lead.KindDownload || a.Kind == lead.KindConfirm
	period := m.prog.Scoring.FormCrossing()
	for _, t := range m.prog.Thresholds {
		if score < float64(t.Score) || slices.Contains(l.Score.Disarmed, t.Name) {
			continue
		}
		if post && !l.Score.FormCrossedAt.IsZero() && at.Before(l.Score.FormCrossedAt.Add(period)) {
			a.Why = append(a.Why, fmt.Sprintf("%s not alerted: form posts crossed a threshold on %s, and may once in %s", t.Name, l.Score.FormCrossedAt.UTC().Format("2 Jan 2006"), program.FormatDuration(period)))
			continue
		}
		if post {
			l.Score.FormCrossedAt = at
		}
		l.Score.Disarmed = append(l.Score.Disarmed, t.Name)
		p := lead.PendingAlert{ID: alertID(l.ID, a.Key, t.Name), Threshold: t.Name, Score: round(score), At: at}
		if a.Kind == lead.KindClick || a.Kind == lead.KindOpen {
			p.NotBefore = at.Add(m.prog.Scoring.SettleTime())
		}
		l.PendingAlerts = append(l.PendingAlerts, p)
		crossed = append(crossed, t)
	}
	return crossed
}

// alertID is derived from the crossing event, never from the time of
// processing, so a retried crossing names the same alert.
func alertID(leadID, eventKey, threshold string) string {
	sum := sha256.Sum256([]byte(leadID + "\x00" + eventKey + "\x00" + threshold))
	return hex.EncodeToString(sum[:9])
}

func round(f float64) float64 { return math.Round(f*10) / 10 }
