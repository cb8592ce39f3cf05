// Package nurture decides what each lead receives next and when: the asset a
// step offers, the question it asks, and the time it may go out.
package nurture

import (
	"slices"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// Choice is what one nurture step sends a lead.
type Choice struct {
	Asset program.Asset
	// Reason says in one line why the asset fits ("Because you read ...").
	Reason string
	// Question is asked only while the lead has not answered it.
	Question *program.Question
}

// Pick chooses the asset for step i of the lead's track: of the track's
// topic, at the step's buying stage (or the nearest, preferring later
// stages), fitting the lead's industry, in a preferred format, and never one
// the lead already has. ok is false when nothing is left to offer.
func Pick(p *program.Program, l *lead.Lead, track program.Track, i int) (Choice, bool) {
	if i < 0 || i >= len(track.Steps) {
		return Choice{}, false
	}
	step := track.Steps[i]
	var best program.Asset
	bestScore, found := 0, false
	for _, a := range p.Assets {
		score, ok := fit(a, l, track.Topic, step)
		if !ok {
			continue
		}
		if !found || score < bestScore {
			best, bestScore, found = a, score, true
		}
	}
	if !found {
		return Choice{}, false
	}
	c := Choice{Asset: best, Reason: reason(p, l, track.Topic)}
	if q, ok := p.Question(step.Question); ok && profileValue(l, q.Field) == "" {
		c.Question = &q
	}
	return c, true
}

// fit scores an asset for a step; lower is better.
func fit(a program.Asset, l *lead.Lead, topic string, step program.Step) (int, bool) {
	if l.HasDownloaded(a.ID) || wasSent(l, a.ID) {
		return 0, false
	}
	if step.Asset != "" {
		return 0, a.ID == step.Asset
	}
	if !slices.Contains(a.Topics, topic) {
		return 0, false
	}
	score := 0
	// Stage: the step's own first, then later stages (the lead moves
	// forward), then earlier ones.
	d := stageIndex(a.Stage) - stageIndex(step.Stage)
	switch {
	case d > 0:
		score += 100 * d
	case d < 0:
		score += 150 * -d
	}
	// Industry: an asset for the lead's industry beats a general one; one
	// for another industry is never sent to a lead whose industry is known.
	if len(a.Industries) > 0 {
		switch {
		case l.Industry != "" && slices.Contains(a.Industries, l.Industry):
			score -= 20
		case l.Industry != "":
			return 0, false
		default:
			score += 30
		}
	}
	if len(step.Formats) > 0 {
		rank := slices.Index(step.Formats, a.Format)
		if rank < 0 {
			rank = len(step.Formats) + 1
		}
		score += 5 * rank
	}
	return score, true
}

// reason names the latest asset of the topic the lead engaged with.
func reason(p *program.Program, l *lead.Lead, topic string) string {
	for i := len(l.Downloaded) - 1; i >= 0; i-- {
		if a, ok := p.Asset(l.Downloaded[i]); ok && slices.Contains(a.Topics, topic) {
			return "Because you downloaded “" + a.Title + "”"
		}
	}
	for i := len(l.Nurture.Sent) - 1; i >= 0; i-- {
		if a, ok := p.Asset(l.Nurture.Sent[i].AssetID); ok && slices.Contains(a.Topics, topic) {
			return "A next step after “" + a.Title + "”"
		}
	}
	return ""
}

func wasSent(l *lead.Lead, assetID string) bool {
	for _, s := range l.Nurture.Sent {
		if s.AssetID == assetID {
			return true
		}
	}
	return false
}

// profileValue returns the lead's value of a profile field a question fills.
func profileValue(l *lead.Lead, field string) string {
	switch field {
	case "industry":
		return l.Industry
	case "companySize":
		return l.CompanySize
	case "role":
		return l.Role
	case "timeline":
		return l.Timeline
	case "country":
		return l.Country
	}
	return ""
}

func stageIndex(s string) int { return slices.Index(program.Stages, s) }
