package store

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadnurture/nurture/shared/lead"
)

// The DynamoDB adapter satisfies the domain's interface.
var _ lead.Store = (*Store)(nil)

// ErrConflict is returned when a lead kept changing under an update.
var ErrConflict = lead.ErrConflict

const (
	skProfile      = "PROFILE"
	prefixLead     = "LEAD#"
	prefixActivity = "ACT#"
	prefixDue      = "DUE#"
	prefixEvent    = "EVENT#"
	// dueLayout sorts lexically in time order.
	dueLayout = "2006-01-02T15:04:05Z"
	// maxAttempts bounds optimistic-locking retries. Contention on one lead
	// is usually a handful of events; a scanner or a burst can bring dozens
	// at once, and each loser waits up to 100 ms before trying again.
	maxAttempts = 60
	// unconfirmedTTLGrace leaves the deletion of an expired unconfirmed
	// lead to the scheduler, which deletes its activities too; TTL is
	// the backstop.
	unconfirmedTTLGrace = 24 * time.Hour
)

// Options tune the store.
type Options struct {
	// DueShards spreads the due index over this many partitions (default 8).
	DueShards int
	// ActivityRetention is how long activities are kept before TTL removes
	// them; zero keeps them forever.
	ActivityRetention time.Duration
	// LifecycleEvents records the lifecycle events for the CRM
	// (lead.RecordLifecycle) in every write of a lead that makes one. On
	// only with a CRM to deliver them to: undelivered, they would wait on
	// the leads.
	LifecycleEvents bool
}

// Store is the DynamoDB adapter for leads.
type Store struct {
	client *dynamodb.Client
	table  string
	opts   Options
	usage  Usage
}

// Usage counts the capacity units this store consumed, as DynamoDB reports
// them, except a transaction's write units, which it counts as AWS bills
// them (units.go); benchmarks divide them by operations.
type Usage struct {
	read, write atomic.Uint64 // in thousandths of a unit
}

// Read returns the read capacity units consumed so far.
func (u *Usage) Read() float64 { return float64(u.read.Load()) / 1000 }

// Write returns the write capacity units consumed so far.
func (u *Usage) Write() float64 { return float64(u.write.Load()) / 1000 }

// ReturnConsumedCapacity TOTAL reports one figure per call; the caller
// knows whether it read or wrote.
func (u *Usage) addWrite(c *types.ConsumedCapacity) {
	if c != nil {
		u.write.Add(uint64(aws.ToFloat64(c.CapacityUnits) * 1000))
	}
}

func (u *Usage) addWriteUnits(units float64) {
	u.write.Add(uint64(units * 1000))
}

func (u *Usage) addRead(c *types.ConsumedCapacity) {
	if c != nil {
		u.read.Add(uint64(aws.ToFloat64(c.CapacityUnits) * 1000))
	}
}

// DefaultDueShards is how many partitions the due index is spread over
// unless DUE_SHARDS says otherwise; every writer and reader of one table
// must agree on it.
const DefaultDueShards = 8

// New returns a store on an existing table.
func New(client *dynamodb.Client, table string, opts Options) *Store {
	if opts.DueShards <= 0 {
		opts.DueShards = DefaultDueShards
	}
	return &Store{client: client, table: table, opts: opts}
}

// Usage returns the capacity units consumed by this store.
func (s *Store) Usage() *Usage { return &s.usage }

var (
	encoder = attributevalue.NewEncoder(func(o *attributevalue.EncoderOptions) {
		o.TagKey = "json"
		o.OmitNullAttributeValues = true
		o.OmitEmptyTime = true
	})
	decoder = attributevalue.NewDecoder(func(o *attributevalue.DecoderOptions) { o.TagKey = "json" })
)

