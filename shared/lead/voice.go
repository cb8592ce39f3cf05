package lead

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/display"
	"github.com/leadnurture/nurture/shared/program"
)

// The lead's own voice: what a reader tells us about the mail itself.
// "Was this useful?" at the foot of every nurture email, "What would help
// you most next?" now and then, and the preference page (topics and
// cadence). It steers what the lead gets next, and its words reach sales.

// Activity kinds of the lead's voice.
const (
	// KindRating is "Was this useful?" answered for one email: Detail is
	// RatedUseful or RatedNotUseful, and the activity names the email's
	// asset with its format and stage as they were, so ratings can be
	// counted by asset, format and stage. One per email: the first stands.
	KindRating = "rating"
	// KindWish answers "What would help you most next?": Detail is the
	// topic chosen ("" for something else), Words what the reader wrote.
	// One per email: the first stands.
	KindWish = "wish"
	// KindPreferences is a change made on the preference page; Detail says
	// what the lead chose.
	KindPreferences = "preferences"
)

// Values of a rating's Detail.
const (
	RatedUseful    = "useful"
	RatedNotUseful = "not-useful"
)

// Voice is what the lead told us about the mail, kept small: every byte of
// the lead item is paid for on every write. The words themselves are
// activities.
type Voice struct {
	// Said marks the lead's answers about its latest emails, 2 bytes each
	// (a hash of the answer and the email's asset, as Nurture.Had), the
	// latest maxSaid: one answer an email stands, and the assets it found
	// not useful make their formats and stages weigh less in its next
	// picks (Unhelpful).
	Said []byte `json:",omitempty"`
	// Wants is the topic the lead said would help most next, while it
	// waits for its track to start (TakeWish).
	Wants string `json:",omitempty"`
	// Muted are the program's topics the lead chose not to hear about.
	Muted []string `json:",omitempty"`
	// LessOften: the lead chose to hear from us half as often.
	LessOften bool `json:",omitempty"`
	// Asked is the number (Nurture.Emails) of the latest email that asked
	// what would help.
	Asked int `json:",omitempty"`
}

// maxSaid bounds the answers a lead's item remembers: more than a lead
// gives while an email's links work (answerTTL, 90 days), and the latest
// opinions are the ones that steer.
const maxSaid = 12

// What an answer's mark hashes: the answer and the email's asset.
const (
	saidUseful    = "useful:"
	saidNotUseful = "not-useful:"
	saidWish      = "wish:"
)

// Rate records "Was this useful?" for the email that offered assetID, once:
// it returns the rating that stands (RatedUseful or RatedNotUseful) and
// whether it is this one. A later answer for the same email changes
// nothing.
func (l *Lead) Rate(assetID string, useful bool) (string, bool) {
	switch {
	case l.Voice.said(saidUseful + assetID):
		return RatedUseful, false
	case l.Voice.said(saidNotUseful + assetID):
		return RatedNotUseful, false
	case useful:
		l.Voice.say(saidUseful + assetID)
		return RatedUseful, true
	}
	l.Voice.say(saidNotUseful + assetID)
	return RatedNotUseful, true
}

// Wish records that the lead answered "What would help you most next?" in
// the email that offered assetID; false when it had answered it already.
func (l *Lead) Wish(assetID string) bool {
	if l.Voice.said(saidWish + assetID) {
		return false
	}
	l.Voice.say(saidWish + assetID)
	return true
}

func (v Voice) said(what string) bool {
	h := hadKey(what)
	for i := 0; i+len(h) <= len(v.Said); i += len(h) {
		if [2]byte(v.Said[i:i+len(h)]) == h {
			return true
		}
	}
	return false
}

func (v *Voice) say(what string) {
	h := hadKey(what)
	s := append(v.Said, h[:]...)
	if over := len(s) - len(h)*maxSaid; over > 0 {
		s = slices.Clone(s[over:])
	}
	v.Said = s
}

// Unhelpful counts the program's assets the lead found not useful by
// their format and by their stage.
func (l *Lead) Unhelpful(p *program.Program) (formats, stages map[string]int) {
	if len(l.Voice.Said) == 0 {
		return nil, nil
	}
	for _, a := range p.Assets {
		if l.Voice.said(saidNotUseful + a.ID) {
			if formats == nil {
				formats, stages = map[string]int{}, map[string]int{}
			}
			formats[a.Format]++
			stages[a.Stage]++
		}
	}
	return formats, stages
}

// voicePreferences adds what the lead said about the mail to its
// preferences. The format of each asset it found not useful is avoided at
// once; a stage only once two of them were of it, as one "not really"
// says little about the stage (the same stage in another format may be
// just right). The topic it wants next is wanted; topics it muted are
// avoided (and never sent: Muted).
func (l *Lead) voicePreferences(p *program.Program, pr *Preferences) {
	formats, stages := l.Unhelpful(p)
	for _, f := range slices.Sorted(maps.Keys(formats)) {
		pr.Formats = addWeight(pr.Formats, []string{f}, -formats[f])
	}
	for _, s := range slices.Sorted(maps.Keys(stages)) {
		if stages[s] >= 2 {
			pr.Stages = addWeight(pr.Stages, []string{s}, -1)
		}
	}
	if l.Voice.Wants != "" {
		pr.Prefer(nil, nil, []string{l.Voice.Wants})
	}
	pr.Avoid(nil, nil, l.Voice.Muted)
}

