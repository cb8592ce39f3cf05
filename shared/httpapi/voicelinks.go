package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/leadnurture/nurture/shared/engagement"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// The lead's own voice: the pages behind "Was this useful?", "What would
// help you most next?" and the preference page. As for every link, a GET
// shows the page and only its button's POST changes anything.

// Form fields of the voice pages.
const (
	fieldWords   = "words"   // the help page's box
	fieldCadence = "cadence" // the preference page: cadenceUsual or cadenceLess
	// fieldTopic prefixes a topic's checkbox ("topic:cloud-cost"): one
	// field a topic, as a post keeps one value a name.
	fieldTopic   = "topic:"
	cadenceUsual = "usual"
	cadenceLess  = "less"
)

// rate answers a "Was this useful?" link: the token's purpose is the
// answer, its Ref the email's asset.
func (h *Links) rate(ctx context.Context, r linkRequest, log *slog.Logger) Response {
	useful := r.Claims.Purpose == token.PurposeUseful
	asset, ok := h.Program.Asset(r.Claims.Ref)
	if !ok {
		log.Info("link rejected", "reason", "unknown asset")
		return h.site().invalid()
	}
	log = log.With("asset", safeID(asset.ID))
	if r.Method == http.MethodGet {
		resp, _ := h.ifLeadExists(ctx, log, r.Claims.LeadID, h.ratePage(r.Action, asset, useful))
		return resp
	}
	stands, err := h.Engagement.Rate(ctx, r.Claims.LeadID, r.Claims.Track, r.Claims.Step, asset.ID, useful, r.Now)
	asked := lead.RatedNotUseful
	if useful {
		asked = lead.RatedUseful
	}
	if err == nil {
		log.Info("rated", "useful", useful, "stands", stands == asked)
	}
	return h.outcome(log, err, h.ratedPage(r, asset, stands, stands == asked))
}

func (h *Links) ratePage(action string, a program.Asset, useful bool) Response {
	what := "Yes, it was useful. Confirm, and we send more like it."
	if !useful {
		what = "Not really. Confirm, and we send fewer " + plural(a.Format) + " like it."
	}
	return linkPage(http.StatusOK, Page{
		Title:   "Was “" + a.Title + "” useful?",
		Lead:    what,
		Form:    &PageForm{Action: action, Button: "Confirm"},
		Company: h.company(),
	})
}

// ratedPage thanks for a rating (the same page however often it is
// posted), or says which one stands when the email was rated otherwise
// before; it links the preference page, where the reader can say more.
func (h *Links) ratedPage(r linkRequest, a program.Asset, stands string, first bool) Response {
	p := Page{Title: "Thanks for telling us", Company: h.company(), Links: []PageLink{h.preferencesLink(r)}}
	switch {
	case !first && stands == lead.RatedUseful:
		p.Title, p.Lead = "You told us already", "You said “"+a.Title+"” was useful. Thanks!"
	case !first:
		p.Title, p.Lead = "You told us already", "You said “"+a.Title+"” was not really useful; we send fewer like it."
	case stands == lead.RatedUseful:
		p.Lead = "We send more like “" + a.Title + "”."
	default:
		p.Lead = "We send fewer " + plural(a.Format) + " like “" + a.Title + "”. To choose topics or get fewer emails, see your preferences."
	}
	return linkPage(http.StatusOK, p)
}

// help answers a "What would help you most next?" link: its Ref is the
// email's asset and the topic chosen ("asset=topic"; no topic for
// something else).
func (h *Links) help(ctx context.Context, r linkRequest, log *slog.Logger) Response {
	assetID, topic, ok := strings.Cut(r.Claims.Ref, "=")
	if _, known := h.Program.Asset(assetID); !ok || !known || (topic != "" && !h.Program.Choosable(topic)) {
		log.Info("link rejected", "reason", "unknown asset or topic")
		return h.site().invalid()
	}
	log = log.With("asset", safeID(assetID), "topic", safeID(topic))
	if r.Method == http.MethodGet {
		resp, _ := h.ifLeadExists(ctx, log, r.Claims.LeadID, h.helpPage(http.StatusOK, r.Action, topic, ""))
		return resp
	}
	act, first, err := h.Engagement.Wish(ctx, r.Claims.LeadID, r.Claims.Track, r.Claims.Step, assetID, topic, r.Form[fieldWords], r.Now)
	if errors.Is(err, engagement.ErrNothingSaid) {
		log.Info("wish refused", "reason", "nothing said")
		return h.helpPage(http.StatusBadRequest, r.Action, topic, "Nothing was sent: write a few words, then send them.")
	}
	if err == nil {
		log.Info("wished", "first", first, "words", len(act.Words) > 0)
	}
	return h.outcome(log, err, h.wishedPage(r, act, first))
}

func (h *Links) helpPage(status int, action, topic, problem string) Response {
	p := Page{
		Title:   h.Program.AskText(),
		Lead:    "Tell us in a few words.",
		Form:    &PageForm{Action: action, Button: "Send", Text: &PageText{Name: fieldWords, Label: "What would help you most next?", Max: lead.MaxWords}},
		Company: h.company(),
	}
	if topic != "" {
		p.Lead = "You chose: " + h.Program.TopicLabel(topic) + ". Confirm, and your next emails are about it."
		p.Form.Text.Label = "Anything else that would help? (optional)"
	}
	if problem != "" {
		p.Items = []string{problem}
	}
	return linkPage(status, p)
}

