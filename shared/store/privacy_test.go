package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/clock"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/store"
)

// privacyLead stores a lead with two sent steps and n activities, and
// returns its id.
func privacyLead(t *testing.T, st *store.Store, email string, n int) string {
	t.Helper()
	id := testenv.LeadID(email)
	msgs := []string{id + "-m1", id + "-m2"}
	if _, err := st.UpdateLead(t.Context(), id, func(l *lead.Lead, isNew bool) error {
		l.Email, l.Name, l.CreatedAt = email, "Ada Lovelace", t0
		l.Nurture = lead.Nurture{Track: "cloud-cost", Status: lead.NurtureActive, NextStep: 2, DueAt: t0.Add(time.Hour)}
		for i, m := range msgs {
			l.Nurture.Sent = append(l.Nurture.Sent, lead.SentStep{Track: "cloud-cost", Step: i, AssetID: "a", MessageID: m, At: t0})
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		if _, err := st.AddActivity(t.Context(), id, lead.Activity{Key: fmt.Sprintf("act-%03d", i), Kind: lead.KindDownload, At: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	return id
}

func TestExportAndErase(t *testing.T) {
	t.Parallel()
	db, table := newTable(t)
	st := store.New(db, table, store.Options{})
	const email = "ada@analytical-engines.example"
	// More activities than one BatchWriteItem call takes.
	id := privacyLead(t, st, email, 60)
	other := privacyLead(t, st, "grace@navy.example", 3)

	ex, err := st.Export(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if ex.Lead == nil || ex.Lead.Email != email || ex.Lead.Name != "Ada Lovelace" {
		t.Errorf("export lead = %+v, want the stored lead", ex.Lead)
	}
	if len(ex.Activities) != 60 {
		t.Errorf("export has %d activities, want 60", len(ex.Activities))
	}
	if len(ex.Lead.Nurture.Sent) != 2 || ex.Lead.Nurture.Sent[1].MessageID != id+"-m2" {
		t.Errorf("export nurture = %+v, want the lead's two sent steps", ex.Lead.Nurture)
	}

	n, err := st.Erase(t.Context(), id, t0)
	if err != nil {
		t.Fatal(err)
	}
	if want := 1 + 60; n != want {
		t.Errorf("Erase deleted %d items, want %d", n, want)
	}
	out, err := db.Query(t.Context(), &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "LEAD#" + id}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 0 {
		t.Errorf("%d items left under the erased lead's key", len(out.Items))
	}
	if ex, err := st.Export(t.Context(), id); err != nil || ex.Lead != nil || len(ex.Activities) != 0 {
		t.Errorf("export after erase = %+v, %v; want nothing", ex, err)
	}

	t.Run("other leads are untouched", func(t *testing.T) {
		ex, err := st.Export(t.Context(), other)
		if err != nil || ex.Lead == nil || len(ex.Activities) != 3 || len(ex.Lead.Nurture.Sent) != 2 {
			t.Errorf("other lead's export = lead %v, %d activities, %v", ex.Lead != nil, len(ex.Activities), err)
		}
	})

	t.Run("the marker holds the keyed id, the time and the reason", func(t *testing.T) {
		if ok, err := st.IsSuppressed(t.Context(), id); err != nil || !ok {
			t.Errorf("IsSuppressed(the erased lead) = %v, %v; want true", ok, err)
		}
		if ok, err := st.IsSuppressed(t.Context(), testenv.LeadID("grace@navy.example")); err != nil || ok {
			t.Errorf("IsSuppressed(other) = %v, %v; want false", ok, err)
		}
		scan, err := db.Scan(t.Context(), &dynamodb.ScanInput{TableName: aws.String(table)})
		if err != nil {
			t.Fatal(err)
		}
		markers := 0
		for _, it := range scan.Items {
			pk := it["pk"].(*types.AttributeValueMemberS).Value
			if len(pk) > 11 && pk[:11] == "SUPPRESSED#" {
				markers++
				if pk != "SUPPRESSED#"+id {
					t.Errorf("marker %s: want it keyed by the lead id %s, not by an unkeyed hash", pk, id)
				}
				reason, _ := it["reason"].(*types.AttributeValueMemberS)
				if reason == nil || reason.Value != lead.SuppressedErased || it["at"] == nil {
					t.Errorf("marker %v: want reason %q and at", it, lead.SuppressedErased)
				}
			}
			for _, v := range it {
				if s, ok := v.(*types.AttributeValueMemberS); ok && s.Value == email {
					t.Errorf("the erased address is still stored in %s", pk)
				}
			}
		}
		if markers != 1 {
			t.Errorf("%d suppression markers, want 1", markers)
		}
	})

	t.Run("a new form post stores nothing and succeeds", func(t *testing.T) {
		prog, err := program.Default()
		if err != nil {
			t.Fatal(err)
		}
		c := &lead.Capturer{Program: prog, Store: st, Clock: clock.NewFixed(t0), IDs: testenv.LeadIDs, Suppressions: st}
		got, err := c.Capture(t.Context(), lead.Submission{FormID: prog.Forms[0].ID, Fields: map[string]string{"email": "Ada@analytical-engines.example"}, Consent: true})
		if err != nil || !got.Suppressed || got.LeadID != "" {
			t.Errorf("Capture = %+v, %v; want success, suppressed, no lead", got, err)
		}
		if _, found, err := st.GetLead(t.Context(), id); err != nil || found {
			t.Errorf("lead after post: found %v, err %v; want none", found, err)
		}
	})

	t.Run("erasing twice is fine", func(t *testing.T) {
		if n, err := st.Erase(t.Context(), id, t0.Add(time.Hour)); err != nil || n != 0 {
			t.Errorf("second Erase = %d, %v; want 0, nil", n, err)
		}
		if err := st.SuppressErased(t.Context(), id, t0.Add(time.Hour)); err != nil {
			t.Errorf("second marker: %v", err)
		}
	})
}
