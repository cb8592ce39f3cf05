package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadnurture/nurture/shared/token"
)

// make run keeps its keys in the data folder: a restart names every stored
// lead the same and its links still verify; a folder from before lead ids
// were keyed gets a lead id key, its signing key untouched.
func TestLocalKeys_stableAcrossRestarts_andAddedToAnOldFolder(t *testing.T) {
	claims := token.Claims{Purpose: token.PurposeUnsubscribe, LeadID: "x", Expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}

	dir := t.TempDir()
	first, err := localKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	again, err := localKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	if first.LeadIDs.ID("ada@example.com") != again.LeadIDs.ID("ada@example.com") {
		t.Error("a restart changed the lead's id: stored leads would be lost")
	}
	if first.Signer.Sign(claims) != again.Signer.Sign(claims) {
		t.Error("a restart changed the signing key: links in mail would stop working")
	}
	other, err := localKeys(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if other.LeadIDs.ID("ada@example.com") == first.LeadIDs.ID("ada@example.com") {
		t.Error("two data folders share a lead id key: it is not random")
	}

	old := t.TempDir()
	const signing = "local:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	if err := os.WriteFile(filepath.Join(old, "token-key"), []byte(signing+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	upgraded, err := localKeys(old)
	if err != nil {
		t.Fatal(err)
	}
	want, err := token.ParseKeys(signing)
	if err != nil {
		t.Fatal(err)
	}
	if upgraded.Signer.Sign(claims) != want.Sign(claims) {
		t.Error("adding the lead id key changed the signing key")
	}
	b, err := os.ReadFile(filepath.Join(old, "token-key"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), signing+","+token.LeadIDKeyID+":") {
		t.Errorf("token-key = %q; want the signing key, then the lead-id key added", b)
	}
	if again, err := localKeys(old); err != nil || again.LeadIDs.ID("ada@example.com") != upgraded.LeadIDs.ID("ada@example.com") {
		t.Errorf("the added lead id key changed on the next start (%v)", err)
	}
}
