package simulation

import (
	"fmt"
	"strings"

	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/nurture"
	"github.com/leadnurture/nurture/shared/program"
)

// note says why an email is not simply the step after the previous one:
// a branch jumped to it, a track's exit ended the track early, or steps
// in between were not for the lead (their when). It asks the product's own
// test of the program's conditions, on the lead as the scheduler saw it
// (nothing the persona does comes between the tick and the delivery).
// "" for the usual next step.
func note(prog *program.Program, l *lead.Lead, prev, e *Email) string {
	if prev == nil || prev.Track == "" || e.Track == "" || e.Track == program.ReengageTrack {
		return ""
	}
	meets := nurture.Meets(prog, l, e.At)
	track, ok := prog.Track(prev.Track)
	if !ok {
		return ""
	}
	from := prev.Step
	var notes []string
	if e.Track == prev.Track {
		if e.Step <= from+1 {
			return ""
		}
		if to, b, ok := track.Jump(from, meets); ok && to == e.Step {
			return fmt.Sprintf("jumped from step %d: %s", from+1, b.When)
		}
		notes = skipped(track, from+1, e.Step, meets)
	} else {
		if x, ok := track.Exited(meets); ok && from+1 < len(track.Steps) {
			return fmt.Sprintf("left %s early: %s", track.ID, x.When)
		}
		notes = skipped(track, from+1, len(track.Steps), meets)
	}
	return strings.Join(notes, "; ")
}

// skipped names the steps from..to-1 of the track that were not for the
// lead.
func skipped(track program.Track, from, to int, meets func(program.Condition) bool) []string {
	var notes []string
	for i := from; i < to && i < len(track.Steps); i++ {
		if w := track.Steps[i].When; !w.IsZero() && !meets(w) {
			notes = append(notes, fmt.Sprintf("%s step %d not for this lead (%s)", track.ID, i+1, w))
		}
	}
	return notes
}
