package streams_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadnurture/nurture/infra/localstack/streams"
	"github.com/leadnurture/nurture/infra/localstack/testenv"
	"github.com/leadnurture/nurture/shared/store"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// table is a fresh table with the store's schema (and so its stream).
func table(t *testing.T) string {
	t.Helper()
	name := testenv.UniqueName("stream")
	if err := store.EnsureTable(context.Background(), testenv.Dynamo(t), name); err != nil {
		t.Fatal(err)
	}
	return name
}

func put(t *testing.T, table, pk string, attrs map[string]string) {
	t.Helper()
	item := map[string]types.AttributeValue{
		store.AttrPK: &types.AttributeValueMemberS{Value: pk},
		store.AttrSK: &types.AttributeValueMemberS{Value: "PROFILE"},
	}
	for k, v := range attrs {
		item[k] = &types.AttributeValueMemberS{Value: v}
	}
	if _, err := testenv.Dynamo(t).PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
}

// log keeps what the handler was given, batch by batch.
type log struct {
	mu      sync.Mutex
	batches [][]string // the pk of each record
}

func (l *log) add(ev events.DynamoDBEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b []string
	for _, r := range ev.Records {
		b = append(b, r.Change.Keys[store.AttrPK].String())
	}
	l.batches = append(l.batches, b)
}

func (l *log) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Concat(l.batches...)
}

func mapping(t *testing.T, table string, h streams.Handler) *streams.Mapping {
	return &streams.Mapping{DB: testenv.Dynamo(t), Streams: testenv.Streams(t), Table: table, Handler: h,
		MaxRetries: 2, Bisect: true, RetryBackoff: time.Millisecond}
}

func TestMapping_handsEveryWriteOnce_inOrder_asLambdasEvent(t *testing.T) {
	tb := table(t)
	for i := range 5 {
		put(t, tb, fmt.Sprintf("LEAD#%d", i), map[string]string{"v": "1"})
	}
	put(t, tb, "LEAD#0", map[string]string{"v": "2"}) // the same item again: a MODIFY
	got := &log{}
	var first events.DynamoDBEventRecord
	m := mapping(t, tb, func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		if first.EventID == "" {
			first = ev.Records[0]
		}
		got.add(ev)
		return events.DynamoDBEventResponse{}, nil
	})
	if err := m.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"LEAD#0", "LEAD#1", "LEAD#2", "LEAD#3", "LEAD#4", "LEAD#0"}
	if !slices.Equal(got.all(), want) {
		t.Fatalf("records %v, want %v", got.all(), want)
	}
	if first.EventName != "INSERT" || first.EventSource != "aws:dynamodb" || first.Change.SequenceNumber == "" ||
		first.Change.NewImage["v"].String() != "1" || first.Change.StreamViewType != string(store.StreamView) || first.EventSourceArn == "" {
		t.Errorf("a record as Lambda hands it: %+v", first)
	}
	// The checkpoint holds: nothing comes twice, and a new write comes next.
	put(t, tb, "LEAD#9", nil)
	if err := m.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if all := got.all(); len(all) != 7 || all[6] != "LEAD#9" {
		t.Fatalf("after a second drain: %v", all)
	}
}

func TestMapping_filter_leavesOutWhatTheHandlerDoesNotWant(t *testing.T) {
	tb := table(t)
	put(t, tb, "LEAD#a", map[string]string{store.AttrOutbox: "alert"})
	put(t, tb, "LEAD#b", nil)
	put(t, tb, "LEAD#c", map[string]string{store.AttrOutbox: "alert"})
	got := &log{}
	m := mapping(t, tb, func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		got.add(ev)
		return events.DynamoDBEventResponse{}, nil
	})
	m.Filter = func(r events.DynamoDBEventRecord) bool { _, ok := r.Change.NewImage[store.AttrOutbox]; return ok }
	if err := m.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if all := got.all(); !slices.Equal(all, []string{"LEAD#a", "LEAD#c"}) {
		t.Fatalf("records %v, want only the marked ones", all)
	}
}

func TestMapping_reportedFailure_isRetriedFromThere_theRecordsBeforeItNotAgain(t *testing.T) {
	tb := table(t)
	for i := range 4 {
		put(t, tb, fmt.Sprintf("LEAD#%d", i), nil)
	}
	got := &log{}
	failed := false
	m := mapping(t, tb, func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		got.add(ev)
		for _, r := range ev.Records {
			if r.Change.Keys[store.AttrPK].String() == "LEAD#2" && !failed {
				failed = true
				return events.DynamoDBEventResponse{BatchItemFailures: []events.DynamoDBBatchItemFailure{{ItemIdentifier: r.Change.SequenceNumber}}}, nil
			}
		}
		return events.DynamoDBEventResponse{}, nil
	})
	m.Bisect = false
	if err := m.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := []string{"LEAD#0", "LEAD#1", "LEAD#2", "LEAD#3", "LEAD#2", "LEAD#3"}
	if all := got.all(); !slices.Equal(all, want) {
		t.Fatalf("records %v, want %v", all, want)
	}
}

func TestMapping_batchFailingEveryTry_isBisected_thenGoesToOnFailure_andTheShardMovesOn(t *testing.T) {
	tb := table(t)
	for i := range 4 {
		put(t, tb, fmt.Sprintf("LEAD#%d", i), nil)
	}
	got := &log{}
	m := mapping(t, tb, func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		got.add(ev)
		for _, r := range ev.Records {
			if r.Change.Keys[store.AttrPK].String() == "LEAD#1" {
				return events.DynamoDBEventResponse{}, errors.New("poison")
			}
		}
		return events.DynamoDBEventResponse{}, nil
	})
	var failures []streams.Failure
	m.OnFailure = func(f streams.Failure) { failures = append(failures, f) }
	if err := m.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(failures) != 1 || failures[0].BatchSize != 1 || failures[0].Attempts != 3 {
		t.Fatalf("the poison record alone should end at the on-failure destination after 2 retries: %+v", failures)
	}
	// Bisection narrowed it down; everything else was handled.
	delivered := map[string]bool{}
	for _, b := range got.batches {
		if len(b) == 1 || !slices.Contains(b, "LEAD#1") {
			for _, pk := range b {
				delivered[pk] = true
			}
		}
	}
	for _, pk := range []string{"LEAD#0", "LEAD#2", "LEAD#3"} {
		if !delivered[pk] {
			t.Errorf("%s was never handled apart from the poison record: %v", pk, got.batches)
		}
	}
	put(t, tb, "LEAD#9", nil)
	if err := m.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if all := got.all(); all[len(all)-1] != "LEAD#9" {
		t.Fatalf("the shard should move on past the failed batch: %v", got.batches)
	}
}
