package program

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Voice is what leads may tell us about the mail itself. Every nurture
// email asks "Was this useful?" and links to the lead's preference page
// (topics and cadence); every AskEvery-th email also asks what would help
// most next, offering Topics and a free-text box.
type Voice struct {
	// AskEvery asks "What would help you most next?" in every AskEvery-th
	// nurture email (the first of them without a profiling question);
	// zero never asks.
	AskEvery int `yaml:"askEvery"`
	// Ask is the question's wording; DefaultAsk when empty.
	Ask string `yaml:"ask"`
	// Topics are the topics as readers see them, in the order offered.
	// A track's topic not listed here is offered too, its id written out.
	Topics []TopicLabel `yaml:"topics"`
}

// TopicLabel is a topic and the words readers see for it.
type TopicLabel struct {
	Topic string `yaml:"topic"`
	Label string `yaml:"label"`
}

// DefaultAsk is the "what would help" question when the program words none.
const DefaultAsk = "What would help you most next?"

// AskText is the "what would help" question as the email asks it.
func (p *Program) AskText() string {
	if s := strings.TrimSpace(p.Voice.Ask); s != "" {
		return s
	}
	return DefaultAsk
}

// ChoosableTopics are the topics a lead may choose, in the order offered:
// voice.topics, then every other track's topic with its id written out
// ("cloud-cost" as "Cloud cost").
func (p *Program) ChoosableTopics() []TopicLabel {
	out := slices.Clone(p.Voice.Topics)
	for _, t := range p.Tracks {
		if t.Topic != "" && !slices.ContainsFunc(out, func(l TopicLabel) bool { return l.Topic == t.Topic }) {
			out = append(out, TopicLabel{Topic: t.Topic, Label: humanise(t.Topic)})
		}
	}
	return out
}

// Choosable reports whether a lead may choose the topic.
func (p *Program) Choosable(topic string) bool {
	return slices.ContainsFunc(p.ChoosableTopics(), func(t TopicLabel) bool { return t.Topic == topic })
}

// TopicLabel is how readers see a topic.
func (p *Program) TopicLabel(topic string) string {
	for _, l := range p.Voice.Topics {
		if l.Topic == topic && strings.TrimSpace(l.Label) != "" {
			return l.Label
		}
	}
	return humanise(topic)
}

// humanise writes an id as words: "cloud-cost" as "Cloud cost".
func humanise(id string) string {
	s := strings.ReplaceAll(id, "-", " ")
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

// voice checks what leads may tell us: how often to ask, the question's
// wording and the topics offered, each of which must have a track (a lead
// who chooses a topic gets its track next).
func (v *validator) voice() {
	vo := v.p.Voice
	if vo.AskEvery < 0 {
		v.add("voice.askEvery", "askEvery cannot be negative; write e.g. askEvery: 3 to ask in every third email, or 0 never to ask")
	}
	v.oneLine("voice.ask", "question", vo.Ask)
	var topics []string
	for _, t := range v.p.Tracks {
		if t.Topic != "" && !slices.Contains(topics, t.Topic) {
			topics = append(topics, t.Topic)
		}
	}
	seen := map[string]bool{}
	for i, t := range vo.Topics {
		path := idx("voice.topics", i)
		switch {
		case strings.TrimSpace(t.Topic) == "":
			v.add(path+".topic", "add the topic readers may choose; use one of %s", strings.Join(topics, ", "))
		case seen[t.Topic]:
			v.add(path+".topic", "%q is listed twice; list each topic once", t.Topic)
		case !slices.Contains(topics, t.Topic):
			msg := "no track has the topic %q, so a reader who chooses it would get nothing new; use one of %s, or add a track for it"
			if s := closest(t.Topic, topics); s != "" {
				msg += " (did you mean " + `"` + s + `"?)`
			}
			v.add(path+".topic", msg, t.Topic, strings.Join(topics, ", "))
		}
		seen[t.Topic] = true
		if strings.TrimSpace(t.Label) == "" {
			v.add(path+".label", "add the words readers see for the topic, e.g. label: %q", humanise(orDefault(t.Topic, "cloud-cost")))
		}
		v.oneLine(path+".label", "label", t.Label)
	}
}