// leadItem is the stored form of a lead: the keys in the clear, the lead
// itself as deflated JSON (body.go). Every lead write costs a write unit
// per started KB of the item; the JSON of a lead a few emails into nurture
// is 2-4 KB, compressed it stays under 1 KB through a whole track, so the
// product's most frequent writes cost 1 unit instead of 2-4 (compressing
// is DynamoDB's own advice for large items). Nothing queries inside a
// lead, so nothing is lost but browsing it in the console; `make
// privacy-export` shows a lead as JSON.
type leadItem struct {
	PK       string `json:"pk"`
	SK       string `json:"sk"`
	Version  int64  `json:"version"`
	DueShard string `json:"dueShard,omitempty"`
	DueAt    string `json:"dueAt,omitempty"`
	// Outbox names the kinds of outbox work ready to go (lead.Outbox),
	// space-separated, for the stream's filter; absent when none.
	Outbox string `json:"outbox,omitempty"`
	// OpenRoute and OpenSince key the open index while an alert waits for
	// sales' decision (lead.Lead.SLA): the owner's route and since when.
	OpenRoute string `json:"openRoute,omitempty"`
	OpenSince string `json:"openSince,omitempty"`
	Body      []byte `json:"body"`
	// ExpiresAt is set while the lead is unconfirmed: the scheduler
	// deletes it when its wait ends (DeleteUnconfirmed), and TTL a day
	// later if that never happened.
	ExpiresAt int64 `json:"expiresAt,omitempty"`
	// Applied holds the lead's applied event keys as 8 raw bytes each:
	// random hex does not deflate, and half the size is half the cost.
	Applied []byte `json:"applied,omitempty"`
}

type activityItem struct {
	PK        string `json:"pk"`
	SK        string `json:"sk"`
	ExpiresAt int64  `json:"expiresAt,omitempty"`
	// Day and DayAt key the journal (journal.go).
	Day      string        `json:"day,omitempty"`
	DayAt    string        `json:"dayAt,omitempty"`
	Activity lead.Activity `json:"activity"`
}

// activitySK is an activity's sort key: its time, then its key. Time first
// lets a query read a lead's newest activities first (RecentActivities);
// the key after it keeps two activities of one moment apart, and makes
// writing the same activity twice (same key, same time) one item. A writer
// that retries must write the activity's first time again: the lead's
// ledger notes keep it (lead.Lead.Recall).
func activitySK(a lead.Activity) string {
	return prefixActivity + a.At.UTC().Format(activityTime) + "#" + a.Key
}

// activityTime is fixed-width, so sort keys sort by time.
const activityTime = "20060102T150405.000000000Z"

func leadKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: prefixLead + id},
		AttrSK: &types.AttributeValueMemberS{Value: skProfile},
	}
}

// LeadOfKeys returns the id of the lead whose item has these keys, and
// false for any other item (an activity, a suppression): the outbox sender
// reads a stream record's keys with it.
func LeadOfKeys(pk, sk string) (string, bool) {
	id, ok := strings.CutPrefix(pk, prefixLead)
	return id, ok && sk == skProfile && id != ""
}

// dueShard picks the partition of the due index for a lead: stable per lead,
// spread evenly over the shards.
func (s *Store) dueShard(id string) string {
	h := fnv.New32a()
	h.Write([]byte(id))
	return prefixDue + strconv.Itoa(int(h.Sum32()%uint32(s.opts.DueShards)))
}

// GetLead returns the lead, or found=false.
func (s *Store) GetLead(ctx context.Context, id string) (*lead.Lead, bool, error) {
	l, _, found, err := s.getLead(ctx, id)
	return l, found, err
}

func (s *Store) getLead(ctx context.Context, id string) (*lead.Lead, int64, bool, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:              aws.String(s.table),
		Key:                    leadKey(id),
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return nil, 0, false, fmt.Errorf("get lead: %w", err)
	}
	s.usage.addRead(out.ConsumedCapacity)
	if out.Item == nil {
		return &lead.Lead{ID: id}, 0, false, nil
	}
	var item leadItem
	if err := decoder.Decode(&types.AttributeValueMemberM{Value: out.Item}, &item); err != nil {
		return nil, 0, false, fmt.Errorf("decode lead item: %w", err)
	}
	l, err := decodeLead(item.Body, item.Applied)
	if err != nil {
		return nil, 0, false, fmt.Errorf("decode lead %s: %w", id, err)
	}
	l.ID = id
	l.Version = item.Version
	return l, item.Version, true, nil
}

