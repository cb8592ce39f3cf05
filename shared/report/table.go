package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// WriteText writes tables for a terminal: a title, aligned columns, a note.
func WriteText(w io.Writer, tables ...Table) error {
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "== %s\n", t.Title)
		widths := make([]int, len(t.Columns))
		for c, h := range t.Columns {
			widths[c] = utf8.RuneCountInString(h)
		}
		for _, r := range t.Rows {
			for c, v := range r {
				widths[c] = max(widths[c], utf8.RuneCountInString(v))
			}
		}
		line := func(cells []string) {
			var b strings.Builder
			for c, v := range cells {
				pad := strings.Repeat(" ", widths[c]-utf8.RuneCountInString(v))
				switch {
				case c == 0:
					b.WriteString(v + pad)
				case Numeric(v):
					b.WriteString("  " + pad + v)
				default:
					b.WriteString("  " + v + pad)
				}
			}
			fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		}
		line(t.Columns)
		for _, r := range t.Rows {
			line(r)
		}
		if len(t.Rows) == 0 {
			fmt.Fprintln(w, "(nothing in the period)")
		}
		if t.Note != "" {
			fmt.Fprintln(w, "   "+t.Note)
		}
	}
	return nil
}

// Numeric reports a cell that reads as a number (a count, a share, a
// duration or none): such columns align right.
func Numeric(v string) bool {
	if v == "–" {
		return true
	}
	return v != "" && strings.IndexFunc(v, func(r rune) bool {
		return !(r >= '0' && r <= '9' || strings.ContainsRune(".,% dhm", r))
	}) < 0 && v[0] >= '0' && v[0] <= '9'
}

// WriteCSV writes one table as CSV, its header first. With several tables
// each is preceded by a row naming it, so one file holds them all.
func WriteCSV(w io.Writer, tables ...Table) error {
	cw := csv.NewWriter(w)
	for i, t := range tables {
		if len(tables) > 1 {
			if i > 0 {
				if err := cw.Write(nil); err != nil {
					return err
				}
			}
			if err := cw.Write([]string{"# " + t.ID}); err != nil {
				return err
			}
		}
		if err := cw.Write(t.Columns); err != nil {
			return err
		}
		for _, r := range t.Rows {
			if err := cw.Write(safeCells(r)); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// safeCells keeps a spreadsheet from running what a lead wrote: a cell
// starting like a formula gets a leading apostrophe (OWASP's advice on CSV
// injection).
func safeCells(r []string) []string {
	out := make([]string, len(r))
	for i, v := range r {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			v = "'" + v
		}
		out[i] = v
	}
	return out
}
