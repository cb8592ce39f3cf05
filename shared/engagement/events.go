package engagement

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/sesevent"
)

// Result says what one SES event did.
type Result struct {
	LeadID  string
	Kind    string
	Applied bool // false for a duplicate or an event about an unknown message
	Machine bool
	Reason  string // why a click or open counts as a machine's, or why dropped
}

// burstWindow: clicks on different links of one message this close
// together come from a scanner following every link, not a reader.
const burstWindow = time.Second

// scannerAgents are user-agent fragments of link scanners, prefetchers and
// scripts. Matching is case-insensitive.
var scannerAgents = []string{
	"bot", "crawler", "spider", "python-requests", "python-urllib", "go-http-client", "curl/", "wget",
	"headlesschrome", "phantomjs", "barracuda", "mimecast", "proofpoint", "safelinks", "symantec",
	"trendmicro", "forcepoint", "urlscan", "scanner", "libwww", "java/", "okhttp", "apache-httpclient",
}

// ErrPoison marks an event that can never be applied, whatever the retries.
var ErrPoison = errors.New("poison event")

// HandleEvent decodes one delivery of SES events (EventBridge envelope, SNS
// notification or Lambda SNS event) and applies every record in it. A
// malformed or unknown event is an error wrapping ErrPoison (Lambda retries
// it, then dead-letters it); an event about a message we never sent is
// logged and dropped.
func (s *Service) HandleEvent(ctx context.Context, raw json.RawMessage) ([]Result, error) {
	records, err := sesevent.Decode(raw)
	if err != nil {
		// A poison event: malformed, or of a shape the rule should never
		// have sent. Failing the invocation sends it, after Lambda's own
		// retries, to the dead-letter queue, where an operator sees it; it
		// blocks nothing, since every event is an invocation of its own.
		s.Log.Error("poison ses event", "reason", err.Error(), "bytes", len(raw))
		return nil, fmt.Errorf("%w: %w", ErrPoison, err)
	}
	var results []Result
	for _, r := range records {
		res, err := s.Apply(ctx, r)
		if err != nil {
			return results, fmt.Errorf("apply %s of message %s: %w", r.EventType, r.Mail.MessageID, err)
		}
		s.Log.Info("ses event", "event", r.EventType, "leadId", res.LeadID, "applied", res.Applied,
			"machine", res.Machine, "reason", res.Reason)
		results = append(results, res)
	}
	return results, nil
}

// sent identifies the nurture step a message belongs to.
type sent struct {
	leadID, claimID, track, assetID string
	step                            int
}

// join finds the lead and step of a message: from the message's tags, or
// else from the message record kept at send time.
func (s *Service) join(ctx context.Context, r sesevent.Record) (sent, bool, error) {
	if r.Tag("kind") == "alert" {
		// Sales alerts name the lead too, but sales opening or clicking
		// them is not the lead's engagement.
		return sent{}, false, nil
	}
	if id := r.Tag("lead"); id != "" {
		step, _ := strconv.Atoi(r.Tag("step"))
		return sent{leadID: id, claimID: r.Tag("claim"), track: r.Tag("track"), assetID: r.Tag("asset"), step: step}, true, nil
	}
	m, found, err := s.Store.GetMessage(ctx, r.Mail.MessageID)
	if err != nil || !found {
		return sent{}, false, err
	}
	return sent{leadID: m.LeadID, claimID: m.ClaimID, track: m.Track, assetID: m.AssetID, step: m.Step}, true, nil
}