// UpdateLead loads the lead, applies fn and writes it back on condition that
// nobody wrote in between (optimistic locking on a version number), retrying
// fn with the fresh lead on conflict. fn returning lead.ErrNoChange writes
// nothing and is returned as is. With Options.LifecycleEvents the write
// also records the lifecycle events of what fn changed, so an event is
// stored exactly when its change is.
func (s *Store) UpdateLead(ctx context.Context, id string, fn func(l *lead.Lead, isNew bool) error) (*lead.Lead, error) {
	return s.update(ctx, id, nil, fn)
}

// ApplyEvent is UpdateLead for an event: it writes the lead as fn changed
// it, the activity act as fn left it, and the event's record in one
// transaction. The record is keyed by the activity's key alone and written
// only if absent, so the event changes the lead once however late it is
// delivered again (the lead's own memory of applied keys is short); a
// repeat returns lead.ErrNoChange and writes nothing. The activity cannot
// be that record itself: its sort key starts with its time, and a replay's
// time is not the first one. A transaction costs twice the write units of
// its items.
func (s *Store) ApplyEvent(ctx context.Context, id string, act *lead.Activity, fn func(l *lead.Lead, isNew bool) error) (*lead.Lead, error) {
	return s.update(ctx, id, act, fn)
}

// errRetry says the lead changed under a write: read it again.
var errRetry = errors.New("lead changed under the write")

func (s *Store) update(ctx context.Context, id string, act *lead.Activity, fn func(l *lead.Lead, isNew bool) error) (*lead.Lead, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		l, version, found, err := s.getLead(ctx, id)
		if err != nil {
			return nil, err
		}
		var before lead.Milestones
		if s.opts.LifecycleEvents {
			before = l.Milestones(found)
		}
		var indexed indexKeys
		if found {
			indexed = s.indexKeysOf(l)
		}
		if err := fn(l, !found); err != nil {
			return l, err
		}
		if s.opts.LifecycleEvents {
			l.RecordLifecycle(before)
		}
		l.ID = id
		l.Version = version + 1
		if act == nil {
			err = s.putLead(ctx, l, version, found)
			if conditionFailed(err) {
				err = errRetry
			}
		} else {
			err = s.applyEvent(ctx, l, version, found, indexed, *act)
		}
		switch {
		case errors.Is(err, errRetry):
			if err := backoff(ctx, attempt); err != nil {
				return nil, err
			}
			continue
		case errors.Is(err, lead.ErrNoChange):
			return l, err
		case err != nil:
			return nil, err
		}
		return l, nil
	}
	return nil, fmt.Errorf("update lead %s: %w", id, ErrConflict)
}

// applyEvent writes the lead, the activity and the event's record in one
// transaction: lead.ErrNoChange when the event is recorded already,
// errRetry when the lead changed in between. indexed are the lead item's
// index keys before, for the units of the write.
func (s *Store) applyEvent(ctx context.Context, l *lead.Lead, prevVersion int64, existed bool, indexed indexKeys, act lead.Activity) error {
	put, err := s.leadPut(l, prevVersion, existed)
	if err != nil {
		return err
	}
	actPut, err := s.activityPut(l.ID, act)
	if err != nil {
		return err
	}
	rec, err := encoder.Encode(eventItem{PK: prefixLead + l.ID, SK: prefixEvent + act.Key, ExpiresAt: actPut.expiresAt})
	if err != nil {
		return fmt.Errorf("encode event record: %w", err)
	}
	_, err = s.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: put.TableName, Item: put.Item, ConditionExpression: put.ConditionExpression, ExpressionAttributeValues: put.ExpressionAttributeValues}},
			{Put: &types.Put{TableName: actPut.in.TableName, Item: actPut.in.Item, ConditionExpression: actPut.in.ConditionExpression}},
			{Put: &types.Put{TableName: aws.String(s.table), Item: rec.(*types.AttributeValueMemberM).Value, ConditionExpression: aws.String("attribute_not_exists(pk)")}},
		},
	})
	var canceled *types.TransactionCanceledException
	switch {
	case errors.As(err, &canceled):
		if r := canceled.CancellationReasons; len(r) == 3 && aws.ToString(r[2].Code) == "ConditionalCheckFailed" {
			return lead.ErrNoChange
		}
		// The lead's condition failed, or a concurrent transaction held it.
		return errRetry
	case err != nil:
		return fmt.Errorf("apply event to lead %s: %w", l.ID, err)
	}
	// AWS's units, not DynamoDB Local's report (units.go).
	s.usage.addWriteUnits(transactWriteUnits(
		[]map[string]types.AttributeValue{put.Item, actPut.in.Item, rec.(*types.AttributeValueMemberM).Value},
		indexUnits(indexed, s.indexKeysOf(l))))
	return nil
}

