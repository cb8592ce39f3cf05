package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadnurture/nurture/shared/lead"
)

// Privacy operations: everything the table holds about one person, and
// erasing it.
//
//	pk=SUPPRESSED#<lead id>  sk=SUPPRESSED
//
// is the marker an erasure leaves behind: it holds no address, only the
// lead id the address maps to (a keyed hash, lead.IDKey), and it tells
// capture never to store (or mail) that address again.

const (
	prefixSuppressed = "SUPPRESSED#"
	skSuppressed     = "SUPPRESSED"
	// batchWriteMax is BatchWriteItem's limit of requests per call.
	batchWriteMax = 25
	// maxBatchAttempts bounds the retries of unprocessed items: DynamoDB
	// leaves some out when throttled, and backoff lets it catch up.
	maxBatchAttempts = 10
)

// Export is everything stored about one lead, as plain data.
type Export struct {
	// Lead is nil when no lead with that id is stored.
	Lead       *lead.Lead      `json:"lead"`
	Activities []lead.Activity `json:"activities"`
	// Events counts the records of applied events (Store.ApplyEvent): they
	// hold nothing but a key, and are erased with the rest.
	Events int `json:"events"`
}

// suppressionItem is the marker an erasure leaves.
type suppressionItem struct {
	PK     string    `json:"pk"`
	SK     string    `json:"sk"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// Export returns the lead and every activity item stored under it (also
// those past retention that TTL has not removed yet: they are still
// stored). Everything about a lead lives under its partition key, so
// nothing is scanned.
func (s *Store) Export(ctx context.Context, leadID string) (Export, error) {
	var ex Export
	l, found, err := s.GetLead(ctx, leadID)
	if err != nil {
		return ex, err
	}
	items, err := s.leadItems(ctx, leadID, false)
	if err != nil {
		return ex, err
	}
	for _, raw := range items {
		sk, _ := raw[AttrSK].(*types.AttributeValueMemberS)
		if sk != nil && strings.HasPrefix(sk.Value, prefixEvent) {
			ex.Events++
		}
		if sk == nil || !strings.HasPrefix(sk.Value, prefixActivity) {
			continue
		}
		var item activityItem
		if err := decoder.Decode(&types.AttributeValueMemberM{Value: raw}, &item); err != nil {
			return ex, fmt.Errorf("decode activity: %w", err)
		}
		ex.Activities = append(ex.Activities, item.Activity)
	}
	sort.SliceStable(ex.Activities, func(i, j int) bool { return ex.Activities[i].At.Before(ex.Activities[j].At) })
	if found {
		ex.Lead = l
	}
	return ex, nil
}

// leadItems returns every item under the lead's partition key, the profile
// included; keysOnly fetches only pk and sk.
func (s *Store) leadItems(ctx context.Context, leadID string, keysOnly bool) ([]map[string]types.AttributeValue, error) {
	in := &dynamodb.QueryInput{
		TableName:              aws.String(s.table),
		KeyConditionExpression: aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": &types.AttributeValueMemberS{Value: prefixLead + leadID},
		},
		ConsistentRead:         aws.Bool(true),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	}
	if keysOnly {
		in.ProjectionExpression = aws.String("#pk, #sk")
		in.ExpressionAttributeNames = map[string]string{"#pk": AttrPK, "#sk": AttrSK}
	}
	var items []map[string]types.AttributeValue
	p := dynamodb.NewQueryPaginator(s.client, in)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query lead items: %w", err)
		}
		s.usage.addRead(page.ConsumedCapacity)
		items = append(items, page.Items...)
	}
	return items, nil
}

// Erase deletes everything stored about the lead at once, not left to TTL:
// the profile and every activity. It returns how many items it deleted. Before deleting, it writes the
// suppression marker for the lead's address (reason "erased"), so the
// address is never stored or mailed again; the marker goes first so that
// an erasure that dies half-way has already blocked the address, and a
// rerun deletes the rest. Erasing a lead that is gone deletes nothing and
// succeeds.
func (s *Store) Erase(ctx context.Context, leadID string, at time.Time) (int, error) {
	_, found, err := s.GetLead(ctx, leadID)
	if err != nil {
		return 0, err
	}
	if found {
		if err := s.suppress(ctx, leadID, lead.SuppressedErased, at); err != nil {
			return 0, err
		}
	}
	items, err := s.leadItems(ctx, leadID, true)
	if err != nil {
		return 0, err
	}
	keys := make([]map[string]types.AttributeValue, 0, len(items))
	var profile map[string]types.AttributeValue
	for _, it := range items {
		key := map[string]types.AttributeValue{AttrPK: it[AttrPK], AttrSK: it[AttrSK]}
		if sk, _ := it[AttrSK].(*types.AttributeValueMemberS); sk != nil && sk.Value == skProfile {
			profile = key
			continue
		}
		keys = append(keys, key)
	}
	// The profile last: while it is left, the lead is still found and a
	// rerun of an erasure that died half-way deletes the rest.
	n, err := s.deleteAll(ctx, keys)
	if err != nil {
		return n, err
	}
	if profile != nil {
		if err := s.deleteItem(ctx, profile); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// DeleteUnconfirmed deletes a lead whose double opt-in wait ended
// unconfirmed, and everything under it, if the lead is still at version:
// a form post since (which starts a new wait) keeps it. It reports whether
// it deleted the lead. Nothing is left behind (no suppression marker): the
// address may be posted again, and gets one new confirmation email then.
func (s *Store) DeleteUnconfirmed(ctx context.Context, leadID string, version int64) (bool, error) {
	// The keys first, then the profile on its version: an item a post
	// writes after the profile is gone belongs to the new lead and is not
	// among the keys read before.
	items, err := s.leadItems(ctx, leadID, true)
	if err != nil {
		return false, err
	}
	out, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 aws.String(s.table),
		Key:                       leadKey(leadID),
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": &types.AttributeValueMemberN{Value: strconv.FormatInt(version, 10)}},
		ReturnConsumedCapacity:    types.ReturnConsumedCapacityTotal,
	})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("delete unconfirmed lead: %w", err)
	}
	s.usage.addWrite(out.ConsumedCapacity)
	keys := make([]map[string]types.AttributeValue, 0, len(items))
	for _, it := range items {
		if sk, _ := it[AttrSK].(*types.AttributeValueMemberS); sk != nil && sk.Value != skProfile {
			keys = append(keys, map[string]types.AttributeValue{AttrPK: it[AttrPK], AttrSK: it[AttrSK]})
		}
	}
	if _, err := s.deleteAll(ctx, keys); err != nil {
		return true, err
	}
	return true, nil
}

// deleteAll deletes the items by key, 25 to a BatchWriteItem call,
// retrying unprocessed items with backoff.
func (s *Store) deleteAll(ctx context.Context, keys []map[string]types.AttributeValue) (int, error) {
	deleted := 0
	for start := 0; start < len(keys); start += batchWriteMax {
		chunk := keys[start:min(start+batchWriteMax, len(keys))]
		reqs := make([]types.WriteRequest, len(chunk))
		for i, k := range chunk {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
		}
		for attempt := 0; len(reqs) > 0; attempt++ {
			if attempt >= maxBatchAttempts {
				return deleted, fmt.Errorf("erase: %d items left unprocessed after %d attempts", len(reqs), attempt)
			}
			if attempt > 0 {
				if err := batchBackoff(ctx, attempt); err != nil {
					return deleted, err
				}
			}
			out, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems:           map[string][]types.WriteRequest{s.table: reqs},
				ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
			})
			if err != nil {
				var throttled *types.ProvisionedThroughputExceededException
				if errors.As(err, &throttled) {
					continue
				}
				return deleted, fmt.Errorf("erase: batch delete: %w", err)
			}
			for i := range out.ConsumedCapacity {
				s.usage.addWrite(&out.ConsumedCapacity[i])
			}
			left := out.UnprocessedItems[s.table]
			deleted += len(reqs) - len(left)
			reqs = left
		}
	}
	return deleted, nil
}

// batchBackoff waits 50ms, 100ms, 200ms ... up to 2s, with jitter.
func batchBackoff(ctx context.Context, attempt int) error {
	return jitteredWait(ctx, min(50*time.Millisecond<<min(attempt-1, 6), 2*time.Second))
}

func (s *Store) deleteItem(ctx context.Context, key map[string]types.AttributeValue) error {
	out, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:              aws.String(s.table),
		Key:                    key,
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return fmt.Errorf("erase: delete: %w", err)
	}
	s.usage.addWrite(out.ConsumedCapacity)
	return nil
}

// suppressionKey is the marker's key for an address: the lead id it maps
// to, a keyed hash, never the address or a plain hash of it (which anyone
// holding a copy of the table could check a guess against).
func suppressionKey(leadID string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		AttrPK: &types.AttributeValueMemberS{Value: prefixSuppressed + leadID},
		AttrSK: &types.AttributeValueMemberS{Value: skSuppressed},
	}
}

// SuppressErased writes the erasure marker for the lead id of an address,
// whether or not a lead is stored for it: the operator's erase command
// writes it first, so an address erased before (or while) its form post
// arrives is blocked too.
func (s *Store) SuppressErased(ctx context.Context, leadID string, at time.Time) error {
	return s.suppress(ctx, leadID, lead.SuppressedErased, at)
}

// suppress writes the marker; writing it again keeps the first one.
func (s *Store) suppress(ctx context.Context, leadID, reason string, at time.Time) error {
	key := suppressionKey(leadID)
	item := suppressionItem{
		PK: key[AttrPK].(*types.AttributeValueMemberS).Value, SK: skSuppressed,
		At: at.UTC(), Reason: reason,
	}
	av, err := encoder.Encode(item)
	if err != nil {
		return fmt.Errorf("encode suppression: %w", err)
	}
	out, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:              aws.String(s.table),
		Item:                   av.(*types.AttributeValueMemberM).Value,
		ConditionExpression:    aws.String("attribute_not_exists(pk)"),
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if conditionFailed(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("put suppression: %w", err)
	}
	s.usage.addWrite(out.ConsumedCapacity)
	return nil
}

// IsSuppressed reports whether the address of the lead id was erased:
// capture must then store nothing about it.
func (s *Store) IsSuppressed(ctx context.Context, leadID string) (bool, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                aws.String(s.table),
		Key:                      suppressionKey(leadID),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#pk"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
		ReturnConsumedCapacity:   types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		return false, fmt.Errorf("get suppression: %w", err)
	}
	s.usage.addRead(out.ConsumedCapacity)
	return out.Item != nil, nil
}
