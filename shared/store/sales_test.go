package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/store"
)

func TestOpenLeads_theOwnersWaitingAlerts_oldestFirst_untilDecided(t *testing.T) {
	t.Parallel()
	st := newStore(t, store.Options{})
	open := func(id, owner string, since time.Time) {
		t.Helper()
		if _, err := st.UpdateLead(t.Context(), id, func(l *lead.Lead, _ bool) error {
			l.Open(lead.SLA{Alert: "a-" + id, Owner: owner, Since: since})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	open("newer", "sales@acme.example", t0.Add(time.Hour))
	open("older", "sales@acme.example", t0)
	open("other", "emea@acme.example", t0)
	if _, err := st.UpdateLead(t.Context(), "never-alerted", func(*lead.Lead, bool) error { return nil }); err != nil {
		t.Fatal(err)
	}

	got, err := st.OpenLeads(t.Context(), "Sales@Acme.example", 10)
	if err != nil || !slices.Equal(got, []string{"older", "newer"}) {
		t.Fatalf("OpenLeads = %v, %v; want older, newer", got, err)
	}
	if got, _ := st.OpenLeads(t.Context(), "sales@acme.example", 1); !slices.Equal(got, []string{"older"}) {
		t.Fatalf("OpenLeads limit 1 = %v", got)
	}
	if _, err := st.UpdateLead(t.Context(), "older", func(l *lead.Lead, _ bool) error {
		l.Decided(lead.SalesDecision{Status: lead.SalesAccepted, At: t0.Add(2 * time.Hour)})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.OpenLeads(t.Context(), "sales@acme.example", 10); !slices.Equal(got, []string{"newer"}) {
		t.Fatalf("after a decision OpenLeads = %v, want newer only", got)
	}
	if got, _ := st.OpenLeads(t.Context(), "nobody@acme.example", 10); len(got) != 0 {
		t.Fatalf("an owner without alerts: %v", got)
	}
}

func TestClaimDigest_oncePerOwnerAndDay_releasedForARetry(t *testing.T) {
	t.Parallel()
	st := newStore(t, store.Options{})
	claim := func(owner, day string) bool {
		t.Helper()
		ok, err := st.ClaimDigest(t.Context(), owner, day)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("sales@acme.example", "2026-12-01") {
		t.Fatal("the first claim of the day failed")
	}
	if claim("sales@acme.example", "2026-12-01") || claim("SALES@acme.example", "2026-12-01") {
		t.Fatal("claimed twice on one day")
	}
	if claim("sales@acme.example", "2026-11-30") {
		t.Fatal("claimed an earlier day after a later one")
	}
	if !claim("emea@acme.example", "2026-12-01") {
		t.Fatal("another owner's digest is its own")
	}
	if err := st.ReleaseDigest(t.Context(), "sales@acme.example", "2026-12-01"); err != nil {
		t.Fatal(err)
	}
	if !claim("sales@acme.example", "2026-12-01") {
		t.Fatal("a released day could not be claimed again")
	}
	// Releasing a day that is not the claimed one changes nothing.
	if err := st.ReleaseDigest(t.Context(), "sales@acme.example", "2026-11-30"); err != nil {
		t.Fatal(err)
	}
	if claim("sales@acme.example", "2026-12-01") {
		t.Fatal("releasing another day released this one")
	}
	if !claim("sales@acme.example", "2026-12-02") {
		t.Fatal("the next day could not be claimed")
	}
}

func TestEnsureTable_addsTheOpenAndDayIndexesToAnOlderTable(t *testing.T) {
	t.Parallel()
	db := testenv.Dynamo(t)
	name := testenv.UniqueName("older")
	def := store.TableDefinition(name)
	// The table as the release before the open index made it.
	def.GlobalSecondaryIndexes = def.GlobalSecondaryIndexes[:1]
	def.AttributeDefinitions = def.AttributeDefinitions[:4]
	if _, err := db.CreateTable(t.Context(), def); err != nil {
		t.Fatal(err)
	}
	if err := store.EnsureTable(t.Context(), db, name); err != nil {
		t.Fatal(err)
	}
	out, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range out.Table.GlobalSecondaryIndexes {
		names = append(names, aws.ToString(g.IndexName))
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{store.IndexDay, store.IndexDue, store.IndexOpen}) {
		t.Fatalf("indexes %v", names)
	}
	st := store.New(db, name, store.Options{})
	if _, err := st.OpenLeads(t.Context(), "sales@acme.example", 5); err != nil {
		t.Fatalf("the added index cannot be queried: %v", err)
	}
	if _, err := st.JournalBetween(t.Context(), time.Now().Add(-time.Hour), time.Now()); err != nil {
		t.Fatalf("the added journal cannot be queried: %v", err)
	}
}
