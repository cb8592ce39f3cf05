package nurture

import (
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/leadnurture/nurture/shared/display"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// compose renders the email of a claimed mailing: a step, an evergreen
// email or the re-engagement email.
func (s *Scheduler) compose(l *lead.Lead, m mailing, now time.Time) (mail.Message, error) {
	if m.confirm > 0 {
		return s.composeConfirm(l, m, now)
	}
	claim := m.claim
	unsub := s.Signer.Sign(token.Claims{Purpose: token.PurposeUnsubscribe, LeadID: l.ID, Track: claim.Track, Step: claim.Step, Expires: now.Add(unsubscribeTTL)})
	// The preference page is the other way out of what the lead gets, as
	// long-lived as unsubscribing.
	prefs := s.Signer.Sign(token.Claims{Purpose: token.PurposePrefs, LeadID: l.ID, Track: claim.Track, Step: claim.Step, Expires: now.Add(unsubscribeTTL)})
	e := mail.NurtureEmail{
		To:             l.Email,
		FirstName:      display.FirstName(l.Name),
		Sender:         s.Program.Sender,
		Subject:        m.subject,
		Intro:          m.intro,
		Reason:         m.choice.Reason,
		UnsubscribeURL: link.Unsubscribe.URL(s.BaseURL, unsub),
		PreferencesURL: link.Preferences.URL(s.BaseURL, prefs),
	}
	if m.keep {
		// The link names the re-engagement email by when it was claimed,
		// so confirming it twice keeps once.
		tok := s.Signer.Sign(token.Claims{Purpose: token.PurposeKeep, LeadID: l.ID, Track: claim.Track, Ref: strconv.FormatInt(claim.At.Unix(), 10), Expires: now.Add(answerTTL)})
		e.Keep = &mail.KeepBlock{Label: s.Program.Reengage.Button, URL: link.Keep.URL(s.BaseURL, tok)}
		if e.Keep.Label == "" {
			e.Keep.Label = defaultKeepLabel
		}
	} else {
		e.Asset = m.choice.Asset
		e.AssetURL = assetURL(m.choice.Asset, claim.Track, claim.Step)
		e.Rating = s.rating(l, m, now)
	}
	if m.help {
		e.Help = s.helpQuestion(l, m, now)
	}
	if len(l.Downloaded) > 0 {
		if first, ok := s.Program.Asset(l.Downloaded[0]); ok {
			e.Downloaded = first.Title
		}
	}
	if q := m.choice.Question; q != nil {
		block := &mail.QuestionBlock{Text: q.Text}
		for _, o := range q.Options {
			tok := s.Signer.Sign(token.Claims{Purpose: token.PurposeAnswer, LeadID: l.ID, Track: claim.Track, Step: claim.Step, Ref: q.ID + "=" + o.Value, Expires: now.Add(answerTTL)})
			block.Answers = append(block.Answers, mail.AnswerLink{Label: o.Label, URL: link.Answer.URL(s.BaseURL, tok)})
		}
		e.Question = block
	}
	msg, err := mail.RenderNurture(e)
	if err != nil {
		return msg, fmt.Errorf("render %s email %d: %w", claim.Track, claim.Step+1, err)
	}
	msg.ConfigurationSet = s.ConfigurationSet
	msg.Tags = map[string]string{
		mail.TagLead:  mail.Tag(l.ID),
		mail.TagTrack: mail.Tag(claim.Track),
		mail.TagStep:  strconv.Itoa(claim.Step),
		mail.TagKind:  mail.KindNurture,
	}
	if claim.AssetID != "" {
		msg.Tags[mail.TagAsset] = mail.Tag(claim.AssetID)
	}
	return msg, nil
}

// rating is "Was this useful?" for the email's asset. The links name the
// asset: a lead never gets one twice, so it names the email too.
func (s *Scheduler) rating(l *lead.Lead, m mailing, now time.Time) *mail.RatingBlock {
	answer := func(purpose, label string) mail.AnswerLink {
		tok := s.Signer.Sign(token.Claims{Purpose: purpose, LeadID: l.ID, Track: m.claim.Track, Step: m.claim.Step, Ref: m.claim.AssetID, Expires: now.Add(answerTTL)})
		return mail.AnswerLink{Label: label, URL: link.Rate.URL(s.BaseURL, tok)}
	}
	return &mail.RatingBlock{
		Text: RatingText,
		Yes:  answer(token.PurposeUseful, "Yes"),
		No:   answer(token.PurposeNotUseful, "Not really"),
	}
}

// RatingText asks about every email's asset.
const RatingText = "Was this useful?"

// SomethingElse is the "what would help" answer that names no topic: its
// page asks for the reader's own words.
const SomethingElse = "Something else"

// helpQuestion asks what would help most next: a link per topic the lead
// has not muted, and one for something else. Each names the email's asset
// and the topic ("asset=topic"; "asset=" for something else).
func (s *Scheduler) helpQuestion(l *lead.Lead, m mailing, now time.Time) *mail.QuestionBlock {
	q := &mail.QuestionBlock{Text: s.Program.AskText()}
	answer := func(topic, label string) {
		tok := s.Signer.Sign(token.Claims{Purpose: token.PurposeHelp, LeadID: l.ID, Track: m.claim.Track, Step: m.claim.Step, Ref: m.claim.AssetID + "=" + topic, Expires: now.Add(answerTTL)})
		q.Answers = append(q.Answers, mail.AnswerLink{Label: label, URL: link.Help.URL(s.BaseURL, tok)})
	}
	for _, t := range s.Program.ChoosableTopics() {
		if !l.Muted(t.Topic) {
			answer(t.Topic, t.Label)
		}
	}
	answer("", SomethingElse)
	return q
}

// defaultKeepLabel is the re-engagement email's button when the program
// names none.
const defaultKeepLabel = "Yes, keep them coming"

// assetURL adds campaign parameters, so the website's analytics sees
// nurture traffic; it never carries who the reader is.
func assetURL(a program.Asset, track string, step int) string {
	u, err := url.Parse(a.URL)
	if err != nil {
		return a.URL
	}
	q := u.Query()
	q.Set("utm_source", "nurture")
	q.Set("utm_medium", "email")
	q.Set("utm_campaign", track)
	q.Set("utm_content", "step-"+strconv.Itoa(step+1))
	u.RawQuery = q.Encode()
	return u.String()
}
