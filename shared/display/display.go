// Package display prepares text people typed into a form (names, companies,
// answers) for showing it to someone else: in nurture mail, on the dossier
// page, in the sales alert and in Slack. Escaping for HTML is left to
// html/template; this package removes what escaping cannot: characters
// that reorder or hide text, line breaks that forge lines, a "name" that is
// really a link, and Slack's formatting.
package display

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxMarks is the most combining marks kept on one letter. Real scripts
// stack two or three (Vietnamese, Indic vowels with a tone); more is "Zalgo"
// text drawn over the lines around it.
const maxMarks = 4

// Text returns s as one line of visible text: every run of spaces, line
// breaks and control characters becomes one space; bidirectional controls
// (which show "moc.live" for "evil.com") and invisible characters (zero
// width spaces and joiners, word joiners, soft hyphens, variation
// selectors, tag characters, Hangul fillers, the blank Braille pattern)
// are dropped, as are private-use and unassigned code points, invalid
// UTF-8 and combining marks beyond maxMarks on one letter. Visible text is
// kept as it is.
func Text(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space, marks := false, 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			continue // invalid UTF-8
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = b.Len() > 0
			marks = 0
			continue
		case invisible(r):
			continue
		case unicode.In(r, unicode.Mn, unicode.Me):
			if marks++; marks > maxMarks {
				continue
			}
		default:
			marks = 0
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// invisible reports characters that draw nothing, or reorder what is drawn
// around them: the Unicode default-ignorable code points (format
// characters, variation selectors and the rest), private-use and
// unassigned code points, and the Braille blank some use as an "empty"
// name.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Co, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point) ||
		r == '\u2800' || !assigned(r)
}

func assigned(r rune) bool {
	return unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cc)
}

// nameMarks are the punctuation marks real names contain: apostrophes
// (O'Brien, N’Diaye), hyphens (Jean-Luc), periods (J. R. R.), commas
// ("Lovelace, Ada") and the Catalan middle dot (Gal·la).
const nameMarks = "'’‘ʼ-‐‑.,·"

// Name returns the name cleaned by Text, and whether it can be used to
// greet or name the person: letters, spaces and the punctuation of names
// only, and not a domain ("evil.example"). A field holding a link, an
// address, digits or symbols is not a name: whoever wrote it is not the
// person it pretends to greet, so mail falls back to a neutral greeting.
func Name(s string) (string, bool) {
	t := Text(s)
	letters := 0
	for _, r := range t {
		switch {
		case unicode.IsLetter(r):
			letters++
		case r == ' ' || unicode.IsMark(r) || strings.ContainsRune(nameMarks, r):
		default:
			return t, false
		}
	}
	if letters == 0 {
		return t, false
	}
	for _, word := range strings.Fields(t) {
		// "evil.example", "st.john": a dot inside a word with two or more
		// letters after it reads as a domain; "J.R.R." does not.
		if dot := strings.LastIndexByte(word, '.'); dot >= 0 && utf8.RuneCountInString(word[dot+1:]) >= 2 {
			return t, false
		}
	}
	return t, true
}

// FirstName is the word to greet the person with ("Ada" of "Ada
// Lovelace"), or "" when the name is not a name (see Name) or empty.
func FirstName(s string) string {
	name, ok := Name(s)
	if !ok {
		return ""
	}
	first, _, _ := strings.Cut(name, " ")
	return first
}

// Slack returns s cleaned by Text and escaped for Slack's mrkdwn. &, < and
// > become the entities Slack documents, so nothing can form a link, a
// mention (<!channel>) or an entity. Slack has no escape for its
// formatting characters (*bold*, _italic_, ~strike~, `code`), so those
// become their full-width forms, which read the same and format nothing;
// an underscore inside a word (ada_lovelace@example.com), which Slack does
// not read as italics, is kept, so an address stays the address.
func Slack(s string) string {
	t := Text(s)
	var b strings.Builder
	b.Grow(len(t))
	prev := ' '
	for i, r := range t {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '*':
			b.WriteRune('＊')
		case '~':
			b.WriteRune('～')
		case '`':
			b.WriteRune('｀')
		case '_':
			next, _ := utf8.DecodeRuneInString(t[i+1:])
			if wordRune(prev) && wordRune(next) {
				b.WriteRune('_')
			} else {
				b.WriteRune('＿')
			}
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

func wordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