// wishedPage thanks for the answer and shows the reader's words back as
// we keep them; an email answered before says so.
func (h *Links) wishedPage(r linkRequest, kept lead.Activity, first bool) Response {
	p := Page{Title: "Thank you", Quote: kept.Words, Company: h.company(), Links: []PageLink{h.preferencesLink(r)}}
	if !first {
		p.Title, p.Lead = "Thanks, we have your answer already", "Your first answer to this email stands; you can choose topics on your preferences."
		return linkPage(http.StatusOK, p)
	}
	stands := kept
	switch {
	case stands.Detail != "":
		p.Lead = "Your next emails are about " + h.Program.TopicLabel(stands.Detail) + "."
	default:
		p.Lead = "We read every answer; it shapes what we send you."
	}
	if stands.Words != "" {
		p.Lead += " You wrote:"
	}
	return linkPage(http.StatusOK, p)
}

// preferences answers the preference page's link: the lead's topics and
// cadence as a form (GET), saved by its post.
func (h *Links) preferences(ctx context.Context, r linkRequest, log *slog.Logger) Response {
	l, err := h.readLead(ctx, r.Claims.LeadID)
	if err != nil {
		return h.outcome(log, err, Response{})
	}
	if r.Method == http.MethodGet {
		return h.preferencesPage(http.StatusOK, r, l, "")
	}
	var topics []string
	for _, t := range h.Program.ChoosableTopics() {
		if r.Form[fieldTopic+t.Topic] != "" {
			topics = append(topics, t.Topic)
		}
	}
	less := r.Form[fieldCadence] == cadenceLess
	err = h.Engagement.Prefer(ctx, r.Claims.LeadID, topics, less, r.Now)
	if errors.Is(err, engagement.ErrNoTopic) {
		log.Info("preferences refused", "reason", "no topic")
		return h.preferencesPage(http.StatusBadRequest, r, l, "Nothing was saved: choose at least one topic, or unsubscribe from all emails below.")
	}
	if err == nil {
		log.Info("preferences saved", "topics", len(topics), "lessOften", less)
	}
	items := []string{"Emails as usual"}
	if less {
		items[0] = "Emails less often: about half as many"
	}
	for _, t := range topics {
		items = append(items, h.Program.TopicLabel(t))
	}
	return h.outcome(log, err, linkPage(http.StatusOK, Page{
		Title: "Your choices are saved", Lead: "From your next email on, you get:", Items: items,
		Links: []PageLink{{URL: r.Action, Label: "Change them again"}}, Company: h.company(),
	}))
}

func (h *Links) preferencesPage(status int, r linkRequest, l *lead.Lead, problem string) Response {
	topics := PageGroup{Legend: "Topics"}
	for _, t := range h.Program.ChoosableTopics() {
		topics.Choices = append(topics.Choices, PageChoice{Name: fieldTopic + t.Topic, Value: "yes", Label: t.Label, Checked: !l.Muted(t.Topic)})
	}
	cadence := PageGroup{Legend: "How often", Radio: true, Choices: []PageChoice{
		{Name: fieldCadence, Value: cadenceUsual, Label: "As usual", Checked: !l.Voice.LessOften},
		{Name: fieldCadence, Value: cadenceLess, Label: "Less often: about half as many emails", Checked: l.Voice.LessOften},
	}}
	unsub := h.Signer.Sign(token.Claims{Purpose: token.PurposeUnsubscribe, LeadID: r.Claims.LeadID, Track: r.Claims.Track, Step: r.Claims.Step, Expires: r.Claims.Expires})
	p := Page{
		Title:   "Choose what you get from " + h.company(),
		Lead:    "The topics you want to hear about, and how often.",
		Form:    &PageForm{Action: r.Action, Groups: []PageGroup{topics, cadence}, Button: "Save"},
		Links:   []PageLink{{URL: r.linkPath(link.Unsubscribe, unsub), Label: "Unsubscribe from all emails"}},
		Company: h.company(),
	}
	if problem != "" {
		p.Items = []string{problem}
	}
	if !l.Mailable() {
		p.Items = append(p.Items, "We send you no emails now; saving these choices does not change that.")
	}
	return linkPage(status, p)
}

// preferencesLink points a page at the lead's preference page, for as
// long as the link the page came from works.
func (h *Links) preferencesLink(r linkRequest) PageLink {
	tok := h.Signer.Sign(token.Claims{Purpose: token.PurposePrefs, LeadID: r.Claims.LeadID, Track: r.Claims.Track, Step: r.Claims.Step, Expires: r.Claims.Expires})
	return PageLink{URL: r.linkPath(link.Preferences, tok), Label: mail.PreferencesLabel}
}

// readLead reads the lead through the engagement store (an update that
// changes nothing writes nothing); an unknown lead is
// engagement.ErrUnknownLead.
func (h *Links) readLead(ctx context.Context, leadID string) (*lead.Lead, error) {
	var got *lead.Lead
	_, err := h.Engagement.Store.UpdateLead(ctx, leadID, func(l *lead.Lead, isNew bool) error {
		if isNew {
			return engagement.ErrUnknownLead
		}
		got = l
		return lead.ErrNoChange
	})
	if errors.Is(err, lead.ErrNoChange) {
		err = nil
	}
	return got, err
}

// plural names assets of a format: "whitepapers", "case studies".
func plural(format string) string {
	s := strings.ToLower(mail.FormatLabel(format))
	switch {
	case s == "":
		return "emails"
	case strings.HasSuffix(s, "y"):
		return s[:len(s)-1] + "ies"
	}
	return s + "s"
}