// eventItem records that an event was applied to its lead; it holds
// nothing else, and goes with the lead's activities (same retention).
type eventItem struct {
	PK        string `json:"pk"`
	SK        string `json:"sk"`
	ExpiresAt int64  `json:"expiresAt,omitempty"`
}

func (s *Store) putLead(ctx context.Context, l *lead.Lead, prevVersion int64, existed bool) error {
	in, err := s.leadPut(l, prevVersion, existed)
	if err != nil {
		return err
	}
	out, err := s.client.PutItem(ctx, in)
	if err != nil {
		return fmt.Errorf("put lead: %w", err)
	}
	s.usage.addWrite(out.ConsumedCapacity)
	return nil
}

// leadPut is the conditional write of a lead: on its version, or on its
// absence for a new one.
func (s *Store) leadPut(l *lead.Lead, prevVersion int64, existed bool) (*dynamodb.PutItemInput, error) {
	body, applied, err := encodeLead(l)
	if err != nil {
		return nil, fmt.Errorf("encode lead %s: %w", l.ID, err)
	}
	item := leadItem{PK: prefixLead + l.ID, SK: skProfile, Version: l.Version, Body: body, Applied: applied}
	// The due index holds the leads the scheduler's tick has something to
	// send for, keyed by when (the rule is the lead's).
	if at, ok := l.WakeAt(); ok {
		item.DueShard = s.dueShard(l.ID)
		item.DueAt = at.UTC().Format(dueLayout)
	}
	item.Outbox = strings.Join(l.Outbox(), " ")
	if l.OptIn != nil {
		item.ExpiresAt = l.OptIn.ExpiresAt.Add(unconfirmedTTLGrace).Unix()
	}
	if s := l.SLA; s != nil {
		item.OpenRoute, item.OpenSince = routeKey(s.Owner), s.Since.UTC().Format(dueLayout)
	}
	av, err := encoder.Encode(item)
	if err != nil {
		return nil, fmt.Errorf("encode lead: %w", err)
	}
	in := &dynamodb.PutItemInput{
		TableName:              aws.String(s.table),
		Item:                   av.(*types.AttributeValueMemberM).Value,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	if existed {
		in.ConditionExpression = aws.String("version = :v")
		in.ExpressionAttributeValues = map[string]types.AttributeValue{
			":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(prevVersion, 10)},
		}
	} else {
		in.ConditionExpression = aws.String("attribute_not_exists(pk)")
	}
	return in, nil
}

// backoff waits a little longer after each conflict, so writers
// contending for one lead spread out instead of colliding again.
func backoff(ctx context.Context, attempt int) error {
	return jitteredWait(ctx, min(time.Duration(attempt+1)*5*time.Millisecond, 100*time.Millisecond))
}

// jitteredWait waits between d/2 and d, or until ctx ends: waiters started
// together must not all come back at the same moment.
func jitteredWait(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d/2 + rand.N(d/2+1))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// conditionFailed reports a write refused by its condition expression.
func conditionFailed(err error) bool {
	var failed *types.ConditionalCheckFailedException
	return errors.As(err, &failed)
}

// AddActivity stores an activity unless one with the same key exists.
func (s *Store) AddActivity(ctx context.Context, leadID string, a lead.Activity) (bool, error) {
	p, err := s.activityPut(leadID, a)
	if err != nil {
		return false, err
	}
	out, err := s.client.PutItem(ctx, p.in)
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("put activity: %w", err)
	}
	s.usage.addWrite(out.ConsumedCapacity)
	return true, nil
}

