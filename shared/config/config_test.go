package config

import (
	"strings"
	"testing"
	"time"
)

func setenv(t *testing.T, kv map[string]string) {
	t.Helper()
	for _, k := range []string{"TABLE_NAME", "DYNAMODB_ENDPOINT", "SES_ENDPOINT", "PUBLIC_BASE_URL", "SES_CONFIGURATION_SET",
		"TOKEN_KEYS", "TOKEN_KEYS_PARAMETER", "DUE_SHARDS", "MIN_FILL_TIME", "BOT_WINDOW", "LOG_LEVEL", "SITE_ORIGINS"} {
		t.Setenv(k, kv[k])
	}
}

func TestLoad_defaultsAndValues(t *testing.T) {
	setenv(t, map[string]string{"TABLE_NAME": "leads", "PUBLIC_BASE_URL": "https://api.example.com/", "DUE_SHARDS": "16", "BOT_WINDOW": "45s"})
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.TableName != "leads" || c.PublicBaseURL != "https://api.example.com" || c.DueShards != 16 || c.BotWindow != 45*time.Second || c.MinFillTime != 2*time.Second {
		t.Fatalf("config = %+v", c)
	}
}

func TestLoad_reportsEveryProblemAtOnce(t *testing.T) {
	setenv(t, map[string]string{"PUBLIC_BASE_URL": "not a url", "DUE_SHARDS": "0", "MIN_FILL_TIME": "soon", "BOT_WINDOW": "-1s", "LOG_LEVEL": "loud", "SITE_ORIGINS": "https://www.acme.example/blog"})
	_, err := Load()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, name := range []string{"TABLE_NAME", "PUBLIC_BASE_URL", "DUE_SHARDS", "MIN_FILL_TIME", "BOT_WINDOW", "LOG_LEVEL", "SITE_ORIGINS"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("the error should name %s:\n%v", name, err)
		}
	}
}

func TestRequire_namesWhatIsMissing(t *testing.T) {
	setenv(t, map[string]string{"TABLE_NAME": "leads"})
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	err = c.Require("PUBLIC_BASE_URL", "TOKEN_KEYS")
	if err == nil || !strings.Contains(err.Error(), "PUBLIC_BASE_URL") || !strings.Contains(err.Error(), "TOKEN_KEYS") {
		t.Fatalf("Require: %v", err)
	}
}

func TestParseOrigins_asAPIGatewayCORSTakesThem(t *testing.T) {
	got, err := ParseOrigins(" https://www.Acme.example/, http://127.0.0.1:8080,https://* ,")
	if err != nil {
		t.Fatal(err)
	}
	want := Origins{"https://www.acme.example", "http://127.0.0.1:8080", "https://*"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("got %q, want %q", got, want)
	}
	for _, bad := range []string{"www.acme.example", "https://www.acme.example/blog", "ftp://acme.example", "https://user@acme.example", "https://acme.example?x=1"} {
		if _, err := ParseOrigins(bad); err == nil || !strings.Contains(err.Error(), "SITE_ORIGINS") {
			t.Errorf("%q: want an error naming SITE_ORIGINS, got %v", bad, err)
		}
	}
	if o, err := ParseOrigins(""); err != nil || len(o) != 0 {
		t.Errorf("empty: %q %v", o, err)
	}
}

func TestOrigins_allows(t *testing.T) {
	list := Origins{"https://www.acme.example", "http://*"}
	for origin, want := range map[string]bool{
		"https://www.acme.example":      true,
		"https://WWW.acme.example":      true,
		"https://acme.example":          false,
		"https://www.acme.example.evil": false,
		"http://localhost:3000":         true,
		"null":                          false,
		"":                              false,
	} {
		if got := list.Allows(origin); got != want {
			t.Errorf("Allows(%q) = %v, want %v", origin, got, want)
		}
	}
	if !(Origins{"*"}).Allows("https://any.example") || (Origins{}).Allows("https://any.example") {
		t.Error("* allows every origin, an empty list none")
	}
}
