package nurture

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/token"
)

// compose renders the email for a claimed step.
func (s *Scheduler) compose(l *lead.Lead, track program.Track, claim lead.SentStep, choice Choice, now time.Time) (mail.Message, error) {
	step := track.Steps[claim.Step]
	unsub := s.Signer.Sign(token.Claims{Purpose: token.PurposeUnsubscribe, LeadID: l.ID, Track: track.ID, Step: claim.Step, Expires: now.Add(unsubscribeTTL)})
	e := mail.NurtureEmail{
		To:             l.Email,
		FirstName:      firstName(l.Name),
		Sender:         s.Program.Sender,
		Subject:        step.Subject,
		Intro:          step.Intro,
		Asset:          choice.Asset,
		AssetURL:       assetURL(choice.Asset, track.ID, claim.Step),
		Reason:         choice.Reason,
		UnsubscribeURL: link.Unsubscribe.URL(s.BaseURL, unsub),
	}
	if e.Subject == "" {
		e.Subject = choice.Asset.Title
	}
	if len(l.Downloaded) > 0 {
		if first, ok := s.Program.Asset(l.Downloaded[0]); ok {
			e.Downloaded = first.Title
		}
	}
	if q := choice.Question; q != nil {
		block := &mail.QuestionBlock{Text: q.Text}
		for _, o := range q.Options {
			tok := s.Signer.Sign(token.Claims{Purpose: token.PurposeAnswer, LeadID: l.ID, Track: track.ID, Step: claim.Step, Ref: q.ID + "=" + o.Value, Expires: now.Add(answerTTL)})
			block.Answers = append(block.Answers, mail.AnswerLink{Label: o.Label, URL: link.Answer.URL(s.BaseURL, tok)})
		}
		e.Question = block
	}
	m, err := mail.RenderNurture(e)
	if err != nil {
		return m, fmt.Errorf("render step %d: %w", claim.Step+1, err)
	}
	m.ConfigurationSet = s.ConfigurationSet
	m.Tags = map[string]string{
		mail.TagLead:  mail.Tag(l.ID),
		mail.TagTrack: mail.Tag(track.ID),
		mail.TagStep:  strconv.Itoa(claim.Step),
		mail.TagAsset: mail.Tag(choice.Asset.ID),
		mail.TagKind:  mail.KindNurture,
	}
	return m, nil
}

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

func firstName(name string) string {
	f := strings.Fields(name)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