type activityWrite struct {
	in        *dynamodb.PutItemInput
	expiresAt int64
}

// activityPut is the write of an activity, only if absent.
func (s *Store) activityPut(leadID string, a lead.Activity) (activityWrite, error) {
	item := activityItem{PK: prefixLead + leadID, SK: activitySK(a), Activity: a}
	item.Day, item.DayAt = journalKeys(leadID, a.At)
	if s.opts.ActivityRetention > 0 {
		item.ExpiresAt = a.At.Add(s.opts.ActivityRetention).Unix()
	}
	av, err := encoder.Encode(item)
	if err != nil {
		return activityWrite{}, fmt.Errorf("encode activity: %w", err)
	}
	return activityWrite{expiresAt: item.ExpiresAt, in: &dynamodb.PutItemInput{
		TableName:              aws.String(s.table),
		Item:                   av.(*types.AttributeValueMemberM).Value,
		ConditionExpression:    aws.String("attribute_not_exists(pk)"),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}}, nil
}

// Activities returns all of the lead's activities in time order, leaving
// out those past their retention that TTL has not removed yet (it deletes
// lazily). It reads every page: for tests and tools; pages people read
// use RecentActivities.
func (s *Store) Activities(ctx context.Context, leadID string, now time.Time) ([]lead.Activity, error) {
	acts, _, err := s.activities(ctx, leadID, now, 0)
	return acts, err
}

// RecentActivities returns the lead's newest activities, at most limit of
// them, in time order, and whether older ones exist. It reads newest
// first, a page of about limit at a time, so a lead with thousands of
// activities (a pumped or very long-lived one) costs what limit costs.
func (s *Store) RecentActivities(ctx context.Context, leadID string, now time.Time, limit int) ([]lead.Activity, bool, error) {
	if limit <= 0 {
		return nil, false, errors.New("recent activities: limit must be positive")
	}
	return s.activities(ctx, leadID, now, limit)
}

// activities reads the lead's activities newest first, all of them when
// limit is 0.
func (s *Store) activities(ctx context.Context, leadID string, now time.Time, limit int) ([]lead.Activity, bool, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk AND begins_with(sk, :act)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":  &types.AttributeValueMemberS{Value: prefixLead + leadID},
			":act": &types.AttributeValueMemberS{Value: prefixActivity},
		},
		ScanIndexForward:       aws.Bool(false),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	if limit > 0 {
		// One more than asked: it tells whether older ones exist.
		in.Limit = aws.Int32(int32(min(limit+1, 1000)))
	}
	var acts []lead.Activity
	p := dynamodb.NewQueryPaginator(s.client, in)
	for p.HasMorePages() && (limit == 0 || len(acts) <= limit) {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, false, fmt.Errorf("query activities: %w", err)
		}
		s.usage.addRead(page.ConsumedCapacity)
		for _, raw := range page.Items {
			var item activityItem
			if err := decoder.Decode(&types.AttributeValueMemberM{Value: raw}, &item); err != nil {
				return nil, false, fmt.Errorf("decode activity: %w", err)
			}
			if item.ExpiresAt != 0 && item.ExpiresAt <= now.Unix() {
				continue
			}
			acts = append(acts, item.Activity)
		}
	}
	older := false
	if limit > 0 && len(acts) > limit {
		acts, older = acts[:limit], true
	}
	slices.Reverse(acts)
	sort.SliceStable(acts, func(i, j int) bool { return acts[i].At.Before(acts[j].At) })
	return acts, older, nil
}