// Muted reports whether the lead chose not to hear about the topic.
func (l *Lead) Muted(topic string) bool { return slices.Contains(l.Voice.Muted, topic) }

// Paced is a wait as the lead chose its cadence: twice as long for a lead
// who asked for less often.
func (l *Lead) Paced(wait time.Duration) time.Duration {
	if l.Voice.LessOften {
		return 2 * wait
	}
	return wait
}

// Want records the topic the lead said would help most next. It counts as
// the lead's interest (and a muted topic is heard again), and its track is
// where the lead goes next: a lead between tracks (evergreen, dormant,
// finished) joins it at once, its first email the track's first wait
// after at, as after a download; a lead in a track gets it from its next
// email on (TakeWish). It returns the track, or false when the program
// has none for the topic, the lead had it, or the lead gets no mail.
func (l *Lead) Want(p *program.Program, topic string, at time.Time) (string, bool) {
	l.Engage(at, topic)
	l.Voice.Muted = slices.DeleteFunc(l.Voice.Muted, func(t string) bool { return t == topic })
	n := &l.Nurture
	t, ok := p.TrackForTopic(topic)
	if !ok || len(t.Steps) == 0 || n.HasDone(t.ID) || !l.Mailable() || n.Status == NurtureStopped {
		return "", false
	}
	switch {
	case n.Status == NurtureActive && n.Track == t.ID:
		l.Voice.Wants = ""
	case n.Status == NurtureActive && n.Track != program.EvergreenTrack:
		l.Voice.Wants = topic
	default:
		l.Voice.Wants = ""
		n.Enrol(t.ID, at.Add(l.Paced(t.Steps[0].Wait.Duration)))
	}
	return t.ID, true
}

// TakeWish moves a lead in a track on to the track of the topic it wants
// (Want), keeping the due time: the email due next is that track's first.
// The track it leaves is not done, so the lead may come back to it.
// It reports whether the lead moved.
func (l *Lead) TakeWish(p *program.Program) bool {
	topic := l.Voice.Wants
	if topic == "" {
		return false
	}
	l.Voice.Wants = ""
	n := &l.Nurture
	t, ok := p.TrackForTopic(topic)
	if !ok || len(t.Steps) == 0 || t.ID == n.Track || n.HasDone(t.ID) || l.Muted(topic) || n.Status != NurtureActive {
		return false
	}
	n.Enrol(t.ID, n.DueAt)
	return true
}

// Prefer records the lead's choices on the preference page: the topics it
// wants to hear about (the program's others are muted: no track or
// evergreen email of theirs; a chosen topic new to the lead becomes one of
// its interests), and whether less often. Choosing less often moves the
// email due next out to twice its wait after the previous one; choosing
// as usual again moves it back in. It reports whether anything changed.
func (l *Lead) Prefer(p *program.Program, topics []string, lessOften bool) bool {
	var muted []string
	for _, t := range p.ChoosableTopics() {
		if !slices.Contains(topics, t.Topic) {
			muted = append(muted, t.Topic)
		}
	}
	changed := !slices.Equal(muted, l.Voice.Muted) || lessOften != l.Voice.LessOften
	l.Voice.Muted = muted
	for _, t := range topics {
		if !slices.Contains(l.Topics, t) {
			l.Topics, changed = append(l.Topics, t), true
		}
	}
	if lessOften != l.Voice.LessOften {
		l.Voice.LessOften = lessOften
		n := &l.Nurture
		if last, ok := n.LastSentAt(); ok && n.Due() && n.DueAt.After(last) {
			gap := n.DueAt.Sub(last)
			if lessOften {
				n.DueAt = last.Add(2 * gap)
			} else {
				n.DueAt = last.Add(gap / 2)
			}
		}
	}
	return changed
}

// AskWhatHelps reports whether the email just claimed asks "What would
// help you most next?": every askEvery-th email, or the first after it
// that asks no other question (one question an email). It remembers the
// ask.
func (l *Lead) AskWhatHelps(askEvery int, otherQuestion bool) bool {
	if askEvery <= 0 || otherQuestion || l.Nurture.Emails-l.Voice.Asked < askEvery {
		return false
	}
	l.Voice.Asked = l.Nurture.Emails
	return true
}

// MaxWords is the most characters of a reader's own words kept: a few
// sentences, what the box on the page asks for.
const MaxWords = 500

// CleanWords prepares what a reader typed for keeping and showing to
// sales: one line of visible text (display.Text: line breaks and runs of
// spaces become one space; what hides or reorders text is dropped), cut
// to MaxWords characters. Escaping is left to whatever shows it.
func CleanWords(s string) string {
	s = display.Text(s)
	if r := []rune(s); len(r) > MaxWords {
		s = strings.TrimSpace(string(r[:MaxWords]))
	}
	return s
}
