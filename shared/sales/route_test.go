package sales_test

import (
	"testing"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/sales"
)

func TestRoute_firstRuleWhoseEveryConditionMatches_elseDefault(t *testing.T) {
	p := &program.Program{Routing: program.Routing{
		Default: "sales@acme.example",
		Rules: []program.Route{
			{Industries: []string{"saas"}, Countries: []string{"DE", "AT", "CH"}, To: "dach-saas@acme.example"},
			{Industries: []string{"finance"}, To: "finance@acme.example"},
			{CompanySizes: []string{"5000+", "501-5000"}, To: "enterprise@acme.example"},
			{Countries: []string{"US"}, To: ""}, // no address: never picked
			{Countries: []string{"US", "CA"}, To: "na@acme.example"},
		},
	}}
	tests := []struct {
		name string
		lead lead.Lead
		want string
	}{
		{"nothing known", lead.Lead{}, "sales@acme.example"},
		{"every condition of the first rule", lead.Lead{Industry: "saas", Country: "DE"}, "dach-saas@acme.example"},
		{"country compared without case or spaces", lead.Lead{Industry: "saas", Country: " de "}, "dach-saas@acme.example"},
		{"one condition of two is not enough", lead.Lead{Industry: "saas", Country: "FR"}, "sales@acme.example"},
		{"a given condition never matches an unknown value", lead.Lead{Industry: "saas"}, "sales@acme.example"},
		{"single condition", lead.Lead{Industry: "finance"}, "finance@acme.example"},
		{"first matching rule wins", lead.Lead{Industry: "finance", CompanySize: "5000+"}, "finance@acme.example"},
		{"later rule", lead.Lead{Industry: "retail", CompanySize: "501-5000"}, "enterprise@acme.example"},
		{"rule without address is skipped", lead.Lead{Country: "US"}, "na@acme.example"},
		{"option values, not labels", lead.Lead{CompanySize: "More than 5,000"}, "sales@acme.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sales.Route(p, &tt.lead); got != tt.want {
				t.Errorf("Route = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestRoute_ruleWithoutConditionsCatchesAll(t *testing.T) {
	p := &program.Program{Routing: program.Routing{Default: "sales@acme.example", Rules: []program.Route{{To: "all@acme.example"}}}}
	if got := sales.Route(p, &lead.Lead{Industry: "retail"}); got != "all@acme.example" {
		t.Fatalf("Route = %q", got)
	}
}

func TestRoute_programFile(t *testing.T) {
	p, err := program.Default()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		lead lead.Lead
		want string
	}{
		{lead.Lead{Industry: "finance", CompanySize: "5000+"}, "financial-services-sales@acme.example"},
		{lead.Lead{Industry: "saas", CompanySize: "5000+"}, "enterprise-sales@acme.example"},
		{lead.Lead{Industry: "saas", CompanySize: "51-500"}, "sales@acme.example"},
	} {
		if got := sales.Route(p, &tt.lead); got != tt.want {
			t.Errorf("Route(%+v) = %q, want %q", tt.lead, got, tt.want)
		}
	}
}
