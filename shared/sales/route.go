package sales

import (
	"strings"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// Route picks the sales address for a lead's alert: the first routing rule
// whose every given condition matches the lead's profile option values, or
// the default when none does. A condition left empty matches any lead; a
// condition that is given never matches a lead that has no value for it.
// Values compare without regard to case or surrounding spaces, so a lead's
// "de" matches a rule's "DE".
func Route(p *program.Program, l *lead.Lead) string {
	for _, r := range p.Routing.Rules {
		if r.To == "" {
			continue
		}
		if routeMatches(r.Industries, l.Industry) && routeMatches(r.CompanySizes, l.CompanySize) && routeMatches(r.Countries, l.Country) {
			return r.To
		}
	}
	return p.Routing.Default
}

func routeMatches(allowed []string, v string) bool {
	if len(allowed) == 0 {
		return true
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimSpace(a), v) {
			return true
		}
	}
	return false
}
