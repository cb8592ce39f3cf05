package mail_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/leadnurture/nurture/shared/mail"
)

var sesTagCharset = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

func TestTag_validValues_unchanged(t *testing.T) {
	for _, v := range []string{"lead", "k7m2q4x9r1t8w3y6z5a0b2c4", "finops-basics", "step_3", strings.Repeat("x", 256)} {
		if got := mail.Tag(v); got != v {
			t.Errorf("Tag(%q) = %q, want it unchanged", v, got)
		}
	}
}

func TestTag_anyValue_inSESCharset(t *testing.T) {
	for _, v := range []string{
		"", " ", "role=cto", "Ada Lovelace", "ada@example.com", "Zoë's guide: “FinOps”",
		"a/b.c", "🙂", strings.Repeat("é", 300), strings.Repeat("x", 257), "\x00\r\n",
	} {
		got := mail.Tag(v)
		if !sesTagCharset.MatchString(got) {
			t.Errorf("Tag(%q) = %q, not in SES's tag charset", v, got)
		}
		if again := mail.Tag(v); again != got {
			t.Errorf("Tag(%q) not deterministic: %q then %q", v, got, again)
		}
	}
}

func TestTag_differentInputs_differentTags(t *testing.T) {
	seen := map[string]string{}
	for _, v := range []string{"a.b", "a/b", "a b", "a_b", "a:b", strings.Repeat("x", 257), strings.Repeat("x", 258)} {
		got := mail.Tag(v)
		if prev, ok := seen[got]; ok {
			t.Errorf("Tag(%q) and Tag(%q) are both %q", prev, v, got)
		}
		seen[got] = v
	}
}

func TestTag_readable(t *testing.T) {
	if got := mail.Tag("role=cto"); !strings.HasPrefix(got, "role_cto-") {
		t.Errorf("Tag(role=cto) = %q, want the readable part kept", got)
	}
}
