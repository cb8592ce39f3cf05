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

// The function starts from its environment alone and answers the sample
// form post as API Gateway delivers it.
func TestCapture_startsFromEnvironment_answersSamplePost(t *testing.T) {
	testenv.LambdaEnv(t, store.EnsureTable)
	h, err := build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../events/capture/form-urlencoded.json")
	if err != nil {
		t.Fatal(err)
	}
	var req httpapi.Request
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatal(err)
	}
	resp, err := h.Handle(context.Background(), req)
	if err != nil || resp.StatusCode != 303 {
		t.Fatalf("got %d %v", resp.StatusCode, err)
	}
}

func TestCapture_missingTableName_failsAtStart(t *testing.T) {
	testenv.LambdaEnv(t, store.EnsureTable)
	t.Setenv("TABLE_NAME", "")
	if _, err := build(context.Background()); err == nil {
		t.Fatal("a function without TABLE_NAME must refuse to start")
	}
}
