// Package outbox performs the side effects the lead items hold: the write
// that decides (a threshold crossing) records the work on the lead, and
// marks the item while work is ready to go (lead.Lead.Outbox, the store's
// outbox attribute). The table's stream carries every write; each
// function behind it (alerts for lead.OutboxAlert and lead.OutboxSettle,
// events for lead.OutboxEvent) has an event source mapping whose filter
// lets through only the items marked with its kinds (Pattern), in batches
// (the local stack's poller does the same), and its Consumer has the
// kind's Sender do the work for the lead a record names (for a settling
// alert, the Settler asks for the lead's wake-up: settle.go).
//
// Stream records are delivered at least once, in order per item, and a
// failed batch is retried: a Sender must be idempotent per lead (the
// sales.Alerter claims what it sends). The Sender reads the lead afresh,
// so several records of one lead in a batch are one Flush, and a record
// that arrives after its work was done is a Flush that finds nothing.
package outbox

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/leadnurture/nurture/shared/lead"
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
	// Senders by kind of work (lead.OutboxAlert: the sales.Alerter;
	// lead.OutboxEvent: the crm.Sender). Work of other kinds on the same
	// lead is another function's, and left to it.
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
		id, kinds, ok := c.wanted(r)
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

// wanted is Wanted, narrowed to the kinds this consumer sends.
func (c *Consumer) wanted(r events.DynamoDBEventRecord) (string, []string, bool) {
	id, kinds, ok := Wanted(r)
	if !ok {
		return "", nil, false
	}
	kinds = slices.DeleteFunc(kinds, func(k string) bool { return c.Senders[k] == nil })
	return id, kinds, len(kinds) > 0
}

// Kinds are the kinds of work the consumer sends, for its mapping's filter.
func (c *Consumer) Kinds() []string {
	var kinds []string
	for _, k := range lead.OutboxKinds {
		if c.Senders[k] != nil {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// do runs each kind of the lead's work and reports whether all succeeded.
func (c *Consumer) do(ctx context.Context, w *work) bool {
	ok := true
	for _, kind := range w.kinds {
		s := c.Senders[kind]
		if err := s.Flush(ctx, w.leadID); err != nil {
			c.log().Error("outbox work failed; the batch is retried from here", "leadId", w.leadID, "kind", kind, "error", err.Error())
			ok = false
		}
	}
	return ok
}

// Wanted returns the lead a stream record is about and the kinds of work
// ready on it; false for a record of another item, a removal, or a lead
// with no ready work. With a kind's Pattern it is the event source
// mapping's filter, in code.
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

// Values are the values of the outbox attribute that hold one of kinds:
// the kinds on a lead, space-separated in the order of lead.OutboxKinds
// (lead.Lead.Outbox), every combination that includes one of kinds.
func Values(kinds ...string) []string {
	all := lead.OutboxKinds
	var values []string
	for set := 1; set < 1<<len(all); set++ {
		var v []string
		for i, k := range all {
			if set&(1<<i) != 0 {
				v = append(v, k)
			}
		}
		if slices.ContainsFunc(v, func(k string) bool { return slices.Contains(kinds, k) }) {
			values = append(values, strings.Join(v, " "))
		}
	}
	slices.Sort(values)
	return values
}

// Pattern is the filter pattern of the event source mapping of the
// function that sends kinds: stream records of items whose new image's
// outbox attribute is one of Values(kinds...). Lambda's filters match a
// string exactly or by its start, so the kinds' combinations are listed.
func Pattern(kinds ...string) string {
	values, _ := json.Marshal(Values(kinds...))
	return `{"dynamodb":{"NewImage":{"` + store.AttrOutbox + `":{"S":` + string(values) + `}}}}`
}

// Wants reports whether a record holds work of one of kinds: a mapping's
// filter, in code.
func Wants(r events.DynamoDBEventRecord, kinds ...string) bool {
	_, ready, ok := Wanted(r)
	return ok && slices.ContainsFunc(ready, func(k string) bool { return slices.Contains(kinds, k) })
}
