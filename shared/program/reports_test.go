package program

import "testing"

func TestParse_reportsMistake_pointsAtWhatToChange(t *testing.T) {
	checkMistakes(t, []mistake{
		{
			name:    "not an address",
			edit:    edit{"to: [marketing@acme.example]", "to: [marketing@acme.example, the marketing team]"},
			pointAt: "the marketing team", path: "reports.to[1]",
			msg: `"the marketing team" is not an email address`,
		},
		{
			name:    "listed twice",
			edit:    edit{"to: [marketing@acme.example]", "to: [marketing@acme.example, Marketing@ACME.example]"},
			pointAt: "Marketing@ACME.example", path: "reports.to[1]",
			msg: "Marketing@ACME.example is listed already at reports.to[0]; list each address once",
		},
		{
			name:    "misspelt key",
			edit:    edit{"  to: [marketing@acme.example]", "  sendto: [marketing@acme.example]"},
			pointAt: "sendto", path: "reports.sendto",
			msg: `unknown key "sendto"`,
		},
	})
}

func TestDefault_reportsGoToMarketing(t *testing.T) {
	p, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Reports.To) != 1 || p.Reports.To[0] != "marketing@acme.example" {
		t.Fatalf("reports.to = %v", p.Reports.To)
	}
}
