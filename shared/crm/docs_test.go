package crm_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/crm"
)

// snippet returns the code block of a language in docs/crm.md.
func snippet(t *testing.T, lang string) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "crm.md"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)```" + lang + "\n(.*?)```").FindSubmatch(doc)
	if m == nil {
		t.Fatalf("no %s block in docs/crm.md", lang)
	}
	return string(m[1])
}

// The verification snippets in docs/crm.md, run as a receiver would run
// them: each accepts a delivery signed with the secret (and with a second
// secret beside it), and refuses a changed body, another secret and a
// replay ten minutes on.
func TestDocs_verificationSnippetsCheckTheSignature(t *testing.T) {
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	body := `{"id":"evt_1","type":"lead.captured","lead":{"email":"ada@example.com","name":"Zoë"}}`
	header := crm.Sign([]byte(body), at, "whsec_other_0123456789abcdefghij", secret)
	cases := []struct {
		name, body, secret string
		now                time.Time
		want               bool
	}{
		{"signed", body, secret, at.Add(time.Minute), true},
		{"changed body", strings.Replace(body, "Zoë", "Zoe", 1), secret, at, false},
		{"another secret", body, "whsec_wrong_0123456789abcdefghij", at, false},
		{"replayed later", body, secret, at.Add(10 * time.Minute), false},
	}
	run := map[string]func(t *testing.T, header, body, secret string, now time.Time) string{
		"go": func(t *testing.T, header, body, secret string, now time.Time) string {
			dir := t.TempDir()
			src := "package main\n\nimport (\n\t\"crypto/hmac\"\n\t\"crypto/sha256\"\n\t\"encoding/hex\"\n\t\"fmt\"\n\t\"os\"\n\t\"strconv\"\n\t\"strings\"\n\t\"time\"\n)\n\n" +
				snippet(t, "go") + "\nfunc main() {\n\tsec, _ := strconv.ParseInt(os.Args[4], 10, 64)\n\tfmt.Print(verify(os.Args[1], []byte(os.Args[2]), os.Args[3], time.Unix(sec, 0)))\n}\n"
			if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o644); err != nil {
				t.Fatal(err)
			}
			return command(t, "go", "run", filepath.Join(dir, "main.go"), header, body, secret, strconv.FormatInt(now.Unix(), 10))
		},
		"js": func(t *testing.T, header, body, secret string, now time.Time) string {
			src := snippet(t, "js") + "\nconst [h, b, s, n] = process.argv.slice(1); // node -e: no script path\nprocess.stdout.write(String(verify(h, Buffer.from(b), s, Number(n))));\n"
			return command(t, "node", "-e", src, header, body, secret, strconv.FormatInt(now.Unix(), 10))
		},
		"python": func(t *testing.T, header, body, secret string, now time.Time) string {
			src := snippet(t, "python") + "\nimport sys\nh, b, s, n = sys.argv[1:]\nprint(str(verify(h, b.encode(), s, float(n))).lower(), end='')\n"
			return command(t, "python3", "-c", src, header, body, secret, strconv.FormatInt(now.Unix(), 10))
		},
	}
	for lang, fn := range run {
		t.Run(lang, func(t *testing.T) {
			for _, c := range cases {
				if got := fn(t, header, c.body, c.secret, c.now); got != strconv.FormatBool(c.want) {
					t.Errorf("%s: verify = %q, want %v", c.name, got, c.want)
				}
			}
		})
	}
}

func command(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s: %v\n%s", name, err, stderr)
	}
	return strings.TrimSpace(string(out))
}
