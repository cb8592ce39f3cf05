package store_test

import (
	"bytes"
	"compress/flate"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/lead"
	"github.com/leadnurture/nurture/shared/program"
	"github.com/leadnurture/nurture/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// t0 is a fixed instant with nanoseconds, so a lossy time encoding shows.
var t0 = time.Date(2026, 3, 14, 9, 26, 53, 589793238, time.UTC)

// newTable creates a table of its own for the test on DynamoDB Local.
func newTable(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	db := testenv.Dynamo(t)
	name := testenv.UniqueName("store")
	if err := store.EnsureTable(t.Context(), db, name); err != nil {
		t.Fatalf("EnsureTable(%s): %v", name, err)
	}
	return db, name
}

func newStore(t *testing.T, opts store.Options) *store.Store {
	t.Helper()
	db, name := newTable(t)
	return store.New(db, name, opts)
}

func mustGet(t *testing.T, st *store.Store, id string) *lead.Lead {
	t.Helper()
	got, found, err := st.GetLead(t.Context(), id)
	if err != nil || !found {
		t.Fatalf("GetLead(%s) = found %v, err %v; want the lead", id, found, err)
	}
	return got
}

func TestEnsureTable(t *testing.T) {
	t.Parallel()
	db, name := newTable(t) // first call

	t.Run("second call on an existing table succeeds", func(t *testing.T) {
		if err := store.EnsureTable(t.Context(), db, name); err != nil {
			t.Fatalf("second EnsureTable: %v", err)
		}
	})

	t.Run("TTL is enabled on expiresAt", func(t *testing.T) {
		out, err := db.DescribeTimeToLive(t.Context(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		d := out.TimeToLiveDescription
		if d == nil || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != store.AttrExpiresAt {
			t.Fatalf("TTL = %+v, want ENABLED on %s", d, store.AttrExpiresAt)
		}
	})

	t.Run("due index is keyed by shard and due time", func(t *testing.T) {
		out, err := db.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if out.Table.TableStatus != types.TableStatusActive {
			t.Errorf("table status %s, want ACTIVE", out.Table.TableStatus)
		}
		var due *types.GlobalSecondaryIndexDescription
		for i, g := range out.Table.GlobalSecondaryIndexes {
			if aws.ToString(g.IndexName) == store.IndexDue {
				due = &out.Table.GlobalSecondaryIndexes[i]
			}
		}
		if due == nil {
			t.Fatalf("no %q index in %+v", store.IndexDue, out.Table.GlobalSecondaryIndexes)
		}
		var keys []string
		for _, k := range due.KeySchema {
			keys = append(keys, aws.ToString(k.AttributeName)+":"+string(k.KeyType))
		}
		want := []string{store.AttrDueShard + ":HASH", store.AttrDueAt + ":RANGE"}
		if !slices.Equal(keys, want) {
			t.Errorf("due index keys %v, want %v", keys, want)
		}
	})
}

func TestUpdateLead(t *testing.T) {
	t.Parallel()
	st := newStore(t, store.Options{})
	ctx := t.Context()

	t.Run("missing lead is new and has only its ID", func(t *testing.T) {
		var seen lead.Lead
		var seenNew bool
		_, err := st.UpdateLead(ctx, "fresh", func(l *lead.Lead, isNew bool) error {
			seen, seenNew = *l, isNew
			return lead.ErrNoChange
		})
		if !errors.Is(err, lead.ErrNoChange) {
			t.Fatalf("err = %v, want ErrNoChange", err)
		}
		if !seenNew || !reflect.DeepEqual(seen, lead.Lead{ID: "fresh"}) {
			t.Fatalf("fn saw isNew=%v lead %+v, want isNew=true and only the ID", seenNew, seen)
		}
	})

	full := lead.Lead{
		ID: "full", Email: "ada@example.com", Name: "Ada", Company: "Engines Ltd",
		Role: "cto", Industry: "software", CompanySize: "11-50", Country: "GB",
		Timeline: "q3", TimeZone: "Europe/London",
		CreatedAt: t0, UpdatedAt: t0.Add(time.Minute),
		Consent: &lead.Consent{Version: "v2", At: t0, FormID: "f1", SourcePage: "/guide", IP: "192.0.2.1"},
		FirstTouch: &lead.Attribution{SourcePage: "/guide", Referrer: "https://search.example/",
			UTMSource: "news", UTMMedium: "email", UTMCampaign: "spring", UTMTerm: "t", UTMContent: "c"},
		Downloaded: []string{"a1", "a2"},
		Topics:     []string{"cost", "speed"},
		Nurture: lead.Nurture{
			Track: "main", NextStep: 2, DueAt: t0.Add(48 * time.Hour), Status: lead.NurtureActive,
			Sent: []lead.SentStep{
				{Track: "main", Step: 0, AssetID: "a1", MessageID: "m0", At: t0.Add(time.Hour)},
				{Track: "main", Step: 1, AssetID: "a2", MessageID: "m1", At: t0.Add(25 * time.Hour)},
			},
		},
		Suppression: &lead.Suppression{Reason: lead.SuppressedBounced, At: t0.Add(50 * time.Hour)},
		Applied:     []string{"0123456789abcdef", "fedcba9876543210"},
	}

	t.Run("saved lead reads back equal", func(t *testing.T) {
		var isNew bool
		saved, err := st.UpdateLead(ctx, full.ID, func(l *lead.Lead, n bool) error {
			isNew = n
			*l = full
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !isNew {
			t.Error("first write: isNew = false")
		}
		want := full
		want.Version = 1
		if !reflect.DeepEqual(*saved, want) {
			t.Errorf("UpdateLead returned\n%+v\nwant\n%+v", *saved, want)
		}
		got := mustGet(t, st, full.ID)
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("GetLead =\n%+v\nwant\n%+v", *got, want)
		}
		if got.CreatedAt.Location() != time.UTC || got.Nurture.Sent[1].At.Location() != time.UTC {
			t.Errorf("times read back in %v, want UTC", got.CreatedAt.Location())
		}
	})

	t.Run("version increments by one per write", func(t *testing.T) {
		for want := int64(2); want <= 4; want++ {
			var isNew bool
			l, err := st.UpdateLead(ctx, full.ID, func(l *lead.Lead, n bool) error {
				isNew = n
				l.Topics = append(l.Topics, fmt.Sprint("t", want))
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if isNew {
				t.Error("existing lead: isNew = true")
			}
			if l.Version != want || mustGet(t, st, full.ID).Version != want {
				t.Fatalf("after write %d: returned version %d, stored %d", want, l.Version, mustGet(t, st, full.ID).Version)
			}
		}
	})

	t.Run("ErrNoChange writes nothing and is returned", func(t *testing.T) {
		before := mustGet(t, st, full.ID)
		_, err := st.UpdateLead(ctx, full.ID, func(l *lead.Lead, _ bool) error {
			l.Name = "changed but not saved"
			return lead.ErrNoChange
		})
		if !errors.Is(err, lead.ErrNoChange) {
			t.Fatalf("err = %v, want ErrNoChange", err)
		}
		if after := mustGet(t, st, full.ID); !reflect.DeepEqual(after, before) {
			t.Fatalf("lead changed:\n%+v\nwant\n%+v", after, before)
		}
	})

	t.Run("ErrNoChange on a missing lead creates nothing", func(t *testing.T) {
		_, err := st.UpdateLead(ctx, "never", func(l *lead.Lead, _ bool) error {
			l.Name = "ghost"
			return lead.ErrNoChange
		})
		if !errors.Is(err, lead.ErrNoChange) {
			t.Fatalf("err = %v, want ErrNoChange", err)
		}
		if _, found, err := st.GetLead(ctx, "never"); err != nil || found {
			t.Fatalf("GetLead = found %v, err %v; want not found", found, err)
		}
	})

	t.Run("other errors from fn are returned and nothing is written", func(t *testing.T) {
		boom := errors.New("boom")
		before := mustGet(t, st, full.ID)
		_, err := st.UpdateLead(ctx, full.ID, func(l *lead.Lead, _ bool) error {
			l.Name = "x"
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
		if after := mustGet(t, st, full.ID); after.Version != before.Version || after.Name != before.Name {
			t.Fatalf("lead changed: version %d name %q", after.Version, after.Name)
		}
	})
}

func TestUpdateLead_concurrentWritersLoseNoUpdate(t *testing.T) {
	t.Parallel()
	st := newStore(t, store.Options{})
	const writers = 50
	errs := make(chan error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			key := fmt.Sprintf("event-%02d", i)
			_, err := st.UpdateLead(t.Context(), "hot", func(l *lead.Lead, _ bool) error {
				if slices.Contains(l.Downloaded, key) {
					return lead.ErrNoChange
				}
				l.Downloaded = append(l.Downloaded, key)
				return nil
			})
			if err != nil {
				errs <- fmt.Errorf("%s: %w", key, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := mustGet(t, st, "hot")
	for i := range writers {
		if key := fmt.Sprintf("event-%02d", i); !slices.Contains(got.Downloaded, key) {
			t.Errorf("lost update: %s missing", key)
		}
	}
	if len(got.Downloaded) != writers || got.Version != writers {
		t.Errorf("%d updates kept, version %d; want %d and %d", len(got.Downloaded), got.Version, writers, writers)
	}
}

func TestActivities(t *testing.T) {
	t.Parallel()
	const retention = 30 * 24 * time.Hour
	st := newStore(t, store.Options{ActivityRetention: retention})
	ctx := t.Context()
	now := t0

	old := lead.Activity{Key: "old", Kind: lead.KindDownload, At: now.Add(-retention - time.Hour), AssetID: "a0"}
	first := lead.Activity{Key: "dl-1", Kind: lead.KindDownload, At: now.Add(-2 * time.Hour), FormID: "f1", AssetID: "a1"}
	second := lead.Activity{Key: "send-1", Kind: "send", At: now.Add(-time.Hour), Track: "main", Step: 1}
	third := lead.Activity{Key: "dl-2", Kind: lead.KindDownload, At: now.Add(-90 * time.Minute), FormID: "f2", AssetID: "a2"}

	// Added out of time order on purpose.
	for _, tc := range []struct {
		name string
		a    lead.Activity
		want bool
	}{
		{"first add of a key is added", second, true},
		{"another key is added", first, true},
		{"activity past retention is still added", old, true},
		{"third key is added", third, true},
		// The same event written again (a retry: same key, its first time,
		// which the lead's ledger note gives back) is one activity.
		{"same key at the same time again is not added", lead.Activity{Key: first.Key, Kind: "other", At: first.At}, false},
	} {
		added, err := st.AddActivity(ctx, "L1", tc.a)
		if err != nil {
			t.Fatalf("%s: AddActivity: %v", tc.name, err)
		}
		if added != tc.want {
			t.Errorf("%s: AddActivity(%s) = %v, want %v", tc.name, tc.a.Key, added, tc.want)
		}
	}
	// Another lead's activity never shows up.
	if _, err := st.AddActivity(ctx, "L2", lead.Activity{Key: "x", Kind: "send", At: now}); err != nil {
		t.Fatal(err)
	}

	got, err := st.Activities(ctx, "L1", now)
	if err != nil {
		t.Fatal(err)
	}
	want := []lead.Activity{first, third, second} // time order; expired and duplicate left out
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Activities =\n%+v\nwant\n%+v", got, want)
	}

	// Earlier, the old one was still within retention.
	got, err = st.Activities(ctx, "L1", old.At.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[0].Key != old.Key {
		t.Errorf("Activities before retention ended = %+v, want old first of 4", got)
	}

	if got, err := st.Activities(ctx, "nobody", now); err != nil || len(got) != 0 {
		t.Errorf("Activities(unknown lead) = %v, %v; want none", got, err)
	}
}

// A dossier and an alert read a lead's newest activities only: however
// many a lead has (a pumped one, a long-lived one), the read costs what
// the limit costs, and says that older ones exist.
func TestRecentActivities_newestOnly_inTimeOrder_boundedCost(t *testing.T) {
	t.Parallel()
	const retention = 30 * 24 * time.Hour
	st := newStore(t, store.Options{ActivityRetention: retention})
	ctx := t.Context()
	const n = 300
	// Written in shuffled time order: the store orders them, not the writer.
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(n) {
		a := lead.Activity{Key: fmt.Sprintf("k%03d", i), Kind: lead.KindDownload, At: t0.Add(time.Duration(i) * time.Minute), Detail: strings.Repeat("x", 200)}
		if _, err := st.AddActivity(ctx, "busy", a); err != nil {
			t.Fatal(err)
		}
	}
	now := t0.Add(n * time.Minute)

	before := st.Usage().Read()
	all, err := st.Activities(ctx, "busy", now)
	if err != nil || len(all) != n {
		t.Fatalf("Activities: %d, %v", len(all), err)
	}
	full := st.Usage().Read() - before

	before = st.Usage().Read()
	got, older, err := st.RecentActivities(ctx, "busy", now, 10)
	if err != nil {
		t.Fatal(err)
	}
	recent := st.Usage().Read() - before
	var keys []string
	for _, a := range got {
		keys = append(keys, a.Key)
	}
	if strings.Join(keys, ",") != "k290,k291,k292,k293,k294,k295,k296,k297,k298,k299" || !older {
		t.Fatalf("RecentActivities(10) = %v, older %v; want the newest ten, oldest first, and older ones", keys, older)
	}
	if recent*10 > full {
		t.Errorf("reading the newest 10 cost %.1f RCU, reading all %.1f: want a tenth or less", recent, full)
	}

	// All of them fit: nothing older.
	if got, older, err := st.RecentActivities(ctx, "busy", now, n); err != nil || len(got) != n || older {
		t.Errorf("RecentActivities(%d) = %d, older %v, %v", n, len(got), older, err)
	}
	// Past retention (TTL deletes lazily): the oldest are left out, and
	// do not count as older activity shown missing.
	late := t0.Add(retention + 100*time.Minute)
	if got, older, err := st.RecentActivities(ctx, "busy", late, n); err != nil || len(got) != n-101 || older || got[0].Key != "k101" {
		t.Errorf("after retention: %d, older %v, first %v, %v", len(got), older, got, err)
	}
	if _, _, err := st.RecentActivities(ctx, "busy", now, 0); err == nil {
		t.Error("a limit of 0 reads everything; want an error")
	}
}

func TestDueLeads(t *testing.T) {
	t.Parallel()
	db, name := newTable(t)
	st := store.New(db, name, store.Options{DueShards: 4})
	now := t0

	kinds := []struct {
		name string
		mod  func(l *lead.Lead, i int)
		due  bool
	}{
		{"active and due in the past", func(l *lead.Lead, i int) {
			l.Nurture = lead.Nurture{Track: "main", Status: lead.NurtureActive, DueAt: now.Add(-time.Duration(i+1) * time.Minute)}
		}, true},
		{"active and due exactly now", func(l *lead.Lead, _ int) {
			l.Nurture = lead.Nurture{Track: "main", Status: lead.NurtureActive, DueAt: now}
		}, true},
		{"active and due in the future", func(l *lead.Lead, i int) {
			l.Nurture = lead.Nurture{Track: "main", Status: lead.NurtureActive, DueAt: now.Add(time.Duration(i+1) * time.Hour)}
		}, false},
		{"suppressed though due", func(l *lead.Lead, i int) {
			l.Nurture = lead.Nurture{Track: "main", Status: lead.NurtureActive, DueAt: now.Add(-time.Hour)}
			l.Suppression = &lead.Suppression{Reason: lead.SuppressedUnsubscribed, At: now}
		}, false},
		{"finished", func(l *lead.Lead, i int) {
			l.Nurture = lead.Nurture{Track: "main", Status: lead.NurtureFinished, DueAt: now.Add(-time.Hour)}
		}, false},
		{"stopped", func(l *lead.Lead, i int) {
			l.Nurture = lead.Nurture{Track: "main", Status: lead.NurtureStopped, StopReason: "accepted"}
		}, false},
		{"active with nothing scheduled", func(l *lead.Lead, i int) {
			l.Nurture = lead.Nurture{Track: "main", Status: lead.NurtureActive}
		}, false},
	}
	// 40 leads: most due, the rest one of each kind that is not.
	const total = 40
	wantDue := map[string]string{}
	kindOf := map[string]string{}
	var wg sync.WaitGroup
	errs := make(chan error, total)
	for i := range total {
		k := kinds[0]
		if i < len(kinds) {
			k = kinds[i]
		}
		id := fmt.Sprintf("lead-%02d", i)
		kindOf[id] = k.name
		if k.due {
			wantDue[id] = k.name
		}
		wg.Go(func() {
			_, err := st.UpdateLead(t.Context(), id, func(l *lead.Lead, _ bool) error {
				k.mod(l, i)
				return nil
			})
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	t.Run("returns every due lead and no other", func(t *testing.T) {
		ids, err := st.DueLeads(t.Context(), now, 1000)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for _, id := range ids {
			if got[id] {
				t.Errorf("%s returned twice", id)
			}
			got[id] = true
			if _, ok := wantDue[id]; !ok {
				t.Errorf("%s (%s) returned, want not due", id, kindOf[id])
			}
		}
		for id, kind := range wantDue {
			if !got[id] {
				t.Errorf("%s (%s) not returned", id, kind)
			}
		}
	})

	t.Run("due leads are spread over several shards", func(t *testing.T) {
		shards := map[string]bool{}
		p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(name), IndexName: aws.String(store.IndexDue)})
		n := 0
		for p.HasMorePages() {
			page, err := p.NextPage(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			for _, item := range page.Items {
				n++
				shards[item[store.AttrDueShard].(*types.AttributeValueMemberS).Value] = true
			}
		}
		// Sparse: only leads with a next step (due now or later) are indexed.
		if want := len(wantDue) + 1; n != want {
			t.Errorf("due index holds %d items, want %d", n, want)
		}
		if len(shards) < 2 {
			t.Errorf("due leads in shards %v, want several", shards)
		}
	})

	t.Run("the next due time is the earliest scheduled step, past or future", func(t *testing.T) {
		// The last lead is the most overdue: due total minutes ago.
		got, ok, err := st.NextDue(t.Context())
		if err != nil || !ok {
			t.Fatalf("NextDue = %v, %v, %v; want a time", got, ok, err)
		}
		if want := now.Add(-total * time.Minute).Truncate(time.Second); !got.Equal(want) {
			t.Errorf("NextDue = %v, want %v (the most overdue lead's due time)", got, want)
		}
	})

	t.Run("nothing is due before the earliest due time", func(t *testing.T) {
		ids, err := st.DueLeads(t.Context(), now.Add(-24*time.Hour), 1000)
		if err != nil || len(ids) != 0 {
			t.Errorf("DueLeads = %v, %v; want none", ids, err)
		}
	})

	t.Run("no next due time on a table without scheduled steps", func(t *testing.T) {
		empty := newStore(t, store.Options{DueShards: 4})
		if got, ok, err := empty.NextDue(t.Context()); err != nil || ok {
			t.Errorf("NextDue on an empty table = %v, %v, %v; want none", got, ok, err)
		}
	})

	for _, limit := range []int{1, 3, 10} {
		t.Run(fmt.Sprintf("limit %d is honoured", limit), func(t *testing.T) {
			ids, err := st.DueLeads(t.Context(), now, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(ids) == 0 || len(ids) > limit {
				t.Fatalf("DueLeads(limit %d) gave %d ids: %v", limit, len(ids), ids)
			}
			seen := map[string]bool{}
			for _, id := range ids {
				if _, ok := wantDue[id]; !ok || seen[id] {
					t.Errorf("%s (%s) returned, duplicate or not due", id, kindOf[id])
				}
				seen[id] = true
			}
		})
	}

	t.Run("a lead leaves the index when suppressed", func(t *testing.T) {
		id := "lead-00"
		if _, ok := wantDue[id]; !ok {
			t.Fatalf("%s should start due", id)
		}
		_, err := st.UpdateLead(t.Context(), id, func(l *lead.Lead, _ bool) error {
			l.Suppression = &lead.Suppression{Reason: lead.SuppressedComplained, At: now}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ids, err := st.DueLeads(t.Context(), now, 1000)
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(ids, id) || len(ids) != len(wantDue)-1 {
			t.Errorf("after suppressing %s: %d due %v", id, len(ids), ids)
		}
	})
}

// engaged is a lead through a whole track of six emails, with the four
// events each brought (delivery, two opens, a click) and a rich profile
// (long source pages, UTM tags): the largest lead item nurture writes.
func engaged(l *lead.Lead, id string) {
	l.Email, l.Name, l.Company, l.Role, l.TimeZone = "ada.lovelace@analytical-engines.example", "Ada Lovelace", "Analytical Engines Ltd", "Head of Operations", "Europe/London"
	l.CreatedAt, l.UpdatedAt = t0, t0
	l.Consent = &lead.Consent{Version: "2026-01", At: t0, FormID: "cloud-cost-guide", SourcePage: "https://www.acme.example/resources/cloud-cost-guide", IP: "203.0.113.7"}
	l.FirstTouch = &lead.Attribution{SourcePage: "https://www.acme.example/resources/cloud-cost-guide", Referrer: "https://www.google.com/", UTMSource: "google", UTMMedium: "cpc", UTMCampaign: "cloud-2026"}
	l.Downloaded, l.Topics = []string{"cloud-cost-guide"}, []string{"cloud-cost"}
	l.Nurture = lead.Nurture{Track: "cloud-cost", NextStep: 6, DueAt: t0.Add(42 * 24 * time.Hour), Status: lead.NurtureActive}
	l.Score = lead.Score{Activity: 23.5, Fit: 10, At: t0}
	for i := range 6 {
		msg := fmt.Sprintf("0100018c%08x-%x-%x-000000", i*7919, t0.UnixNano()+int64(i), t0.UnixNano()*int64(i+3))
		at := t0.Add(time.Duration(i) * 7 * 24 * time.Hour)
		l.Nurture.Sent = append(l.Nurture.Sent, lead.SentStep{Track: "cloud-cost", Step: i, AssetID: fmt.Sprintf("asset-%d", i), Claim: fmt.Sprintf("%08x", uint32(i+1)*2654435761), MessageID: msg, At: at, DeliveredAt: at.Add(time.Second), Opened: true})
		for _, kind := range []string{"delivery", "open", "click", "open again"} {
			key := fmt.Sprintf("%x", sha256.Sum256([]byte(id+msg+kind)))[:16]
			l.MarkApplied(key)
			l.Note(lead.Activity{Key: key, Points: 4.5, ScoreAfter: 30, Earned: 5, Why: []string{"clicked a consideration-stage video"}})
		}
		l.RememberClick(lead.Mark(msg, "https://www.acme.example/resources/video?utm_source=nurture&utm_medium=email&utm_content=step-2", at.Add(time.Hour), fmt.Sprintf("%016x", i)))
	}
}

// A lead write costs a write unit per started KB of the item: a lead six
// emails and 24 events into nurture still fits in one.
func TestLeadItem_engagedLeadWriteCostsOneUnit(t *testing.T) {
	t.Parallel()
	db, table := newTable(t)
	st := store.New(db, table, store.Options{})
	ctx := t.Context()
	if _, err := st.UpdateLead(ctx, "engaged", func(l *lead.Lead, _ bool) error { engaged(l, "engaged"); return nil }); err != nil {
		t.Fatal(err)
	}
	before := st.Usage().Write()
	if _, err := st.UpdateLead(ctx, "engaged", func(l *lead.Lead, _ bool) error { l.Score.Activity++; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := st.Usage().Write() - before; got != 1 {
		t.Errorf("rewriting an engaged lead cost %v write units, want 1 (item of %d bytes)", got, itemBytes(t, db, table, "engaged"))
	}
	if got := mustGet(t, st, "engaged"); len(got.Nurture.Sent) != 6 || got.Nurture.Sent[5].MessageID == "" || len(got.Applied) != 24 {
		t.Errorf("engaged lead read back as %+v", got.Nurture)
	}
}

// lifelong is a year of lifelong nurture on top of a rich profile, as the
// changes the lead goes through: the profile and two downloads (interests
// in both topics), then each email with its delivery, open and click: two
// tracks (six and five emails, nine days apart, every question answered),
// a re-engagement email answered, and nine evergreen months (rating some
// emails not useful, asked what would help, muting a topic and choosing
// less often), the last with a sales alert.
func lifelong(id string) []func(l *lead.Lead) {
	at := t0
	changes := []func(l *lead.Lead){func(l *lead.Lead) {
		engaged(l, id)
		l.Nurture = lead.Nurture{}
		l.Downloaded = []string{"cloud-cost-guide", "downtime-cost-report"}
		l.Engage(t0, "cloud-cost")
		l.Engage(t0.Add(24*time.Hour), "reliability", "cloud-cost")
		l.Nurture.Enrol("cloud-cost-track", t0.Add(48*time.Hour))
	}}
	send := func(track string, step int, asset string, gap time.Duration, also func(l *lead.Lead, at time.Time)) {
		at = at.Add(gap)
		at := at
		changes = append(changes, func(l *lead.Lead) {
			if also != nil {
				also(l, at)
			}
			msg := fmt.Sprintf("0100018c%08x-%x-%x-000000", at.Unix(), at.UnixNano()*int64(step+3), uint32(step*7919))
			l.Nurture.Claim(lead.SentStep{Track: track, Step: step, AssetID: asset, Claim: fmt.Sprintf("%08x", uint32(at.Unix())*2654435761), MessageID: msg, At: at, DeliveredAt: at.Add(time.Second), Opened: true})
			for _, kind := range []string{"delivery", "open", "click"} {
				key := fmt.Sprintf("%x", sha256.Sum256([]byte(id+msg+kind)))[:16]
				l.MarkApplied(key)
				l.Note(lead.Activity{Key: key, Points: 4.5, ScoreAfter: 30, Earned: 5, Why: []string{"clicked a consideration-stage video"}})
			}
			l.RememberClick(lead.Mark(msg, "https://acme.example/library/"+asset+"?utm_source=nurture&utm_medium=email&utm_campaign="+track, at.Add(time.Hour), fmt.Sprintf("%016x", at.Unix())))
			l.Engage(at.Add(time.Hour), "cloud-cost")
			l.Nurture.Schedule(at.Add(gap))
		})
	}
	// The shipped program's questions, answered one an email: the
	// profile's fields, and the program's own question by its id.
	answers := [][2]string{{"research-or-purchase", "purchase"}, {"role", "platform-lead"}, {"industry", "finance"}, {"company-size", "501-5000"}, {"timeline", "next-quarter"}}
	for i := range 6 {
		send("cloud-cost-track", i, fmt.Sprintf("cloud-cost-asset-number-%d", i), 9*24*time.Hour, func(l *lead.Lead, _ time.Time) {
			if i < len(answers) {
				if l.Answers == nil {
					l.Answers = map[string]string{}
				}
				l.Answers[answers[i][0]] = answers[i][1]
			}
			switch i {
			case 2:
				l.Industry = "finance"
			case 3:
				l.CompanySize = "501-5000"
			case 4:
				l.Timeline = "next-quarter"
			}
		})
	}
	for i := range 5 {
		send("reliability-track", i, fmt.Sprintf("reliability-asset-number-%d", i), 9*24*time.Hour, func(l *lead.Lead, at time.Time) {
			if i == 0 {
				l.Nurture.MoveOn("reliability-track", at)
			}
		})
	}
	asked := at.Add(7 * 24 * time.Hour)
	changes = append(changes, func(l *lead.Lead) {
		l.Nurture.MoveOn(program.EvergreenTrack, asked)
		l.Nurture.Ask(lead.SentStep{Track: program.ReengageTrack, Claim: "0a0b0c0d", At: asked}, asked.Add(14*24*time.Hour))
		l.Nurture.Answered()
	})
	for i := range 9 {
		send(program.EvergreenTrack, i, fmt.Sprintf("evergreen-asset-number-%d", i), 30*24*time.Hour, func(l *lead.Lead, at time.Time) {
			// What the lead said: a few emails not useful, every third
			// asking what would help, and half as often from the fourth
			// evergreen email on.
			if i%2 == 1 {
				l.Rate(fmt.Sprintf("evergreen-asset-number-%d", i-1), false)
			}
			l.Voice.Asked = l.Nurture.Emails - l.Nurture.Emails%3
			if i == 3 {
				l.Voice.LessOften = true
				l.Voice.Muted = []string{"reliability"}
			}
			if i == 8 {
				l.Alerts = []lead.SentAlert{{ID: "a1b2c3d4e5f6", Threshold: "mql", Score: 52.5, At: at, To: "financial-services-sales@acme.example", MessageID: "0100018c0000-alert-000000"}}
			}
		})
	}
	return changes
}

// Every write of a year of lifelong nurture still costs one write unit:
// emails beyond the latest month leave only their asset behind.
func TestLeadItem_aYearOfLifelongNurture_everyWriteCostsOneUnit(t *testing.T) {
	t.Parallel()
	db, table := newTable(t)
	st := store.New(db, table, store.Options{})
	ctx := t.Context()
	largest := 0
	for i, change := range lifelong("lifelong") {
		if _, err := st.UpdateLead(ctx, "lifelong", func(l *lead.Lead, _ bool) error { change(l); return nil }); err != nil {
			t.Fatal(err)
		}
		// A write unit per started KB of the item; the due index's entry
		// moving costs its own, whatever the size.
		if size := itemBytes(t, db, table, "lifelong"); size > 1024 {
			t.Errorf("after change %d the item is %d bytes: each write of it costs 2 units", i, size)
		} else {
			largest = max(largest, size)
		}
	}
	before := st.Usage().Write()
	if _, err := st.UpdateLead(ctx, "lifelong", func(l *lead.Lead, _ bool) error { l.Score.Activity++; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := st.Usage().Write() - before; got != 1 {
		t.Errorf("rewriting the lead after a year cost %v write units, want 1", got)
	}
	got := mustGet(t, st, "lifelong")
	if got.Nurture.Emails != 21 || !got.Nurture.WasSent("cloud-cost-asset-number-0") || len(got.Nurture.Done) != 2 {
		t.Errorf("lifelong lead read back as %+v", got.Nurture)
	}
	t.Logf("a lifelong lead's item is %d bytes at the most", largest)
}

// With lifecycle events on, the write that changes the lead records its
// events, and a write that changes nothing records none. A lead six
// emails into nurture that crosses a threshold while the CRM is down, its
// sales-ready event waiting, still costs 1 write unit. Each waiting event
// adds about 30 bytes: a lead this close to 1 KB with more of them
// waiting costs 2 units a write until the CRM is back.
func TestLeadItem_lifecycleEventWaiting_writeCostsOneUnit(t *testing.T) {
	t.Parallel()
	db, table := newTable(t)
	st := store.New(db, table, store.Options{LifecycleEvents: true})
	ctx := t.Context()
	later := t0.Add(50 * 24 * time.Hour)
	changes := []func(l *lead.Lead){
		func(l *lead.Lead) { engaged(l, "crm") },
		func(l *lead.Lead) {
			l.PendingAlerts = append(l.PendingAlerts, lead.PendingAlert{ID: "5f0c2a9e4b7d13c8e2", Threshold: "mql", Score: 53.5, At: later})
		},
	}
	var recorded []string
	for i, change := range changes {
		l, err := st.UpdateLead(ctx, "crm", func(l *lead.Lead, _ bool) error { change(l); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if i == len(changes)-1 {
			break // the CRM is down
		}
		for _, e := range l.PendingEvents {
			recorded = append(recorded, e.Type)
		}
		// Delivered, as the events function records it.
		if _, err := st.UpdateLead(ctx, "crm", func(l *lead.Lead, _ bool) error { l.PendingEvents = nil; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.UpdateLead(ctx, "crm", func(*lead.Lead, bool) error { return lead.ErrNoChange }); !errors.Is(err, lead.ErrNoChange) {
		t.Fatal(err)
	}
	before := st.Usage().Write()
	if _, err := st.UpdateLead(ctx, "crm", func(l *lead.Lead, _ bool) error { l.Score.Activity++; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := st.Usage().Write() - before; got != 1 {
		t.Errorf("rewriting the lead cost %v write units, want 1 (item of %d bytes)", got, itemBytes(t, db, table, "crm"))
	}
	for _, e := range mustGet(t, st, "crm").PendingEvents {
		recorded = append(recorded, e.Type)
	}
	if want := []string{lead.EventCaptured, lead.EventSalesReady}; !slices.Equal(recorded, want) {
		t.Errorf("recorded %v, want %v: one per change of state", recorded, want)
	}
	t.Logf("item with an event waiting: %d bytes", itemBytes(t, db, table, "crm"))

	off := store.New(db, table, store.Options{})
	if _, err := off.UpdateLead(ctx, "quiet", func(l *lead.Lead, _ bool) error { engaged(l, "quiet"); return nil }); err != nil {
		t.Fatal(err)
	}
	if l := mustGet(t, off, "quiet"); len(l.PendingEvents) != 0 || l.Outbox() != nil {
		t.Errorf("lifecycle events off: %+v", l.PendingEvents)
	}
}

// A body that does not decode is an error naming the lead, never a panic
// or an empty lead that a write would then overwrite.
func TestGetLead_corruptBody_error(t *testing.T) {
	t.Parallel()
	db, table := newTable(t)
	st := store.New(db, table, store.Options{})
	for name, body := range map[string][]byte{
		"empty": {}, "unknown format": append([]byte{9}, deflated(t, "{}")...),
		"not deflate": []byte("\x01garbage"), "not json": append([]byte{1}, deflated(t, "{not json")...),
	} {
		if _, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "LEAD#bad"}, "sk": &types.AttributeValueMemberS{Value: "PROFILE"},
			"version": &types.AttributeValueMemberN{Value: "3"}, "body": &types.AttributeValueMemberB{Value: body},
		}}); err != nil {
			t.Fatal(err)
		}
		_, found, err := st.GetLead(t.Context(), "bad")
		if err == nil || found || !strings.Contains(err.Error(), "decode lead bad") {
			t.Errorf("%s: GetLead = found %v, err %v; want a decode error naming the lead", name, found, err)
		}
		if _, err := st.UpdateLead(t.Context(), "bad", func(*lead.Lead, bool) error { return nil }); err == nil {
			t.Errorf("%s: UpdateLead over a corrupt lead succeeded", name)
		}
	}
}

// itemBytes is a lead item's size as DynamoDB counts it (names plus
// values) for the attribute types a lead item has.
func itemBytes(t *testing.T, db *dynamodb.Client, table, id string) int {
	t.Helper()
	out, err := db.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "LEAD#" + id}, "sk": &types.AttributeValueMemberS{Value: "PROFILE"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for name, v := range out.Item {
		n += len(name)
		switch x := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(x.Value)
		case *types.AttributeValueMemberB:
			n += len(x.Value)
		case *types.AttributeValueMemberN:
			n += len(x.Value)/2 + 1
		}
	}
	return n
}

// deflated compresses s without the store's dictionary: inflating it with
// the dictionary does not give s back, but it is valid deflate.
func deflated(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.DefaultCompression)
	if _, err := w.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestUsage_countsConsumedCapacity(t *testing.T) {
	t.Parallel()
	st := newStore(t, store.Options{})
	ctx := t.Context()
	if st.Usage().Read() != 0 || st.Usage().Write() != 0 {
		t.Fatalf("fresh store usage read %v write %v, want 0", st.Usage().Read(), st.Usage().Write())
	}
	if _, err := st.UpdateLead(ctx, "u", func(l *lead.Lead, _ bool) error { l.Name = "U"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddActivity(ctx, "u", lead.Activity{Key: "k", Kind: "send", At: t0}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Activities(ctx, "u", t0); err != nil {
		t.Fatal(err)
	}
	if w, r := st.Usage().Write(), st.Usage().Read(); w <= 0 || r <= 0 {
		t.Fatalf("usage write %v read %v, want both > 0", w, r)
	}
}

// An event applied (capture, an SES event) is one transaction of three
// items under 1 KB: AWS bills 2 write units each, plus 1 for a lead that
// enters the due index and 2 for one whose due time moves (index writes are
// not doubled). DynamoDB Local reports other figures, so the store counts.
func TestApplyEvent_countsWriteUnitsAsAWSBillsATransaction(t *testing.T) {
	t.Parallel()
	st := newStore(t, store.Options{})
	ctx := t.Context()
	due := func(at time.Time) func(l *lead.Lead, _ bool) error {
		return func(l *lead.Lead, _ bool) error {
			l.Email = "ada@example.com"
			l.Nurture = lead.Nurture{Track: "cloud-cost", Status: lead.NurtureActive, NextStep: 1, DueAt: at}
			return nil
		}
	}
	for _, tc := range []struct {
		name string
		key  string
		at   time.Time
		want float64
	}{
		{"new lead, into the due index", "e1", t0.Add(time.Hour), 7},
		{"same due time", "e2", t0.Add(time.Hour), 6},
		{"due time moved", "e3", t0.Add(2 * time.Hour), 8},
	} {
		before := st.Usage().Write()
		act := lead.Activity{Key: tc.key, Kind: lead.KindDownload, At: t0}
		if _, err := st.ApplyEvent(ctx, "units", &act, due(tc.at)); err != nil {
			t.Fatal(err)
		}
		if got := st.Usage().Write() - before; got != tc.want {
			t.Errorf("%s: %v write units, want %v", tc.name, got, tc.want)
		}
	}
}
