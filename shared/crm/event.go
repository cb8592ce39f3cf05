// Package crm delivers a lead's lifecycle events (lead.captured,
// lead.sales_ready, lead.accepted, lead.returned, lead.unsubscribed) to a
// CRM's webhook: a versioned JSON payload (Event, documented in
// docs/crm.md with examples and a JSON Schema in events/crm), signed with
// HMAC-SHA256 over a timestamp and the body (Sign, Verify), delivered at
// least once with an id for the receiver's idempotency, retried with
// backoff (Sender).
//
// The events are recorded on the lead by the write that changes it
// (lead.Lead.RecordLifecycle); the table's stream hands the leads that hold
// some to the events function, whose Sender delivers them. No request of a
// person ever waits on the CRM.
package crm

import (
	"math"
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// Version is the payload's schema version. Fields may be added within a
// version; a field removed or changed in meaning is a new version.
const Version = 1

// Event is the payload of one delivery: the event, and the lead as it is
// when the event is delivered.
type Event struct {
	// ID is the same on every try of one event: the receiver's key to
	// process it once.
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Version    int       `json:"version"`
	OccurredAt time.Time `json:"occurredAt"`
	Lead       Lead      `json:"lead"`
	// Data is what the event is about; its fields depend on Type.
	Data Data `json:"data"`
}

// Lead is the lead in an event: who they are, where they came from, what
// they agreed to, where they stand. It never holds the consent's IP
// address.
type Lead struct {
	ID          string       `json:"id"`
	Email       string       `json:"email"`
	Name        string       `json:"name,omitempty"`
	Company     string       `json:"company,omitempty"`
	Role        string       `json:"role,omitempty"`
	Industry    string       `json:"industry,omitempty"`
	CompanySize string       `json:"companySize,omitempty"`
	Country     string       `json:"country,omitempty"`
	Timeline    string       `json:"timeline,omitempty"`
	TimeZone    string       `json:"timeZone,omitempty"`
	CreatedAt   time.Time    `json:"createdAt"`
	Score       float64      `json:"score"`
	ScoredAt    *time.Time   `json:"scoredAt,omitempty"`
	Topics      []string     `json:"topics"`
	Downloads   []string     `json:"downloads"`
	FirstTouch  *FirstTouch  `json:"firstTouch,omitempty"`
	Consent     *Consent     `json:"consent,omitempty"`
	Nurture     string       `json:"nurture"`
	Sales       *Decision    `json:"sales,omitempty"`
	Suppressed  *Suppression `json:"suppressed,omitempty"`
}

// FirstTouch is where the lead first came from.
type FirstTouch struct {
	SourcePage  string `json:"sourcePage,omitempty"`
	Referrer    string `json:"referrer,omitempty"`
	UTMSource   string `json:"utmSource,omitempty"`
	UTMMedium   string `json:"utmMedium,omitempty"`
	UTMCampaign string `json:"utmCampaign,omitempty"`
	UTMTerm     string `json:"utmTerm,omitempty"`
	UTMContent  string `json:"utmContent,omitempty"`
}

// Consent is the evidence of the latest consent given on a form.
type Consent struct {
	Version    string    `json:"version"`
	At         time.Time `json:"at"`
	FormID     string    `json:"formId"`
	SourcePage string    `json:"sourcePage,omitempty"`
}

// Decision is sales' latest decision about the lead.
type Decision struct {
	Status string    `json:"status"` // accepted, returned
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
	By     string    `json:"by,omitempty"` // the address of the rep who decided
}

// Suppression is why and since when the lead gets no mail.
type Suppression struct {
	Reason string    `json:"reason"` // unsubscribed, bounced, complained
	At     time.Time `json:"at"`
}

// Data is the event's own facts. Every type fills its fields and only
// those:
//
//   - lead.captured: formId, assetId, assetTitle
//   - lead.sales_ready: alertId, threshold, score, dossierUrl (when the
//     events function can sign links)
//   - lead.accepted: nothing
//   - lead.returned: reason, reasonLabel, nurture (what the lead does now:
//     resume, restart, evergreen, stop)
//   - lead.unsubscribed: nothing
type Data struct {
	FormID      string   `json:"formId,omitempty"`
	AssetID     string   `json:"assetId,omitempty"`
	AssetTitle  string   `json:"assetTitle,omitempty"`
	AlertID     string   `json:"alertId,omitempty"`
	Threshold   string   `json:"threshold,omitempty"`
	Score       *float64 `json:"score,omitempty"`
	DossierURL  string   `json:"dossierUrl,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	ReasonLabel string   `json:"reasonLabel,omitempty"`
	Nurture     string   `json:"nurture,omitempty"`
}

// Build is the payload of a lifecycle event of the lead, as delivered now:
// the event's facts as recorded, the lead as it is. dossierURL, if any,
// goes into a sales-ready event.
func Build(p *program.Program, l *lead.Lead, e lead.LifecycleEvent, dossierURL string) Event {
	ev := Event{
		ID: e.ID(l.ID), Type: e.Type, Version: Version, OccurredAt: e.At.UTC(),
		Lead: leadOf(l),
	}
	switch e.Type {
	case lead.EventCaptured:
		ev.Data.FormID = e.Ref
		if f, ok := p.Form(e.Ref); ok {
			ev.Data.AssetID = f.Asset
			if a, ok := p.Asset(f.Asset); ok {
				ev.Data.AssetTitle = a.Title
			}
		}
	case lead.EventSalesReady:
		score := e.Score
		ev.Data.AlertID, ev.Data.Threshold, ev.Data.Score, ev.Data.DossierURL = e.Ref, e.Threshold, &score, dossierURL
	case lead.EventReturned:
		ev.Data.Reason, ev.Data.Nurture = e.Ref, p.ReturnAction(e.Ref)
		for _, r := range program.ReturnReasons {
			if r.Code == e.Ref {
				ev.Data.ReasonLabel = r.Label
			}
		}
	}
	return ev
}

func leadOf(l *lead.Lead) Lead {
	out := Lead{
		ID: l.ID, Email: l.Email, Name: l.Name, Company: l.Company, Role: l.Role, Industry: l.Industry,
		CompanySize: l.CompanySize, Country: l.Country, Timeline: l.Timeline, TimeZone: l.TimeZone,
		CreatedAt: l.CreatedAt.UTC(),
		Score:     math.Round((l.Score.Activity+float64(l.Score.Fit))*10) / 10,
		Topics:    orEmpty(l.Topics), Downloads: orEmpty(l.Downloaded),
		Nurture: l.Nurture.Status,
	}
	if !l.Score.At.IsZero() {
		at := l.Score.At.UTC()
		out.ScoredAt = &at
	}
	if out.Nurture == "" {
		out.Nurture = "none"
	}
	if t := l.FirstTouch; t != nil {
		out.FirstTouch = &FirstTouch{SourcePage: t.SourcePage, Referrer: t.Referrer, UTMSource: t.UTMSource, UTMMedium: t.UTMMedium,
			UTMCampaign: t.UTMCampaign, UTMTerm: t.UTMTerm, UTMContent: t.UTMContent}
		if *out.FirstTouch == (FirstTouch{}) {
			out.FirstTouch = nil
		}
	}
	if c := l.Consent; c != nil {
		out.Consent = &Consent{Version: c.Version, At: c.At.UTC(), FormID: c.FormID, SourcePage: c.SourcePage}
	}
	if s := l.Sales; s != nil {
		out.Sales = &Decision{Status: s.Status, Reason: s.Reason, At: s.At.UTC(), By: s.By}
	}
	if s := l.Suppression; s != nil {
		out.Suppressed = &Suppression{Reason: s.Reason, At: s.At.UTC()}
	}
	return out
}

// orEmpty keeps lists as [] rather than null, so receivers need no check.
func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
