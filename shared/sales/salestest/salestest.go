// Package salestest holds a sample dossier for the tests of sales and of the
// adapters that show alerts.
package salestest

import (
	"time"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/sales"
)

// Links are the links of an alert, on the example domain.
var Links = sales.AlertLinks{
	Dossier: "https://api.acme.example/s/dossier-token",
	Accept:  "https://api.acme.example/s/accept-token",
	Return:  "https://api.acme.example/s/return-token",
}

// Dossier is the story of Ada, a lead that crossed MQL: every part of a
// dossier filled in, machines' events among the person's.
func Dossier() sales.Dossier {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	return sales.Dossier{
		LeadID: "lead1", Name: "Ada Lovelace", Email: "ada@engines.example", Company: "Analytical Engines",
		Role: "CTO, VP or other executive", Industry: "Financial services", CompanySize: "501–5,000", Country: "GB",
		Timeline: "This quarter", Score: 53.8, Threshold: "mql",
		Reasons: []sales.Reason{{Points: 15, Why: "fit: timeline now"}, {Points: 7.8, Why: "downloaded “Paying for Nines”"}, {Points: -10, Why: "fit: free mail address"}},
		Events: []sales.Event{
			{At: at, Kind: lead.KindDownload, Title: "Paying for Nines", Points: 30},
			{At: at.Add(time.Hour), Kind: lead.KindDelivered, Title: "SLOs in Plain Language"},
			{At: at.Add(time.Hour), Kind: lead.KindEmail, Title: "SLOs in Plain Language", Detail: "nurture step 1"},
			{At: at.Add(time.Hour + 2*time.Second), Kind: lead.KindClick, Title: "Multi-Region or Multi-AZ?", Machine: true, Detail: "scanner user agent"},
			{At: at.Add(time.Hour + 3*time.Second), Kind: lead.KindOpen, Title: "SLOs in Plain Language", Machine: true, Detail: "privacy proxy (Apple Mail Privacy Protection)"},
			{At: at.Add(26 * time.Hour), Kind: lead.KindClick, Title: "Multi-Region or Multi-AZ?", Points: 4},
			{At: at.Add(27 * time.Hour), Kind: lead.KindAnswer, Title: "When are you planning to act on this?", Detail: "This quarter", Points: 20},
		},
		Topics:        []string{"reliability", "cloud-cost"},
		TalkingPoints: []string{"Paying for Nines: A model for weighing redundancy spend"},
		Answers:       []sales.Answer{{Question: "When are you planning to act on this?", Answer: "This quarter"}},
		Nurture:       "in nurture, next step due 8 Dec 2026",
	}
}
