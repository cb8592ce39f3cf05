// Package streams plays Lambda's event source mapping for a DynamoDB
// table's stream on the local stack and in tests: it reads the stream
// through the DynamoDB Streams API (DynamoDB Local serves it), shard by
// shard, parents before their children, in batches, filters the records,
// hands each batch to the handler as the events.DynamoDBEvent Lambda
// would, and moves its checkpoint past a batch only once the handler took
// it. A failed batch is retried from the earliest failure the handler
// reports (ReportBatchItemFailures), split in halves (BisectBatchOnFunction
// Error), at most MaxRetries times; then it goes to OnFailure (the
// on-failure destination) and the shard moves on. So the local alerts path
// is the deployed one, and its tests exercise at-least-once, in-order
// delivery rather than a direct call.
package streams

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/leadnurture/nurture/shared/outbox"
)

// Handler takes one batch, as a Lambda function behind an event source
// mapping with ReportBatchItemFailures does.
type Handler func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error)

// Failure is what the on-failure destination receives about a batch that
// failed every retry: where it was, not the records (as Lambda's).
type Failure struct {
	ShardID       string
	StartSequence string
	EndSequence   string
	BatchSize     int
	Attempts      int
	Err           error
}

// Mapping defaults, as in the template's event source mapping.
const (
	DefaultBatchSize    = 100
	DefaultMaxRetries   = 3
	DefaultPollInterval = 250 * time.Millisecond // Lambda reads a shard four times a second
	DefaultRetryBackoff = 200 * time.Millisecond
)

// Mapping is one event source mapping: a table's stream to a handler.
type Mapping struct {
	DB      *dynamodb.Client        // finds the table's stream
	Streams *dynamodbstreams.Client // reads it
	Table   string
	Handler Handler
	// Filter keeps the records the handler wants (the mapping's filter
	// criteria); nil keeps all. Filtered-out records count as processed.
	Filter func(events.DynamoDBEventRecord) bool
	// BatchSize is the most records in one batch (DefaultBatchSize).
	BatchSize int
	// MaxRetries is how often a failing batch is retried before it goes
	// to OnFailure (DefaultMaxRetries).
	MaxRetries int
	// Bisect splits a failing batch in halves before retrying.
	Bisect bool
	// OnFailure receives the batches that failed every retry; nil logs
	// them.
	OnFailure func(Failure)
	// PollInterval is the wait between polls of a stream with nothing new
	// (DefaultPollInterval); RetryBackoff the first wait before a retry,
	// doubling (DefaultRetryBackoff).
	PollInterval time.Duration
	RetryBackoff time.Duration
	Log          *slog.Logger

	mu     sync.Mutex // one poll at a time: Run and Drain share the checkpoints
	arn    string
	shards map[string]*shard
}

// shard is the mapping's checkpoint in one shard.
type shard struct {
	id, parent string
	iterator   string
	checkpoint string // the last record handled (or filtered out)
	done       bool   // closed and read to its end
}

