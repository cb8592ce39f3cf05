package display

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain text kept", "Ada Lovelace", "Ada Lovelace"},
		{"accents and other scripts kept", "Zoë Ñúñez, 李小龍, Ωmega, محمد", "Zoë Ñúñez, 李小龍, Ωmega, محمد"},
		{"line breaks fold to one space", "Ada\r\nBcc: x@evil.example", "Ada Bcc: x@evil.example"},
		{"tabs, no-break and ideographic spaces fold", "Ada\t\u00a0\u3000Lovelace", "Ada Lovelace"},
		{"line and paragraph separators fold", "a\u2028b\u2029c", "a b c"},
		{"spaces trimmed", "  Ada  ", "Ada"},
		{"right-to-left override dropped", "evil\u202emoc.elpmaxe", "evilmoc.elpmaxe"},
		{"isolates and marks dropped", "\u2067Ada\u2069\u200f\u200e\u061c", "Ada"},
		{"zero-width characters dropped", "A\u200bd\u200ca\u200d\u2060\ufeff", "Ada"},
		{"soft hyphen dropped", "Love\u00adlace", "Lovelace"},
		{"tag characters dropped", "Ada\U000e0041\U000e0042", "Ada"},
		{"variation selectors dropped", "A\ufe0fda\U000e0100", "Ada"},
		{"Hangul fillers and Braille blank dropped", "\u3164\u115f\u2800Ada\uffa0", "Ada"},
		{"private use dropped", "Ada\ue000", "Ada"},
		{"invalid UTF-8 dropped", "Ad\xffa", "Ada"},
		{"controls fold", "Ada\x00\x1b[31mred", "Ada [31mred"},
		{"two combining marks kept", "Vie\u0302\u0323t", "Vie\u0302\u0323t"},
		{"Zalgo marks cut to four", "a" + strings.Repeat("\u0300", 30) + "b", "a" + strings.Repeat("\u0300", 4) + "b"},
		{"nothing visible is empty", "\u200b\u202e \t", ""},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("%s: Text(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"Ada Lovelace", "Ada Lovelace", true},
		{"Seán O'Brien", "Seán O'Brien", true},
		{"N’Diaye", "N’Diaye", true},
		{"Jean-Luc Picard", "Jean-Luc Picard", true},
		{"J. R. R. Tolkien", "J. R. R. Tolkien", true},
		{"J.R.R. Tolkien", "J.R.R. Tolkien", true},
		{"Lovelace, Ada", "Lovelace, Ada", true},
		{"李小龍", "李小龍", true},
		{"Ada\u202e", "Ada", true},
		{"https://evil.example/reset?acct=1", "https://evil.example/reset?acct=1", false},
		{"Visit evil.example now", "Visit evil.example now", false},
		{"www.evil.example", "www.evil.example", false},
		{"ada@example.com", "ada@example.com", false},
		{"Agent 007", "Agent 007", false},
		{"Ada <b>", "Ada <b>", false},
		{"*URGENT*", "*URGENT*", false},
		{"...", "...", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := Name(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Name(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFirstName_greetsOnlyAName(t *testing.T) {
	for in, want := range map[string]string{
		"Ada Lovelace":                      "Ada",
		"  Grace   Hopper ":                 "Grace",
		"\u2067Ada\u2069 Lovelace":          "Ada",
		"https://evil.example/reset?acct=1": "",
		"Click evil.example":                "",
		"Ada 2":                             "",
		"":                                  "",
	} {
		if got := FirstName(in); got != want {
			t.Errorf("FirstName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSlack_escapesMarkupAndFormatting(t *testing.T) {
	for in, want := range map[string]string{
		"Ada & Co":                    "Ada &amp; Co",
		"<!channel> look":             "&lt;!channel&gt; look",
		"<https://evil.example|Open>": "&lt;https://evil.example|Open&gt;",
		"*bold* _it_ ~st~ `code`":     "＊bold＊ ＿it＿ ～st～ ｀code｀",
		"> quote\nline":               "&gt; quote line",
		"\u202eAda":                   "Ada",
		"ada_lovelace@example.com":    "ada_lovelace@example.com",
		"_it_ a__b _":                 "＿it＿ a＿＿b ＿",
	} {
		if got := Slack(in); got != want {
			t.Errorf("Slack(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzText holds the promises every output relies on, whatever was typed.
func FuzzText(f *testing.F) {
	for _, s := range []string{"Ada Lovelace", "evil\u202emoc", "a\r\nb", "\u200b", "a" + strings.Repeat("\u0301", 9), "<!here> *x* & _y_", "https://evil.example/?a=1", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Text(%q) = %q is not valid UTF-8", s, out)
		}
		if out != strings.TrimSpace(out) || strings.Contains(out, "  ") {
			t.Fatalf("Text(%q) = %q has untrimmed or doubled spaces", s, out)
		}
		marks := 0
		for _, r := range out {
			if r != ' ' && (unicode.IsSpace(r) || unicode.IsControl(r) || invisible(r)) {
				t.Fatalf("Text(%q) = %q keeps %U", s, out, r)
			}
			if unicode.In(r, unicode.Mn, unicode.Me) {
				if marks++; marks > maxMarks {
					t.Fatalf("Text(%q) = %q stacks more than %d marks", s, out, maxMarks)
				}
			} else {
				marks = 0
			}
		}
		if again := Text(out); again != out {
			t.Fatalf("Text is not idempotent: %q then %q", out, again)
		}
		if name, ok := Name(s); ok && (strings.ContainsAny(name, "@:/0123456789<>") || name == "") {
			t.Fatalf("Name(%q) = %q passes as a name", s, name)
		}
		slack := Slack(s)
		if strings.ContainsAny(slack, "<>*~`") {
			t.Fatalf("Slack(%q) = %q keeps markup", s, slack)
		}
		for i, r := range slack {
			// An underscore stays only inside a word, where it formats nothing.
			if r == '_' && (i == 0 || !wordRune(lastRune(slack[:i])) || !wordRune(firstRune(slack[i+1:]))) {
				t.Fatalf("Slack(%q) = %q keeps an underscore that can format", s, slack)
			}
		}
		if rest := strings.NewReplacer("&amp;", "", "&lt;", "", "&gt;", "").Replace(slack); strings.Contains(rest, "&") {
			t.Fatalf("Slack(%q) = %q has a bare &", s, slack)
		}
	})
}

func lastRune(s string) rune  { r, _ := utf8.DecodeLastRuneInString(s); return r }
func firstRune(s string) rune { r, _ := utf8.DecodeRuneInString(s); return r }
