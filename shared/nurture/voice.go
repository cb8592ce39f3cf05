package nurture

import (
	"slices"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
)

// mutedOnly reports whether every topic of the asset is one the lead
// chose not to hear about.
func mutedOnly(l *lead.Lead, a program.Asset) bool {
	return len(a.Topics) > 0 && !slices.ContainsFunc(a.Topics, func(t string) bool { return !l.Muted(t) })
}
