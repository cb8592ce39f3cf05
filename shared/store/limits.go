package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/leadnurture/nurture/shared/limit"
)

// The store keeps the per-client limits' counters (limit.Counter):
//
//	pk=LIMIT#<rule>#<hash of the subject>  sk=<window start, unix seconds>
//	                              hits so far, expiresAt (TTL)
var _ limit.Counter = (*Store)(nil)

const (
	prefixLimit = "LIMIT#"
	attrHits    = "hits"
)

// CountHit adds one hit to key's counter of the window starting at start,
// on condition that it holds fewer than max: one UpdateItem of an item
// under 1 KB (1 WCU), whose refusal is the answer "limited". AWS bills a
// refused write too (1 WCU) but reports no consumed capacity for it, so
// Usage does not count it, as for every refused write (the benchmarks
// count those apart).
func (s *Store) CountHit(ctx context.Context, key string, start time.Time, max int, expires time.Time) (bool, error) {
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key: map[string]types.AttributeValue{
			AttrPK: &types.AttributeValueMemberS{Value: prefixLimit + key},
			AttrSK: &types.AttributeValueMemberS{Value: strconv.FormatInt(start.Unix(), 10)},
		},
		UpdateExpression:         aws.String("ADD #hits :one SET #exp = if_not_exists(#exp, :exp)"),
		ConditionExpression:      aws.String("attribute_not_exists(#hits) OR #hits < :max"),
		ExpressionAttributeNames: map[string]string{"#hits": attrHits, "#exp": AttrExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": &types.AttributeValueMemberN{Value: "1"},
			":max": &types.AttributeValueMemberN{Value: strconv.Itoa(max)},
			":exp": &types.AttributeValueMemberN{Value: strconv.FormatInt(expires.Unix(), 10)},
		},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if conditionFailed(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("count hit: %w", err)
	}
	s.usage.addWrite(out.ConsumedCapacity)
	return true, nil
}
