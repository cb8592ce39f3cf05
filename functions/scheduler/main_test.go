package main

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

func TestScheduler_startsFromEnvironment_runsSampleTick(t *testing.T) {
	testenv.LambdaEnv(t, store.EnsureTable)
	h, err := build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../events/scheduler/scheduled-tick.json")
	if err != nil {
		t.Fatal(err)
	}
	var in Input
	if err := json.Unmarshal(b, &in); err != nil || in.ScheduledTime == "" {
		t.Fatalf("sample: %+v %v", in, err)
	}
	rep, err := h.handle(context.Background(), in)
	if err != nil || rep.Due != 0 {
		t.Fatalf("an empty table: %+v %v", rep, err)
	}
}

func TestScheduler_withoutTokenKeys_failsAtStart(t *testing.T) {
	testenv.LambdaEnv(t, store.EnsureTable)
	t.Setenv("TOKEN_KEYS", "")
	if _, err := build(context.Background()); err == nil {
		t.Fatal("the scheduler signs links and must not start without TOKEN_KEYS")
	}
}
