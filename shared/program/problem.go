package program

import (
	"fmt"
	"strings"
)

// Problem is one mistake in a program file, placed where an editor can jump
// to it and worded so the person editing knows what to write instead.
type Problem struct {
	File   string
	Line   int // 1-based; 0 when unknown
	Column int // 1-based; 0 when unknown
	// Path names the value in the file, e.g. tracks[1].steps[2].stage; list
	// indexes count from 0 like the Go slices they fill.
	Path    string
	Message string
}

// String formats the problem as file:line:col: path: message, the shape
// editors and CI annotations recognise.
func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		if p.Line > 0 {
			fmt.Fprintf(&b, ":%d", p.Line)
			if p.Column > 0 {
				fmt.Fprintf(&b, ":%d", p.Column)
			}
		}
		b.WriteString(": ")
	}
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// ValidationError is every problem found in a program file, reported together
// so one edit-and-check round fixes them all.
type ValidationError struct {
	Problems []Problem
}

// Error prints one problem per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