// Run polls the stream until ctx ends, and returns ctx's error.
func (m *Mapping) Run(ctx context.Context) error {
	every := m.PollInterval
	if every <= 0 {
		every = DefaultPollInterval
	}
	for {
		n, err := m.poll(ctx)
		if err != nil && ctx.Err() == nil {
			m.log().Error("stream poll failed", "table", m.Table, "error", err.Error())
		}
		if n > 0 && err == nil {
			continue // more may be waiting
		}
		t := time.NewTimer(every)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Drain hands the handler every record written so far and returns when a
// poll of every shard finds nothing new: tests call it where Lambda would
// have run in the background.
func (m *Mapping) Drain(ctx context.Context) error {
	for {
		n, err := m.poll(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

// poll reads each open shard once from its checkpoint and handles what it
// finds; it returns how many records it read.
func (m *Mapping) poll(ctx context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.discover(ctx); err != nil {
		return 0, err
	}
	read := 0
	for _, id := range m.order() {
		s := m.shards[id]
		if s.done || !m.parentDone(s) {
			continue
		}
		n, err := m.pollShard(ctx, s)
		read += n
		if err != nil {
			return read, err
		}
	}
	return read, nil
}

// discover finds the table's stream and its shards.
func (m *Mapping) discover(ctx context.Context) error {
	if m.arn == "" {
		out, err := m.DB.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(m.Table)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", m.Table, err)
		}
		if out.Table.LatestStreamArn == nil {
			return fmt.Errorf("table %s has no stream (store.EnsureTable turns it on)", m.Table)
		}
		m.arn = aws.ToString(out.Table.LatestStreamArn)
		m.shards = map[string]*shard{}
	}
	var start *string
	for {
		out, err := m.Streams.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: aws.String(m.arn), ExclusiveStartShardId: start})
		if err != nil {
			return fmt.Errorf("describe stream of %s: %w", m.Table, err)
		}
		d := out.StreamDescription
		for _, sh := range d.Shards {
			id := aws.ToString(sh.ShardId)
			if m.shards[id] == nil {
				m.shards[id] = &shard{id: id, parent: aws.ToString(sh.ParentShardId)}
			}
		}
		if d.LastEvaluatedShardId == nil {
			return nil
		}
		start = d.LastEvaluatedShardId
	}
}

// order lists the shards parents first (shard ids sort by creation).
func (m *Mapping) order() []string {
	ids := make([]string, 0, len(m.shards))
	for id := range m.shards {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// parentDone: a child shard is read only after its parent, so one item's
// records stay in order across a shard split.
func (m *Mapping) parentDone(s *shard) bool {
	p := m.shards[s.parent]
	return p == nil || p.done
}

// pollShard reads one batch from the shard and handles it.
func (m *Mapping) pollShard(ctx context.Context, s *shard) (int, error) {
	if s.iterator == "" {
		in := &dynamodbstreams.GetShardIteratorInput{StreamArn: aws.String(m.arn), ShardId: aws.String(s.id), ShardIteratorType: types.ShardIteratorTypeTrimHorizon}
		if s.checkpoint != "" {
			in.ShardIteratorType, in.SequenceNumber = types.ShardIteratorTypeAfterSequenceNumber, aws.String(s.checkpoint)
		}
		out, err := m.Streams.GetShardIterator(ctx, in)
		if err != nil {
			return 0, fmt.Errorf("shard iterator of %s: %w", s.id, err)
		}
		s.iterator = aws.ToString(out.ShardIterator)
		if s.iterator == "" {
			s.done = true
			return 0, nil
		}
	}
	size := m.BatchSize
	if size <= 0 {
		size = DefaultBatchSize
	}
	out, err := m.Streams.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: aws.String(s.iterator), Limit: aws.Int32(int32(size))})
	var expired *types.ExpiredIteratorException
	if errors.As(err, &expired) {
		s.iterator = "" // again from the checkpoint
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read shard %s: %w", s.id, err)
	}
	next := aws.ToString(out.NextShardIterator)
	if len(out.Records) > 0 {
		batch := make([]events.DynamoDBEventRecord, 0, len(out.Records))
		for _, r := range out.Records {
			rec := Record(r, m.arn)
			if m.Filter == nil || m.Filter(rec) {
				batch = append(batch, rec)
			}
		}
		m.deliver(ctx, s.id, batch, 0)
		s.checkpoint = aws.ToString(out.Records[len(out.Records)-1].Dynamodb.SequenceNumber)
	}
	s.iterator = next
	if next == "" {
		s.done = true // closed and read to its end: its children may start
	}
	return len(out.Records), ctx.Err()
}

// deliver hands a batch to the handler until it takes it, as Lambda does:
// the records before the earliest reported failure are done; the rest is
// retried, halved first when Bisect is on, with a doubling backoff, and
// after MaxRetries goes to OnFailure.
func (m *Mapping) deliver(ctx context.Context, shardID string, batch []events.DynamoDBEventRecord, attempt int) {
	maxRetries := m.MaxRetries
	if maxRetries <= 0 {
		maxRetries = DefaultMaxRetries
	}
	backoff := m.RetryBackoff
	if backoff <= 0 {
		backoff = DefaultRetryBackoff
	}
	for len(batch) > 0 && ctx.Err() == nil {
		resp, err := m.Handler(ctx, events.DynamoDBEvent{Records: batch})
		if err == nil && len(resp.BatchItemFailures) == 0 {
			return
		}
		if err == nil {
			// The records before the earliest failure were handled.
			first := len(batch)
			for _, f := range resp.BatchItemFailures {
				if i := slices.IndexFunc(batch, func(r events.DynamoDBEventRecord) bool { return r.Change.SequenceNumber == f.ItemIdentifier }); i >= 0 && i < first {
					first = i
				}
			}
			if first == len(batch) {
				first = 0 // a failure naming no record of the batch fails all of it
			}
			batch = batch[first:]
			err = fmt.Errorf("%d batch item failures", len(resp.BatchItemFailures))
		}
		attempt++
		if attempt > maxRetries {
			m.failed(Failure{ShardID: shardID, StartSequence: batch[0].Change.SequenceNumber, EndSequence: batch[len(batch)-1].Change.SequenceNumber,
				BatchSize: len(batch), Attempts: attempt, Err: err})
			return
		}
		m.log().Warn("stream batch failed; retried", "table", m.Table, "records", len(batch), "attempt", attempt, "error", err.Error())
		if !sleep(ctx, backoff<<(attempt-1)) {
			return
		}
		if m.Bisect && len(batch) > 1 {
			half := len(batch) / 2
			m.deliver(ctx, shardID, batch[:half], attempt)
			m.deliver(ctx, shardID, batch[half:], attempt)
			return
		}
	}
}

func (m *Mapping) failed(f Failure) {
	if m.OnFailure != nil {
		m.OnFailure(f)
		return
	}
	m.log().Error("stream batch failed every retry; skipped", "table", m.Table, "shard", f.ShardID,
		"startSequence", f.StartSequence, "endSequence", f.EndSequence, "records", f.BatchSize, "error", f.Err.Error())
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (m *Mapping) log() *slog.Logger {
	if m.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return m.Log
}

// Outbox is the event source mapping of a function behind the table's
// stream (alerts, events) as the template declares it (its kinds' filter,
// batch size, retries, bisection), on a local table, handing the batches
// to the function's outbox consumer.
func Outbox(db *dynamodb.Client, st *dynamodbstreams.Client, table string, c *outbox.Consumer, log *slog.Logger) *Mapping {
	kinds := c.Kinds()
	return &Mapping{
		DB: db, Streams: st, Table: table,
		Handler:   c.Handle,
		Filter:    func(r events.DynamoDBEventRecord) bool { return outbox.Wants(r, kinds...) },
		BatchSize: 25, MaxRetries: 3, Bisect: true,
		Log: log,
	}
}
