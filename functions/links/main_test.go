package main

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/httpapi"
	"github.com/leadnurture/nurture/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// The sample's token was signed with another key: the function answers the
// plain invalid-link page, not an error.
func TestLinks_startsFromEnvironment_rejectsForeignToken(t *testing.T) {
	testenv.LambdaEnv(t, store.EnsureTable)
	h, err := build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../events/links/unsubscribe-one-click.json")
	if err != nil {
		t.Fatal(err)
	}
	var req httpapi.Request
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatal(err)
	}
	resp, err := h.Handle(context.Background(), req)
	if err != nil || resp.StatusCode != 404 {
		t.Fatalf("got %d %v", resp.StatusCode, err)
	}
}
