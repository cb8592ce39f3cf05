// Package mailtest holds a sample nurture email for the tests of mail and of
// the mailers that send it.
package mailtest

import (
	"testing"

	"github.com/leadnurture/nurture/shared/mail"
	"github.com/leadnurture/nurture/shared/program"
)

// The links of NurtureEmail.
const (
	UnsubscribeURL = "https://api.acme.example/u/AQJrMdW3x_Qe-9"
	PreferencesURL = "https://api.acme.example/p/AQJrPrefs_Qe-9"
	UsefulURL      = "https://api.acme.example/r/AQJrYes"
	NotUsefulURL   = "https://api.acme.example/r/AQJrNo"
	AssetURL       = "https://acme.example/guides/finops?utm_source=nurture&utm_medium=email"
)

// NurtureEmail is a nurture email with every part filled in, to Ada.
func NurtureEmail() mail.NurtureEmail {
	return mail.NurtureEmail{
		To:        "ada@example.com",
		FirstName: "Ada",
		Sender: program.Sender{
			From:          "Acme Insights <insights@acme.example>",
			ReplyTo:       "team@acme.example",
			Company:       "Acme Analytics Ltd",
			PostalAddress: "1 Harbour Street, Bristol BS1 4XX, United Kingdom",
		},
		Subject: "Cutting cloud waste in 30 days",
		Intro:   "Teams that tag early save the most.\n\nThis checklist shows where to start.",
		Asset: program.Asset{
			ID:      "cloud-waste-checklist",
			Title:   "The cloud waste checklist",
			URL:     "https://acme.example/guides/finops",
			Format:  "checklist",
			Summary: "Twelve checks that find idle spend.",
		},
		AssetURL: AssetURL,
		Reason:   "Because you read “The FinOps field guide”",
		Question: &mail.QuestionBlock{
			Text: "How large is your company?",
			Answers: []mail.AnswerLink{
				{Label: "1–50", URL: "https://api.acme.example/a/tokSmall"},
				{Label: "51–500", URL: "https://api.acme.example/a/tokMid"},
				{Label: "500+", URL: "https://api.acme.example/a/tokLarge"},
			},
		},
		Rating: &mail.RatingBlock{
			Text: "Was this useful?",
			Yes:  mail.AnswerLink{Label: "Yes", URL: UsefulURL},
			No:   mail.AnswerLink{Label: "Not really", URL: NotUsefulURL},
		},
		UnsubscribeURL: UnsubscribeURL,
		PreferencesURL: PreferencesURL,
		Downloaded:     "The FinOps field guide",
	}
}

// Render renders e, failing the test if it cannot.
func Render(t testing.TB, e mail.NurtureEmail) mail.Message {
	t.Helper()
	m, err := mail.RenderNurture(e)
	if err != nil {
		t.Fatalf("RenderNurture: %v", err)
	}
	return m
}