// Apply changes the lead for one SES event record, at most once per event.
func (s *Service) Apply(ctx context.Context, r sesevent.Record) (Result, error) {
	msg, found, err := s.join(ctx, r)
	if err != nil {
		return Result{}, err
	}
	if !found {
		return Result{Reason: "unknown message"}, nil
	}
	res := Result{LeadID: msg.leadID}
	at := r.Time()
	act := lead.Activity{At: at, MessageID: r.Mail.MessageID, Track: msg.track, Step: msg.step, AssetID: msg.assetID}
	var change func(l *lead.Lead) error

	switch r.EventType {
	case sesevent.EventSend:
		// SES accepted the message: make sure the step is recorded, even if
		// the scheduler crashed before it could record it itself.
		res.Kind = "send"
		if msg.claimID == "" || s.Sends == nil {
			return res, nil
		}
		if err := s.Sends.Record(ctx, msg.leadID, msg.claimID, r.Mail.MessageID, r.Mail.Timestamp); err != nil {
			return res, err
		}
		res.Applied = true
		return res, nil
	case sesevent.EventDelivery:
		act.Kind = lead.KindDelivered
		change = func(l *lead.Lead) error {
			if st, ok := l.SentMessage(r.Mail.MessageID); ok {
				st.DeliveredAt = at
			}
			return nil
		}
	case sesevent.EventOpen:
		act.Kind = lead.KindOpen
		change = func(l *lead.Lead) error {
			act.Machine, act.MachineReason = s.machineOpen(l, r)
			if st, ok := l.SentMessage(r.Mail.MessageID); ok && !act.Machine {
				st.Opened = true
			}
			return nil
		}
	case sesevent.EventClick:
		act.Kind = lead.KindClick
		act.Link = clipLink(r.Click.Link)
		if a := s.assetOf(r); a != "" {
			act.AssetID = a
		}
		var burst []string
		change = func(l *lead.Lead) error {
			var takeBack int
			act.Machine, act.MachineReason, burst, takeBack = s.machineClick(l, r)
			act.Adjust = -takeBack
			l.RememberClick(lead.ClickMark{MessageID: r.Mail.MessageID, Link: act.Link, At: at, Machine: act.Machine, Key: r.Key()})
			return nil
		}
		defer func() {
			// Earlier clicks of the burst were taken for a reader's; say
			// now that they were not.
			for _, key := range burst {
				if err := s.Store.MarkMachine(ctx, msg.leadID, key, "several links clicked in the same second"); err != nil {
					s.Log.Error("mark earlier click as machine", "leadId", msg.leadID, "error", err.Error())
				}
			}
		}()
	case sesevent.EventBounce:
		act.Kind = lead.KindBounce
		act.Detail = r.Bounce.BounceType + "/" + r.Bounce.BounceSubType
		change = func(l *lead.Lead) error {
			if r.Bounce.BounceType == sesevent.BouncePermanent {
				l.Suppress(lead.SuppressedBounced, at)
			} else {
				l.TransientBounces++
			}
			return nil
		}
	case sesevent.EventComplaint:
		act.Kind = lead.KindComplaint
		act.Detail = r.Complaint.ComplaintFeedbackType
		change = func(l *lead.Lead) error {
			l.Suppress(lead.SuppressedComplained, at)
			return nil
		}
	case sesevent.EventReject:
		act.Kind, act.Detail = lead.KindRejected, r.Reject.Reason
	case sesevent.EventDeliveryDelay:
		act.Kind, act.Detail = lead.KindDelayed, r.DeliveryDelay.DelayType
	case sesevent.EventRenderingFailure:
		act.Kind, act.Detail = lead.KindRenderingFailed, r.Failure.ErrorMessage
	default:
		res.Reason = "event type not used"
		return res, nil
	}
	if change == nil {
		change = func(*lead.Lead) error { return nil }
	}
	res.Kind = act.Kind
	applied, err := s.applyOnce(ctx, msg.leadID, r.Key(), &act, change)
	if errors.Is(err, ErrUnknownLead) {
		// Erased since, or never ours: nothing to update, nothing to retry.
		res.Reason = "unknown lead"
		return res, nil
	}
	res.Applied, res.Machine, res.Reason = applied, act.Machine, act.MachineReason
	return res, err
}

func (s *Service) botWindow() time.Duration {
	if s.BotWindow > 0 {
		return s.BotWindow
	}
	return DefaultBotWindow
}

