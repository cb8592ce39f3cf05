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
	"github.com/leadnurture/nurture/shared/mail"
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
// it, then dead-letters it); an event about a message we never sent, and
// the setup messages of an SNS topic, are logged and dropped.
func (s *Service) HandleEvent(ctx context.Context, raw json.RawMessage) ([]Result, error) {
	records, err := sesevent.Decode(raw)
	if errors.Is(err, sesevent.ErrSetupMessage) {
		// SNS confirming a subscription, SES validating its topic: sent
		// once when the wiring is set up, and nothing to apply or retry.
		s.Log.Info("ses setup message", "reason", err.Error())
		return nil, nil
	}
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
		for _, one := range res {
			s.Log.Info("ses event", "event", r.EventType, "leadId", one.LeadID, "applied", one.Applied,
				"machine", one.Machine, "reason", one.Reason)
		}
		results = append(results, res...)
	}
	return results, nil
}

// sent identifies the nurture step a message belongs to. Without tags only
// the lead is known, and the step is found on it (applyTo): by the
// message's MessageId, or, for the lead the message was addressed to, by
// when it was sent.
type sent struct {
	leadID, track, assetID string
	step                   int
	tagged                 bool
	addressed              bool // the message's one destination is the lead's address
}

// join finds the lead and step of a message from the message's tags, which
// SES publishes with every event of a configuration set. Without them (as
// in identity feedback notifications), the recipient's address names the
// lead and the step is the one on the lead with the event's MessageId, or
// else the one claimed just before SES sent the message.
func (s *Service) join(r sesevent.Record) (sent, bool) {
	if id := r.Tag(mail.TagLead); id != "" {
		step, _ := strconv.Atoi(r.Tag(mail.TagStep))
		return sent{leadID: id, track: r.Tag(mail.TagTrack), assetID: r.Tag(mail.TagAsset), step: step, tagged: true}, true
	}
	if len(r.Mail.Destination) != 1 {
		return sent{}, false
	}
	id, ok := s.leadOf(r.Mail.Destination[0])
	return sent{leadID: id, addressed: true}, ok
}

// leadOf is the id of the lead an address would be: lead ids derive from
// addresses (under the lead id key), so no lookup is needed.
func (s *Service) leadOf(address string) (string, bool) {
	email, err := lead.NormaliseEmail(address)
	if err != nil {
		return "", false
	}
	return s.LeadIDs.ID(email), true
}

// recipients are the leads a bounce or complaint is about: the addresses
// it names, which need not be the lead in the tags. A message's step is
// known only for the lead it was sent to (msg, when found).
func (s *Service) recipients(r sesevent.Record, msg sent, found bool) []sent {
	var out []sent
	seen := map[string]bool{}
	for _, addr := range r.Recipients() {
		id, ok := s.leadOf(addr)
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		if found && msg.leadID == id {
			out = append(out, msg)
		} else {
			out = append(out, sent{leadID: id})
		}
	}
	if len(out) == 0 && found {
		// No recipient named (or none readable): the message's own lead.
		out = append(out, msg)
	}
	return out
}

// errUnknownMessage: the lead has no step sent as this message.
var errUnknownMessage = errors.New("unknown message")

// Apply changes the leads one SES event record is about, at most once per
// event and lead: the recipients a bounce or complaint names, the lead the
// message was sent to for every other event. It returns a result per lead.
func (s *Service) Apply(ctx context.Context, r sesevent.Record) ([]Result, error) {
	if r.Tag(mail.TagKind) == mail.KindAlert {
		// Sales alerts name the lead too, but sales opening, clicking or
		// bouncing them is not the lead's engagement.
		return []Result{{Reason: "unknown message"}}, nil
	}
	msg, found := s.join(r)
	if r.EventType != sesevent.EventBounce && r.EventType != sesevent.EventComplaint {
		if !found {
			return []Result{{Reason: "unknown message"}}, nil
		}
		res, err := s.applyTo(ctx, r, msg)
		return []Result{res}, err
	}
	to := s.recipients(r, msg, found)
	if len(to) == 0 {
		return []Result{{Reason: "unknown message"}}, nil
	}
	var out []Result
	for _, m := range to {
		// A retry after a failure here applies the whole record again;
		// the leads done before it recognise the event and skip it.
		res, err := s.applyTo(ctx, r, m)
		if err != nil {
			return out, err
		}
		out = append(out, res)
	}
	return out, nil
}

