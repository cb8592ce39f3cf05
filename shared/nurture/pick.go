// Package nurture decides what each lead receives next and when: the asset a
// step offers, the question it asks, and the time it may go out.
package nurture

import (
	"maps"
	"slices"
	"time"

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

// Pick chooses the asset for step i of the lead's track at now: of the
// track's topic, at the step's buying stage (or the nearest, preferring
// later stages), fitting the lead's industry, in a preferred format,
// steered by what the lead said it wants (lead.Preferences), never one
// the lead already had in any format (sameAs), and never before its
// published day. ok is false when nothing is left to offer.
func Pick(p *program.Program, l *lead.Lead, track program.Track, i int, now time.Time) (Choice, bool) {
	if i < 0 || i >= len(track.Steps) {
		return Choice{}, false
	}
	step := track.Steps[i]
	prefs := l.Preferences(p)
	var best program.Asset
	bestScore, found := 0, false
	for _, a := range p.Assets {
		if !available(p, l, a, now) {
			continue
		}
		if step.Asset == "" && p.Pinned(a.ID) {
			continue
		}
		score, ok := fit(a, l, prefs, track.Topic, step)
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
	if q, ok := p.Question(step.Question); ok && l.AnswerTo(q) == "" {
		c.Question = &q
	}
	return c, true
}

// PickEvergreen chooses the evergreen email's asset at now, among those
// of the lead's topics (those it showed interest in or said it wants; any
// topic if it has none; never one only of topics it muted) it has not had
// in any format: the best fit first
// (made for its industry, then for everyone, then for an industry it may
// be in when its own is unknown; never one for another industry), then
// what the lead said it wants most (lead.Preferences), the newest of
// those, then the one of its strongest interest. ok is false when the
// library holds nothing new for the lead.
func PickEvergreen(p *program.Program, l *lead.Lead, now time.Time) (Choice, bool) {
	var (
		best      program.Asset
		bestTopic string
		bestRank  evergreenRank
		found     bool
	)
	prefs := l.Preferences(p)
	topics := slices.Clone(l.Topics)
	for _, t := range slices.Sorted(maps.Keys(prefs.Topics)) {
		if prefs.Topics[t] > 0 && !slices.Contains(topics, t) {
			topics = append(topics, t)
		}
	}
	for _, a := range p.Assets {
		if !available(p, l, a, now) || !fitsIndustry(a, l) || p.Pinned(a.ID) || mutedOnly(l, a) {
			continue
		}
		topic, interest := strongestTopic(l, topics, a)
		if topic == "" && len(topics) > 0 {
			continue
		}
		stage, format, about := prefs.Of(a.Stage, a.Format, a.Topics)
		rank := evergreenRank{fit: industryFit(a, l), wanted: stage + format + about, published: a.PublishedAt(), interest: interest}
		if !found || rank.better(bestRank) {
			best, bestTopic, bestRank, found = a, topic, rank, true
		}
	}
	if !found {
		return Choice{}, false
	}
	return Choice{Asset: best, Reason: reason(p, l, bestTopic)}, true
}

// evergreenRank orders evergreen candidates: fit, then what the lead
// wants, then newest, then interest.
type evergreenRank struct {
	fit       int // industryFit: lower is better
	wanted    int // lead.Preferences.Of, summed: higher is better
	published time.Time
	interest  int
}

func (r evergreenRank) better(o evergreenRank) bool {
	switch {
	case r.fit != o.fit:
		return r.fit < o.fit
	case r.wanted != o.wanted:
		return r.wanted > o.wanted
	case !r.published.Equal(o.published):
		return r.published.After(o.published)
	}
	return r.interest > o.interest
}

// industryFit ranks an asset that fits the lead's industry (fitsIndustry):
// 0 made for it, 1 for everyone, 2 for some industries while the lead's
// is unknown.
func industryFit(a program.Asset, l *lead.Lead) int {
	switch {
	case len(a.Industries) == 0:
		return 1
	case l.Industry == "":
		return 2
	}
	return 0
}

// strongestTopic is the asset's topic, of the lead's topics, the lead is
// most interested in, and how much; "" when the asset is about none of them.
func strongestTopic(l *lead.Lead, topics []string, a program.Asset) (string, int) {
	topic, most := "", -1
	for _, t := range topics {
		if slices.Contains(a.Topics, t) && l.Interest[t] > most {
			topic, most = t, l.Interest[t]
		}
	}
	return topic, max(most, 0)
}

// available reports whether an asset may go to the lead at now at all:
// published by then, and not had by the lead in this or any other format
// of the same content (sameAs), downloaded or sent.
func available(p *program.Program, l *lead.Lead, a program.Asset, now time.Time) bool {
	if pub := a.PublishedAt(); !pub.IsZero() && now.Before(pub) {
		return false
	}
	for _, id := range p.SameContent(a.ID) {
		if l.HasDownloaded(id) || l.Nurture.WasSent(id) {
			return false
		}
	}
	return true
}

// fitsIndustry: an asset for some industries never goes to a lead known
// to be in another.
func fitsIndustry(a program.Asset, l *lead.Lead) bool {
	return len(a.Industries) == 0 || l.Industry == "" || slices.Contains(a.Industries, l.Industry)
}

// How much what the lead said it wants weighs in a step's pick (fit; lower
// wins): a wanted stage one stage from the step's own beats the step's
// own (a stage later costs 100, an earlier one 150, two away 200 or
// more) by more than formats or an industry tell apart, a wanted format
// beats the step's order of formats (5 a place), a wanted topic breaks
// ties. An unwanted one costs as much.
const (
	stagePull  = 175
	formatPull = 25
	topicPull  = 10
)

// fit scores an available asset for a step; lower is better.
func fit(a program.Asset, l *lead.Lead, prefs lead.Preferences, topic string, step program.Step) (int, bool) {
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
	stage, format, about := prefs.Of(a.Stage, a.Format, a.Topics)
	score -= stagePull*stage + formatPull*format + topicPull*about
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

func stageIndex(s string) int { return slices.Index(program.Stages, s) }
