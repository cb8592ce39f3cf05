package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/engagement"
	"github.com/leadnurture/nurture/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// Every SES sample decodes; none belongs to a lead of this empty table, so
// each is dropped without an error (no retry, no dead letter). The sample of
// a detail-type we never subscribe to is poison.
func TestEngagement_startsFromEnvironment_dropsEventsOfUnknownLeads(t *testing.T) {
	testenv.LambdaEnv(t, store.EnsureTable)
	svc, err := build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../../events/engagement/*.json")
	if len(files) < 10 {
		t.Fatalf("want the engagement samples, found %d", len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, err = svc.HandleEvent(context.Background(), raw)
		if filepath.Base(f) == "eventbridge-unknown.json" {
			// Not an event the rule forwards: poison, for the dead-letter queue.
			if !errors.Is(err, engagement.ErrPoison) {
				t.Errorf("%s: want ErrPoison, got %v", filepath.Base(f), err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(f), err)
		}
	}
}