// applyTo changes one lead for an event record about the message msg names.
func (s *Service) applyTo(ctx context.Context, r sesevent.Record, msg sent) (Result, error) {
	if r.EventType == sesevent.EventSend {
		return s.sent(ctx, r, msg)
	}
	res := Result{LeadID: msg.leadID}
	at := r.Time()
	feedback := r.EventType == sesevent.EventBounce || r.EventType == sesevent.EventComplaint
	act := lead.Activity{At: at, MessageID: r.Mail.MessageID, Track: msg.track, Step: msg.step, AssetID: msg.assetID}
	// change is what the event does to the lead; st is the step the event
	// is about, nil if the lead does not list it.
	var change func(l *lead.Lead, st *lead.SentStep) error
	key := r.Key()

	switch r.EventType {
	case sesevent.EventDelivery:
		act.Kind = lead.KindDelivered
		change = func(l *lead.Lead, st *lead.SentStep) error {
			if st != nil {
				st.DeliveredAt = at
			}
			l.Delivered(at)
			return nil
		}
	case sesevent.EventOpen:
		act.Kind = lead.KindOpen
		change = func(_ *lead.Lead, st *lead.SentStep) error {
			act.Machine, act.MachineReason = s.machineOpen(st, r)
			if st != nil && !act.Machine {
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
		var burst []lead.ClickMark
		change = func(l *lead.Lead, st *lead.SentStep) error {
			var takeBack int
			mark := lead.Mark(r.Mail.MessageID, act.Link, at, r.Key())
			act.Machine, act.MachineReason, burst, takeBack = s.machineClick(l, st, r, mark)
			act.Adjust = -takeBack
			mark.Machine = act.Machine
			l.RememberClick(mark)
			if !act.Machine {
				s.engaged(l, at, act.AssetID)
			}
			return nil
		}
		defer func() {
			// Earlier clicks of the burst were taken for a reader's; say
			// now that they were not.
			for _, c := range burst {
				if err := s.Store.MarkMachine(ctx, msg.leadID, c.Key, c.At, "several links clicked in the same second"); err != nil {
					s.Log.Error("mark earlier click as machine", "leadId", msg.leadID, "error", err.Error())
				}
			}
		}()
	case sesevent.EventBounce:
		act.Kind = lead.KindBounce
		act.Detail = r.Bounce.BounceType + "/" + r.Bounce.BounceSubType
		change = func(l *lead.Lead, _ *lead.SentStep) error {
			if r.Bounce.BounceType == sesevent.BouncePermanent {
				l.Suppress(lead.SuppressedBounced, at)
				return nil
			}
			// Transient, and Undetermined: SES could not tell why, and
			// AWS advises removing an address at once only for Permanent.
			// Either way the address did not take the mail.
			l.SoftBounce(at, s.Program.SoftBounceLimit())
			return nil
		}
	case sesevent.EventComplaint:
		act.Kind = lead.KindComplaint
		act.Detail = r.Complaint.ComplaintFeedbackType
		change = func(l *lead.Lead, _ *lead.SentStep) error {
			if r.Complaint.ComplaintFeedbackType != sesevent.FeedbackNotSpam {
				l.Suppress(lead.SuppressedComplained, at)
			}
			return nil
		}
	case sesevent.EventSubscription:
		if !r.Subscription.OptsOut() {
			// Consent comes through the forms; a contact list opt-in
			// changes nothing here.
			res.Reason = "not an opt-out"
			return res, nil
		}
		// The recipient left through SES's own unsubscribe (its managed
		// List-Unsubscribe): the same as our link, and one with it.
		act.Kind, act.Detail = lead.KindUnsubscribe, r.Subscription.Source
		key = unsubscribeKey
		change = func(l *lead.Lead, _ *lead.SentStep) error {
			l.Suppress(lead.SuppressedUnsubscribed, at)
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
	res.Kind = act.Kind
	applied, err := s.applyOnce(ctx, msg.leadID, key, &act, func(l *lead.Lead) error {
		st, ok := l.SentStepOf(r.Mail.MessageID, msg.track, msg.step)
		if !ok && msg.addressed {
			st, ok = l.SentJustBefore(r.Mail.Timestamp)
		}
		if !ok && !msg.tagged && !feedback {
			// Only the address named the lead, and no step of it was sent
			// as this message. (A bounce or a complaint about the address
			// stops its mail whatever message it was about.)
			return errUnknownMessage
		}
		if ok && !msg.tagged {
			act.Track, act.Step = st.Track, st.Step
			if act.AssetID == "" {
				act.AssetID = st.AssetID
			}
		}
		if ok && st.MessageID == "" {
			// Only SES's events bring the MessageId: the scheduler lists a
			// step before it sends it.
			st.MessageID = r.Mail.MessageID
		}
		if change == nil {
			return nil
		}
		return change(l, st)
	})
	switch {
	case errors.Is(err, ErrUnknownLead) && !msg.tagged:
		res.Reason = "unknown message"
		return res, nil
	case errors.Is(err, ErrUnknownLead):
		// Erased since, or never ours: nothing to update, nothing to retry.
		res.Reason = "unknown lead"
		return res, nil
	case errors.Is(err, errUnknownMessage):
		res.Reason = "unknown message"
		return res, nil
	}
	res.Applied, res.Machine, res.Reason = applied, act.Machine, act.MachineReason
	return res, err
}

// sent records that SES accepted a nurture email, as a "sent" activity:
// the scheduler listed the step on the lead before it asked SES to send it,
// so the lead itself has nothing left to change, but the program's results
// count what was mailed from activities. The activity is keyed by the
// message and timed by it, so a redelivered Send event writes the same
// item again, which the store refuses: one message, one activity. Only a
// tagged message names its step.
func (s *Service) sent(ctx context.Context, r sesevent.Record, msg sent) (Result, error) {
	res := Result{LeadID: msg.leadID, Kind: lead.KindSent}
	if !msg.tagged || r.Mail.MessageID == "" {
		res.Reason = "untagged message"
		return res, nil
	}
	if k := r.Tag(mail.TagKind); k != "" && k != mail.KindNurture {
		// A confirmation email is not nurture: the results count what
		// nurture mailed.
		res.Reason = "not a nurture email"
		return res, nil
	}
	at := r.Mail.Timestamp
	if at.IsZero() {
		at = r.Time()
	}
	act := lead.Activity{Key: "sent-" + r.Mail.MessageID, Kind: lead.KindSent, At: at, MessageID: r.Mail.MessageID,
		Track: msg.track, Step: msg.step, AssetID: msg.assetID}
	added, err := s.Store.AddActivity(ctx, msg.leadID, act)
	if err != nil {
		return res, fmt.Errorf("record sent message: %w", err)
	}
	res.Applied = added
	return res, nil
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
func deliveredAt(st *lead.SentStep, r sesevent.Record) time.Time {
	switch {
	case st != nil && !st.DeliveredAt.IsZero():
		return st.DeliveredAt
	case !r.Mail.Timestamp.IsZero():
		return r.Mail.Timestamp
	case st != nil:
		return st.At
	}
	return time.Time{}
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
func (s *Service) machineOpen(st *lead.SentStep, r sesevent.Record) (bool, string) {
	ua := strings.TrimSpace(r.Open.UserAgent)
	switch {
	case ua == "Mozilla/5.0":
		return true, "privacy proxy (Apple Mail Privacy Protection)"
	case scannerAgent(ua):
		return true, "scanner user agent"
	}
	if d := r.Time().Sub(deliveredAt(st, r)); d >= 0 && d < s.botWindow() {
		return true, fmt.Sprintf("opened %s after delivery", d.Round(time.Second))
	}
	return false, ""
}

// machineClick tells a scanner's click from a reader's, and returns the
// marks of earlier clicks that this one shows to be part of a burst, with
// the points they had earned, to be taken back.
func (s *Service) machineClick(l *lead.Lead, st *lead.SentStep, r sesevent.Record, mark lead.ClickMark) (bool, string, []lead.ClickMark, int) {
	at := r.Time()
	var burst []lead.ClickMark
	takeBack := 0
	for i, c := range l.RecentClicks {
		if c.OtherLinkOf(mark) && absDuration(at.Sub(c.At)) < burstWindow && !c.Machine && c.Key != "" {
			burst = append(burst, c)
			takeBack += c.Points
			l.RecentClicks[i].Machine, l.RecentClicks[i].Points = true, 0
		}
	}
	switch {
	case r.LinkTag(mail.TagLink) == mail.LinkHoneypot:
		return true, "hidden honeypot link", burst, takeBack
	case scannerAgent(r.Click.UserAgent):
		return true, "scanner user agent", burst, takeBack
	case len(burst) > 0 || burstWith(l, mark):
		return true, "several links clicked in the same second", burst, takeBack
	}
	if d := at.Sub(deliveredAt(st, r)); d >= 0 && d < s.botWindow() {
		return true, fmt.Sprintf("clicked %s after delivery", d.Round(time.Second)), burst, takeBack
	}
	return false, "", burst, takeBack
}

// burstWith reports an earlier machine click on another link of the same
// message within the burst window.
func burstWith(l *lead.Lead, mark lead.ClickMark) bool {
	for _, c := range l.RecentClicks {
		if c.OtherLinkOf(mark) && c.Machine && absDuration(mark.At.Sub(c.At)) < burstWindow {
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
	if a := r.LinkTag(mail.TagAsset); a != "" {
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