// deliveredAt is when the message reached the recipient's server, or when
// it was sent if the Delivery event has not arrived yet (events come out of
// order: a scanner's click can beat the Delivery event).
func deliveredAt(l *lead.Lead, r sesevent.Record) time.Time {
	if st, ok := l.SentMessage(r.Mail.MessageID); ok {
		if !st.DeliveredAt.IsZero() {
			return st.DeliveredAt
		}
		return st.At
	}
	return r.Mail.Timestamp
}

func scannerAgent(ua string) bool {
	ua = strings.ToLower(strings.TrimSpace(ua))
	if ua == "" {
		return true
	}
	for _, s := range scannerAgents {
		if strings.Contains(ua, s) {
			return true
		}
	}
	return false
}

// machineOpen: Apple Mail Privacy Protection and scanners open every
// message, so an open proves little; those that are clearly not a reader's
// are marked.
func (s *Service) machineOpen(l *lead.Lead, r sesevent.Record) (bool, string) {
	ua := strings.TrimSpace(r.Open.UserAgent)
	switch {
	case ua == "Mozilla/5.0":
		return true, "privacy proxy (Apple Mail Privacy Protection)"
	case scannerAgent(ua):
		return true, "scanner user agent"
	}
	if d := r.Time().Sub(deliveredAt(l, r)); d >= 0 && d < s.botWindow() {
		return true, fmt.Sprintf("opened %s after delivery", d.Round(time.Second))
	}
	return false, ""
}

// machineClick tells a scanner's click from a reader's, and returns the
// keys of earlier clicks that this one shows to be part of a burst, with the
// points they had earned, to be taken back.
func (s *Service) machineClick(l *lead.Lead, r sesevent.Record) (bool, string, []string, int) {
	at := r.Time()
	var burst []string
	takeBack := 0
	for i, c := range l.RecentClicks {
		if c.MessageID == r.Mail.MessageID && c.Link != clipLink(r.Click.Link) && absDuration(at.Sub(c.At)) < burstWindow &&
			!c.Machine && c.Key != "" {
			burst = append(burst, c.Key)
			takeBack += c.Points
			l.RecentClicks[i].Machine, l.RecentClicks[i].Points = true, 0
		}
	}
	switch {
	case r.LinkTag("link") == "honeypot":
		return true, "hidden honeypot link", burst, takeBack
	case scannerAgent(r.Click.UserAgent):
		return true, "scanner user agent", burst, takeBack
	case len(burst) > 0 || burstWith(l, r):
		return true, "several links clicked in the same second", burst, takeBack
	}
	if d := at.Sub(deliveredAt(l, r)); d >= 0 && d < s.botWindow() {
		return true, fmt.Sprintf("clicked %s after delivery", d.Round(time.Second)), burst, takeBack
	}
	return false, "", burst, takeBack
}

// burstWith reports an earlier machine click on another link of the same
// message within the burst window.
func burstWith(l *lead.Lead, r sesevent.Record) bool {
	for _, c := range l.RecentClicks {
		if c.MessageID == r.Mail.MessageID && c.Link != clipLink(r.Click.Link) && c.Machine && absDuration(r.Time().Sub(c.At)) < burstWindow {
			return true
		}
	}
	return false
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// assetOf names the asset a click led to: from the link's tags, or by
// matching the link against the content library.
func (s *Service) assetOf(r sesevent.Record) string {
	if a := r.LinkTag("asset"); a != "" {
		return a
	}
	u, err := url.Parse(r.Click.Link)
	if err != nil {
		return ""
	}
	for _, a := range s.Program.Assets {
		au, err := url.Parse(a.URL)
		if err == nil && au.Host == u.Host && au.Path == u.Path {
			return a.ID
		}
	}
	return ""
}

// clipLink keeps stored links short: they are for display and matching.
func clipLink(link string) string {
	if len(link) > 512 {
		return link[:512]
	}
	return link
}