// DueLeads returns the ids of leads whose next step is due at now, oldest
// due first within each shard, at most limit in all. It queries every shard
// of the sparse due index in parallel; it never scans the table.
func (s *Store) DueLeads(ctx context.Context, now time.Time, limit int) ([]string, error) {
	type result struct {
		due []dueKey
		err error
	}
	// Each shard may hold all of the oldest due leads, so each is asked for
	// up to limit; the merge keeps the oldest limit overall.
	perShard := limit
	results := make(chan result, s.opts.DueShards)
	for i := 0; i < s.opts.DueShards; i++ {
		shard := prefixDue + strconv.Itoa(i)
		go func() {
			due, err := s.dueInShard(ctx, shard, now, perShard)
			results <- result{due, err}
		}()
	}
	var due []dueKey
	var errs []error
	for i := 0; i < s.opts.DueShards; i++ {
		r := <-results
		due = append(due, r.due...)
		if r.err != nil {
			errs = append(errs, r.err)
		}
	}
	sort.Slice(due, func(i, j int) bool { return due[i].at < due[j].at })
	if len(due) > limit {
		due = due[:limit]
	}
	ids := make([]string, len(due))
	for i, d := range due {
		ids[i] = d.id
	}
	if err := errors.Join(errs...); err != nil {
		return ids, fmt.Errorf("query due leads: %w", err)
	}
	return ids, nil
}

// NextDue returns when the earliest scheduled nurture step is due, due or
// not, and false when no lead has one. The local stack's "send the next
// email" control jumps the clock there; it reads one index entry a shard.
func (s *Store) NextDue(ctx context.Context) (time.Time, bool, error) {
	var next string
	for i := 0; i < s.opts.DueShards; i++ {
		out, err := s.client.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(s.table),
			IndexName:                 aws.String(IndexDue),
			KeyConditionExpression:    aws.String("dueShard = :s"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: prefixDue + strconv.Itoa(i)}},
			Limit:                     aws.Int32(1),
			ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
		})
		if err != nil {
			return time.Time{}, false, fmt.Errorf("query next due step: %w", err)
		}
		s.usage.addRead(out.ConsumedCapacity)
		if len(out.Items) == 0 {
			continue
		}
		if at, ok := out.Items[0][AttrDueAt].(*types.AttributeValueMemberS); ok && (next == "" || at.Value < next) {
			next = at.Value
		}
	}
	if next == "" {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(dueLayout, next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due step: bad due time %q: %w", next, err)
	}
	return t, true, nil
}

type dueKey struct{ id, at string }

func (s *Store) dueInShard(ctx context.Context, shard string, now time.Time, limit int) ([]dueKey, error) {
	var ids []dueKey
	p := dynamodb.NewQueryPaginator(s.client, &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		IndexName:              aws.String(IndexDue),
		KeyConditionExpression: aws.String("dueShard = :s AND dueAt <= :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":s":   &types.AttributeValueMemberS{Value: shard},
			":now": &types.AttributeValueMemberS{Value: now.UTC().Format(dueLayout)},
		},
		Limit:                  aws.Int32(int32(min(limit, 1000))),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	for p.HasMorePages() && len(ids) < limit {
		page, err := p.NextPage(ctx)
		if err != nil {
			return ids, err
		}
		s.usage.addRead(page.ConsumedCapacity)
		for _, item := range page.Items {
			pk, ok := item[AttrPK].(*types.AttributeValueMemberS)
			at, _ := item[AttrDueAt].(*types.AttributeValueMemberS)
			if ok && at != nil && len(pk.Value) > len(prefixLead) {
				ids = append(ids, dueKey{id: pk.Value[len(prefixLead):], at: at.Value})
			}
		}
	}
	return ids, nil
}

// MarkMachine marks a stored open or click (its key and time) as a
// machine's, once a later event shows it was (a scanner's burst of clicks).
func (s *Store) MarkMachine(ctx context.Context, leadID, key string, at time.Time, reason string) error {
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key: map[string]types.AttributeValue{
			AttrPK: &types.AttributeValueMemberS{Value: prefixLead + leadID},
			AttrSK: &types.AttributeValueMemberS{Value: activitySK(lead.Activity{Key: key, At: at})},
		},
		UpdateExpression:    aws.String("SET activity.Machine = :t, activity.MachineReason = :r"),
		ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t": &types.AttributeValueMemberBOOL{Value: true},
			":r": &types.AttributeValueMemberS{Value: reason},
		},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if conditionFailed(err) {
		// The activity is not written yet; its own event will be, with the
		// lead's click marks already saying machine.
		return nil
	}
	if err != nil {
		return fmt.Errorf("mark activity as machine: %w", err)
	}
	s.usage.addWrite(out.ConsumedCapacity)
	return nil
}
