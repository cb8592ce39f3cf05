package link_test

import (
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/link"
	"github.com/leadnurture/nurture/shared/token"
)

func signed(t *testing.T, purpose string) string {
	t.Helper()
	s, err := token.NewSigner(token.Key{ID: "k1", Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	return s.Sign(token.Claims{Purpose: purpose, LeadID: "lead-1", Expires: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)})
}

func TestKind_pathThenParse_givesTheKindBack(t *testing.T) {
	for _, k := range link.Kinds {
		for _, tok := range []string{signed(t, k.Purposes()[0]), "x", "", "with/slash"} {
			path := k.Path(tok)
			if got, ok := link.Parse(path); !ok || got != k {
				t.Errorf("Parse(%q) = %q, %v; want %q", path, got, ok, k)
			}
			if !strings.HasSuffix(path, "/"+tok) {
				t.Errorf("%q does not end with its token", path)
			}
		}
		if got, ok := link.Parse(k.Route()); !ok || got != k {
			t.Errorf("Parse of the route %q = %q, %v", k.Route(), got, ok)
		}
	}
}

func TestKind_URL_isTheBaseAndThePath(t *testing.T) {
	tok := signed(t, token.PurposeUnsubscribe)
	for _, base := range []string{"https://api.acme.example", "https://api.acme.example/"} {
		for k, want := range map[link.Kind]string{
			link.Unsubscribe: "https://api.acme.example/u/" + tok,
			link.Answer:      "https://api.acme.example/a/" + tok,
			link.Keep:        "https://api.acme.example/k/" + tok,
			link.Sales:       "https://api.acme.example/s/" + tok,
			link.Inbox:       "https://api.acme.example/i/" + tok,
			link.Rate:        "https://api.acme.example/r/" + tok,
			link.Help:        "https://api.acme.example/h/" + tok,
			link.Preferences: "https://api.acme.example/p/" + tok,
			link.Confirm:     "https://api.acme.example/c/" + tok,
		} {
			got := k.URL(base, tok)
			if got != want {
				t.Errorf("%q.URL(%q) = %q, want %q", k, base, got, want)
			}
			if back, ok := link.Parse(strings.TrimPrefix(got, "https://api.acme.example")); !ok || back != k {
				t.Errorf("the URL's path parses as %q, %v", back, ok)
			}
		}
	}
}

func TestKind_routes_areThePublicOnes(t *testing.T) {
	var got []string
	for _, k := range link.Kinds {
		got = append(got, k.Route())
	}
	if strings.Join(got, " ") != "/u/{token} /a/{token} /k/{token} /s/{token} /i/{token} /r/{token} /h/{token} /p/{token} /c/{token} /results/{token}" {
		t.Fatalf("routes = %q: these are in every email sent, they must not change", got)
	}
}

func TestParse_unknownPaths_noKind(t *testing.T) {
	for _, path := range []string{
		"", "/", "u", "u/x", "/u", "/a", "/k", "/s", "/i", "/r", "/h", "/p", "/c", "//u/x", "/U/x", "/uu/x", "/x/tok", "/forms/f1",
		"/prod/u/tok", " /u/tok", "/u\\tok", "/{token}",
	} {
		if k, ok := link.Parse(path); ok {
			t.Errorf("Parse(%q) = %q, want no kind", path, k)
		}
	}
}

// A token signed for one kind of link must fail on every other: the
// purposes never overlap.
func TestKind_purposes_belongToOneKindEach(t *testing.T) {
	owner := map[string]link.Kind{}
	for _, k := range link.Kinds {
		if len(k.Purposes()) == 0 {
			t.Errorf("%q accepts no token", k)
		}
		for _, p := range k.Purposes() {
			if o, seen := owner[p]; seen {
				t.Errorf("purpose %q is accepted by %q and %q", p, o, k)
			}
			owner[p] = k
		}
	}
	if got := link.Sales.Purposes(); strings.Join(got, ",") != "dossier,accept,return" {
		t.Errorf("sales purposes = %q", got)
	}
}
