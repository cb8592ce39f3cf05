// Package outbox performs the side effects the lead items hold: the write
// that decides (a threshold crossing) records the work on the lead, and
// marks the item while work is ready to go (lead.Lead.Outbox, the store's
// outbox attribute). The table's stream carries every write; Lambda's event
// source mapping hands the marked ones to the alerts function in batches
// (the local stack's poller does the same), and the Consumer has each kind
// of work's Sender do it for the lead a record names.
//
// Stream records are delivered at least once, in order per item, and a
// failed batch is retried: a Sender must be idempotent per lead (the
// sales.Alerter claims what it sends). The Sender reads the lead afresh,
// so several records of one lead in a batch are one Flush, and a record
// that arrives after its work was done is a Flush that finds nothing.
package outbox

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leadnurture/nurture/shared/store"
)

// Sender does one kind of outbox work for a lead: whatever of it is due
// and not held by another sender.
type Sender interface {
	Flush(ctx context.Context, leadID string) error
}

// DefaultParallel is how many leads of a batch are flushed at once: each
// mostly waits on DynamoDB, SES or a webhook.
const DefaultParallel = 8

// Consumer handles batches of the table's stream records.
type Consumer struct {
	// Senders by kind of work (lead.OutboxAlert: the sales.Alerter). A
	// second kind of work is a second entry, marked by lead.Lead.Outbox.
	Senders map[string]Sender
	// Parallel bounds the leads flushed at once (default DefaultParallel).
	Parallel int
	Log      *slog.Logger
}

// work is what a batch holds for one lead.
type work struct {
	leadID string
	kinds  []string
	// first is the sequence number of the lead's first record in the
	// batch: a failure is reported there, so the retry starts there.
	first string
}

// Handle does the work a batch of stream records names and reports the
// leads it failed for as batch item failures (the event source mapping's
// ReportBatchItemFailures): Lambda retries from the earliest of them, and
// the retry of a lead whose work was done finds nothing to do. Records of
// other items, and records without ready work, are skipped; the event
// source mapping's filter leaves them out already.
func (c *Consumer) Handle(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
	var todo []*work
	byLead := map[string]*work{}
	for _, r := range ev.Records {
		id, kinds, ok := Wanted(r)
		if !ok {
			continue
		}
		w := byLead[id]
		if w == nil {
			w = &work{leadID: id, first: r.Change.SequenceNumber}
			byLead[id] = w
			todo = append(todo, w)
		}
		for _, k := range kinds {
			if !slices.Contains(w.kinds, k) {
				w.kinds = append(w.kinds, k)
			}
		}
	}

	parallel := c.Parallel
	if parallel <= 0 {
		parallel = DefaultParallel
	}
	var (
		mu sync.Mutex
		// Never nil: Lambda reads [] as "all done", as it does null.
		failures = []events.DynamoDBBatchItemFailure{}
		wg       sync.WaitGroup
		slots    = make(chan struct{}, parallel)
	)
	for _, w := range todo {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			if !c.do(ctx, w) {
				mu.Lock()
				failures = append(failures, events.DynamoDBBatchItemFailure{ItemIdentifier: w.first})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	// Lambda reads the earliest failure; the order here is the batch's.
	order := map[string]int{}
	for i, w := range todo {
		order[w.first] = i
	}
	slices.SortFunc(failures, func(a, b events.DynamoDBBatchItemFailure) int {
		return order[a.ItemIdentifier] - order[b.ItemIdentifier]
	})
	return events.DynamoDBEventResponse{BatchItemFailures: failures}, nil
}

// do runs each kind of the lead's work and reports whether all succeeded.
func (c *Consumer) do(ctx context.Context, w *work) bool {
	ok := true
	for _, kind := range w.kinds {
		s := c.Senders[kind]
		if s == nil {
			// Written by a newer version, or a kind this function does not
			// send: nothing to retry here.
			c.log().Warn("outbox work of an unknown kind skipped", "leadId", w.leadID, "kind", kind)
			continue
		}
		if err := s.Flush(ctx, w.leadID); err != nil {
			c.log().Error("outbox work failed; the batch is retried from here", "leadId", w.leadID, "kind", kind, "error", err.Error())
			ok = false
		}
	}
	return ok
}

// Wanted returns the lead a stream record is about and the kinds of work
// ready on it; false for a record of another item, a removal, or a lead
// with no ready work. It is the event source mapping's filter (a pattern
// on dynamodb.NewImage.outbox), in code.
func Wanted(r events.DynamoDBEventRecord) (leadID string, kinds []string, ok bool) {
	pk, sk := str(r.Change.Keys[store.AttrPK]), str(r.Change.Keys[store.AttrSK])
	id, isLead := store.LeadOfKeys(pk, sk)
	if !isLead {
		return "", nil, false
	}
	kinds = strings.Fields(str(r.Change.NewImage[store.AttrOutbox]))
	return id, kinds, len(kinds) > 0
}

func str(v events.DynamoDBAttributeValue) string {
	if v.DataType() != events.DataTypeString {
		return ""
	}
	return v.String()
}

func (c *Consumer) log() *slog.Logger {
	if c.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return c.Log
}
